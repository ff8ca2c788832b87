package translate

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"hcnet/schema/nb"
)

func (x *Index) routerOut(r *nb.LogicalRouter) *DatapathOut {
	out := &DatapathOut{Datapath: Datapath{Key: r.UUID, Name: r.Name, Router: true, TunnelKey: x.DatapathKeys[r.UUID]}}
	ports := x.routerPortsOf(r)
	gwChassis := gatewayChassisOf(r)

	var names []string
	for _, p := range ports {
		names = append(names, p.Row.Name)
		if p.Gateway {
			names = append(names, p.CR)
		}
	}
	pkeys := allocatePortKeys(names, x.Keys.Ports)
	mac := func(p *routerPort) []string {
		parts := []string{p.MAC}
		for _, n := range p.Row.Networks {
			parts = append(parts, n)
		}
		return []string{strings.Join(parts, " ")}
	}
	for _, p := range ports {
		k, ok := pkeys[p.Row.Name]
		if !ok {
			continue
		}
		pb := Port{Name: p.Row.Name, Datapath: r.UUID, TunnelKey: k, Type: "patch", MAC: mac(p), Options: map[string]string{}}
		switch {
		case p.PeerSwitchPort != "":
			pb.Options["peer"] = p.PeerSwitchPort
		case p.PeerRouterPort != "":
			pb.Options["peer"] = p.PeerRouterPort
		}
		if gwChassis != "" {
			pb.Type = "l3gateway"
			pb.Options["l3gateway-chassis"] = gwChassis
		}
		periodicRAOptions(p, pb.Options)
		if p.Gateway {
			pb.Options["chassis-redirect-port"] = p.CR
			if ck, ok := pkeys[p.CR]; ok {
				group := x.haGroupOf(p)
				out.HAGroups = append(out.HAGroups, group)
				out.Ports = append(out.Ports, Port{
					Name: p.CR, Datapath: r.UUID, TunnelKey: ck, Type: "chassisredirect", MAC: mac(p),
					Options:        crOptions(p.Row.Name, x.routerNATs(r)),
					HAChassisGroup: group.Name,
				})
			}
		}
		out.Ports = append(out.Ports, pb)
	}
	slices.SortFunc(out.Ports, func(a, b Port) int { return cmp.Compare(a.Name, b.Name) })

	out.BFD = x.routerBFD(ports)

	f := &flowSet{dp: r.UUID}
	x.routerFlows(f, r, ports)
	x.bfdFlows(f, ports, out.BFD)
	out.Flows = f.flows
	return out
}

// routerBFD returns the BFD sessions on a router's ports.
func (x *Index) routerBFD(ports []*routerPort) []BFDSession {
	var out []BFDSession
	for u, b := range x.NB.BFD {
		if !slices.ContainsFunc(ports, func(p *routerPort) bool { return p.Row.Name == b.LogicalPort }) {
			continue
		}
		s := BFDSession{Key: u, LogicalPort: b.LogicalPort, DstIP: b.DstIP, MinTx: 1000, MinRx: 1000, DetectMult: 5, Options: b.Options}
		if b.MinTx != nil {
			s.MinTx = *b.MinTx
		}
		if b.MinRx != nil {
			s.MinRx = *b.MinRx
		}
		if b.DetectMult != nil {
			s.DetectMult = *b.DetectMult
		}
		if s.Options == nil {
			s.Options = map[string]string{}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b BFDSession) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// bfdFlows lets BFD run on the ports with sessions (ovn-northd(8)
// lr_in_ip_input): control packets to the port's addresses go to
// handle_bfd_msg(), its own pass; and BFD packets routed out of such a port
// keep their TTL (a copy of each single-nexthop route flow at priority + 1
// matching udp.dst == 3784, without ip.ttl--).
func (x *Index) bfdFlows(f *flowSet, ports []*routerPort, sessions []BFDSession) {
	bfdPort := map[string]bool{}
	for _, s := range sessions {
		bfdPort[s.LogicalPort] = true
	}
	if len(bfdPort) == 0 {
		return
	}
	for _, p := range ports {
		if !bfdPort[p.Row.Name] {
			continue
		}
		for _, n := range p.V4 {
			f.add(lrInIPInput, 110, fmt.Sprintf("ip4.dst == %s && udp.dst == 3784", n.Addr()), "handle_bfd_msg(); ")
			f.add(lrInIPInput, 110, fmt.Sprintf("ip4.src == %s && udp.dst == 3784", n.Addr()), "next; ")
		}
		for _, a := range routerIPv6(p) {
			f.add(lrInIPInput, 110, fmt.Sprintf("ip6.dst == %s && udp.dst == 3784", a), "handle_bfd_msg(); ")
			f.add(lrInIPInput, 110, fmt.Sprintf("ip6.src == %s && udp.dst == 3784", a), "next; ")
		}
	}
	var extra []Flow
	for _, fl := range f.flows {
		if fl.Stage != lrInIPRouting.Name || !strings.HasPrefix(fl.Actions, "ip.ttl--; reg8[0..15] = 0; ") {
			continue
		}
		i := strings.Index(fl.Actions, "outport = ")
		if i < 0 {
			continue
		}
		out := fl.Actions[i+len("outport = "):]
		out = out[:strings.Index(out, ";")]
		if name, err := strconv.Unquote(out); err != nil || !bfdPort[name] {
			continue
		}
		c := fl
		c.Priority++
		c.Match += " && udp.dst == 3784"
		c.Actions = strings.TrimPrefix(fl.Actions, "ip.ttl--; ")
		extra = append(extra, c)
	}
	f.flows = append(f.flows, extra...)
}

// crOptions returns the options of a chassisredirect port: everything goes
// through the gateway chassis ("always-redirect") unless the router has
// distributed NAT rules, which ovn-controller then handles on the VMs'
// chassis.
func crOptions(dgp string, nats []natRule) map[string]string {
	o := map[string]string{"distributed-port": dgp, "always-redirect": "true"}
	if slices.ContainsFunc(nats, natRule.distributed) {
		delete(o, "always-redirect")
	}
	return o
}

// haGroupOf returns the HA chassis group of a distributed gateway port: the
// NB HA_Chassis_Group it names, or one built from its Gateway_Chassis rows
// and named after the port.
func (x *Index) haGroupOf(p *routerPort) HAGroup {
	var g HAGroup
	if p.Row.HaChassisGroup != nil {
		if hg := x.NB.HAChassisGroups[*p.Row.HaChassisGroup]; hg != nil {
			g.Name = hg.Name
			for _, u := range hg.HaChassis {
				if hc := x.NB.HAChassis[u]; hc != nil {
					g.Members = append(g.Members, HAChassis{Chassis: hc.ChassisName, Priority: hc.Priority})
				}
			}
		}
	}
	if g.Name == "" {
		g.Name = p.Row.Name
		for _, u := range p.Row.GatewayChassis {
			if gc := x.NB.GatewayChassis[u]; gc != nil {
				g.Members = append(g.Members, HAChassis{Chassis: gc.ChassisName, Priority: gc.Priority})
			}
		}
	}
	slices.SortFunc(g.Members, func(a, b HAChassis) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Chassis, b.Chassis))
	})
	return g
}

