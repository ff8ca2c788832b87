package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"hcnet/schema/nb"
)

// natAddresses returns Port_Binding.nat_addresses of a router-type switch
// port p whose peer router port is rp, as ovn-northd 23.03 writes them
// (ovn-nb(5) Logical_Switch_Port options:nat-addresses, ovn-sb(5)
// Port_Binding nat_addresses): the addresses the chassis where the
// router's gateway is announces with gratuitous ARP.
//
//   - options:nat-addresses=router: the router's NAT external IPs and (but
//     with options:exclude-lb-vips-from-garp=true) its load balancers' IPv4
//     VIPs, behind the router port's MAC and restricted to the gateway
//     chassis when rp is a distributed gateway port; a distributed
//     dnat_and_snat rule (logical_port and external_mac) is its own entry,
//     announced where its logical port resides. Only for gateway routers
//     and routers with one distributed gateway port.
//   - options:nat-addresses="MAC IP...": that list as given.
//   - in every case, for a distributed gateway port (or a port with
//     reside-on-redirect-chassis) and for a gateway router's port on a
//     switch with a localnet port, the router port's own MAC and IPv4
//     addresses.
func (x *Index) natAddresses(sw *nb.LogicalSwitch, p *switchPort, rp *routerPort) []string {
	lr := x.NB.Routers[rp.Router]
	if lr == nil {
		return nil
	}
	chassis := gatewayChassisOf(lr)
	var dgps []*routerPort
	for _, q := range x.routerPortsOf(lr) {
		if q.Gateway {
			dgps = append(dgps, q)
		}
	}
	var out []string
	switch opt := p.Row.Options["nat-addresses"]; {
	case opt == "router":
		if chassis != "" || len(dgps) > 0 {
			out = x.routerNATAddresses(lr, rp, len(dgps), p.Row.Options["exclude-lb-vips-from-garp"] != "true")
		}
	case opt != "" && (chassis != "" || len(dgps) > 0):
		if _, ok := parseLSPAddress(opt); ok {
			entry := opt
			if len(dgps) > 0 {
				cr := dgps[0].CR
				if rp.Gateway {
					cr = rp.CR
				}
				entry += fmt.Sprintf(" is_chassis_resident(%s)", quote(cr))
			}
			out = append(out, entry)
		}
	}
	garp := rp.Gateway ||
		(len(dgps) > 0 && rp.Row.Options["reside-on-redirect-chassis"] == "true") ||
		(chassis != "" && x.hasLocalnet(sw))
	if garp && len(rp.V4) > 0 {
		parts := []string{rp.MAC}
		for _, n := range rp.V4 {
			parts = append(parts, n.Addr().String())
		}
		switch {
		case rp.Gateway:
			parts = append(parts, fmt.Sprintf("is_chassis_resident(%s)", quote(rp.CR)))
		case len(dgps) > 0:
			parts = append(parts, fmt.Sprintf("is_chassis_resident(%s)", quote(dgps[0].CR)))
		}
		out = append(out, strings.Join(parts, " "))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// natGatewayPort returns the distributed gateway port a NAT rule of lr
// uses: its gateway_port column, else the router's only distributed
// gateway port, else the first (by name) whose networks hold the external
// IP; nil for none.
func (x *Index) natGatewayPort(lr *nb.LogicalRouter, n *nb.NAT) *routerPort {
	var dgps []*routerPort
	for _, q := range x.routerPortsOf(lr) {
		if q.Gateway {
			dgps = append(dgps, q)
		}
	}
	if n.GatewayPort != nil {
		if row := x.NB.RouterPorts[*n.GatewayPort]; row != nil {
			if i := slices.IndexFunc(dgps, func(q *routerPort) bool { return q.Row.Name == row.Name }); i >= 0 {
				return dgps[i]
			}
		}
		return nil
	}
	if len(dgps) == 1 {
		return dgps[0]
	}
	ext, err := netip.ParseAddr(n.ExternalIP)
	if err != nil {
		return nil
	}
	for _, q := range dgps {
		if slices.ContainsFunc(slices.Concat(q.V4, q.V6), func(p netip.Prefix) bool { return p.Contains(ext) }) {
			return q
		}
	}
	return nil
}

// hasLocalnet reports whether a switch has a localnet port.
func (x *Index) hasLocalnet(sw *nb.LogicalSwitch) bool {
	return slices.ContainsFunc(x.switchPortsOf(sw), func(p *switchPort) bool { return p.Row.Type == "localnet" })
}

// routerNATAddresses is nat-addresses=router for router port rp of lr
// (which has ndgp distributed gateway ports): one entry per distributed
// floating IP, and one for the centralized NAT external IPs (not the
// port's own addresses) and load balancer VIPs, in NAT row order as
// ovn-northd lists them.
func (x *Index) routerNATAddresses(lr *nb.LogicalRouter, rp *routerPort, ndgp int, lbIPs bool) []string {
	lbs := x.loadBalancersOf(lr.LoadBalancer, lr.LoadBalancerGroup)
	hasVIP := slices.ContainsFunc(lbs, func(u string) bool { lb := x.NB.LoadBalancers[u]; return lb != nil && len(lb.Vips) > 0 })
	if (len(lr.Nat) == 0 && !hasVIP) || rp.MAC == "" {
		return nil
	}
	var out []string
	central := []string{rp.MAC}
	nats := slices.Clone(lr.Nat)
	slices.Sort(nats)
	for _, u := range slices.Compact(nats) {
		n := x.NB.NATs[u]
		if n == nil {
			continue
		}
		ext, err := netip.ParsePrefix(n.ExternalIP)
		if err != nil {
			a, aerr := netip.ParseAddr(n.ExternalIP)
			if aerr != nil {
				continue
			}
			ext = netip.PrefixFrom(a, a.BitLen())
		}
		if !ext.Addr().Is4() || ext.Bits() != 32 {
			continue
		}
		// With several distributed gateway ports, a rule belongs to
		// one of them; the router's other ports do not announce it.
		if ndgp > 1 && x.natGatewayPort(lr, n) != rp {
			continue
		}
		if ndgp > 0 && n.Type == nb.NATTypeDNATAndSNAT && n.LogicalPort != nil && n.ExternalMAC != nil {
			if hw, ok := parseMAC(*n.ExternalMAC); ok {
				out = append(out, fmt.Sprintf("%s %s is_chassis_resident(%s)", formatMAC(hw), n.ExternalIP, quote(*n.LogicalPort)))
			}
			continue
		}
		if !slices.ContainsFunc(rp.V4, func(p netip.Prefix) bool { return p.Addr().String() == n.ExternalIP }) {
			central = append(central, n.ExternalIP)
		}
	}
	if lbIPs {
		var vips []string
		for _, u := range lbs {
			lb := x.NB.LoadBalancers[u]
			if lb == nil {
				continue
			}
			for k := range lb.Vips {
				host := k
				if h, _, ok := strings.Cut(k, ":"); ok {
					host = h
				}
				if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
					vips = append(vips, a.String())
				}
			}
		}
		slices.Sort(vips)
		central = append(central, slices.Compact(vips)...)
	}
	if len(central) > 1 {
		if rp.Gateway {
			central = append(central, fmt.Sprintf("is_chassis_resident(%s)", quote(rp.CR)))
		}
		out = append(out, strings.Join(central, " "))
	}
	return out
}
