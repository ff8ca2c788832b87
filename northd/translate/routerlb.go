package translate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"hcnet/schema/nb"
)

// routerVIP is one load balancer VIP on a router, with the options that
// shape its flows.
type routerVIP struct {
	vip
	// SkipSNAT is the load balancer's options:skip_snat: connections to
	// this VIP are not SNATed to lb_force_snat_ip.
	SkipSNAT bool
	// Responder is the load balancer's options:neighbor_responder: the
	// router answers ARP/ND for the VIP if it is in one of its networks
	// ("reachable", the default), always ("all") or never ("none").
	Responder string
}

// routerVIPs returns the VIPs of a router's load balancers, sorted and
// without duplicates (the first load balancer in sorted order wins).
func (x *Index) routerVIPs(r *nb.LogicalRouter) []routerVIP {
	var out []routerVIP
	for _, u := range x.loadBalancersOf(r.LoadBalancer, r.LoadBalancerGroup) {
		lb := x.NB.LoadBalancers[u]
		if lb == nil {
			continue
		}
		proto := "tcp"
		if lb.Protocol != nil && *lb.Protocol != "" {
			proto = *lb.Protocol
		}
		skip := lb.Options["skip_snat"] == "true"
		for k, backends := range lb.Vips {
			if v, ok := parseVIP(k, backends, proto); ok {
				x.healthFilter(u, k, &v)
				v.Reject = lb.Options["reject"] == "true"
				v.Affinity, _ = strconv.Atoi(lb.Options["affinity_timeout"])
				v.Hash = hashFields(lb, proto)
				out = append(out, routerVIP{vip: v, SkipSNAT: skip, Responder: lb.Options["neighbor_responder"]})
			}
		}
	}
	slices.SortFunc(out, func(a, b routerVIP) int {
		// Every field takes part, so that which of two load balancers
		// with the same VIP wins does not depend on map order.
		return cmp.Or(a.IP.Compare(b.IP), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto),
			cmp.Compare(a.Backends, b.Backends), boolCmp(a.SkipSNAT, b.SkipSNAT), boolCmp(a.Reject, b.Reject),
			cmp.Compare(a.Affinity, b.Affinity), cmp.Compare(a.Hash, b.Hash), cmp.Compare(a.Responder, b.Responder))
	})
	return slices.CompactFunc(out, func(a, b routerVIP) bool {
		return a.IP == b.IP && a.Port == b.Port && (a.Port == 0 || a.Proto == b.Proto)
	})
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// forceSNAT is a gateway router's options:lb_force_snat_ip: none, one
// address per port ("router_ip"), or fixed addresses.
type forceSNAT struct {
	RouterIP bool
	IP       netip.Addr // the IPv4 address given, if any
}

func lbForceSNAT(r *nb.LogicalRouter) forceSNAT {
	v := strings.TrimSpace(r.Options["lb_force_snat_ip"])
	if v == "router_ip" {
		return forceSNAT{RouterIP: true}
	}
	var fs forceSNAT
	for _, s := range strings.Fields(v) {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() && !fs.IP.IsValid() {
			fs.IP = a
		}
	}
	return fs
}

func (fs forceSNAT) enabled() bool { return fs.RouterIP || fs.IP.IsValid() }

