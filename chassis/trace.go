package chassis

import (
	"fmt"
	"strings"
	"time"

	"hcnet/chassis/physical"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
)

// portTrace holds when each step of a port's way up happened, for
// Options.TracePortUp: the Open_vSwitch update showing its interface, the
// round that planned its flows, its claim sent and acknowledged, and the
// flows that carry it sent to and acknowledged by the switch.
type portTrace struct {
	seen, decided         time.Time
	claimSent, claimAcked time.Time
	flowsSent, flowsAcked time.Time
	logged                bool
}

// tracer records port traces; used only by the loop goroutine, but for
// the claim times (recorded by the round's transaction goroutine, under
// the daemon's lock).
type tracer struct {
	ports map[string]*portTrace // by iface-id
}

// seen records ports whose interface appeared in the update received at,
// and reports whether there were any.
func (t *tracer) seen(ids []string, at, now time.Time) bool {
	if t.ports == nil {
		t.ports = map[string]*portTrace{}
	}
	added := false
	for _, id := range ids {
		if t.ports[id] == nil {
			t.ports[id] = &portTrace{seen: at, decided: now}
			added = true
		}
	}
	return added
}

// forget drops ports whose interface is gone, so a port plugged again is
// traced again.
func (t *tracer) forget(present func(id string) bool) {
	for id := range t.ports {
		if !present(id) {
			delete(t.ports, id)
		}
	}
}

func (t *tracer) claim(names []string, sent, acked time.Time) {
	for _, n := range names {
		if p := t.ports[n]; p != nil && p.claimAcked.IsZero() {
			p.claimSent, p.claimAcked = sent, acked
		}
	}
}

func (t *tracer) flows(names []string, sent, acked time.Time) {
	for _, n := range names {
		if p := t.ports[n]; p != nil && p.flowsAcked.IsZero() {
			p.flowsSent, p.flowsAcked = sent, acked
		}
	}
}

// complete returns the traces with every step recorded that were not
// returned before.
func (t *tracer) complete() map[string]portTrace {
	var out map[string]portTrace
	for id, p := range t.ports {
		if p.logged || p.claimAcked.IsZero() || p.flowsAcked.IsZero() {
			continue
		}
		p.logged = true
		if out == nil {
			out = map[string]portTrace{}
		}
		out[id] = *p
	}
	return out
}

// us is d - since in microseconds.
func us(t, since time.Time) int64 { return t.Sub(since).Microseconds() }

// traceLocked notes the ports newly seen in this round's interfaces and
// which claims and local port flows w carries.
func (d *daemon) traceLocked(w *work, ifaces map[string]plan.Iface, in physical.Input) {
	ids := make([]string, 0, len(ifaces))
	for id := range ifaces {
		ids = append(ids, id)
	}
	d.trace.forget(func(id string) bool { _, ok := ifaces[id]; return ok })
	w.traceNew = d.trace.seen(ids, d.ifaceUpdateAt, time.Now())
	for u := range w.claimed {
		if r := d.sb.Row("Port_Binding", u); r != nil {
			w.traceClaims = append(w.traceClaims, replica.Str(r, "logical_port"))
		}
	}
	for _, p := range in.Ports {
		if p.OFPort > 0 && p.Chassis == in.Chassis {
			if _, ok := ifaces[p.Name]; ok {
				w.tracePorts = append(w.tracePorts, p.Name)
			}
		}
	}
}

// logTraces logs the ports whose every step is recorded, once each.
func (d *daemon) logTraces() {
	d.mu.Lock()
	done := d.trace.complete()
	d.mu.Unlock()
	for id, p := range done {
		d.log.Info("port-up trace", "port", id, "seen_unix_us", p.seen.UnixMicro(),
			"decided_us", us(p.decided, p.seen), "claim_sent_us", us(p.claimSent, p.seen),
			"claim_acked_us", us(p.claimAcked, p.seen), "flows_sent_us", us(p.flowsSent, p.seen),
			"flows_acked_us", us(p.flowsAcked, p.seen))
	}
}

// stages times the steps of one decision (Options.TracePortUp).
type stages struct {
	on   bool
	last time.Time
	b    []byte
}

func (s *stages) start(on bool) {
	s.on = on
	if on {
		s.last = time.Now()
	}
}

func (s *stages) mark(name string) {
	if !s.on {
		return
	}
	now := time.Now()
	s.b = fmt.Appendf(s.b, "%s=%.2fms ", name, float64(now.Sub(s.last).Microseconds())/1000)
	s.last = now
}

func (s *stages) String() string { return strings.TrimSpace(string(s.b)) }
