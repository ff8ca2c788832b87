package pinctrl

import (
	"sort"
	"strconv"
	"time"
)

// Health check defaults for options a Service_Monitor row leaves out
// (ovn-sb(5) names them; OVN 23.03's values).
const (
	DefaultSvcInterval     = 5 * time.Second
	DefaultSvcTimeout      = 3 * time.Second
	DefaultSvcSuccessCount = 1
	DefaultSvcFailureCount = 1
)

// svcRetryWrite is how long a status write may stay unconfirmed by the
// southbound before HealthChecks asks for it again.
const svcRetryWrite = 5 * time.Second

// SvcOptions are a Service_Monitor's timing options: the time between
// probes, how long an answer is waited for, and how many consecutive
// successes (failures) make the service online (offline).
type SvcOptions struct {
	Interval, Timeout          time.Duration
	SuccessCount, FailureCount int
}

// ParseSvcOptions reads a Service_Monitor's options column (interval and
// timeout in seconds, success_count, failure_count); missing, malformed or
// non-positive values take the defaults.
func ParseSvcOptions(opts map[string]string) SvcOptions {
	num := func(k string, def int) int {
		n, err := strconv.Atoi(opts[k])
		if err != nil || n <= 0 {
			return def
		}
		return n
	}
	return SvcOptions{
		Interval:     time.Duration(num("interval", int(DefaultSvcInterval/time.Second))) * time.Second,
		Timeout:      time.Duration(num("timeout", int(DefaultSvcTimeout/time.Second))) * time.Second,
		SuccessCount: num("success_count", DefaultSvcSuccessCount),
		FailureCount: num("failure_count", DefaultSvcFailureCount),
	}
}

// SvcSpec is one Service_Monitor this chassis runs: the row's UUID, what to
// probe, its options, and the status the southbound holds now ("" when
// unset).
type SvcSpec struct {
	UUID     string
	Monitor  Monitor
	Options  SvcOptions
	SBStatus string
}

// SvcProbe is one probe to send now: Probe(Monitor, SrcPort, Seq, xid).
type SvcProbe struct {
	UUID    string
	Monitor Monitor
	SrcPort uint16
	Seq     uint32
}

// SvcChange is a status the southbound row should get ("online" or
// "offline").
type SvcChange struct {
	UUID, Status string
}

// HealthChecks is the schedule and the state machine of the health checks
// a chassis runs. It is pure: time is passed in, and random probe source
// ports and sequence numbers come from the injected source. It is not
// safe for concurrent use.
//
// Each monitor is probed when it appears, then every Interval. A probe
// is answered, or times out after Timeout: a TCP SYN+ACK is a success
// and a TCP RST or an ICMP unreachable a failure; a TCP probe that times
// out is a failure, a UDP probe that times out a success (a listening UDP
// service sends nothing back). SuccessCount consecutive successes make
// the service online, FailureCount consecutive failures offline. Changes
// reports a decided status that differs from the southbound's.
type HealthChecks struct {
	rand func() uint32
	mons map[string]*svcState
}

type svcState struct {
	spec SvcSpec
	// next is when the next probe goes out; waitUntil, when set, is
	// when the probe in flight (srcPort, seq) times out.
	next, waitUntil time.Time
	srcPort         uint16
	seq             uint32
	// successes and failures count consecutive results.
	successes, failures int
	// status is the decided status ("" until decided); asked the one
	// last returned by Changes, at askedAt.
	status, asked string
	askedAt       time.Time
}

// NewHealthChecks returns an empty schedule whose probes take their
// source ports and sequence numbers from rand.
func NewHealthChecks(rand func() uint32) *HealthChecks {
	return &HealthChecks{rand: rand, mons: map[string]*svcState{}}
}

// Sync replaces the set of monitors: new ones are probed at once, gone
// ones forgotten, and one whose probe target or options changed starts
// over. It reports whether the set or a target changed (the caller's
// timer may need to fire sooner).
func (h *HealthChecks) Sync(specs []SvcSpec, now time.Time) bool {
	changed := false
	seen := make(map[string]bool, len(specs))
	for _, sp := range specs {
		seen[sp.UUID] = true
		m, ok := h.mons[sp.UUID]
		if ok && m.spec.Monitor == sp.Monitor && m.spec.Options == sp.Options {
			if sp.SBStatus != m.spec.SBStatus {
				// Someone else wrote the row (ovn-northd sets an
				// online service offline while its port is not up):
				// write ours again without waiting for the retry.
				m.asked = ""
			}
			m.spec.SBStatus = sp.SBStatus
			continue
		}
		h.mons[sp.UUID] = &svcState{spec: sp, next: now}
		changed = true
	}
	for u := range h.mons {
		if !seen[u] {
			delete(h.mons, u)
			changed = true
		}
	}
	return changed
}

