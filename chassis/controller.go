package chassis

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/ofconn"
	"hcnet/chassis/pinctrl"
	"hcnet/chassis/replica"
)

// runController keeps an OpenFlow connection to the integration bridge for
// the controller path until ctx ends, reconnecting after failures.
func (d *daemon) runController(ctx context.Context, mgmt string) {
	for n := 0; ctx.Err() == nil; n++ {
		err := d.controllerSession(ctx, mgmt, n > 0)
		if ctx.Err() != nil {
			return
		}
		d.logOnce("pinctrl", "controller connection lost; reconnecting", "target", mgmt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (d *daemon) controllerSession(ctx context.Context, mgmt string, reconnect bool) error {
	path := strings.TrimPrefix(mgmt, "unix:")
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("dial %s: %w", mgmt, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	var wmu sync.Mutex
	send := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := conn.Write(b)
		return err
	}
	for _, m := range [][]byte{ofconn.Hello(1), ofconn.SetConfig(2, 0xffff), ofconn.SetPacketInFormat(3)} {
		if err := send(m); err != nil {
			return fmt.Errorf("setup %s: %w", mgmt, err)
		}
	}
	d.logMu.Lock()
	delete(d.lastLog, "pinctrl")
	d.logMu.Unlock()
	d.log.Info("controller connection up", "target", mgmt)
	// A new connection may mean a restarted ovs-vswitchd or a re-created
	// bridge: its flows, groups, meters and TLV map may be gone. (The
	// first one finds what the first installation put there.)
	if reconnect {
		d.mu.Lock()
		d.switchReset = true
		d.mu.Unlock()
	}
	d.wake()
	r := bufio.NewReader(conn)
	xid := uint32(100)
	// Packets waiting for ARP/ND resolution, released when the neighbour
	// is learned here (put_arp, put_nd) or its MAC_Binding arrives from
	// the southbound (learned by another chassis).
	buf := pinctrl.NewBuffer()
	d.mu.Lock()
	notify := d.pinNotifyLocked()
	d.mu.Unlock()
	sessCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		xid := uint32(1 << 31) // apart from the packet-in loop's
		for {
			select {
			case <-sessCtx.Done():
				return
			case <-notify:
			}
			d.mu.Lock()
			in := d.pin
			d.mu.Unlock()
			if in == nil {
				continue
			}
			for _, m := range buf.ReleaseKnown(in.MACBindings, xid) {
				xid++
				if err := send(m); err != nil {
					return
				}
			}
		}
	}()
	go d.runTimers(sessCtx, send)
	for {
		hdr := make([]byte, 8)
		if _, err := io.ReadFull(r, hdr); err != nil {
			return fmt.Errorf("read %s: %w", mgmt, err)
		}
		n := int(binary.BigEndian.Uint16(hdr[2:]))
		if n < 8 {
			return fmt.Errorf("read %s: message length %d", mgmt, n)
		}
		msg := make([]byte, n)
		copy(msg, hdr)
		if _, err := io.ReadFull(r, msg[8:]); err != nil {
			return fmt.Errorf("read %s: %w", mgmt, err)
		}
		switch msg[1] {
		case ofconn.TypeEchoRequest:
			if err := send(ofconn.EchoReply(binary.BigEndian.Uint32(msg[4:]), msg[8:])); err != nil {
				return err
			}
		case ofconn.TypeError:
			d.log.Warn("switch error on controller connection", "target", mgmt, "msg", fmt.Sprintf("%x", msg[8:min(len(msg), 24)]))
		case ofconn.TypeExperimenter:
			pi, err := ofconn.ParsePacketIn2(msg)
			if errors.Is(err, ofconn.ErrNotPacketIn2) {
				continue
			}
			if err != nil {
				d.log.Warn("bad packet-in", "err", err)
				continue
			}
			xid++
			if len(pi.Userdata) >= 4 {
				d.log.Debug("packet-in", "opcode", binary.BigEndian.Uint32(pi.Userdata), "table", pi.TableID, "bytes", len(pi.Packet))
			}
			d.mu.Lock()
			in := d.pin
			d.mu.Unlock()
			res, err := pinctrl.HandleWith(pi, xid, in)
			if err != nil {
				d.log.Debug("packet-in", "err", err)
			}
			for _, m := range res.Send {
				if err := send(m); err != nil {
					return err
				}
			}
			now := time.Now()
			buf.Expire(now)
			if res.Hold != nil {
				if err := buf.Add(res.Hold, now); err != nil {
					d.log.Debug("packet not buffered", "err", err)
				}
				if in != nil {
					// The binding may have arrived before the flows
					// that use it.
					for _, m := range buf.ReleaseKnown(in.MACBindings, xid) {
						xid++
						if err := send(m); err != nil {
							return err
						}
					}
				}
			}
			if res.Svc != nil {
				for _, m := range d.svcAnswer(*res.Svc, xid) {
					xid++
					if err := send(m); err != nil {
						return err
					}
				}
			}
			if res.BFD != nil {
				for _, m := range d.bfdReceive(*res.BFD, xid) {
					xid++
					if err := send(m); err != nil {
						return err
					}
				}
			}
			if d.ctrlReport(res) {
				d.wake()
			}
			if l := res.Log; l != nil {
				d.log.Info("acl log", "name", l.Name, "verdict", l.Verdict, "severity", l.Severity, "packet", l.Packet)
			}
			if res.Learned != nil {
				for _, m := range buf.Release(res.Learned.Datapath, res.Learned.IP, res.Learned.MAC, xid) {
					xid++
					if err := send(m); err != nil {
						return err
					}
				}
			}
			if res.Learned != nil || res.FDB != nil {
				d.mu.Lock()
				if res.Learned != nil {
					d.learned = append(d.learned, *res.Learned)
				}
				if res.FDB != nil {
					d.learnedFDB = append(d.learnedFDB, *res.FDB)
				}
				d.mu.Unlock()
				d.wake()
			}
		}
	}
}

// pinNotifyLocked returns the channel that wakes the controller session
// when the southbound view (pin) is rebuilt. d.mu is held.
func (d *daemon) pinNotifyLocked() chan struct{} {
	if d.pinNotify == nil {
		d.pinNotify = make(chan struct{}, 1)
	}
	return d.pinNotify
}

// pinInput builds the controller path's view of the southbound: the DNS
// table by datapath tunnel key, the MAC_Binding table by datapath tunnel
// key and IP.
func pinInput(sb *replica.DB) *pinctrl.Input {
	macs := pinctrl.MACBindings{}
	keys := map[string]uint32{}
	for _, r := range sb.Table("MAC_Binding") {
		dp := replica.Ref(r, "datapath")
		k, ok := keys[dp]
		if !ok {
			if b := sb.Row("Datapath_Binding", dp); b != nil {
				k, ok = uint32(replica.Int(b, "tunnel_key")), true
			}
			keys[dp] = k
		}
		if k != 0 {
			_ = macs.Add(k, replica.Str(r, "ip"), replica.Str(r, "mac")) // a row that does not parse holds nothing
		}
	}
	dns := pinctrl.DNS{}
	for _, r := range sb.Table("DNS") {
		var keys []uint32
		for _, dp := range replica.Refs(r, "datapaths") {
			if b := sb.Row("Datapath_Binding", dp); b != nil {
				keys = append(keys, uint32(replica.Int(b, "tunnel_key")))
			}
		}
		dns.Add(keys, replica.Map(r, "records"))
	}
	return &pinctrl.Input{DNS: dns, MACBindings: macs}
}

// ctrlState is the controller path's state that lives with the daemon
// (guarded by daemon.mu).
type ctrlState struct {
	// health runs the load balancer health checks (ctrl_health.go);
	// nil until there is one.
	health *pinctrl.HealthChecks
	// announcer schedules gratuitous ARPs (ctrl_garp.go); nil until
	// there is one.
	announcer *pinctrl.Announcer
	// ras schedules periodic router advertisements (ctrl_ra.go); nil
	// until there is one.
	ras *pinctrl.RAScheduler
	// bfd runs the BFD sessions (ctrl_bfd.go); nil until there is one.
	bfd *pinctrl.BFDSessions
	// vports, events and memberships are packet-in reports waiting for
	// the next round's southbound writes (ctrl_events.go).
	vports      []pinctrl.VirtualBinding
	events      []pinctrl.Event
	memberships []pinctrl.Membership
	// igmpUnbound: since when IGMP_Group members were seen not bound
	// here (igmpCleanupOps).
	igmpUnbound map[string]time.Time
	// timerKick wakes the session's timer goroutine (runTimers) when a
	// schedule gained something to do sooner.
	timerKick chan struct{}
}

// kickTimersLocked wakes runTimers. d.mu is held.
func (c *ctrlState) kickTimersLocked() {
	select {
	case c.timerKickLocked() <- struct{}{}:
	default:
	}
}

func (c *ctrlState) timerKickLocked() chan struct{} {
	if c.timerKick == nil {
		c.timerKick = make(chan struct{}, 1)
	}
	return c.timerKick
}

// runTimers sends what the controller path sends on a schedule (health
// check probes, gratuitous ARPs, periodic router advertisements, BFD
// control packets) when it is due, until ctx ends (the controller
// session's end). send writes one OpenFlow message.
func (d *daemon) runTimers(ctx context.Context, send func([]byte) error) {
	d.mu.Lock()
	kick := d.ctrl.timerKickLocked()
	d.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	xid := uint32(3 << 30) // apart from the session's other senders
	for {
		now := time.Now()
		var msgs [][]byte
		var next time.Time
		soonest := func(t time.Time) {
			if !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		decided := false
		d.mu.Lock()
		if hc := d.ctrl.health; hc != nil {
			for _, p := range hc.Due(now) {
				m, err := pinctrl.Probe(p.Monitor, p.SrcPort, p.Seq, xid)
				xid++
				if err != nil {
					d.logOnce("svc-probe", "health check probe", "uuid", p.UUID, "err", err)
					continue
				}
				msgs = append(msgs, m)
			}
			soonest(hc.Next())
			decided = hc.Unreported()
		}
		if an := d.ctrl.announcer; an != nil {
			for _, a := range an.Due(now) {
				d.log.Debug("announce", "what", a.String())
				msgs = append(msgs, a.PacketOut(xid))
				xid++
			}
			soonest(an.Next())
		}
		if rs := d.ctrl.ras; rs != nil {
			for _, ra := range rs.Due(now) {
				msgs = append(msgs, ra.PacketOut(xid))
				xid++
			}
			soonest(rs.Next())
		}
		if b := d.ctrl.bfd; b != nil {
			for _, s := range b.Due(now) {
				m, err := s.PacketOut(xid)
				xid++
				if err != nil {
					d.logOnce("bfd-send", "bfd packet", "uuid", s.UUID, "err", err)
					continue
				}
				msgs = append(msgs, m)
			}
			soonest(b.Next())
			decided = decided || b.Unreported()
		}
		d.mu.Unlock()
		if decided {
			d.wake()
		}
		for _, m := range msgs {
			if err := send(m); err != nil {
				return
			}
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-timer.C:
		}
	}
}

// ctrlTxn is one southbound transaction the controller path asks for;
// what names it in logs.
type ctrlTxn struct {
	what string
	ops  []ovsdb.Operation
}

// controllerTxnsLocked returns the southbound writes the controller path
// has pending, each its own transaction; the round sends them after its
// own.
func (d *daemon) controllerTxnsLocked() []ctrlTxn {
	d.garpSyncLocked()
	d.raSyncLocked()
	return append([]ctrlTxn{
		{"MAC_Binding", d.macBindingOpsLocked()},
		{"FDB", d.fdbOpsLocked()},
		{"Service_Monitor", d.svcStatusOpsLocked()},
		{"BFD", d.bfdStatusOpsLocked()},
	}, d.reportOpsLocked()...)
}

// fdbOpsLocked turns learned FDB entries (put_fdb) into FDB inserts, or
// updates of the port of the row with the same datapath and MAC.
func (d *daemon) fdbOpsLocked() []ovsdb.Operation {
	if len(d.learnedFDB) == 0 || d.sb == nil {
		return nil
	}
	learned := d.learnedFDB
	d.learnedFDB = nil
	type key struct {
		dp  uint32
		mac string
	}
	existing := map[key]ovsdb.Row{}
	for _, r := range d.sb.Table("FDB") {
		existing[key{uint32(replica.Int(r, "dp_key")), strings.ToLower(replica.Str(r, "mac"))}] = r
	}
	last := map[key]uint32{}
	var order []key
	for _, e := range learned {
		k := key{e.Datapath, strings.ToLower(e.MAC)}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = e.Port
	}
	var ops []ovsdb.Operation
	for _, k := range order {
		port := last[k]
		switch r, ok := existing[k]; {
		case !ok:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "FDB", Row: ovsdb.Row{
				"dp_key": int(k.dp), "port_key": int(port), "mac": k.mac}})
		case uint32(replica.Int(r, "port_key")) != port:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "FDB",
				Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: replica.UUID(r)}}},
				Row:   ovsdb.Row{"port_key": int(port)}})
		}
	}
	return ops
}

