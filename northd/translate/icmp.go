package translate

import (
	"fmt"
	"strconv"
)

// routerICMPErrors adds lr_in_ip_input's error replies (ovn-northd(8)):
// ICMP time exceeded for packets whose TTL runs out, from the input port's
// address; and, on routers that are neither gateway routers nor have a
// distributed gateway port (whose addresses may be NAT or load balancer
// addresses), TCP resets, SCTP aborts and ICMP unreachables for traffic to
// the router's own addresses.
func (x *Index) routerICMPErrors(f *flowSet, ports []*routerPort, centralized bool, swap *routerPort) {
	f.add(lrInIPInput, 32, "ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)", "drop;")
	for _, p := range ports {
		if !p.enabled() {
			continue
		}
		name := quote(p.Row.Name)
		if len(p.V4) > 0 {
			// From the port's address, or, on the gateway port of a
			// router with NAT, swapped (SNAT rewrites it on the way out).
			src := "ip4.dst = ip4.src; ip4.src = " + p.V4[0].Addr().String()
			if p == swap {
				src = "ip4.dst <-> ip4.src"
			}
			f.addf(lrInIPInput, 31, fmt.Sprintf("inport == %s && ip4 && ip.ttl == {0, 1} && !ip.later_frag", name),
				"icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ %s ; ip.ttl = 254; outport = %s; flags.loopback = 1; output; };",
				src, name)
		}
		for _, n := range p.V6 {
			if n.Addr().IsLinkLocalUnicast() {
				continue
			}
			src := "ip6.dst = ip6.src; ip6.src = " + n.Addr().String()
			if p == swap {
				src = "ip6.dst <-> ip6.src"
			}
			f.addf(lrInIPInput, 31, fmt.Sprintf("inport == %s && ip6 && ip6.src == %s && ip.ttl == {0, 1} && !ip.later_frag", name, networkOf(n)),
				"icmp6 {eth.dst <-> eth.src; %s ; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = %s; flags.loopback = 1; output; };",
				src, name)
		}
		if centralized {
			continue
		}
		for _, n := range p.V4 {
			m := fmt.Sprintf("ip4 && ip4.dst == %s && !ip.later_frag", n.Addr())
			f.add(lrInIPInput, 80, m+" && sctp", "sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };")
			f.add(lrInIPInput, 80, m+" && tcp", "tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };")
			f.add(lrInIPInput, 80, m+" && udp", "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };")
			f.add(lrInIPInput, 70, m, "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };")
		}
		for _, a := range routerIPv6(p) {
			m := fmt.Sprintf("ip6 && ip6.dst == %s && !ip.later_frag", a)
			f.add(lrInIPInput, 80, m+" && sctp", "sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };")
			f.add(lrInIPInput, 80, m+" && tcp", "tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };")
			f.add(lrInIPInput, 80, m+" && udp", "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };")
			f.add(lrInIPInput, 70, m, "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };")
		}
	}
}

// gatewayMTUFlows enforces options:gateway_mtu of a router port
// (lr_in_chk_pkt_len, lr_in_larger_pkts): packets routed to it that are
// larger than the MTU get an ICMP "fragmentation needed" / "packet too big"
// from the port they came in on.
func (x *Index) gatewayMTUFlows(f *flowSet, ports []*routerPort) {
	for _, gw := range ports {
		mtu := gatewayMTU(gw)
		if mtu == 0 || !gw.enabled() {
			continue
		}
		name := quote(gw.Row.Name)
		f.addf(routerIngress[18], 50, "outport == "+name, "reg9[1] = check_pkt_larger(%d); next;", mtu+14)
		for _, p := range ports {
			if !p.enabled() {
				continue
			}
			if p == gw {
				// Too large for the port they came in on (admission
				// checked it).
				if len(p.V4) > 0 {
					f.addf(lrInIPInput, 150, fmt.Sprintf("inport == %s && ip4 && reg9[1] && reg9[0] == 0", name),
						"icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = %s; ip4.dst = ip4.src; ip4.src = %s; ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = %d; next(pipeline=ingress, table=0); };",
						p.MAC, p.V4[0].Addr(), mtu)
				}
				if a := routerIPv6(p); len(a) > 0 {
					f.addf(lrInIPInput, 150, fmt.Sprintf("inport == %s && ip6 && reg9[1] && reg9[0] == 0", name),
						"icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = %s; ip6.dst = ip6.src; ip6.src = %s; ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = %d; next(pipeline=ingress, table=0); };",
						p.MAC, a[0], mtu)
				}
				continue
			}
			m := fmt.Sprintf("inport == %s && outport == %s", quote(p.Row.Name), name)
			if len(p.V4) > 0 {
				f.addf(routerIngress[19], 150, m+" && ip4 && reg9[1] && reg9[0] == 0",
					"icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = %s; ip4.dst = ip4.src; ip4.src = %s; ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = %d; next(pipeline=ingress, table=0); };",
					p.MAC, p.V4[0].Addr(), mtu)
			}
			if a := routerIPv6(p); len(a) > 0 {
				f.addf(routerIngress[19], 150, m+" && ip6 && reg9[1] && reg9[0] == 0",
					"icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = %s; ip6.dst = ip6.src; ip6.src = %s; ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = %d; next(pipeline=ingress, table=0); };",
					p.MAC, a[0], mtu)
			}
		}
	}
}

// gatewayMTU returns a router port's options:gateway_mtu, or 0.
func gatewayMTU(p *routerPort) int {
	mtu, err := strconv.Atoi(p.Row.Options["gateway_mtu"])
	if err != nil || mtu <= 0 {
		return 0
	}
	return mtu
}

// mtuCheck is the admission action prefix that measures packets entering a
// port with a gateway_mtu.
func mtuCheck(p *routerPort) string {
	if mtu := gatewayMTU(p); mtu > 0 {
		return fmt.Sprintf("reg9[1] = check_pkt_larger(%d); ", mtu+14)
	}
	return ""
}