// Due returns the probes to send at now, after counting the probes whose
// answers did not come in time, in UUID order.
func (h *HealthChecks) Due(now time.Time) []SvcProbe {
	var out []SvcProbe
	for _, u := range h.sorted() {
		m := h.mons[u]
		if !m.waitUntil.IsZero() && !now.Before(m.waitUntil) {
			m.waitUntil = time.Time{}
			h.result(m, m.spec.Monitor.Protocol == "udp")
		}
		if !m.waitUntil.IsZero() || now.Before(m.next) {
			continue
		}
		r := h.rand()
		m.srcPort = uint16(32768 + r%28232) // 32768..60999, Linux's ephemeral range
		m.seq = h.rand()
		m.waitUntil = now.Add(m.spec.Options.Timeout)
		m.next = now.Add(m.spec.Options.Interval)
		out = append(out, SvcProbe{UUID: u, Monitor: m.spec.Monitor, SrcPort: m.srcPort, Seq: m.seq})
	}
	return out
}

// Answer records a backend's answer (SvcReply). It returns the probe the
// answer belongs to and whether it does: answers to no probe in flight
// (late, duplicated, or for another chassis's monitor) change nothing.
// After a TCP SYN+ACK the caller sends Reset(probe.Monitor, st, xid).
func (h *HealthChecks) Answer(st SvcStatus) (SvcProbe, bool) {
	for _, u := range h.sorted() {
		m := h.mons[u]
		mon := m.spec.Monitor
		if m.waitUntil.IsZero() || mon.IP != st.IP || mon.Protocol != st.Protocol || mon.L4Port != st.L4Port {
			continue
		}
		if st.Datapath != 0 && st.Datapath != mon.Datapath {
			continue
		}
		// A TCP answer must be to our probe: its ports, and for a
		// SYN+ACK the acknowledgment of our sequence number.
		if st.Protocol == "tcp" && st.ProbePort != 0 && (st.ProbePort != m.srcPort || st.Online && st.Ack != m.seq+1) {
			continue
		}
		m.waitUntil = time.Time{}
		h.result(m, st.Online)
		return SvcProbe{UUID: u, Monitor: mon, SrcPort: m.srcPort, Seq: m.seq}, true
	}
	return SvcProbe{}, false
}

func (h *HealthChecks) result(m *svcState, ok bool) {
	if ok {
		m.successes++
		m.failures = 0
		if m.successes >= m.spec.Options.SuccessCount {
			m.status = "online"
		}
		return
	}
	m.failures++
	m.successes = 0
	if m.failures >= m.spec.Options.FailureCount {
		m.status = "offline"
	}
}

// Changes returns the decided statuses the southbound does not show yet,
// in UUID order. A change is returned once, and again after svcRetryWrite
// if the southbound still differs (a lost write).
func (h *HealthChecks) Changes(now time.Time) []SvcChange {
	var out []SvcChange
	for _, u := range h.sorted() {
		m := h.mons[u]
		if m.status == "" || m.status == m.spec.SBStatus {
			m.asked = ""
			continue
		}
		if m.asked == m.status && now.Sub(m.askedAt) < svcRetryWrite {
			continue
		}
		m.asked, m.askedAt = m.status, now
		out = append(out, SvcChange{UUID: u, Status: m.status})
	}
	return out
}

// Unreported reports whether a decided status differs from the
// southbound's and has not been returned by Changes yet.
func (h *HealthChecks) Unreported() bool {
	for _, m := range h.mons {
		if m.status != "" && m.status != m.spec.SBStatus && m.asked != m.status {
			return true
		}
	}
	return false
}

// Next is when Due has something to do next: the earliest probe or
// timeout. It is the zero time when there are no monitors.
func (h *HealthChecks) Next() time.Time {
	var t time.Time
	for _, m := range h.mons {
		for _, c := range []time.Time{m.next, m.waitUntil} {
			if !c.IsZero() && (t.IsZero() || c.Before(t)) {
				t = c
			}
		}
	}
	return t
}

// Status returns the decided status of a monitor ("" when undecided or
// unknown).
func (h *HealthChecks) Status(uuid string) string {
	if m, ok := h.mons[uuid]; ok {
		return m.status
	}
	return ""
}

func (h *HealthChecks) sorted() []string {
	out := make([]string, 0, len(h.mons))
	for u := range h.mons {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
