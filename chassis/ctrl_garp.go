package chassis

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
)

// Gratuitous ARPs (ovn-controller(8), ovn-sb(5) Port_Binding
// nat_addresses): through each localnet port this chassis reaches (its
// network is in ovn-bridge-mappings), the chassis announces
//   - the NAT (and router) addresses of a gateway router's l3gateway port
//     that resides here,
//   - the nat_addresses of a patch port whose is_chassis_resident(port)
//     names a port bound here (a distributed gateway port's active
//     chassisredirect port: after a failover the new gateway announces),
//   - the addresses of its VIFs on that network (a RARP for a VIF without
//     an IPv4 address).
// Each announcement is sent when it appears and a few times after
// (pinctrl.Announcer), from the controller session.

// announcements returns what this chassis (Chassis UUID chassis, named
// name) announces, given its bridge mappings.
func announcements(sb *replica.DB, chassis, name string, mappings map[string]string) []pinctrl.Announcement {
	if chassis == "" || len(mappings) == 0 {
		return nil
	}
	localnets := map[string][]uint32{} // datapath UUID -> localnet port keys
	for _, r := range sb.Table("Port_Binding") {
		if replica.Str(r, "type") != "localnet" {
			continue
		}
		net, _ := replica.MapValue(r, "options", "network_name")
		if _, ok := mappings[net]; ok {
			dp := replica.Ref(r, "datapath")
			localnets[dp] = append(localnets[dp], uint32(replica.Int(r, "tunnel_key")))
		}
	}
	if len(localnets) == 0 {
		return nil
	}
	resident := func(port string) bool {
		for _, r := range sb.Table("Port_Binding") {
			if replica.Str(r, "logical_port") == port {
				return replica.Ref(r, "chassis") == chassis
			}
		}
		return false
	}
	var out []pinctrl.Announcement
	add := func(dp string, entry string, rarp bool) {
		mac, ips, ok := parseAddresses(entry)
		if !ok {
			return
		}
		b := sb.Row("Datapath_Binding", dp)
		if b == nil {
			return
		}
		dpKey := uint32(replica.Int(b, "tunnel_key"))
		for _, ln := range localnets[dp] {
			for _, ip := range ips {
				out = append(out, pinctrl.Announcement{Datapath: dpKey, Port: ln, MAC: mac, IP: ip})
			}
			if len(ips) == 0 && rarp {
				out = append(out, pinctrl.Announcement{Datapath: dpKey, Port: ln, MAC: mac})
			}
		}
	}
	for _, r := range sb.Sorted("Port_Binding") {
		dp := replica.Ref(r, "datapath")
		if len(localnets[dp]) == 0 {
			continue
		}
		switch replica.Str(r, "type") {
		case "":
			if replica.Ref(r, "chassis") != chassis {
				continue
			}
			for _, e := range replica.Strs(r, "mac") {
				add(dp, e, true)
			}
		case "l3gateway":
			if replica.Ref(r, "chassis") != chassis && replica.Map(r, "options")["l3gateway-chassis"] != name {
				continue
			}
			for _, e := range replica.Strs(r, "nat_addresses") {
				add(dp, e, false)
			}
		case "patch":
			for _, e := range replica.Strs(r, "nat_addresses") {
				if port, ok := residentPort(e); ok && resident(port) {
					add(dp, e, false)
				}
			}
		}
	}
	return out
}

// parseAddresses reads "MAC [IP...] [is_chassis_resident(...)]": the MAC
// and the IPv4 addresses (IPv6 ones and the condition are skipped).
func parseAddresses(entry string) ([6]byte, []netip.Addr, bool) {
	f := strings.Fields(entry)
	if len(f) == 0 {
		return [6]byte{}, nil, false
	}
	mac, err := net.ParseMAC(f[0])
	if err != nil || len(mac) != 6 {
		return [6]byte{}, nil, false
	}
	var ips []netip.Addr
	for _, a := range f[1:] {
		if strings.HasPrefix(a, "is_chassis_resident") {
			break
		}
		if p, err := netip.ParsePrefix(a); err == nil {
			a = p.Addr().String()
		}
		if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
			ips = append(ips, ip)
		}
	}
	return [6]byte(mac), ips, true
}

// residentPort returns the port an address entry's
// is_chassis_resident("port") names.
func residentPort(entry string) (string, bool) {
	_, rest, ok := strings.Cut(entry, "is_chassis_resident(")
	if !ok {
		return "", false
	}
	rest, _, ok = strings.Cut(rest, ")")
	if !ok {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(rest), `"`), true
}

// garpSyncLocked brings the announcement schedule up to date with the
// southbound. d.mu is held.
func (d *daemon) garpSyncLocked() {
	if d.sb == nil {
		return
	}
	want := announcements(d.sb, plan.ChassisUUID(d.sb, d.cfg.SystemID), d.cfg.SystemID, d.cfg.BridgeMappings)
	c := &d.ctrl
	if c.announcer == nil {
		if len(want) == 0 {
			return
		}
		c.announcer = pinctrl.NewAnnouncer()
	}
	if c.announcer.Sync(want, time.Now()) {
		d.log.Info("announcing addresses", "announcements", len(want))
		c.kickTimersLocked()
	}
}