// natRule is a parsed NB NAT row.
type natRule struct {
	Type     string
	External netip.Addr
	Logical  netip.Prefix
	// LogicalPort and ExternalMAC are set together on a dnat_and_snat
	// rule handled on the chassis of the VM that owns the logical IP (a
	// distributed floating IP) instead of the gateway chassis.
	LogicalPort string
	ExternalMAC string
	// Stateless dnat_and_snat rules rewrite addresses without conntrack
	// (options:stateless=true).
	Stateless bool
	// Allowed and Exempted are the names of the address sets of
	// allowed_ext_ips / exempted_ext_ips: the rule applies only to, or
	// never to, those external peers.
	Allowed, Exempted string
}

// peerIn returns the match suffix restricting the rule to its allowed
// external peers, on the field dir ("src" for DNAT, "dst" for SNAT).
func (n natRule) peerIn(dir string) string {
	if n.Allowed == "" {
		return ""
	}
	return n.af(fmt.Sprintf(" && ip4.%s == $%s", dir, n.Allowed))
}

// af adapts an IPv4 match or action text to the rule's address family:
// ip6 fields and the xxreg registers for an IPv6 rule.
func (n natRule) af(s string) string {
	if n.External.Is4() {
		return s
	}
	return strings.NewReplacer("ip4.", "ip6.", "ip4 ", "ip6 ", "reg0 == ", "xxreg0 == ", "reg1 = ", "xxreg1 = ").Replace(s)
}

// ndReply answers a neighbor solicitation for a NAT address with mac
// (an expression such as xreg0[0..47] or a literal).
func ndReply(mac string) string {
	return fmt.Sprintf("nd_na { eth.src = %s; ip6.src = nd.target; nd.tll = %s; outport = inport; flags.loopback = 1; output; };", mac, mac)
}

// ndMatch matches a neighbor solicitation for ip.
func ndMatch(ip netip.Addr) string {
	return fmt.Sprintf("ip6.dst == {%s, %s} && nd_ns && nd.target == %s", ip, solicitedNode(ip), ip)
}

// distributed reports whether n is a distributed dnat_and_snat rule.
func (n natRule) distributed() bool { return n.LogicalPort != "" }

func (x *Index) routerNATs(r *nb.LogicalRouter) []natRule {
	var out []natRule
	if r == nil {
		return nil
	}
	for _, u := range r.Nat {
		n := x.NB.NATs[u]
		if n == nil {
			continue
		}
		ext, err := netip.ParseAddr(n.ExternalIP)
		if err != nil {
			continue
		}
		lp, err := parseIPOrPrefix(n.LogicalIP)
		if err != nil || lp.Addr().Is4() != ext.Is4() {
			continue
		}
		rule := natRule{Type: n.Type, External: ext, Logical: lp, Stateless: n.Type == nb.NATTypeDNATAndSNAT && n.Options["stateless"] == "true"}
		if n.Type == nb.NATTypeDNATAndSNAT && n.LogicalPort != nil && n.ExternalMAC != nil {
			if hw, ok := parseMAC(*n.ExternalMAC); ok && *n.LogicalPort != "" {
				rule.LogicalPort, rule.ExternalMAC = *n.LogicalPort, formatMAC(hw)
			}
		}
		asName := func(u *string) string {
			if u == nil {
				return ""
			}
			if as := x.NB.AddressSets[*u]; as != nil {
				return as.Name
			}
			return ""
		}
		rule.Allowed, rule.Exempted = asName(n.AllowedExtIPs), asName(n.ExemptedExtIPs)
		if rule.Exempted != "" {
			// The two are exclusive (ovn-nb(5)); with both set we use
			// exempted_ext_ips.
			rule.Allowed = ""
		}
		out = append(out, rule)
	}
	slices.SortFunc(out, func(a, b natRule) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), a.External.Compare(b.External), cmp.Compare(a.Logical.String(), b.Logical.String()),
			cmp.Compare(a.LogicalPort, b.LogicalPort), cmp.Compare(a.ExternalMAC, b.ExternalMAC), boolCmp(a.Stateless, b.Stateless),
			cmp.Compare(a.Allowed, b.Allowed), cmp.Compare(a.Exempted, b.Exempted))
	})
	return out
}

// routeTarget is where a route sends packets: port, its address, next hop.
type routeTarget struct {
	Port    *routerPort
	PortIP  netip.Addr
	Nexthop netip.Addr
}

// resolveNexthop finds the router port whose network holds nexthop (or the
// named output port).
func resolveNexthop(ports []*routerPort, nexthop netip.Addr, outPort string) (routeTarget, bool) {
	for _, p := range ports {
		if outPort != "" && p.Row.Name != outPort {
			continue
		}
		nets := p.V4
		if nexthop.Is6() {
			nets = p.V6
		}
		for _, n := range nets {
			if n.Contains(nexthop) || outPort != "" {
				return routeTarget{Port: p, PortIP: n.Addr(), Nexthop: nexthop}, true
			}
		}
	}
	return routeTarget{}, false
}