// routerLBFlows adds what a router's load balancers need (ovn-northd(8),
// lr_in_defrag, lr_in_dnat, lr_out_undnat, lr_out_snat): new connections to
// a VIP pick a backend with ct_lb_mark in the router's DNAT zone; replies
// are un-DNATed on the gateway; the router answers ARP for its VIPs where it
// is centralised (a gateway router, or the distributed gateway port on its
// gateway chassis). lb_force_snat_ip (gateway routers) SNATs load-balanced
// connections to the router; a load balancer's skip_snat exempts it.
func (x *Index) routerLBFlows(f *flowSet, r *nb.LogicalRouter, ports []*routerPort, dgp *routerPort, gwRouter bool, resident func(*routerPort) string) {
	vips := x.routerVIPs(r)
	if len(vips) == 0 {
		return
	}
	var fs forceSNAT
	if gwRouter {
		fs = lbForceSNAT(r)
	}

	// The router answers ARP and neighbor solicitations, on every port,
	// for its VIPs that lie in one of its networks (the others are reached
	// by routing), or as the load balancer's neighbor_responder says.
	var ips4, ips6 []string
	for _, v := range vips {
		answer := false
		switch v.Responder {
		case "all":
			answer = true
		case "none":
		default:
			for _, p := range ports {
				if slices.ContainsFunc(slices.Concat(p.V4, p.V6), func(n netip.Prefix) bool { return n.Contains(v.IP) }) {
					answer = true
					break
				}
			}
		}
		if !answer {
			continue
		}
		if v.IP.Is4() {
			ips4 = append(ips4, v.IP.String())
		} else {
			ips6 = append(ips6, v.IP.String())
		}
	}
	ips4, ips6 = slices.Compact(ips4), slices.Compact(ips6)
	set := func(ips []string) string {
		if len(ips) == 1 {
			return ips[0]
		}
		return "{" + strings.Join(ips, ", ") + "}"
	}
	if gwRouter || dgp != nil {
		for _, p := range ports {
			if !p.enabled() {
				continue
			}
			if len(ips4) > 0 {
				f.add(lrInIPInput, 90, fmt.Sprintf("inport == %s && arp.op == 1 && arp.tpa == %s%s", quote(p.Row.Name), set(ips4), resident(p)),
					"eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;")
			}
			if len(ips6) > 0 {
				f.add(lrInIPInput, 90, fmt.Sprintf("inport == %s && nd_ns && nd.target == %s%s", quote(p.Row.Name), set(ips6), resident(p)),
					"nd_na { eth.src = xreg0[0..47]; ip6.src = nd.target; nd.tll = xreg0[0..47]; outport = inport; flags.loopback = 1; output; };")
			}
		}
	}

	// Defragment and send to the DNAT zone whatever is addressed to a VIP.
	seen := map[netip.Addr]bool{}
	for _, v := range vips {
		if !seen[v.IP] {
			seen[v.IP] = true
			f.addf(lrInDefrag, 100, fmt.Sprintf("ip && %s.dst == %s", v.family(), v.IP), "ct_dnat;")
		}
	}

	// Pick a backend for new connections.
	res := ""
	if dgp != nil && !gwRouter {
		res = resident(dgp)
	}
	anySkip := false
	for _, v := range vips {
		flag, opt := "", ""
		switch {
		case v.SkipSNAT:
			flag, opt = "flags.skip_snat_for_lb = 1; ", "; skip_snat"
			anySkip = true
		case fs.enabled():
			flag, opt = "flags.force_snat_for_lb = 1; ", "; force_snat"
		}
		match, prio := fmt.Sprintf("ct.new && !ct.rel && %s && %s.dst == %s", v.family(), v.family(), v.IP), 110
		if v.Port != 0 {
			match, prio = fmt.Sprintf("%s && %s && %s.dst == %d", match, v.Proto, v.Proto, v.Port), 120
		}
		if v.Backends == "" {
			f.add(lrInDNAT, prio, match+res, v.noBackends(lrOutSNAT.Table))
			continue
		}
		f.addf(lrInDNAT, prio, match+res, "%sct_lb_mark(backends=%s%s%s);", flag, v.Backends, v.hashOpt(), opt)
		// Affinity: a client keeps its backend (the check itself is not
		// limited to the gateway chassis, as in ovn-northd).
		if bs := v.affinityBackends(); bs != nil {
			f.addf(routerIngress[6], 100, match, "reg0 = ip4.dst; reg9[16..31] = %s.dst; reg9[6] = chk_lb_aff(); next;", v.Proto)
			for _, b := range bs {
				f.addf(lrInDNAT, 150, fmt.Sprintf("reg9[6] == 1 && ct.new && ip4 && reg4 == %s && reg8[0..15] == %d", b.Addr(), b.Port()),
					"reg0 = %s; %sct_lb_mark(backends=%s%s);", v.IP, flag, b, opt)
				f.addf(routerIngress[8], 100, fmt.Sprintf("reg9[6] == 0 && ct.new && ip4 && reg0 == %s && reg9[16..31] == %d && ip4.dst == %s && %s.dst == %d", v.IP, v.Port, b.Addr(), v.Proto, b.Port()),
					"commit_lb_aff(vip = \"%s:%d\", backend = \"%s\", proto = %s, timeout = %d); /* drop */", v.IP, v.Port, b, v.Proto, v.Affinity)
			}
		}
	}
	// Established and related traffic of load-balanced connections keeps
	// its SNAT decision (ct_mark) and skips backend selection.
	f.add(lrInDNAT, 70, "ct.est && !ct.rel && !ct.new && ct_mark.natted && ct_mark.force_snat == 1", "flags.force_snat_for_lb = 1; next;")
	f.add(lrInDNAT, 70, "ct.rel && !ct.est && !ct.new && ct_mark.force_snat == 1", "flags.force_snat_for_lb = 1; ct_commit_nat;")
	f.add(lrInDNAT, 70, "ct.est && !ct.rel && !ct.new && ct_mark.natted && ct_mark.skip_snat == 1", "flags.skip_snat_for_lb = 1; next;")
	f.add(lrInDNAT, 70, "ct.rel && !ct.est && !ct.new && ct_mark.skip_snat == 1", "flags.skip_snat_for_lb = 1; ct_commit_nat;")
	f.add(lrInDNAT, 50, "ct.est && !ct.rel && !ct.new && ct_mark.natted", "next;")
	f.add(lrInDNAT, 50, "ct.rel && !ct.est && !ct.new", "ct_commit_nat;")

	// Replies leaving through the distributed gateway port are un-DNATed
	// there (a gateway router un-DNATs all IP, see natFlows).
	if dgp != nil && !gwRouter {
		seenMatch := map[string]bool{}
		for _, v := range vips {
			if v.Backends == "" {
				continue
			}
			var alts []string
			ip := v.family()
			for _, b := range strings.Split(v.Backends, ",") {
				if v.Port != 0 {
					ap := netip.MustParseAddrPort(b)
					alts = append(alts, fmt.Sprintf("(%s.src == %s && %s.src == %d)", ip, ap.Addr(), v.Proto, ap.Port()))
				} else {
					alts = append(alts, fmt.Sprintf("(%s.src == %s)", ip, b))
				}
			}
			match := fmt.Sprintf("%s && (%s) && outport == %s%s", ip, strings.Join(alts, " || "), quote(dgp.Row.Name), resident(dgp))
			if seenMatch[match] {
				continue
			}
			seenMatch[match] = true
			if v.SkipSNAT {
				f.add(lrOutUndnat, 120, match, "flags.skip_snat_for_lb = 1; next;")
			} else {
				f.add(lrOutUndnat, 120, match, "ct_dnat_in_czone;")
			}
		}
	}

	// SNAT of load-balanced connections.
	if anySkip && (gwRouter || dgp != nil) {
		f.add(lrOutSNAT, 120, "flags.skip_snat_for_lb == 1 && ip", "next;")
	}
	if fs.RouterIP {
		for _, p := range ports {
			if !p.enabled() || len(p.V4) == 0 {
				continue
			}
			ip := p.V4[0].Addr()
			f.addf(lrOutSNAT, 110, "flags.force_snat_for_lb == 1 && ip4 && outport == "+quote(p.Row.Name), "ct_snat(%s);", ip)
			f.add(lrInUnsnat, 110, fmt.Sprintf("inport == %s && ip4.dst == %s", quote(p.Row.Name), ip), "ct_snat;")
		}
		for _, p := range ports {
			if a := routerIPv6(p); p.enabled() && len(a) > 0 && !a[0].IsLinkLocalUnicast() {
				f.addf(lrOutSNAT, 110, "flags.force_snat_for_lb == 1 && ip6 && outport == "+quote(p.Row.Name), "ct_snat(%s);", a[0])
				f.add(lrInUnsnat, 110, fmt.Sprintf("inport == %s && ip6.dst == %s", quote(p.Row.Name), a[0]), "ct_snat;")
			}
		}
	}
	if ip := fs.IP; ip.IsValid() {
		f.addf(lrOutSNAT, 100, "flags.force_snat_for_lb == 1 && ip4", "ct_snat(%s);", ip)
		f.add(lrInUnsnat, 110, fmt.Sprintf("ip4 && ip4.dst == %s", ip), "ct_snat;")
	}
}

// loadBalancersOf returns the load balancer UUIDs a switch or router uses:
// its load_balancer column, then the members of its load_balancer_group
// rows, without repeats.
func (x *Index) loadBalancersOf(direct, groups []string) []string {
	if len(groups) == 0 {
		return direct
	}
	out := slices.Clone(direct)
	for _, g := range groups {
		if lbg := x.NB.LoadBalancerGroups[g]; lbg != nil {
			for _, u := range lbg.LoadBalancer {
				if !slices.Contains(out, u) {
					out = append(out, u)
				}
			}
		}
	}
	return out
}
