package translate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"hcnet/schema/nb"
)

// aclPriorityOffset is added to ACL priorities (ovn-northd(8)): it leaves room
// for northd's own flows below and above user ACLs.
const aclPriorityOffset = 1000

// switchACLs returns the ACLs that apply to a switch: its own and those of
// port groups with a member on it, sorted by UUID for determinism.
func (x *Index) switchACLs(sw *nb.LogicalSwitch) []*nb.ACL {
	seen := map[string]bool{}
	var out []*nb.ACL
	add := func(u string) {
		if a := x.NB.ACLs[u]; a != nil && !seen[u] {
			seen[u] = true
			out = append(out, a)
		}
	}
	for _, u := range sw.ACLs {
		add(u)
	}
	for _, pg := range x.PortGroupsOf[sw.UUID] {
		for _, u := range pg.ACLs {
			add(u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

func (x *Index) switchOut(sw *nb.LogicalSwitch) *DatapathOut {
	key := x.DatapathKeys[sw.UUID]
	out := &DatapathOut{Datapath: Datapath{Key: sw.UUID, Name: sw.Name, TunnelKey: key}}
	ports := x.switchPortsOf(sw)

	// Port bindings.
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = p.Row.Name
	}
	pkeys := allocatePortKeys(names, x.Keys.Ports)
	var flood, unknown []string
	for _, p := range ports {
		k, ok := pkeys[p.Row.Name]
		if !ok {
			continue
		}
		out.Ports = append(out.Ports, x.switchPortBinding(sw, p, k))
		if p.enabled() {
			flood = append(flood, p.Row.Name)
			if p.Unknown {
				unknown = append(unknown, p.Row.Name)
			}
		}
	}
	if len(flood) > 0 {
		out.Groups = append(out.Groups, MulticastGroup{Datapath: sw.UUID, Name: "_MC_flood", TunnelKey: mcFloodKey, Ports: flood})
	}
	if len(unknown) > 0 {
		out.Groups = append(out.Groups, MulticastGroup{Datapath: sw.UUID, Name: "_MC_unknown", TunnelKey: mcUnknownKey, Ports: unknown})
	}

	// Per-datapath port groups.
	for _, pg := range x.PortGroupsOf[sw.UUID] {
		var members []string
		for _, pu := range pg.Ports {
			if row := x.NB.SwitchPorts[pu]; row != nil {
				if sp := x.SwitchPorts[row.Name]; sp != nil && sp.Switch == sw.UUID {
					members = append(members, row.Name)
				}
			}
		}
		slices.Sort(members)
		members = slices.Compact(members)
		if out.PortGroups == nil {
			out.PortGroups = map[string][]string{}
		}
		out.PortGroups[strconv.Itoa(key)+"_"+pg.Name] = members
	}

	out.DNS = x.switchDNS(sw)
	out.LoadBalancers = x.switchLoadBalancers(sw)

	f := &flowSet{dp: sw.UUID}
	x.switchFlows(f, sw, ports)
	mc := mcastConfig(sw)
	out.IPMulticast = &mc
	x.mcastSwitch(f, out, sw, flood)
	out.Flows = f.flows
	return out
}

// switchDNS returns the DNS rows (with records) a switch names, by key.
func (x *Index) switchDNS(sw *nb.LogicalSwitch) []DNSRecords {
	var out []DNSRecords
	for _, u := range sw.DNSRecords {
		if d := x.NB.DNS[u]; d != nil && len(d.Records) > 0 && !slices.ContainsFunc(out, func(r DNSRecords) bool { return r.Key == u }) {
			out = append(out, DNSRecords{Key: u, Records: d.Records})
		}
	}
	slices.SortFunc(out, func(a, b DNSRecords) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func (x *Index) switchPortBinding(sw *nb.LogicalSwitch, p *switchPort, key int) Port {
	row := p.Row
	pb := Port{
		Name: row.Name, Datapath: sw.UUID, TunnelKey: key, Type: row.Type,
		MAC: slices.Clone(row.Addresses), PortSecurity: slices.Clone(row.PortSecurity),
		Options: maps.Clone(row.Options),
	}
	if pb.Options == nil {
		pb.Options = map[string]string{}
	}
	if row.ParentName != nil {
		pb.ParentPort = *row.ParentName
	}
	if row.Tag != nil {
		pb.Tag = *row.Tag
	} else if row.TagRequest != nil && row.Type == "localnet" {
		pb.Tag = *row.TagRequest
	}
	if p.IsRouter {
		pb.Type = "patch"
		pb.Options = map[string]string{"peer": p.Peer}
		rp := x.RouterPorts[p.Peer]
		if rp != nil {
			if ch := gatewayChassisOf(x.NB.Routers[rp.Router]); ch != "" {
				pb.Type = "l3gateway"
				pb.Options["l3gateway-chassis"] = ch
			}
			pb.NATAddresses = x.natAddresses(sw, p, rp)
		}
	}
	return pb
}

// switchFlows builds the ingress and egress pipelines of one switch.
func (x *Index) switchFlows(f *flowSet, sw *nb.LogicalSwitch, ports []*switchPort) {
	acls := x.switchACLs(sw)
	stateful := false
	for _, a := range acls {
		if a.Action == nb.ACLActionAllowRelated {
			stateful = true
		}
	}

	// Port security and admission.
	f.add(lsInCheckPortSec, 100, "eth.src[40]", "drop;")
	f.add(lsInCheckPortSec, 100, "vlan.present", "drop;")
	f.add(lsInCheckPortSec, 50, "1", "reg0[15] = check_in_port_sec(); next;")
	f.add(lsInApplyPortSec, 50, "reg0[15] == 1", "drop;")
	f.add(lsOutCheckPortSec, 100, "eth.mcast", "reg0[15] = 0; next;")
	f.add(lsOutCheckPortSec, 0, "1", "reg0[15] = check_out_port_sec(); next;")
	f.add(lsOutApplyPortSec, 50, "reg0[15] == 1", "drop;")
	f.add(lsOutApplyPortSec, 0, "1", "output;")
	for _, p := range ports {
		if !p.enabled() {
			f.add(lsInCheckPortSec, 100, "inport == "+quote(p.Row.Name), "drop;")
			f.add(lsOutCheckPortSec, 150, "outport == "+quote(p.Row.Name), "drop;")
		}
	}
	f.defaults(lsInApplyPortSec, switchIngress[2], switchIngress[3])

	// ACLs, with conntrack when any ACL is stateful.
	if stateful {
		f.add(lsInPreACL, 110, "eth.mcast", "next;")
		f.add(lsOutPreACL, 110, "eth.mcast", "next;")
		f.add(lsInPreACL, 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;")
		f.add(lsOutPreACL, 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;")
		for _, p := range ports {
			if p.IsRouter || p.Row.Type == "localnet" {
				f.add(lsInPreACL, 110, "ip && inport == "+quote(p.Row.Name), "next;")
				f.add(lsOutPreACL, 110, "ip && outport == "+quote(p.Row.Name), "next;")
			}
		}
		f.add(lsInPreACL, 100, "ip", "reg0[0] = 1; next;")
		f.add(lsOutPreACL, 100, "ip", "reg0[0] = 1; next;")
	}
	f.defaults(lsInPreACL, lsOutPreACL)
	for _, s := range []Stage{lsInPreStateful, lsOutPreStateful} {
		f.add(s, 110, "reg0[2] == 1", "ct_lb_mark;")
		f.add(s, 100, "reg0[0] == 1", "ct_next;")
		f.add(s, 0, "1", "next;")
	}
	for _, hint := range []Stage{lsInACLHint, lsOutACLHint} {
		if stateful {
			f.add(hint, 7, "ct.new && !ct.est", "reg0[7] = 1; reg0[9] = 1; next;")
			f.add(hint, 6, "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1", "reg0[7] = 1; reg0[9] = 1; next;")
			f.add(hint, 5, "!ct.trk", "reg0[8] = 1; reg0[9] = 1; next;")
			f.add(hint, 4, "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0", "reg0[8] = 1; reg0[10] = 1; next;")
			f.add(hint, 3, "!ct.est", "reg0[9] = 1; next;")
			f.add(hint, 2, "ct.est && ct_mark.blocked == 1", "reg0[9] = 1; next;")
			f.add(hint, 1, "ct.est && ct_mark.blocked == 0", "reg0[10] = 1; next;")
		}
		f.add(hint, 0, "1", "next;")
	}
	for _, s := range []Stage{lsInACL, lsOutACL} {
		if stateful {
			f.add(s, 65532, "ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1)", "drop;")
			f.add(s, 65532, "ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0", "reg0[9] = 0; reg0[10] = 0; next;")
			f.add(s, 65532, "!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0", "next;")
			f.add(s, 65532, "nd || nd_ra || nd_rs || mldv1 || mldv2", "next;")
			f.add(s, 1, "ip && !ct.est", "reg0[1] = 1; next;")
			f.add(s, 1, "ip && ct.est && ct_mark.blocked == 1", "reg0[1] = 1; next;")
		}
		f.add(s, 0, "1", "next;")
	}
	for _, a := range acls {
		x.aclFlows(f, a, stateful)
	}
	if len(acls) > 0 {
		x.dhcpACLExemptions(f, ports)
		if len(x.switchDNS(sw)) > 0 {
			f.add(lsOutACL, 34000, "udp.src == 53", "next;")
		}
	}

	// Load balancer health checks.
	x.svcSwitchFlows(f, sw, len(acls) > 0)

	// QoS.
	x.qosFlows(f, sw)

	// Load balancing: the switch's load balancers' VIPs.
	x.lbFlows(f, sw, ports)
	f.defaults(switchIngress[11], lsInLB, switchIngress[13], switchIngress[14], switchIngress[15],
		switchIngress[16], switchIngress[17])

	for _, s := range []Stage{lsInStateful, lsOutStateful} {
		f.add(s, 100, "reg0[1] == 1 && reg0[13] == 0", "ct_commit { ct_mark.blocked = 0; }; next;")
		f.add(s, 0, "1", "next;")
	}

	// ARP/ND responder.
	for _, p := range ports {
		name := quote(p.Row.Name)
		if p.Row.Type == "localnet" {
			f.add(lsInARPRsp, 100, "inport == "+name, "next;")
			continue
		}
		if p.Row.Type == "virtual" {
			x.bindVportFlows(f, sw, p)
			continue
		}
		if !p.enabled() {
			continue
		}
		for _, a := range x.portL3(p) {
			for _, ip := range a.IPv4 {
				f.add(lsInARPRsp, 100, fmt.Sprintf("arp.tpa == %s && arp.op == 1 && inport == %s", ip, name), "next;")
				f.addf(lsInARPRsp, 50, fmt.Sprintf("arp.tpa == %s && arp.op == 1", ip),
					"eth.dst = eth.src; eth.src = %s; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = %s; arp.tpa = arp.spa; arp.spa = %s; outport = inport; flags.loopback = 1; output;",
					a.MAC, a.MAC, ip)
			}
			for _, ip := range a.IPv6 {
				m := fmt.Sprintf("nd_ns && ip6.dst == {%s, %s} && nd.target == %s", ip, solicitedNode(ip), ip)
				f.add(lsInARPRsp, 100, m+" && inport == "+name, "next;")
				verb := "nd_na"
				if p.IsRouter {
					verb = "nd_na_router"
				}
				f.addf(lsInARPRsp, 50, m,
					"%s { eth.src = %s; ip6.src = %s; nd.target = %s; nd.tll = %s; outport = inport; flags.loopback = 1; output; };",
					verb, a.MAC, ip, ip, a.MAC)
			}
		}
	}
	f.add(lsInARPRsp, 0, "1", "next;")

	// DHCPv4.
	for _, p := range ports {
		x.dhcpFlows(f, p)
		x.dhcpv6Flows(f, p)
	}
	if len(x.switchDNS(sw)) > 0 {
		// DNS queries are answered from the controller (dns_lookup) when
		// the name is in one of the switch's DNS rows.
		f.add(switchIngress[22], 100, "udp.dst == 53", "reg0[4] = dns_lookup(); next;")
		for _, ip := range []string{"ip4", "ip6"} {
			f.addf(switchIngress[23], 100, "udp.dst == 53 && reg0[4]",
				"eth.dst <-> eth.src; %s.src <-> %s.dst; udp.dst = udp.src; udp.src = 53; outport = inport; flags.loopback = 1; output;", ip, ip)
		}
	}
	f.defaults(lsInDHCPOptions, lsInDHCPResponse, switchIngress[22], switchIngress[23], switchIngress[24])

	// L2 lookup.
	f.add(lsInL2Lkup, 70, "eth.mcast", `outport = "_MC_flood"; output;`)
	hasUnknown := false
	for _, p := range ports {
		if !p.enabled() {
			continue
		}
		if p.Unknown {
			hasUnknown = true
		}
		name := quote(p.Row.Name)
		if p.IsRouter {
			rp := x.RouterPorts[p.Peer]
			if rp == nil || rp.MAC == "" {
				continue
			}
			m := "eth.dst == " + rp.MAC
			if rp.Gateway {
				m += fmt.Sprintf(" && is_chassis_resident(%s)", quote(rp.CR))
				// Floating IPs of distributed NAT rules have their own
				// MAC, served on the chassis of their logical port.
				for _, n := range x.routerNATs(x.NB.Routers[rp.Router]) {
					if n.distributed() {
						f.add(lsInL2Lkup, 50, fmt.Sprintf("eth.dst == %s && is_chassis_resident(%s)", n.ExternalMAC, quote(n.LogicalPort)), "outport = "+name+"; output;")
					}
				}
			}
			f.add(lsInL2Lkup, 50, m, "outport = "+name+"; output;")
			continue
		}
		for _, a := range p.Addrs {
			f.add(lsInL2Lkup, 50, "eth.dst == "+a.MAC, "outport = "+name+"; output;")
		}
	}
	// Unknown destinations: a MAC learned on a port with unknown addresses
	// (FDB), else flooded to those ports, else dropped.
	for _, p := range ports {
		if p.enabled() && p.Unknown && p.Row.Type == "" {
			name := quote(p.Row.Name)
			f.add(switchIngress[2], 100, "inport == "+name, "reg0[11] = lookup_fdb(inport, eth.src); next;")
			f.add(switchIngress[3], 100, "inport == "+name+" && reg0[11] == 0", "put_fdb(inport, eth.src); next;")
		}
	}
	f.add(lsInL2Lkup, 0, "1", "outport = get_fdb(eth.dst); next;")
	if hasUnknown {
		f.add(lsInL2Unknown, 50, `outport == "none"`, `outport = "_MC_unknown"; output;`)
	} else {
		f.add(lsInL2Unknown, 50, `outport == "none"`, "drop;")
	}
	f.add(lsInL2Unknown, 0, "1", "output;")
}

// portL3 returns the addresses a switch port answers ARP/ND for: its own, or
// for a router port its peer's.
func (x *Index) portL3(p *switchPort) []lspAddr {
	if !p.IsRouter {
		return p.Addrs
	}
	rp := x.RouterPorts[p.Peer]
	if rp == nil {
		return nil
	}
	a := lspAddr{MAC: rp.MAC}
	for _, n := range rp.V4 {
		a.IPv4 = append(a.IPv4, n.Addr())
	}
	if rp.LLA.IsValid() {
		a.IPv6 = append(a.IPv6, rp.LLA)
	}
	for _, n := range rp.V6 {
		a.IPv6 = append(a.IPv6, n.Addr())
	}
	return []lspAddr{a}
}

func (x *Index) aclFlows(f *flowSet, a *nb.ACL, stateful bool) {
	stage := lsInACL
	if a.Direction == nb.ACLDirectionToLport {
		stage = lsOutACL
	}
	prio := a.Priority + aclPriorityOffset
	m := "(" + a.Match + ")"
	reject := func(match string) {
		if a.Direction == nb.ACLDirectionToLport {
			f.addf(stage, prio, match, "reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=ingress,table=%d); };", lsInL2Lkup.Table)
		} else {
			f.addf(stage, prio, match, "reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=egress,table=%d); };", lsOutQoSMark.Table)
		}
	}
	switch a.Action {
	case nb.ACLActionAllowStateless:
		f.add(stage, prio, a.Match, "next;")
	case nb.ACLActionAllow, nb.ACLActionAllowRelated:
		if !stateful {
			f.add(stage, prio, a.Match, "next;")
			return
		}
		f.add(stage, prio, "reg0[7] == 1 && "+m, "reg0[1] = 1; next;")
		f.add(stage, prio, "reg0[8] == 1 && "+m, "next;")
	case nb.ACLActionDrop, nb.ACLActionReject:
		if !stateful {
			if a.Action == nb.ACLActionReject {
				reject(a.Match)
			} else {
				f.add(stage, prio, a.Match, "drop;")
			}
			return
		}
		if a.Action == nb.ACLActionReject {
			reject("reg0[9] == 1 && " + m)
		} else {
			f.add(stage, prio, "reg0[9] == 1 && "+m, "drop;")
		}
		// An established connection that an ACL now blocks is marked, so
		// its later packets drop too.
		f.add(stage, prio, "reg0[10] == 1 && "+m, "ct_commit { ct_mark.blocked = 1; };")
	}
}

// dhcpOptionsFor returns the DHCPv4 options row of a port and the address it
// offers, if the port has both.
func (x *Index) dhcpOptionsFor(p *switchPort) (*nb.DHCPOptions, netip.Prefix, lspAddr, bool) {
	if p.Row.Dhcpv4Options == nil {
		return nil, netip.Prefix{}, lspAddr{}, false
	}
	d := x.NB.DHCPOptions[*p.Row.Dhcpv4Options]
	if d == nil {
		return nil, netip.Prefix{}, lspAddr{}, false
	}
	cidr, err := netip.ParsePrefix(d.Cidr)
	if err != nil || !cidr.Addr().Is4() {
		return nil, netip.Prefix{}, lspAddr{}, false
	}
	for _, k := range []string{"server_id", "server_mac", "lease_time"} {
		if d.Options[k] == "" {
			return nil, netip.Prefix{}, lspAddr{}, false
		}
	}
	for _, a := range p.Addrs {
		for _, ip := range a.IPv4 {
			if cidr.Contains(ip) {
				return d, cidr, lspAddr{MAC: a.MAC, IPv4: []netip.Addr{ip}}, true
			}
		}
	}
	return nil, netip.Prefix{}, lspAddr{}, false
}

func (x *Index) dhcpFlows(f *flowSet, p *switchPort) {
	if !p.enabled() {
		return
	}
	d, cidr, a, ok := x.dhcpOptionsFor(p)
	if !ok {
		return
	}
	ip := a.IPv4[0]
	opts := []string{"offerip = " + ip.String()}
	keys := slices.Sorted(maps.Keys(d.Options))
	haveMask := false
	for _, k := range keys {
		if k == "server_mac" {
			continue
		}
		if k == "netmask" {
			haveMask = true
		}
		opts = append(opts, k+" = "+d.Options[k])
	}
	if !haveMask {
		opts = append(opts, "netmask = "+ipv4Netmask(cidr.Bits()))
		slices.Sort(opts[1:])
	}
	action := fmt.Sprintf("reg0[3] = put_dhcp_opts(%s); next;", strings.Join(opts, ", "))
	name := quote(p.Row.Name)
	server := d.Options["server_id"]
	f.add(lsInDHCPOptions, 100, fmt.Sprintf("inport == %s && eth.src == %s && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67", name, a.MAC), action)
	f.add(lsInDHCPOptions, 100, fmt.Sprintf("inport == %s && eth.src == %s && ip4.src == %s && ip4.dst == {%s, 255.255.255.255} && udp.src == 68 && udp.dst == 67", name, a.MAC, ip, server), action)
	f.addf(lsInDHCPResponse, 100, fmt.Sprintf("inport == %s && eth.src == %s && ip4 && udp.src == 68 && udp.dst == 67 && reg0[3]", name, a.MAC),
		"eth.dst = eth.src; eth.src = %s; ip4.src = %s; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;",
		d.Options["server_mac"], server)
}

// dhcpACLExemptions keeps DHCP replies from northd's responder out of ACLs.
func (x *Index) dhcpACLExemptions(f *flowSet, ports []*switchPort) {
	for _, p := range ports {
		if !p.enabled() {
			continue
		}
		x.dhcpv6ACLExemption(f, p)
		d, _, _, ok := x.dhcpOptionsFor(p)
		if !ok {
			continue
		}
		f.add(lsOutACL, 34000, fmt.Sprintf("outport == %s && eth.src == %s && ip4.src == %s && udp && udp.src == 67 && udp.dst == 68",
			quote(p.Row.Name), d.Options["server_mac"], d.Options["server_id"]), "next;")
	}
}

func (x *Index) qosFlows(f *flowSet, sw *nb.LogicalSwitch) {
	for _, u := range sw.QOSRules {
		q := x.NB.QoS[u]
		if q == nil {
			continue
		}
		mark, meter := lsInQoSMark, lsInQoSMeter
		if q.Direction == nb.QoSDirectionToLport {
			mark, meter = lsOutQoSMark, lsOutQoSMeter
		}
		if d, ok := q.Action[nb.QoSActionDSCP]; ok {
			f.addf(mark, q.Priority, q.Match, "ip.dscp = %d; next;", d)
		}
		if rate, ok := q.Bandwidth[nb.QoSBandwidthRate]; ok {
			if burst, ok := q.Bandwidth[nb.QoSBandwidthBurst]; ok {
				f.addf(meter, q.Priority, q.Match, "set_meter(%d, %d); next;", rate, burst)
			} else {
				f.addf(meter, q.Priority, q.Match, "set_meter(%d); next;", rate)
			}
		}
	}
	f.defaults(lsInQoSMark, lsInQoSMeter, lsOutQoSMark, lsOutQoSMeter)
}

// vip is one load balancer VIP with its backends.
type vip struct {
	IP       netip.Addr
	Port     int // 0: any
	Proto    string
	Backends string // "IP[:PORT],..." as ct_lb_mark takes them; "" for none
	// Reject is the load balancer's options:reject: a VIP without
	// backends rejects new connections instead of dropping them.
	Reject bool
	// Affinity is options:affinity_timeout in seconds (0: none): a client
	// keeps its backend for that long.
	Affinity int
	// Hash is ct_lb_mark's hash_fields from the load balancer's
	// selection_fields ("" for the default selection).
	Hash string
}

// hashOpt returns the hash_fields argument of ct_lb_mark, with its
// separator, or "".
func (v vip) hashOpt() string {
	if v.Hash == "" {
		return ""
	}
	return fmt.Sprintf("; hash_fields=%q", v.Hash)
}

// hashFields renders a load balancer's selection_fields as ct_lb_mark's
// hash_fields, as ovn-northd 23.03: in the set's (sorted) order, tp_src
// and tp_dst named after the protocol.
func hashFields(lb *nb.LoadBalancer, proto string) string {
	fs := slices.Clone(lb.SelectionFields)
	slices.Sort(fs)
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if t, ok := strings.CutPrefix(f, "tp_"); ok {
			f = proto + "_" + t
		}
		out = append(out, f)
	}
	return strings.Join(out, ",")
}

// affinityBackends returns the backends of an IPv4 VIP with a port and an
// affinity timeout, or nil.
func (v vip) affinityBackends() []netip.AddrPort {
	if v.Affinity <= 0 || v.Port == 0 || !v.IP.Is4() || v.Backends == "" {
		return nil
	}
	var out []netip.AddrPort
	for _, b := range strings.Split(v.Backends, ",") {
		if ap, err := netip.ParseAddrPort(b); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// noBackends returns the action for a new connection to a VIP without
// backends in a pipeline whose stage after the reply turnaround is
// next(pipeline=egress,table=egressTable).
func (v vip) noBackends(egressTable int) string {
	if v.Reject {
		return fmt.Sprintf("reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=%d);};", egressTable)
	}
	return "drop;"
}

// family returns "ip4" or "ip6", the VIP's address family as a field prefix.
func (v vip) family() string {
	if v.IP.Is4() {
		return "ip4"
	}
	return "ip6"
}

// switchVIPs returns the VIPs of a switch's load balancers, sorted.
func (x *Index) switchVIPs(sw *nb.LogicalSwitch) []vip {
	var out []vip
	for _, u := range x.loadBalancersOf(sw.LoadBalancer, sw.LoadBalancerGroup) {
		lb := x.NB.LoadBalancers[u]
		if lb == nil {
			continue
		}
		proto := "tcp"
		if lb.Protocol != nil && *lb.Protocol != "" {
			proto = *lb.Protocol
		}
		for k, backends := range lb.Vips {
			v, ok := parseVIP(k, backends, proto)
			v.Reject = lb.Options["reject"] == "true"
			v.Affinity, _ = strconv.Atoi(lb.Options["affinity_timeout"])
			v.Hash = hashFields(lb, proto)
			if ok {
				x.healthFilter(u, k, &v)
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b vip) int {
		if c := a.IP.Compare(b.IP); c != 0 {
			return c
		}
		if a.Port != b.Port {
			return a.Port - b.Port
		}
		return strings.Compare(a.Proto, b.Proto)
	})
	return out
}

// parseVIP parses a Load_Balancer vips entry ("IP[:PORT]" → "IP[:PORT],...").
func parseVIP(key, backends, proto string) (vip, bool) {
	v := vip{Proto: proto}
	if ap, err := netip.ParseAddrPort(key); err == nil {
		v.IP, v.Port = ap.Addr(), int(ap.Port())
	} else if a, err := netip.ParseAddr(key); err == nil {
		v.IP = a
	} else {
		return vip{}, false
	}
	v.IP = v.IP.Unmap()
	var bs []string
	for _, b := range strings.Split(backends, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if ap, err := netip.ParseAddrPort(b); err == nil && ap.Addr().Is4() == v.IP.Is4() && v.Port != 0 {
			bs = append(bs, ap.String())
		} else if a, err := netip.ParseAddr(b); err == nil && a.Is4() == v.IP.Is4() && v.Port == 0 {
			bs = append(bs, a.String())
		}
	}
	if len(bs) == 0 && strings.TrimSpace(backends) != "" {
		return vip{}, false // backends given, none usable
	}
	v.Backends = strings.Join(bs, ",")
	return v, true
}

// lbFlows sends IP traffic through conntrack when the switch load-balances
// (so replies are un-NATed), and picks a backend for new connections to a
// VIP.
func (x *Index) lbFlows(f *flowSet, sw *nb.LogicalSwitch, ports []*switchPort) {
	vips := x.switchVIPs(sw)
	if len(vips) > 0 {
		for _, s := range []Stage{lsInPreLB, lsOutPreLB} {
			f.add(s, 110, "eth.mcast", "next;")
			f.add(s, 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;")
		}
		for _, p := range ports {
			if p.IsRouter || p.Row.Type == "localnet" {
				f.add(lsInPreLB, 110, "ip && inport == "+quote(p.Row.Name), "next;")
				f.add(lsOutPreLB, 110, "ip && outport == "+quote(p.Row.Name), "next;")
			}
		}
		f.add(lsInPreLB, 100, "ip", "reg0[2] = 1; next;")
		f.add(lsOutPreLB, 100, "ip", "reg0[2] = 1; next;")
	}
	f.defaults(lsInPreLB, lsOutPreLB)
	x.emptyLBEventFlows(f, lsInPreLB, x.loadBalancersOf(sw.LoadBalancer, sw.LoadBalancerGroup))
	x.lbHairpinFlows(f, vips)
	for _, v := range vips {
		match, prio := fmt.Sprintf("ct.new && %s.dst == %s", v.family(), v.IP), 110
		if v.Port != 0 {
			match, prio = fmt.Sprintf("%s && %s.dst == %d", match, v.Proto, v.Port), 120
		}
		action := fmt.Sprintf("reg0[1] = 0; ct_lb_mark(backends=%s%s);", v.Backends, v.hashOpt())
		if v.Backends == "" {
			action = v.noBackends(lsOutQoSMark.Table)
		}
		f.add(lsInLB, prio, match, action)
		// Affinity: a client seen recently goes to the backend it had
		// (chk_lb_aff), a new choice is remembered (commit_lb_aff).
		if bs := v.affinityBackends(); bs != nil {
			f.add(switchIngress[11], 100, fmt.Sprintf("ct.new && ip4 && reg1 == %s && reg2[0..15] == %d", v.IP, v.Port), "reg9[6] = chk_lb_aff(); next;")
			for _, b := range bs {
				f.addf(lsInLB, 150, fmt.Sprintf("reg9[6] == 1 && ct.new && ip4 && reg4 == %s && reg8[0..15] == %d", b.Addr(), b.Port()),
					"reg0[1] = 0; reg1 = %s; reg2[0..15] = %d; ct_lb_mark(backends=%s);", v.IP, v.Port, b)
				f.addf(switchIngress[13], 100, fmt.Sprintf("reg9[6] == 0 && ct.new && ip4 && reg1 == %s && reg2[0..15] == %d && ip4.dst == %s && %s.dst == %d", v.IP, v.Port, b.Addr(), v.Proto, b.Port()),
					"commit_lb_aff(vip = \"%s:%d\", backend = \"%s\", proto = %s, timeout = %d); /* drop */", v.IP, v.Port, b, v.Proto, v.Affinity)
			}
		}
	}
}

// lbHairpinFlows lets a load balancer backend reach a VIP that picks itself
// (ovn-northd(8) ls_in_pre_hairpin, ls_in_nat_hairpin, ls_in_hairpin): the
// VIP and port are kept in reg1/xxreg1 and reg2 as conntrack sees the
// connection, ovn-controller's chk_lb_hairpin() flags such packets (from
// the SB Load_Balancer rows), and they are SNATed to the VIP and sent back
// out of their input port.
func (x *Index) lbHairpinFlows(f *flowSet, vips []vip) {
	if len(vips) == 0 {
		return
	}
	for _, v := range vips {
		reg := "reg1"
		if !v.IP.Is4() {
			reg = "xxreg1"
		}
		if v.Port == 0 {
			f.addf(lsInPreStateful, 120, fmt.Sprintf("reg0[2] == 1 && %s.dst == %s", v.family(), v.IP), "%s = %s; ct_lb_mark;", reg, v.IP)
			continue
		}
		f.addf(lsInPreStateful, 120, fmt.Sprintf("reg0[2] == 1 && %s.dst == %s && %s.dst == %d", v.family(), v.IP, v.Proto, v.Port),
			"%s = %s; reg2[0..15] = %d; ct_lb_mark;", reg, v.IP, v.Port)
	}
	f.add(switchIngress[14], 100, "ip && ct.trk", "reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;")
	f.add(switchIngress[15], 100, "ip && ct.new && ct.trk && reg0[6] == 1", "ct_snat_to_vip; next;")
	f.add(switchIngress[15], 100, "ip && ct.est && ct.trk && reg0[6] == 1", "ct_snat;")
	f.add(switchIngress[15], 90, "ip && reg0[12] == 1", "ct_snat;")
	f.add(switchIngress[16], 1, "(reg0[6] == 1 || reg0[12] == 1)", "eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;")
}

// switchLoadBalancers returns the SB Load_Balancer content of the load
// balancers a switch uses, by NB row UUID.
func (x *Index) switchLoadBalancers(sw *nb.LogicalSwitch) []LoadBalancer {
	var out []LoadBalancer
	for _, u := range x.loadBalancersOf(sw.LoadBalancer, sw.LoadBalancerGroup) {
		lb := x.NB.LoadBalancers[u]
		if lb == nil || len(lb.Vips) == 0 || slices.ContainsFunc(out, func(l LoadBalancer) bool { return l.Key == u }) {
			continue
		}
		proto := "tcp"
		if lb.Protocol != nil && *lb.Protocol != "" {
			proto = *lb.Protocol
		}
		opts := maps.Clone(lb.Options)
		if opts == nil {
			opts = map[string]string{}
		}
		opts["hairpin_orig_tuple"] = "true"
		out = append(out, LoadBalancer{Key: u, Name: lb.Name, Protocol: proto, Vips: lb.Vips, Options: opts})
	}
	slices.SortFunc(out, func(a, b LoadBalancer) int { return strings.Compare(a.Key, b.Key) })
	return out
}
