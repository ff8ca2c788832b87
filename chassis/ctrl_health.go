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

// Load balancer health checks (ovn-sb(5) Service_Monitor): the chassis
// that binds a Service_Monitor's logical_port probes the service on a
// schedule (pinctrl.HealthChecks) from the controller session, reads the
// answers (handle_svc_check) and writes the row's status when the decided
// status differs from the southbound's.

// svcSpecs returns the Service_Monitor rows this chassis runs: those
// whose logical_port is bound to chassis (a Chassis UUID), with what a
// probe needs from the port's binding. Rows that cannot be probed (no
// such port, addresses that do not parse, IPv6) are left out.
func svcSpecs(sb *replica.DB, chassis string) []pinctrl.SvcSpec {
	mons := sb.Table("Service_Monitor")
	if len(mons) == 0 || chassis == "" {
		return nil
	}
	ports := map[string]ovsdb.Row{}
	for _, r := range sb.Table("Port_Binding") {
		if replica.Ref(r, "chassis") == chassis {
			ports[replica.Str(r, "logical_port")] = r
		}
	}
	var out []pinctrl.SvcSpec
	for _, r := range sb.Sorted("Service_Monitor") {
		pb := ports[replica.Str(r, "logical_port")]
		if pb == nil {
			continue
		}
		dp := sb.Row("Datapath_Binding", replica.Ref(pb, "datapath"))
		if dp == nil {
			continue
		}
		ip, err1 := netip.ParseAddr(replica.Str(r, "ip"))
		src, err2 := netip.ParseAddr(replica.Str(r, "src_ip"))
		srcMAC, err3 := net.ParseMAC(replica.Str(r, "src_mac"))
		portMAC, ok := portMACFor(replica.Strs(pb, "mac"), ip)
		if err1 != nil || err2 != nil || err3 != nil || len(srcMAC) != 6 || !ok || !ip.Is4() || !src.Is4() {
			continue
		}
		proto := replica.Str(r, "protocol")
		if proto == "" {
			proto = "tcp"
		}
		m := pinctrl.Monitor{
			Datapath: uint32(replica.Int(dp, "tunnel_key")),
			Port:     uint32(replica.Int(pb, "tunnel_key")),
			PortMAC:  portMAC,
			SrcMAC:   [6]byte(srcMAC),
			SrcIP:    src,
			IP:       ip,
			Protocol: proto,
			L4Port:   uint16(replica.Int(r, "port")),
		}
		out = append(out, pinctrl.SvcSpec{UUID: replica.UUID(r), Monitor: m,
			Options: pinctrl.ParseSvcOptions(replica.Map(r, "options")), SBStatus: replica.Str(r, "status")})
	}
	return out
}

// portMACFor picks, from a Port_Binding's mac column ("MAC IP..."
// entries), the MAC of the entry that lists ip, or else the first MAC.
func portMACFor(entries []string, ip netip.Addr) ([6]byte, bool) {
	var first [6]byte
	found := false
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
			if p, err := netip.ParsePrefix(a); err == nil && p.Addr() == ip {
				return [6]byte(mac), true
			}
			if p, err := netip.ParseAddr(a); err == nil && p == ip {
				return [6]byte(mac), true
			}
		}
		if !found {
			first, found = [6]byte(mac), true
		}
	}
	return first, found
}

// svcStatusOpsLocked brings the health checks up to date with the
// southbound and returns the status writes they decided. d.mu is held.
func (d *daemon) svcStatusOpsLocked() []ovsdb.Operation {
	c := &d.ctrl
	if d.sb == nil {
		return nil
	}
	specs := svcSpecs(d.sb, plan.ChassisUUID(d.sb, d.cfg.SystemID))
	if c.health == nil {
		if len(specs) == 0 {
			return nil
		}
		c.health = pinctrl.NewHealthChecks(rand.Uint32)
	}
	if c.health.Sync(specs, time.Now()) {
		c.kickTimersLocked()
	}
	var ops []ovsdb.Operation
	for _, ch := range c.health.Changes(time.Now()) {
		d.log.Info("service monitor status", "uuid", ch.UUID, "status", ch.Status)
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Service_Monitor",
			Where: uuidIs(ch.UUID), Row: ovsdb.Row{"status": ch.Status}})
	}
	return ops
}

// svcAnswer records a backend's answer to a probe and returns the
// messages to send (the TCP reset after a SYN+ACK).
func (d *daemon) svcAnswer(st pinctrl.SvcStatus, xid uint32) [][]byte {
	d.mu.Lock()
	var p pinctrl.SvcProbe
	ok, decided := false, false
	if hc := d.ctrl.health; hc != nil {
		p, ok = hc.Answer(st)
		decided = hc.Unreported()
	}
	d.mu.Unlock()
	if decided {
		d.wake()
	}
	if !ok {
		d.log.Debug("health check answer to no probe", "ip", st.IP, "port", st.L4Port, "protocol", st.Protocol)
		return nil
	}
	if st.Protocol == "tcp" && st.Online {
		return [][]byte{pinctrl.Reset(p.Monitor, st, xid)}
	}
	return nil
}
