package translate

import (
	"maps"
	"reflect"
	"slices"

	"hcnet/schema/nb"
)

// readers maps an NB row UUID to the datapaths (NB UUIDs) whose output reads
// it, for rows that are not themselves datapaths or their ports.
type readers map[string][]string

func (r readers) add(row, dp string) {
	if !slices.Contains(r[row], dp) {
		r[row] = append(r[row], dp)
	}
}

// buildReaders fills x.readers from the reference columns.
func (x *Index) buildReaders() {
	r := readers{}
	for swU, sw := range x.NB.Switches {
		for _, a := range sw.ACLs {
			r.add(a, swU)
		}
		for _, q := range sw.QOSRules {
			r.add(q, swU)
		}
		for _, lb := range sw.LoadBalancer {
			r.add(lb, swU)
		}
		for _, g := range sw.LoadBalancerGroup {
			r.add(g, swU)
			if lbg := x.NB.LoadBalancerGroups[g]; lbg != nil {
				for _, lb := range lbg.LoadBalancer {
					r.add(lb, swU)
				}
			}
		}
		for _, d := range sw.DNSRecords {
			r.add(d, swU)
		}
		for _, pu := range sw.Ports {
			if p := x.NB.SwitchPorts[pu]; p != nil && p.Dhcpv4Options != nil {
				r.add(*p.Dhcpv4Options, swU)
			}
			if p := x.NB.SwitchPorts[pu]; p != nil && p.Dhcpv6Options != nil {
				r.add(*p.Dhcpv6Options, swU)
			}
		}
	}
	for swU, pgs := range x.PortGroupsOf {
		for _, pg := range pgs {
			r.add(pg.UUID, swU)
			for _, a := range pg.ACLs {
				r.add(a, swU)
			}
		}
	}
	for rU, lr := range x.NB.Routers {
		// The switches behind a gateway router or a router with a
		// distributed gateway port read its NAT rules and load balancer
		// VIPs (Port_Binding nat_addresses).
		garpSwitches := x.garpSwitches(lr)
		for _, c := range lr.Nat {
			r.add(c, rU)
			for _, sw := range garpSwitches {
				r.add(c, sw)
			}
			if n := x.NB.NATs[c]; n != nil {
				for _, as := range []*string{n.AllowedExtIPs, n.ExemptedExtIPs} {
					if as != nil {
						r.add(*as, rU)
					}
				}
			}
			// The switches behind a distributed gateway port read the
			// router's NAT rules (floating IP MACs in ls_in_l2_lkup).
			for _, pu := range lr.Ports {
				if p := x.NB.RouterPorts[pu]; p != nil {
					if rp := x.RouterPorts[p.Name]; rp != nil && rp.Gateway && rp.Router == rU {
						for _, name := range rp.SwitchPeers {
							if sp := x.SwitchPorts[name]; sp != nil {
								r.add(c, sp.Switch)
							}
						}
					}
				}
			}
		}
		for _, c := range lr.StaticRoutes {
			r.add(c, rU)
			if rt := x.NB.StaticRoutes[c]; rt != nil && rt.BFD != nil {
				r.add(*rt.BFD, rU)
			}
		}
		for _, c := range lr.Policies {
			r.add(c, rU)
		}
		for _, dp := range append([]string{rU}, garpSwitches...) {
			for _, c := range lr.LoadBalancer {
				r.add(c, dp)
			}
			for _, g := range lr.LoadBalancerGroup {
				r.add(g, dp)
				if lbg := x.NB.LoadBalancerGroups[g]; lbg != nil {
					for _, lb := range lbg.LoadBalancer {
						r.add(lb, dp)
					}
				}
			}
		}
		for _, pu := range lr.Ports {
			p := x.NB.RouterPorts[pu]
			if p == nil {
				continue
			}
			for _, g := range p.GatewayChassis {
				r.add(g, rU)
			}
			if p.HaChassisGroup != nil {
				r.add(*p.HaChassisGroup, rU)
				if g := x.NB.HAChassisGroups[*p.HaChassisGroup]; g != nil {
					for _, hc := range g.HaChassis {
						r.add(hc, rU)
					}
				}
			}
		}
	}
	for u, b := range x.NB.BFD {
		if rp := x.RouterPorts[b.LogicalPort]; rp != nil {
			r.add(u, rp.Router)
		}
	}
	x.svcReaders(r)
	x.readers = r
}

