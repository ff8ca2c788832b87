package translate

import (
	"fmt"
	"net/netip"
	"strings"

	"hcnet/schema/nb"
)

// controllerEvents reports NB_Global options:controller_event=true: the
// chassis report events (ovn-sb(5) Controller_Event) the pipelines
// trigger.
func (x *Index) controllerEvents() bool {
	return x.NB.Global != nil && x.NB.Global.Options["controller_event"] == "true"
}

// emptyLBEventFlows adds, with controller events on (for every load
// balancer, or for one with options:event=true), ovn-northd 23.03's
// priority-130 flows in stage s (ls_in_pre_lb on switches, lr_in_dnat on
// gateway routers and routers with a distributed gateway port) for each VIP
// of the load balancers lbs that has no backends configured (health
// checks do not count; options:reject=true load balancers reject instead):
// the packet triggers an empty_lb_backends event naming the VIP, the
// protocol and the load balancer, and goes no further.
func (x *Index) emptyLBEventFlows(f *flowSet, s Stage, lbs []string) {
	all := x.controllerEvents()
	for _, u := range lbs {
		lb := x.NB.LoadBalancers[u]
		if lb == nil || lb.Options["reject"] == "true" || !(all || lb.Options["event"] == "true") {
			continue
		}
		proto := "tcp"
		if lb.Protocol != nil && *lb.Protocol != "" {
			proto = *lb.Protocol
		}
		for key, backends := range lb.Vips {
			if strings.TrimSpace(backends) != "" {
				continue
			}
			var ip netip.Addr
			port := 0
			if ap, err := netip.ParseAddrPort(key); err == nil {
				ip, port = ap.Addr().Unmap(), int(ap.Port())
			} else if a, err := netip.ParseAddr(key); err == nil {
				ip = a.Unmap()
			} else {
				continue
			}
			v := vip{IP: ip, Port: port, Proto: proto}
			name := ip.String()
			match := fmt.Sprintf("%s.dst == %s && %s", v.family(), ip, proto)
			if port != 0 {
				name = netip.AddrPortFrom(ip, uint16(port)).String()
				match += fmt.Sprintf(" && %s.dst == %d", proto, port)
			}
			f.addf(s, 130, match, `trigger_event(event = "empty_lb_backends", vip = "%s", protocol = "%s", load_balancer = "%s");`, name, proto, lb.UUID)
		}
	}
}

// lbUsers returns the switches and routers that use a load balancer,
// directly or through a group.
func (x *Index) lbUsers() []string {
	var out []string
	for u, sw := range x.NB.Switches {
		if len(x.loadBalancersOf(sw.LoadBalancer, sw.LoadBalancerGroup)) > 0 {
			out = append(out, u)
		}
	}
	for u, r := range x.NB.Routers {
		if len(x.loadBalancersOf(r.LoadBalancer, r.LoadBalancerGroup)) > 0 {
			out = append(out, u)
		}
	}
	return out
}

func controllerEventOpt(g *nb.NBGlobal) string {
	if g == nil {
		return ""
	}
	return g.Options["controller_event"]
}