func (x *Index) routerFlows(f *flowSet, r *nb.LogicalRouter, ports []*routerPort) {
	gwRouter := gatewayChassisOf(r) != ""
	nats := x.routerNATs(r)
	var dgp *routerPort // the (first) distributed gateway port
	for _, p := range ports {
		if p.Gateway && p.enabled() {
			dgp = p
			break
		}
	}
	resident := func(p *routerPort) string {
		if p.Gateway {
			return fmt.Sprintf(" && is_chassis_resident(%s)", quote(p.CR))
		}
		return ""
	}

	// Admission.
	f.add(lrInAdmission, 100, "vlan.present || eth.src[40]", "drop;")
	for _, p := range ports {
		if !p.enabled() {
			continue
		}
		name := quote(p.Row.Name)
		f.addf(lrInAdmission, 50, "eth.mcast && inport == "+name, "%sxreg0[0..47] = %s; next;", mtuCheck(p), p.MAC)
		f.addf(lrInAdmission, 50, fmt.Sprintf("eth.dst == %s && inport == %s%s", p.MAC, name, resident(p)), "%sxreg0[0..47] = %s; next;", mtuCheck(p), p.MAC)
	}
	f.add(lrInAdmission, 0, "1", "drop;")

	// Neighbor lookup and learning.
	f.add(lrInLookupNeighbor, 100, "arp.op == 2", "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;")
	for _, p := range ports {
		for _, n := range p.V4 {
			f.add(lrInLookupNeighbor, 100, fmt.Sprintf("inport == %s && arp.spa == %s && arp.op == 1%s", quote(p.Row.Name), networkOf(n), resident(p)),
				"reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;")
		}
	}
	f.add(lrInLookupNeighbor, 100, "nd_na", "reg9[2] = lookup_nd(inport, nd.target, nd.tll); next;")
	f.add(lrInLookupNeighbor, 100, "nd_ns", "reg9[2] = lookup_nd(inport, ip6.src, nd.sll); next;")
	f.add(lrInLookupNeighbor, 0, "1", "reg9[2] = 1; next;")
	f.add(lrInLearnNeighbor, 100, "reg9[2] == 1", "next;")
	f.add(lrInLearnNeighbor, 90, "arp", "put_arp(inport, arp.spa, arp.sha); next;")
	f.add(lrInLearnNeighbor, 90, "nd_na", "put_nd(inport, nd.target, nd.tll); next;")
	f.add(lrInLearnNeighbor, 90, "nd_ns", "put_nd(inport, ip6.src, nd.sll); next;")
	f.add(lrInLearnNeighbor, 0, "1", "drop;")

	// IP input: the router's own addresses. An address that is also a NAT
	// external address must reach unSNAT, so it is not dropped here.
	natExt := map[netip.Addr]bool{}
	for _, n := range nats {
		natExt[n.External] = true
	}
	if gwRouter && lbForceSNAT(r).RouterIP && len(x.routerVIPs(r)) > 0 {
		// Load-balanced connections are SNATed to the port addresses,
		// whose replies must reach unSNAT.
		for _, p := range ports {
			if p.enabled() && len(p.V4) > 0 {
				natExt[p.V4[0].Addr()] = true
			}
		}
	}
	const arpReply = "eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;"
	f.add(lrInIPInput, 100, "ip4.src_mcast || ip4.src == 255.255.255.255 || ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8", "drop;")
	for _, p := range ports {
		name := quote(p.Row.Name)
		var own []string
		for _, n := range p.V4 {
			if !natExt[n.Addr()] || (dgp == nil && !gwRouter) {
				own = append(own, n.Addr().String())
			}
			f.add(lrInIPInput, 100, fmt.Sprintf("ip4.src == {%s, %s} && reg9[0] == 0", n.Addr(), ipv4Bcast(n)), "drop;")
			f.add(lrInIPInput, 90, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s && arp.spa == %s%s", name, n.Addr(), networkOf(n), resident(p)), arpReply)
			f.add(lrInIPInput, 90, fmt.Sprintf("ip4.dst == %s && icmp4.type == 8 && icmp4.code == 0", n.Addr()),
				"ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ")
		}
		if len(own) > 0 {
			f.add(lrInIPInput, 60, "ip4.dst == {"+strings.Join(own, ", ")+"}", "drop;")
		}
		x.routerIPv6Input(f, p, resident(p))
	}
	// ARP for NAT external addresses.
	seenExt := map[netip.Addr]bool{}
	for _, n := range nats {
		if seenExt[n.External] {
			continue
		}
		seenExt[n.External] = true
		if n.External.Is6() {
			switch {
			case dgp != nil && n.distributed():
				name := quote(dgp.Row.Name)
				f.add(lrInIPInput, 92, fmt.Sprintf("inport == %s && %s && is_chassis_resident(%s)", name, ndMatch(n.External), quote(n.LogicalPort)), ndReply(n.ExternalMAC))
				f.add(lrInIPInput, 91, fmt.Sprintf("inport == %s && %s", name, ndMatch(n.External)), "drop;")
			case dgp != nil:
				name := quote(dgp.Row.Name)
				f.add(lrInIPInput, 92, fmt.Sprintf("inport == %s && %s%s", name, ndMatch(n.External), resident(dgp)), ndReply("xreg0[0..47]"))
				f.add(lrInIPInput, 91, fmt.Sprintf("inport == %s && %s", name, ndMatch(n.External)), "drop;")
				f.addf(lrInARPResolve, 100, fmt.Sprintf("outport == %s && xxreg0 == %s", name, n.External), "eth.dst = %s; next;", dgp.MAC)
			case gwRouter:
				f.add(lrInIPInput, 90, ndMatch(n.External), ndReply("xreg0[0..47]"))
			}
			continue
		}
		switch {
		case dgp != nil && n.distributed():
			// The VM's chassis answers for its floating IP, with the
			// floating IP's own MAC.
			name := quote(dgp.Row.Name)
			f.addf(lrInIPInput, 92, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s && is_chassis_resident(%s)", name, n.External, quote(n.LogicalPort)),
				"eth.dst = eth.src; eth.src = %s; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = %s; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;", n.ExternalMAC, n.ExternalMAC)
			f.add(lrInIPInput, 91, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s", name, n.External), "drop;")
		case dgp != nil:
			name := quote(dgp.Row.Name)
			f.add(lrInIPInput, 92, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s%s", name, n.External, resident(dgp)), arpReply)
			// Traffic between NATed addresses resolves them locally.
			f.addf(lrInARPResolve, 100, fmt.Sprintf("outport == %s && reg0 == %s", name, n.External), "eth.dst = %s; next;", dgp.MAC)
			f.add(lrInIPInput, 91, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s", name, n.External), "drop;")
		case gwRouter:
			f.add(lrInIPInput, 90, fmt.Sprintf("arp.op == 1 && arp.tpa == %s", n.External), arpReply)
		}
	}
	f.add(lrInIPInput, 85, "arp || nd", "drop;")
	f.add(lrInIPInput, 84, "nd_rs || nd_ra", "next;")
	f.add(lrInIPInput, 83, "ip6.mcast_rsvd", "drop;")
	f.add(lrInIPInput, 82, "ip4.mcast || ip6.mcast", "drop;")
	f.add(lrInIPInput, 50, "eth.bcast", "drop;")
	f.add(lrInIPInput, 30, "ip.ttl == {0, 1}", "drop;")
	// On a distributed gateway port of a router with NAT, time-exceeded
	// errors swap the addresses (SNAT rewrites the source on the way out).
	var swapTTL *routerPort
	if dgp != nil && len(nats) > 0 {
		swapTTL = dgp
	}
	x.routerICMPErrors(f, ports, gwRouter || dgp != nil, swapTTL)
	f.add(lrInIPInput, 0, "1", "next;")

	// NAT and load balancers.
	x.natFlows(f, r, nats, ports, dgp, gwRouter, resident)
	x.routerLBFlows(f, r, ports, dgp, gwRouter, resident)
	if gwRouter || dgp != nil {
		x.emptyLBEventFlows(f, lrInDNAT, x.loadBalancersOf(r.LoadBalancer, r.LoadBalancerGroup))
	}
	if gwRouter && (len(nats) > 0 || len(x.routerVIPs(r)) > 0) {
		// A gateway router un-DNATs everything it forwards and commits
		// new connections, so replies find their conntrack entries.
		if len(nats) > 0 {
			f.add(lrOutChkDNATLocal, 50, "ip && ct_mark.natted == 1", "reg9[4] = 1; next;")
		}
		f.add(lrOutUndnat, 100, "nd || nd_rs || nd_ra", "next;")
		f.add(lrOutUndnat, 50, "ip", "flags.loopback = 1; ct_dnat;")
		f.add(routerEgress[2], 50, "ip && ct.new", "ct_commit { } ; next; ")
	}

	for _, p := range ports {
		x.ndRAFlows(f, p)
	}
	f.defaults(lrInUnsnat, lrInDefrag, routerIngress[6], lrInDNAT, routerIngress[8], routerIngress[9], routerIngress[10], routerIngress[11])
	f.add(lrInIPRoutingPre, 0, "1", "reg7 = 0; next;")

	// Routing.
	for _, p := range ports {
		if !p.enabled() {
			continue
		}
		for _, n := range p.V4 {
			f.addf(lrInIPRouting, 3*n.Bits()+2, "ip4.dst == "+networkOf(n).String(),
				"ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = %s; eth.src = %s; outport = %s; flags.loopback = 1; next;",
				n.Addr(), p.MAC, quote(p.Row.Name))
		}
		for _, n := range p.V6 {
			if n.Addr().IsLinkLocalUnicast() {
				continue
			}
			f.addf(lrInIPRouting, 3*n.Bits()+2, "ip6.dst == "+networkOf(n).String(),
				"ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = %s; eth.src = %s; outport = %s; flags.loopback = 1; next;",
				n.Addr(), p.MAC, quote(p.Row.Name))
		}
		if p.LLA.IsValid() {
			f.addf(lrInIPRouting, 194, fmt.Sprintf("inport == %s && ip6.dst == fe80::/64", quote(p.Row.Name)),
				"ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = %s; eth.src = %s; outport = %s; flags.loopback = 1; next;",
				p.LLA, p.MAC, quote(p.Row.Name))
		}
	}
	x.staticRouteFlows(f, r, ports)
	f.add(lrInIPRouting, 10550, "nd_rs || nd_ra", "drop;")
	f.add(lrInIPRouting, 0, "1", "drop;")
	f.add(lrInIPRoutingECMP, 150, "reg8[0..15] == 0", "next;")
	f.add(lrInIPRoutingECMP, 0, "1", "drop;")

	// Policies.
	x.policyFlows(f, r, ports)
	f.add(lrInPolicy, 0, "1", "reg8[0..15] = 0; next;")
	f.add(lrInPolicyECMP, 150, "reg8[0..15] == 0", "next;")
	f.add(lrInPolicyECMP, 0, "1", "drop;")

	// ARP resolution: known addresses on connected switches and peers.
	f.add(lrInARPResolve, 500, "ip4.mcast || ip6.mcast", "next;")
	for _, p := range ports {
		for _, nb := range x.neighbors(p) {
			reg := "reg0"
			if nb.ip.Is6() {
				reg = "xxreg0"
			}
			f.addf(lrInARPResolve, 100, fmt.Sprintf("outport == %s && %s == %s", quote(p.Row.Name), reg, nb.ip), "eth.dst = %s; next;", nb.mac)
		}
	}
	f.add(lrInARPResolve, 1, "ip4", "get_arp(outport, reg0); next;")
	f.add(lrInARPResolve, 1, "ip6", "get_nd(outport, xxreg0); next;")
	f.add(lrInARPResolve, 0, "1", "drop;")
	x.gatewayMTUFlows(f, ports)
	f.defaults(routerIngress[18], routerIngress[19])

	// Gateway redirect.
	for _, p := range ports {
		if p.Gateway {
			f.addf(lrInGwRedirect, 50, "outport == "+quote(p.Row.Name), "outport = %s; next;", quote(p.CR))
		}
	}
	f.add(lrInGwRedirect, 0, "1", "next;")
	f.add(lrInARPRequest, 100, "eth.dst == 00:00:00:00:00:00 && ip4", "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };")
	f.add(lrInARPRequest, 100, "eth.dst == 00:00:00:00:00:00 && ip6", "nd_ns { nd.target = xxreg0; output; };")
	f.add(lrInARPRequest, 0, "1", "output;")

	// Egress.
	f.add(lrOutChkDNATLocal, 0, "1", "reg9[4] = 0; next;")
	f.defaults(lrOutUndnat, routerEgress[2], lrOutSNAT, routerEgress[4], routerEgress[5])
	for _, p := range ports {
		if p.enabled() {
			f.add(lrOutDelivery, 100, "outport == "+quote(p.Row.Name), "output;")
		}
	}
	f.add(lrOutDelivery, 0, "1", "drop;")
}

func (x *Index) natFlows(f *flowSet, r *nb.LogicalRouter, nats []natRule, ports []*routerPort, dgp *routerPort, gwRouter bool, resident func(*routerPort) string) {
	if dgp == nil && !gwRouter {
		return
	}
	for _, n := range nats {
		snat := n.Type == nb.NATTypeSNAT || n.Type == nb.NATTypeDNATAndSNAT
		dnat := n.Type == nb.NATTypeDNAT || n.Type == nb.NATTypeDNATAndSNAT
		logical := prefixString(n.Logical)
		if dgp != nil && n.distributed() {
			x.distributedNATFlows(f, n, dgp)
			continue
		}
		if dgp != nil {
			gw := quote(dgp.Row.Name)
			res := resident(dgp)
			unsnatA, dnatA, undnatA, snatA := "ct_snat_in_czone;", fmt.Sprintf("ct_dnat_in_czone(%s);", n.Logical.Addr()), "ct_dnat_in_czone;", fmt.Sprintf("ct_snat_in_czone(%s);", n.External)
			if n.Stateless {
				unsnatA, undnatA = "next;", "next;"
				dnatA = n.af(fmt.Sprintf("ip4.dst=%s; next;", n.Logical.Addr()))
				snatA = n.af(fmt.Sprintf("ip4.src=%s; next;", n.External))
			}
			if snat {
				f.add(lrInUnsnat, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s && flags.loopback == 0%s", n.External, gw, res)), unsnatA)
			}
			if dnat {
				f.add(lrInDNAT, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s%s", n.External, gw, res))+n.peerIn("src"), dnatA)
				f.add(lrOutUndnat, 100, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s%s", logical, gw, res)), undnatA)
				if n.Exempted != "" {
					f.add(lrInDNAT, 102, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s%s && ip4.src == $%s", n.External, gw, res, n.Exempted)), "next;")
				}
			}
			if snat {
				f.add(lrOutSNAT, n.Logical.Bits()+1+128, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s%s", logical, gw, res))+n.peerIn("dst"), snatA)
				if n.Exempted != "" {
					f.add(lrOutSNAT, n.Logical.Bits()+1+128+2, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s%s && ip4.dst == $%s", logical, gw, res, n.Exempted)), "next;")
				}
			}
			continue
		}
		// A gateway router: replies are un-DNATed by its lr_out_undnat
		// catch-all (routerFlows).
		if n.Stateless {
			f.add(lrInUnsnat, 90, n.af(fmt.Sprintf("ip && ip4.dst == %s", n.External)), "next;")
			f.add(lrInDNAT, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s", n.External)), n.af(fmt.Sprintf("ip4.dst=%s; next;", n.Logical.Addr())))
			f.add(lrOutSNAT, n.Logical.Bits()+1, n.af(fmt.Sprintf("ip && ip4.src == %s", logical)), n.af(fmt.Sprintf("ip4.src=%s; next;", n.External)))
			continue
		}
		if snat {
			f.add(lrInUnsnat, 90, n.af(fmt.Sprintf("ip && ip4.dst == %s", n.External)), "ct_snat;")
		}
		if dnat {
			force := ""
			if fs := dnatForceSNAT(r); fs.IsValid() && fs.Is4() == n.External.Is4() {
				force = "flags.force_snat_for_dnat = 1; "
			}
			f.addf(lrInDNAT, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s", n.External))+n.peerIn("src"), "%sflags.loopback = 1; ct_dnat(%s);", force, n.Logical.Addr())
			if n.Exempted != "" {
				f.add(lrInDNAT, 102, n.af(fmt.Sprintf("ip && ip4.dst == %s && ip4.src == $%s", n.External, n.Exempted)), "next;")
			}
		}
		if snat {
			// Replies of connections the router DNATed (or load-balanced)
			// keep their own translation.
			f.addf(lrOutSNAT, n.Logical.Bits()+1, n.af(fmt.Sprintf("ip && ip4.src == %s", logical))+n.peerIn("dst")+" && (!ct.trk || !ct.rpl)", "ct_snat(%s);", n.External)
			if n.Exempted != "" {
				f.add(lrOutSNAT, n.Logical.Bits()+1+2, n.af(fmt.Sprintf("ip && ip4.src == %s && ip4.dst == $%s", logical, n.Exempted)), "next;")
			}
		}
	}
	if dgp != nil || gwRouter {
		f.add(lrOutSNAT, 120, "nd_ns", "next;")
	}
	if dgp != nil && len(nats) > 0 {
		x.dgpHairpinFlows(f, nats, dgp)
	}
	if gwRouter {
		// options:dnat_force_snat_ip: DNATed connections are also SNATed.
		if ip := dnatForceSNAT(r); ip.IsValid() {
			fam := "ip4"
			if ip.Is6() {
				fam = "ip6"
			}
			lbIP := lbForceSNAT(r).IP
			if ip != lbIP || len(x.routerVIPs(r)) == 0 {
				f.add(lrInUnsnat, 110, fmt.Sprintf("%s && %s.dst == %s", fam, fam, ip), "ct_snat;")
			}
			f.addf(lrOutSNAT, 100, "flags.force_snat_for_dnat == 1 && "+fam, "ct_snat(%s);", ip)
		}
		// Packets routed to a router address that is also a NAT address
		// are not resolved.
		var own []string
		for _, p := range ports {
			for _, pn := range p.V4 {
				if slices.ContainsFunc(nats, func(n natRule) bool { return n.External == pn.Addr() }) && !slices.Contains(own, pn.Addr().String()) {
					own = append(own, pn.Addr().String())
				}
			}
		}
		if len(own) > 0 {
			f.add(lrInARPResolve, 2, "ip4.dst == {"+strings.Join(own, ", ")+"}", "drop;")
		}
	}
}

// dgpHairpinFlows lets traffic from behind a router with a distributed
// gateway port reach the router's own NAT addresses (a VM to another VM's
// floating IP, ovn-northd(8) lr_out_chk_dnat_local and lr_out_egr_loop):
// such packets are SNATed as they leave through the gateway port, then
// looped back into the router's ingress pipeline instead of out of the
// port, where they are un-SNATed (in the SNAT zone, flags.use_snat_zone)
// and DNATed like traffic from outside.
func (x *Index) dgpHairpinFlows(f *flowSet, nats []natRule, dgp *routerPort) {
	gw := quote(dgp.Row.Name)
	routerIP := map[netip.Addr]bool{}
	for _, p := range x.routerPortsOf(x.NB.Routers[dgp.Router]) {
		for _, n := range p.V4 {
			routerIP[n.Addr()] = true
		}
	}
	const loop = "clone { ct_clear; inport = outport; outport = \"\"; eth.dst <-> eth.src; flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; reg0 = 0; reg1 = 0; reg2 = 0; reg3 = 0; reg4 = 0; reg5 = 0; reg6 = 0; reg7 = 0; reg8 = 0; reg9 = 0; reg9[0] = 1; next(pipeline=ingress, table=0); };"
	const arpReply = "eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;"
	f.add(lrOutChkDNATLocal, 50, "ip && ct_mark.natted == 1", "reg9[4] = 1; next;")
	seen := map[netip.Addr]bool{}
	var own []string
	for _, n := range nats {
		res := fmt.Sprintf(" && is_chassis_resident(%s)", quote(dgp.CR))
		unsnatRes, mac := res, ""
		if n.distributed() {
			res = fmt.Sprintf(" && is_chassis_resident(%s)", quote(n.LogicalPort))
			unsnatRes, mac = "", "eth.src = "+n.ExternalMAC+"; "
		}
		if !n.Stateless && n.Type != nb.NATTypeDNAT {
			f.add(lrInUnsnat, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s && flags.loopback == 1 && flags.use_snat_zone == 1%s", n.External, gw, unsnatRes)), "ct_snat;")
		}
		if !n.Stateless && (n.Type == nb.NATTypeSNAT || n.Type == nb.NATTypeDNATAndSNAT) {
			f.addf(lrOutSNAT, n.Logical.Bits()+1+128+1, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s%s", prefixString(n.Logical), gw, res))+n.peerIn("dst")+" && reg9[4] == 1",
				"%sreg9[4] = 0; ct_snat(%s);", mac, n.External)
		}
		if seen[n.External] {
			continue
		}
		seen[n.External] = true
		f.add(lrOutChkDNATLocal, 50, n.af(fmt.Sprintf("ip && ip4.dst == %s%s", n.External, res)), "reg9[4] = 1; next;")
		f.add(routerEgress[5], 100, n.af(fmt.Sprintf("ip4.dst == %s && outport == %s%s", n.External, gw, res)), loop)
		f.add(lrInARPResolve, 150, n.af(fmt.Sprintf("inport == %s && outport == %s && ip4.dst == %s", gw, gw, n.External)), "drop;")
		if n.External.Is6() {
			f.add(lrInIPInput, 90, ndMatch(n.External), ndReply("xreg0[0..47]"))
		} else {
			f.add(lrInIPInput, 90, fmt.Sprintf("arp.op == 1 && arp.tpa == %s", n.External), arpReply)
		}
		if n.Type == nb.NATTypeSNAT {
			// Hairpinned packets SNATed to this address come back in.
			f.add(lrInIPInput, 120, n.af(fmt.Sprintf("inport == %s && ip4.src == %s", gw, n.External)), "next;")
		}
		if routerIP[n.External] {
			own = append(own, n.External.String())
		}
	}
	if len(own) > 0 {
		f.add(lrInARPResolve, 2, "ip4.dst == {"+strings.Join(own, ", ")+"}", "drop;")
	}
}

// neighbor is a known IPv4 address reachable through a router port.
type neighbor struct {
	ip  netip.Addr
	mac string
}

// neighbors lists the addresses a router port can resolve without ARP: the
// ports of its peer switch (including other routers on it) and its peer
// router port.
func (x *Index) neighbors(p *routerPort) []neighbor {
	var out []neighbor
	inSubnet := func(ip netip.Addr) bool {
		for _, n := range p.V4 {
			if n.Contains(ip) {
				return true
			}
		}
		for _, n := range p.V6 {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	if peer := x.RouterPorts[p.PeerRouterPort]; peer != nil {
		for _, n := range peer.V4 {
			out = append(out, neighbor{n.Addr(), peer.MAC})
		}
		for _, n := range peer.V6 {
			out = append(out, neighbor{n.Addr(), peer.MAC})
		}
	}
	if sp := x.SwitchPorts[p.PeerSwitchPort]; sp != nil {
		sw := x.NB.Switches[sp.Switch]
		if sw != nil {
			for _, q := range x.switchPortsOf(sw) {
				if q.IsRouter {
					if q.Peer == p.Row.Name {
						continue
					}
					if other := x.RouterPorts[q.Peer]; other != nil {
						for _, n := range slices.Concat(other.V4, other.V6) {
							if inSubnet(n.Addr()) {
								out = append(out, neighbor{n.Addr(), other.MAC})
							}
						}
					}
					continue
				}
				if q.Row.Type == "virtual" {
					if n, ok := x.vportNeighbor(q); ok && inSubnet(n.ip) {
						out = append(out, n)
					}
					continue
				}
				for _, a := range q.Addrs {
					for _, ip := range slices.Concat(a.IPv4, a.IPv6) {
						if inSubnet(ip) {
							out = append(out, neighbor{ip, a.MAC})
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b neighbor) int { return cmp.Or(a.ip.Compare(b.ip), cmp.Compare(a.mac, b.mac)) })
	return slices.CompactFunc(out, func(a, b neighbor) bool { return a.ip == b.ip })
}

func (x *Index) staticRouteFlows(f *flowSet, r *nb.LogicalRouter, ports []*routerPort) {
	type group struct {
		prefix  netip.Prefix
		srcIP   bool
		table   int // route table id, 0 for the main table
		targets []routeTarget
		discard bool // a discard route for the prefix wins
	}
	tables := routeTableIDs(x, r, ports)
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		if name == "" {
			continue
		}
		for _, p := range ports {
			if p.Row.Options["route_table"] == name {
				f.addf(lrInIPRoutingPre, 100, "inport == "+quote(p.Row.Name), "reg7 = %d; next;", tables[name])
			}
		}
	}
	groups := map[string]*group{}
	for _, u := range r.StaticRoutes {
		rt := x.NB.StaticRoutes[u]
		if rt == nil || x.bfdDown(rt) {
			continue
		}
		pfx, err := parseIPOrPrefix(rt.IPPrefix)
		if err != nil {
			continue
		}
		src := rt.Policy != nil && *rt.Policy == "src-ip"
		table := tables[rt.RouteTable]
		if rt.Nexthop == "discard" {
			// A discard route drops what it matches.
			k := fmt.Sprintf("%v|%08d|%s", src, table, pfx)
			if g := groups[k]; g == nil {
				groups[k] = &group{prefix: pfx, srcIP: src, table: table, discard: true}
			} else {
				g.discard = true
			}
			continue
		}
		nh, err := netip.ParseAddr(rt.Nexthop)
		if err != nil || nh.Is4() != pfx.Addr().Is4() {
			continue
		}
		out := ""
		if rt.OutputPort != nil {
			out = *rt.OutputPort
		}
		t, ok := resolveNexthop(ports, nh, out)
		if !ok || !t.Port.enabled() {
			continue
		}
		k := fmt.Sprintf("%v|%08d|%s", src, table, pfx)
		g := groups[k]
		if g == nil {
			g = &group{prefix: pfx, srcIP: src, table: table}
			groups[k] = g
		}
		g.targets = append(g.targets, t)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ecmpID := 0
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g.targets, func(a, b routeTarget) int {
			return cmp.Or(a.Nexthop.Compare(b.Nexthop), cmp.Compare(a.Port.Row.Name, b.Port.Row.Name))
		})
		g.targets = slices.CompactFunc(g.targets, func(a, b routeTarget) bool { return a.Nexthop == b.Nexthop && a.Port == b.Port })
		// Destination routes match the route table the input port chose
		// (lr_in_ip_routing_pre); source routes apply to every table.
		ip, r0, r1 := "ip4", "reg0", "reg1"
		if g.prefix.Addr().Is6() {
			ip, r0, r1 = "ip6", "xxreg0", "xxreg1"
		}
		match, prio := fmt.Sprintf("reg7 == %d && %s.dst == %s", g.table, ip, g.prefix), 3*g.prefix.Bits()+1
		if g.srcIP {
			match, prio = fmt.Sprintf("%s.src == %s", ip, g.prefix), 3*g.prefix.Bits()
		}
		if g.discard {
			f.add(lrInIPRouting, prio, match, "drop;")
			continue
		}
		if len(g.targets) == 1 {
			t := g.targets[0]
			f.addf(lrInIPRouting, prio, match,
				"ip.ttl--; reg8[0..15] = 0; %s = %s; %s = %s; eth.src = %s; outport = %s; flags.loopback = 1; next;",
				r0, t.Nexthop, r1, t.PortIP, t.Port.MAC, quote(t.Port.Row.Name))
			continue
		}
		ecmpID++
		members := make([]string, len(g.targets))
		for i := range g.targets {
			members[i] = fmt.Sprint(i + 1)
		}
		f.addf(lrInIPRouting, prio, match, "ip.ttl--; flags.loopback = 1; reg8[0..15] = %d; reg8[16..31] = select(%s);", ecmpID, strings.Join(members, ", "))
		for i, t := range g.targets {
			f.addf(lrInIPRoutingECMP, 100, fmt.Sprintf("reg8[0..15] == %d && reg8[16..31] == %d", ecmpID, i+1),
				"%s = %s; %s = %s; eth.src = %s; outport = %s; next;", r0, t.Nexthop, r1, t.PortIP, t.Port.MAC, quote(t.Port.Row.Name))
		}
	}
}

// routeTableIDs numbers the route tables a router's routes and ports name
// (Logical_Router_Static_Route.route_table, Logical_Router_Port
// options:route_table) from 1 in name order; the main table "" is 0.
func routeTableIDs(x *Index, r *nb.LogicalRouter, ports []*routerPort) map[string]int {
	var names []string
	for _, u := range r.StaticRoutes {
		if rt := x.NB.StaticRoutes[u]; rt != nil && rt.RouteTable != "" {
			names = append(names, rt.RouteTable)
		}
	}
	for _, p := range ports {
		if t := p.Row.Options["route_table"]; t != "" {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	ids := map[string]int{"": 0}
	for _, n := range slices.Compact(names) {
		ids[n] = len(ids)
	}
	return ids
}

func (x *Index) policyFlows(f *flowSet, r *nb.LogicalRouter, ports []*routerPort) {
	var pols []*nb.LogicalRouterPolicy
	for _, u := range r.Policies {
		if p := x.NB.Policies[u]; p != nil {
			pols = append(pols, p)
		}
	}
	slices.SortFunc(pols, func(a, b *nb.LogicalRouterPolicy) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Match, b.Match), cmp.Compare(a.UUID, b.UUID))
	})
	ecmpID := 0
	for _, p := range pols {
		switch p.Action {
		case nb.LogicalRouterPolicyActionAllow:
			f.add(lrInPolicy, p.Priority, p.Match, "reg8[0..15] = 0; next;")
		case nb.LogicalRouterPolicyActionDrop:
			f.add(lrInPolicy, p.Priority, p.Match, "drop;")
		case nb.LogicalRouterPolicyActionReroute:
			nhs := slices.Clone(p.Nexthops)
			if p.Nexthop != nil {
				nhs = append(nhs, *p.Nexthop)
			}
			// Every nexthop must parse, be of one family and be on one of
			// the router's networks, or the policy is left out.
			var targets []routeTarget
			for _, s := range nhs {
				nh, err := netip.ParseAddr(s)
				if err != nil {
					targets = nil
					break
				}
				t, ok := resolveNexthop(ports, nh, "")
				if !ok || (len(targets) > 0 && targets[0].Nexthop.Is4() != nh.Is4()) {
					targets = nil
					break
				}
				targets = append(targets, t)
			}
			if len(targets) == 0 {
				continue
			}
			r0, r1 := "reg0", "reg1"
			if targets[0].Nexthop.Is6() {
				r0, r1 = "xxreg0", "xxreg1"
			}
			if len(targets) == 1 {
				t := targets[0]
				f.addf(lrInPolicy, p.Priority, p.Match,
					"%s = %s; %s = %s; eth.src = %s; outport = %s; flags.loopback = 1; reg8[0..15] = 0; next;",
					r0, t.Nexthop, r1, t.PortIP, t.Port.MAC, quote(t.Port.Row.Name))
				continue
			}
			// Several nexthops: pick one per flow (lr_in_policy_ecmp).
			ecmpID++
			members := make([]string, len(targets))
			for i, t := range targets {
				members[i] = fmt.Sprint(i + 1)
				f.addf(lrInPolicyECMP, 100, fmt.Sprintf("reg8[0..15] == %d && reg8[16..31] == %d", ecmpID, i+1),
					"%s = %s; %s = %s; eth.src = %s; outport = %s; flags.loopback = 1; next;", r0, t.Nexthop, r1, t.PortIP, t.Port.MAC, quote(t.Port.Row.Name))
			}
			f.addf(lrInPolicy, p.Priority, p.Match, "reg8[0..15] = %d; reg8[16..31] = select(%s);", ecmpID, strings.Join(members, ", "))
		}
	}
}

// distributedNATFlows adds the flows of a distributed dnat_and_snat rule on
// the distributed gateway port dgp (ovn-northd(8)): the chassis where the
// rule's logical port is bound answers ARP for the external address with
// the external MAC, un-SNATs and DNATs what arrives for it, and sends the
// VM's traffic out directly (lr_in_gw_redirect keeps it local) with the
// external MAC and address, instead of through the gateway chassis.
func (x *Index) distributedNATFlows(f *flowSet, n natRule, dgp *routerPort) {
	gw := quote(dgp.Row.Name)
	lp := fmt.Sprintf("is_chassis_resident(%s)", quote(n.LogicalPort))
	logical := n.Logical.Addr()
	f.addf(lrInAdmission, 50, fmt.Sprintf("eth.dst == %s && inport == %s && %s", n.ExternalMAC, gw, lp), "%sxreg0[0..47] = %s; next;", mtuCheck(dgp), dgp.MAC)
	f.add(lrInUnsnat, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s && flags.loopback == 0", n.External, gw)), "ct_snat_in_czone;")
	f.addf(lrInDNAT, 100, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s", n.External, gw))+n.peerIn("src"), "ct_dnat_in_czone(%s);", logical)
	if n.Exempted != "" {
		f.add(lrInDNAT, 102, n.af(fmt.Sprintf("ip && ip4.dst == %s && inport == %s && ip4.src == $%s", n.External, gw, n.Exempted)), "next;")
		f.add(lrOutSNAT, n.Logical.Bits()+1+128+2, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s && %s && ip4.dst == $%s", logical, gw, lp, n.Exempted)), "next;")
	}
	f.addf(lrInARPResolve, 100, n.af(fmt.Sprintf("outport == %s && reg0 == %s", gw, n.External)), "eth.dst = %s; next;", n.ExternalMAC)
	f.add(lrInGwRedirect, 100, n.af(fmt.Sprintf("ip4.src == %s && outport == %s && %s", logical, gw, lp)), n.af(fmt.Sprintf("eth.src = %s; reg1 = %s; next;", n.ExternalMAC, n.External)))
	f.addf(lrOutUndnat, 100, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s", logical, gw)), "eth.src = %s; ct_dnat_in_czone;", n.ExternalMAC)
	f.addf(lrOutSNAT, n.Logical.Bits()+1+128, n.af(fmt.Sprintf("ip && ip4.src == %s && outport == %s && %s", logical, gw, lp))+n.peerIn("dst"), "eth.src = %s; ct_snat_in_czone(%s);", n.ExternalMAC, n.External)
	if mtu := gatewayMTU(dgp); mtu > 0 {
		// Too large for the gateway MTU: answered from the floating IP.
		m := fmt.Sprintf("inport == %s && reg9[1] && reg9[0] == 0 && ip4 && ip4.dst == %s", gw, n.External)
		if n.External.Is4() {
			f.addf(lrInIPInput, 160, m, "icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = %s; ip4.dst = ip4.src; ip4.src = %s; ip.ttl = 254; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = %d; outport = %s; flags.loopback = 1; output; };",
				n.ExternalMAC, n.External, mtu, gw)
		} else {
			f.addf(lrInIPInput, 160, n.af(m), "icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = %s; ip6.dst = ip6.src; ip6.src = %s; ip.ttl = 254; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = %d; outport = %s; flags.loopback = 1; output; };",
				n.ExternalMAC, n.External, mtu, gw)
		}
	}
}

// bfdDown reports whether a static route is tied to a BFD session (its bfd
// column) that is down: ovn-northd then leaves the route out, so traffic
// takes the next best route. A session not yet up ("admin_down" or no
// status) keeps the route, as in ovn-northd 23.03.
func (x *Index) bfdDown(rt *nb.LogicalRouterStaticRoute) bool {
	if rt.BFD == nil {
		return false
	}
	b := x.NB.BFD[*rt.BFD]
	return b != nil && b.Status != nil && *b.Status == nb.BFDStatusDown
}

// dnatForceSNAT returns a gateway router's options:dnat_force_snat_ip.
func dnatForceSNAT(r *nb.LogicalRouter) netip.Addr {
	if r == nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(strings.Fields(r.Options["dnat_force_snat_ip"] + " x")[0])
	if err != nil {
		return netip.Addr{}
	}
	return a
}