// Readers returns the datapaths (NB UUIDs of switches and routers) whose
// output depends on a change of the NB row (table, uuid) from old to row
// (*nb.X models; nil for none). It answers from this Index's view: the
// engine asks both the index before the change and the one after it and
// recomputes the union.
func (x *Index) Readers(table, uuid string, old, row any) []string {
	var out []string
	add := func(u ...string) {
		for _, v := range u {
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	// routersOfSwitch adds the routers whose ARP resolution lists the
	// switch's ports, and whose port bindings depend on the switch.
	routersOfSwitch := func(swU string) {
		sw := x.NB.Switches[swU]
		if sw == nil {
			return
		}
		for _, sp := range x.switchPortsOf(sw) {
			if sp.IsRouter {
				if rp := x.RouterPorts[sp.Peer]; rp != nil {
					add(rp.Router)
				}
			}
		}
	}
	switch table {
	case nb.LogicalSwitchTable:
		// Routers read a switch's ports, and port changes arrive as
		// Logical_Switch_Port changes of their own, but for a port that
		// moves between switches unchanged (found by the property
		// test with virtual ports): then only the switches' ports
		// columns change.
		add(uuid)
		o, _ := old.(*nb.LogicalSwitch)
		n, _ := row.(*nb.LogicalSwitch)
		if o != nil && n != nil && !slices.Equal(o.Ports, n.Ports) {
			routersOfSwitch(uuid)
		}
	case nb.LogicalSwitchPortTable:
		// The up column is northd's own output; nothing reads it.
		if o, ok := old.(*nb.LogicalSwitchPort); ok && o != nil {
			if n, ok := row.(*nb.LogicalSwitchPort); ok && n != nil {
				c := *o
				c.Up = n.Up
				if reflect.DeepEqual(&c, n) {
					return nil
				}
			}
		}
		p, _ := row.(*nb.LogicalSwitchPort)
		if p == nil {
			p, _ = old.(*nb.LogicalSwitchPort)
		}
		if p == nil {
			return nil
		}
		if sp := x.SwitchPorts[p.Name]; sp != nil {
			add(sp.Switch)
			routersOfSwitch(sp.Switch)
		}
		// Load balancers whose health checks map backends to the port.
		add(x.readers["svcport:"+p.Name]...)
		// Routers resolve the virtual IPs of the ports it is the
		// virtual parent of to its MAC.
		for _, vp := range x.NB.VirtualParents {
			if vp.Parent == p.Name {
				if sp := x.SwitchPorts[vp.Port]; sp != nil {
					routersOfSwitch(sp.Switch)
				}
			}
		}
		if p.Type == "router" {
			if rp := x.RouterPorts[p.Options["router-port"]]; rp != nil {
				add(rp.Router)
			}
		}
	case nb.LogicalRouterTable:
		add(uuid)
		// Peer switches read the router's options (a gateway router
		// turns their patch ports into l3gateway ports).
		o, _ := old.(*nb.LogicalRouter)
		n, _ := row.(*nb.LogicalRouter)
		if o != nil && n != nil && maps.Equal(o.Options, n.Options) && slices.Equal(o.Nat, n.Nat) &&
			slices.Equal(o.LoadBalancer, n.LoadBalancer) && slices.Equal(o.LoadBalancerGroup, n.LoadBalancerGroup) {
			break
		}
		for _, lr := range []*nb.LogicalRouter{o, n, x.NB.Routers[uuid]} {
			if lr == nil {
				continue
			}
			for _, pu := range lr.Ports {
				if p := x.NB.RouterPorts[pu]; p != nil {
					add(x.routerPortReaders(p.Name)...)
				}
			}
		}
	case nb.NBGlobalTable:
		add(x.readers[uuid]...)
		// Every switch's health-check flows wait for svc_monitor_mac.
		o, _ := old.(*nb.NBGlobal)
		n, _ := row.(*nb.NBGlobal)
		mac := func(g *nb.NBGlobal) string {
			if g == nil {
				return ""
			}
			return g.Options["svc_monitor_mac"]
		}
		if mac(o) != mac(n) {
			add(slices.Sorted(maps.Keys(x.NB.Switches))...)
		}
		// Load balancers' empty_lb_backends flows follow
		// options:controller_event.
		if controllerEventOpt(o) != controllerEventOpt(n) {
			add(x.lbUsers()...)
		}
	case nb.LogicalRouterPortTable:
		p, _ := row.(*nb.LogicalRouterPort)
		if p == nil {
			p, _ = old.(*nb.LogicalRouterPort)
		}
		if p == nil {
			return nil
		}
		add(x.routerPortReaders(p.Name)...)
		// Whether a port is a distributed gateway port decides the
		// nat_addresses of the switches behind the router's other ports.
		o, _ := old.(*nb.LogicalRouterPort)
		if n, _ := row.(*nb.LogicalRouterPort); isGatewayPort(o) || isGatewayPort(n) {
			if rp := x.RouterPorts[p.Name]; rp != nil {
				add(x.garpSwitches(x.NB.Routers[rp.Router])...)
			}
		}
		if p.Peer != nil {
			if peer := x.RouterPorts[*p.Peer]; peer != nil {
				add(peer.Router)
			}
		}
	case VirtualParentTable:
		// The routers on the virtual port's switch resolve its IP to
		// the parent's MAC.
		for _, v := range []any{old, row} {
			if vp, _ := v.(*VirtualParent); vp != nil {
				if sp := x.SwitchPorts[vp.Port]; sp != nil {
					routersOfSwitch(sp.Switch)
				}
			}
		}
	case IGMPGroupTable:
		for _, v := range []any{old, row} {
			if g, _ := v.(*IGMPGroup); g != nil {
				add(g.Datapath)
			}
		}
	case ServiceMonitorTable:
		s, _ := row.(*ServiceStatus)
		if s == nil {
			s, _ = old.(*ServiceStatus)
		}
		if s != nil {
			add(x.readers["svc:"+s.Key.String()]...)
		}
	default:
		add(x.readers[uuid]...)
	}
	return out
}

// routerPortReaders returns the datapaths that read router port name: its
// router, its peer switch, routers on that switch and its peer router.
func (x *Index) routerPortReaders(name string) []string {
	rp := x.RouterPorts[name]
	if rp == nil {
		return nil
	}
	out := []string{rp.Router}
	if peer := x.RouterPorts[rp.PeerRouterPort]; peer != nil {
		out = append(out, peer.Router)
	}
	for _, name := range rp.SwitchPeers {
		sp := x.SwitchPorts[name]
		if sp == nil {
			continue
		}
		out = append(out, sp.Switch)
		if sw := x.NB.Switches[sp.Switch]; sw != nil {
			for _, q := range x.switchPortsOf(sw) {
				if q.IsRouter {
					if other := x.RouterPorts[q.Peer]; other != nil {
						out = append(out, other.Router)
					}
				}
			}
		}
	}
	return out
}

// isGatewayPort reports whether a router port row names gateway chassis.
func isGatewayPort(p *nb.LogicalRouterPort) bool {
	return p != nil && (len(p.GatewayChassis) > 0 || p.HaChassisGroup != nil)
}

// garpSwitches returns the switches behind a gateway router or a router
// with a distributed gateway port: their router-type ports' nat_addresses
// read the router's NAT rules, load balancers and ports.
func (x *Index) garpSwitches(lr *nb.LogicalRouter) []string {
	if lr == nil {
		return nil
	}
	ports := x.routerPortsOf(lr)
	if gatewayChassisOf(lr) == "" && !slices.ContainsFunc(ports, func(p *routerPort) bool { return p.Gateway }) {
		return nil
	}
	var out []string
	for _, p := range ports {
		for _, name := range p.SwitchPeers {
			if sp := x.SwitchPorts[name]; sp != nil && !slices.Contains(out, sp.Switch) {
				out = append(out, sp.Switch)
			}
		}
	}
	return out
}
