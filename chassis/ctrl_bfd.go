package chassis

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
)

// BFD (ovn-sb(5) BFD, ovn-controller(8)): the chassis where a BFD row's
// logical_port (a router port with a peer) resides — a gateway router's
// l3gateway port claimed by or pinned to this chassis, or a distributed
// gateway port whose chassisredirect port (cr-<port>) is bound here — runs
// the session from the port's MAC and first address of dst_ip's family to
// dst_ip, with the row's src_port, disc and timers (pinctrl.BFDSessions),
// from the controller session: packets go into the router pipeline as if they came
// in on the port, answers come back through handle_bfd_msg, and the row's
// status is written when the session's state differs from it. A row that
// says admin_down stops its session.

// bfdSpecs returns the BFD rows this chassis (Chassis UUID chassis, named
// name) runs. Rows that cannot run here (no such port, no peer, not
// resident, addresses that do not parse, no port address of dst_ip's
// family) are left out.
func bfdSpecs(sb *replica.DB, chassis, name string) []pinctrl.BFDSpec {
	rows := sb.Sorted("BFD")
	if len(rows) == 0 || chassis == "" {
		return nil
	}
	byName := map[string]ovsdb.Row{}
	for _, r := range sb.Table("Port_Binding") {
		byName[replica.Str(r, "logical_port")] = r
	}
	var out []pinctrl.BFDSpec
	for _, r := range rows {
		lp := replica.Str(r, "logical_port")
		pb := byName[lp]
		if pb == nil {
			continue
		}
		if byName[replica.Map(pb, "options")["peer"]] == nil {
			continue
		}
		resident := false
		if replica.Str(pb, "type") == "l3gateway" {
			resident = replica.Ref(pb, "chassis") == chassis || replica.Map(pb, "options")["l3gateway-chassis"] == name
		}
		if cr := byName["cr-"+lp]; cr != nil && replica.Ref(cr, "chassis") == chassis {
			resident = true
		}
		if !resident {
			continue
		}
		dst, err := netip.ParseAddr(replica.Str(r, "dst_ip"))
		if err != nil {
			continue
		}
		dp := sb.Row("Datapath_Binding", replica.Ref(pb, "datapath"))
		if dp == nil {
			continue
		}
		mac, src, ok := bfdSource(replica.Strs(pb, "mac"), dst.Is4())
		if !ok {
			continue
		}
		out = append(out, pinctrl.BFDSpec{
			UUID: replica.UUID(r),
			Endpoint: pinctrl.BFDEndpoint{
				Datapath: uint32(replica.Int(dp, "tunnel_key")),
				Port:     uint32(replica.Int(pb, "tunnel_key")),
				MAC:      mac, SrcIP: src, DstIP: dst,
				SrcPort: uint16(replica.Int(r, "src_port")),
			},
			Disc:     uint32(replica.Int(r, "disc")),
			MinTx:    uint32(replica.Int(r, "min_tx")),
			MinRx:    uint32(replica.Int(r, "min_rx")),
			Mult:     uint8(replica.Int(r, "detect_mult")),
			SBStatus: replica.Str(r, "status"),
		})
	}
	return out
}

// bfdStatusOpsLocked brings the sessions up to date with the southbound
// and returns the status writes they decided. d.mu is held.
func (d *daemon) bfdStatusOpsLocked() []ovsdb.Operation {
	c := &d.ctrl
	if d.sb == nil {
		return nil
	}
	specs := bfdSpecs(d.sb, plan.ChassisUUID(d.sb, d.cfg.SystemID), d.cfg.SystemID)
	if c.bfd == nil {
		if len(specs) == 0 {
			return nil
		}
		c.bfd = pinctrl.NewBFDSessions(rand.Int64N)
	}
	if c.bfd.Sync(specs, time.Now()) {
		d.log.Info("bfd sessions", "sessions", len(specs))
		c.kickTimersLocked()
	}
	var ops []ovsdb.Operation
	for _, ch := range c.bfd.Changes() {
		d.log.Info("bfd status", "uuid", ch.UUID, "status", ch.Status)
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "BFD",
			Where: uuidIs(ch.UUID), Row: ovsdb.Row{"status": ch.Status}})
	}
	return ops
}

// bfdReceive feeds a handle_bfd_msg packet into its session and returns
// the messages to send (the Final answering a Poll; or, after a state
// change, the timer goroutine sends the new state at once).
func (d *daemon) bfdReceive(m pinctrl.BFDMsg, xid uint32) [][]byte {
	d.mu.Lock()
	var final *pinctrl.BFDSend
	changed, report := false, false
	if b := d.ctrl.bfd; b != nil {
		final, changed = b.Receive(m, time.Now())
		report = b.Unreported()
		if changed {
			d.ctrl.kickTimersLocked()
		}
	}
	d.mu.Unlock()
	if report {
		d.wake()
	}
	if final == nil {
		return nil
	}
	msg, err := final.PacketOut(xid)
	if err != nil {
		d.log.Debug("bfd final", "err", err)
		return nil
	}
	return [][]byte{msg}
}

// bfdSource picks, from a router port's mac column ("MAC ADDR/LEN..."
// entries), the MAC and first address of the family asked for (IPv4 or
// IPv6) of the first entry that has one.
func bfdSource(entries []string, v4 bool) ([6]byte, netip.Addr, bool) {
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 {
			continue
		}
		mac, err := net.ParseMAC(f[0])
		if err != nil || len(mac) != 6 {
			continue
		}
		for _, a := range f[1:] {
			ip, err := netip.ParseAddr(a)
			if p, perr := netip.ParsePrefix(a); perr == nil {
				ip, err = p.Addr(), nil
			}
			if err == nil && ip.Is4() == v4 {
				return [6]byte(mac), ip, true
			}
		}
	}
	return [6]byte{}, netip.Addr{}, false
}