// macBindingOpsLocked turns learned neighbours into MAC_Binding inserts or
// updates.
func (d *daemon) macBindingOpsLocked() []ovsdb.Operation {
	if len(d.learned) == 0 || d.sb == nil {
		return nil
	}
	learned := d.learned
	d.learned = nil
	dpByKey := map[uint32]string{}
	for u, r := range d.sb.Table("Datapath_Binding") {
		dpByKey[uint32(replica.Int(r, "tunnel_key"))] = u
	}
	var ops []ovsdb.Operation
	done := map[string]bool{}
	for _, l := range learned {
		dp := dpByKey[l.Datapath]
		if dp == "" {
			continue
		}
		var port string
		for _, r := range d.sb.Table("Port_Binding") {
			if replica.Ref(r, "datapath") == dp && uint32(replica.Int(r, "tunnel_key")) == l.Port {
				port = replica.Str(r, "logical_port")
			}
		}
		if port == "" {
			continue
		}
		ip, mac := l.IP.String(), l.MAC
		if done[port+"|"+ip] {
			continue
		}
		done[port+"|"+ip] = true
		var existing ovsdb.Row
		for _, r := range d.sb.Table("MAC_Binding") {
			if replica.Str(r, "logical_port") == port && replica.Str(r, "ip") == ip {
				existing = r
			}
		}
		now := time.Now().UnixMilli()
		switch {
		case existing == nil:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "MAC_Binding", Row: ovsdb.Row{
				"logical_port": port, "ip": ip, "mac": mac, "datapath": ovsdb.UUID{GoUUID: dp}, "timestamp": now}})
		case replica.Str(existing, "mac") != mac:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "MAC_Binding",
				Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: replica.UUID(existing)}}},
				Row:   ovsdb.Row{"mac": mac, "timestamp": now}})
		}
	}
	return ops
}
