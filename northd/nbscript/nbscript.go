package nbscript

import (
	"crypto/sha1"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// UUID returns the deterministic row UUID nbscript gives (table, name).
func UUID(table, name string) string {
	h := sha1.Sum([]byte(table + "\x00" + name))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Split splits a line into words, keeping double-quoted parts together
// (quotes removed, \" and \\ unescaped).
func Split(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case in && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			in = !in
			have = true
		case !in && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if in {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

// Run applies every non-empty, non-comment line of script to n.
func Run(n *translate.NB, script string) error {
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := Apply(n, line); err != nil {
			return err
		}
	}
	return nil
}

// kv splits trailing "k=v" words into a map; "opt:k=v" go to opts.
func kv(words []string) (m, opts map[string]string, rest []string) {
	m, opts = map[string]string{}, map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			rest = append(rest, w)
			continue
		}
		if o, found := strings.CutPrefix(k, "opt:"); found {
			opts[o] = v
		} else {
			m[k] = v
		}
	}
	return m, opts, rest
}

func ptr[T any](v T) *T { return &v }

func need(w []string, n int, usage string) error {
	if len(w) < n {
		return fmt.Errorf("usage: %s", usage)
	}
	return nil
}

// Apply applies one command to n.
func Apply(n *translate.NB, line string) error {
	w, err := Split(line)
	if err != nil {
		return err
	}
	if len(w) == 0 {
		return nil
	}
	if err := apply(n, w); err != nil {
		return fmt.Errorf("%q: %w", line, err)
	}
	return nil
}

func apply(n *translate.NB, w []string) error {
	switch w[0] {
	case "nbcfg":
		if err := need(w, 2, "nbcfg N"); err != nil {
			return err
		}
		v, err := strconv.Atoi(w[1])
		if err != nil {
			return err
		}
		if n.Global == nil {
			n.Global = &nb.NBGlobal{UUID: UUID("NB_Global", ""), Options: map[string]string{}}
		}
		g := *n.Global
		g.NbCfg = v
		n.Global = &g
	case "ls":
		if err := need(w, 2, "ls NAME"); err != nil {
			return err
		}
		u := UUID("ls", w[1])
		if n.Switches[u] == nil {
			n.Switches[u] = &nb.LogicalSwitch{UUID: u, Name: w[1]}
		}
	case "lsp":
		if err := need(w, 3, "lsp SWITCH NAME [k=v...]"); err != nil {
			return err
		}
		sw := n.Switches[UUID("ls", w[1])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[1])
		}
		m, opts, _ := kv(w[3:])
		u := UUID("lsp", w[2])
		p := &nb.LogicalSwitchPort{UUID: u, Name: w[2], Type: m["type"], Options: opts}
		if a := m["addresses"]; a != "" {
			p.Addresses = splitList(a)
		}
		if ps := m["port_security"]; ps != "" {
			p.PortSecurity = []string{ps}
		}
		if d := m["dhcp"]; d != "" {
			p.Dhcpv4Options = ptr(UUID("dhcp", d))
		}
		if d := m["dhcp6"]; d != "" {
			p.Dhcpv6Options = ptr(UUID("dhcp", d))
		}
		if m["enabled"] == "false" {
			p.Enabled = ptr(false)
		}
		if up := m["up"]; up != "" {
			p.Up = ptr(up == "true")
		}
		if t := m["tag"]; t != "" {
			v, _ := strconv.Atoi(t)
			p.TagRequest = ptr(v)
		}
		n.SwitchPorts[u] = p
		// A port lives on one switch: take it off any other.
		for k, other := range n.Switches {
			if k != sw.UUID && slices.Contains(other.Ports, u) {
				c := *other
				c.Ports = slices.DeleteFunc(slices.Clone(c.Ports), func(s string) bool { return s == u })
				n.Switches[k] = &c
			}
		}
		addRef(&sw.Ports, u, func(s *nb.LogicalSwitch) { n.Switches[sw.UUID] = s }, sw)
	case "lr":
		if err := need(w, 2, "lr NAME"); err != nil {
			return err
		}
		_, opts, _ := kv(w[2:])
		u := UUID("lr", w[1])
		r := &nb.LogicalRouter{UUID: u, Name: w[1], Options: opts}
		if old := n.Routers[u]; old != nil {
			c := *old
			c.Options = opts
			r = &c
		}
		n.Routers[u] = r
	case "lrp":
		if err := need(w, 5, "lrp ROUTER NAME MAC NETWORK..."); err != nil {
			return err
		}
		r := n.Routers[UUID("lr", w[1])]
		if r == nil {
			return fmt.Errorf("no router %q", w[1])
		}
		m, opts, rest := kv(w[4:])
		u := UUID("lrp", w[2])
		p := &nb.LogicalRouterPort{UUID: u, Name: w[2], MAC: w[3], Networks: rest, Options: map[string]string{}}
		for k, v := range opts {
			if ra, ok := strings.CutPrefix(k, "ra:"); ok {
				if p.Ipv6RaConfigs == nil {
					p.Ipv6RaConfigs = map[string]string{}
				}
				p.Ipv6RaConfigs[ra] = v
				continue
			}
			p.Options[k] = v
		}
		if peer := m["peer"]; peer != "" {
			p.Peer = ptr(peer)
		}
		if old := n.RouterPorts[u]; old != nil {
			p.GatewayChassis = old.GatewayChassis
		}
		n.RouterPorts[u] = p
		c := *r
		c.Ports = appendOnce(c.Ports, u)
		n.Routers[r.UUID] = &c
	case "link":
		if err := need(w, 3, "link SWITCH ROUTERPORT"); err != nil {
			return err
		}
		return apply(n, []string{"lsp", w[1], w[1] + "-" + w[2], "type=router", "addresses=router", "opt:router-port=" + w[2]})
	case "gw":
		if err := need(w, 4, "gw ROUTERPORT CHASSIS PRIORITY"); err != nil {
			return err
		}
		p := n.RouterPorts[UUID("lrp", w[1])]
		if p == nil {
			return fmt.Errorf("no router port %q", w[1])
		}
		prio, err := strconv.Atoi(w[3])
		if err != nil {
			return err
		}
		name := w[1] + "-" + w[2]
		u := UUID("gwc", name)
		n.GatewayChassis[u] = &nb.GatewayChassis{UUID: u, Name: name, ChassisName: w[2], Priority: prio}
		c := *p
		c.GatewayChassis = appendOnce(slices.Clone(c.GatewayChassis), u)
		n.RouterPorts[p.UUID] = &c
	case "nat":
		if err := need(w, 5, "nat ROUTER TYPE EXTERNAL LOGICAL [port=LP mac=MAC] [stateless=true] [allowed=AS|exempted=AS]"); err != nil {
			return err
		}
		r := n.Routers[UUID("lr", w[1])]
		if r == nil {
			return fmt.Errorf("no router %q", w[1])
		}
		u := UUID("nat", strings.Join(w[1:5], " "))
		m, _, _ := kv(w[5:])
		row := &nb.NAT{UUID: u, Type: w[2], ExternalIP: w[3], LogicalIP: w[4]}
		if p := m["port"]; p != "" {
			row.LogicalPort = ptr(p)
		}
		if mac := m["mac"]; mac != "" {
			row.ExternalMAC = ptr(mac)
		}
		if m["stateless"] == "true" {
			row.Options = map[string]string{"stateless": "true"}
		}
		if a := m["allowed"]; a != "" {
			row.AllowedExtIPs = ptr(UUID("as", a))
		}
		if a := m["exempted"]; a != "" {
			row.ExemptedExtIPs = ptr(UUID("as", a))
		}
		n.NATs[u] = row
		c := *r
		c.Nat = appendOnce(slices.Clone(c.Nat), u)
		n.Routers[r.UUID] = &c
	case "route":
		if err := need(w, 4, "route ROUTER PREFIX NEXTHOP [port=P] [policy=src-ip] [table=T]"); err != nil {
			return err
		}
		r := n.Routers[UUID("lr", w[1])]
		if r == nil {
			return fmt.Errorf("no router %q", w[1])
		}
		m, _, _ := kv(w[4:])
		u := UUID("route", strings.Join(w[1:4], " "))
		rt := &nb.LogicalRouterStaticRoute{UUID: u, IPPrefix: w[2], Nexthop: w[3]}
		if p := m["port"]; p != "" {
			rt.OutputPort = ptr(p)
		}
		if p := m["policy"]; p != "" {
			rt.Policy = ptr(p)
		}
		rt.RouteTable = m["table"]
		if old := n.StaticRoutes[u]; old != nil {
			rt.BFD = old.BFD
		}
		n.StaticRoutes[u] = rt
		c := *r
		c.StaticRoutes = appendOnce(slices.Clone(c.StaticRoutes), u)
		n.Routers[r.UUID] = &c
	case "policy":
		if err := need(w, 5, "policy ROUTER PRIORITY MATCH ACTION [NEXTHOP]"); err != nil {
			return err
		}
		r := n.Routers[UUID("lr", w[1])]
		if r == nil {
			return fmt.Errorf("no router %q", w[1])
		}
		prio, err := strconv.Atoi(w[2])
		if err != nil {
			return err
		}
		u := UUID("policy", strings.Join(w[1:], " "))
		p := &nb.LogicalRouterPolicy{UUID: u, Priority: prio, Match: w[3], Action: w[4]}
		if len(w) > 5 {
			p.Nexthops = strings.Split(w[5], ",")
		}
		n.Policies[u] = p
		c := *r
		c.Policies = appendOnce(slices.Clone(c.Policies), u)
		n.Routers[r.UUID] = &c
	case "acl":
		if err := need(w, 6, "acl SWITCH|@PG DIRECTION PRIORITY MATCH ACTION"); err != nil {
			return err
		}
		prio, err := strconv.Atoi(w[3])
		if err != nil {
			return err
		}
		u := UUID("acl", strings.Join(w[1:6], " "))
		n.ACLs[u] = &nb.ACL{UUID: u, Direction: w[2], Priority: prio, Match: w[4], Action: w[5]}
		if pgName, ok := strings.CutPrefix(w[1], "@"); ok {
			pg := n.PortGroups[UUID("pg", pgName)]
			if pg == nil {
				return fmt.Errorf("no port group %q", pgName)
			}
			c := *pg
			c.ACLs = appendOnce(slices.Clone(c.ACLs), u)
			n.PortGroups[pg.UUID] = &c
			return nil
		}
		sw := n.Switches[UUID("ls", w[1])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[1])
		}
		c := *sw
		c.ACLs = appendOnce(slices.Clone(c.ACLs), u)
		n.Switches[sw.UUID] = &c
	case "pg":
		if err := need(w, 2, "pg NAME PORT..."); err != nil {
			return err
		}
		u := UUID("pg", w[1])
		pg := &nb.PortGroup{UUID: u, Name: w[1]}
		if old := n.PortGroups[u]; old != nil {
			pg.ACLs = old.ACLs
		}
		for _, p := range w[2:] {
			pg.Ports = append(pg.Ports, UUID("lsp", p))
		}
		n.PortGroups[u] = pg
	case "as":
		if err := need(w, 2, "as NAME ADDRESS..."); err != nil {
			return err
		}
		u := UUID("as", w[1])
		n.AddressSets[u] = &nb.AddressSet{UUID: u, Name: w[1], Addresses: slices.Clone(w[2:])}
	case "dhcp":
		if err := need(w, 3, "dhcp NAME CIDR k=v..."); err != nil {
			return err
		}
		m, _, _ := kv(w[3:])
		u := UUID("dhcp", w[1])
		n.DHCPOptions[u] = &nb.DHCPOptions{UUID: u, Cidr: w[2], Options: m}
	case "qos":
		if err := need(w, 5, "qos SWITCH DIRECTION PRIORITY MATCH [dscp=N] [rate=N] [burst=N]"); err != nil {
			return err
		}
		sw := n.Switches[UUID("ls", w[1])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[1])
		}
		prio, err := strconv.Atoi(w[3])
		if err != nil {
			return err
		}
		m, _, _ := kv(w[5:])
		u := UUID("qos", strings.Join(w[1:5], " "))
		q := &nb.QoS{UUID: u, Direction: w[2], Priority: prio, Match: w[4], Action: map[string]int{}, Bandwidth: map[string]int{}}
		for k, v := range m {
			iv, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if k == "dscp" {
				q.Action[k] = iv
			} else {
				q.Bandwidth[k] = iv
			}
		}
		n.QoS[u] = q
		c := *sw
		c.QOSRules = appendOnce(slices.Clone(c.QOSRules), u)
		n.Switches[sw.UUID] = &c
	case "lb":
		if err := need(w, 4, "lb NAME SWITCH VIP BACKENDS [proto=tcp|udp]"); err != nil {
			return err
		}
		sw := n.Switches[UUID("ls", w[2])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[2])
		}
		lb := addVIP(n, w)
		c := *sw
		c.LoadBalancer = appendOnce(slices.Clone(c.LoadBalancer), lb.UUID)
		n.Switches[sw.UUID] = &c
	case "lrlb":
		if err := need(w, 5, "lrlb NAME ROUTER VIP BACKENDS [proto=tcp|udp] [opt:K=V]"); err != nil {
			return err
		}
		r := n.Routers[UUID("lr", w[2])]
		if r == nil {
			return fmt.Errorf("no router %q", w[2])
		}
		lb := addVIP(n, w)
		c := *r
		c.LoadBalancer = appendOnce(slices.Clone(c.LoadBalancer), lb.UUID)
		n.Routers[r.UUID] = &c
	case "lbg":
		if err := need(w, 3, "lbg NAME SWITCH|ROUTER LB..."); err != nil {
			return err
		}
		u := UUID("lbg", w[1])
		g := &nb.LoadBalancerGroup{UUID: u, Name: w[1]}
		for _, lb := range w[3:] {
			g.LoadBalancer = append(g.LoadBalancer, UUID("lb", lb))
		}
		n.LoadBalancerGroups[u] = g
		if sw := n.Switches[UUID("ls", w[2])]; sw != nil {
			c := *sw
			c.LoadBalancerGroup = appendOnce(slices.Clone(c.LoadBalancerGroup), u)
			n.Switches[sw.UUID] = &c
		} else if r := n.Routers[UUID("lr", w[2])]; r != nil {
			c := *r
			c.LoadBalancerGroup = appendOnce(slices.Clone(c.LoadBalancerGroup), u)
			n.Routers[r.UUID] = &c
		} else {
			return fmt.Errorf("no switch or router %q", w[2])
		}
	case "dns":
		if err := need(w, 3, "dns NAME SWITCH [HOST=ADDRS...]"); err != nil {
			return err
		}
		sw := n.Switches[UUID("ls", w[2])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[2])
		}
		m, _, _ := kv(w[3:])
		u := UUID("dns", w[1])
		n.DNS[u] = &nb.DNS{UUID: u, Records: m, ExternalIDs: map[string]string{}}
		c := *sw
		c.DNSRecords = appendOnce(slices.Clone(c.DNSRecords), u)
		n.Switches[sw.UUID] = &c
	case "bfd":
		if err := need(w, 4, "bfd ROUTER PREFIX NEXTHOP [up|down|admin_down] [port=P]"); err != nil {
			return err
		}
		ru := UUID("route", strings.Join(w[1:4], " "))
		rt := n.StaticRoutes[ru]
		if rt == nil {
			return fmt.Errorf("no route %q", strings.Join(w[1:4], " "))
		}
		u := UUID("bfd", strings.Join(w[1:4], " "))
		m, _, rest := kv(w[4:])
		status := nb.BFDStatus("admin_down")
		if len(rest) > 0 {
			status = nb.BFDStatus(rest[0])
		}
		n.BFD[u] = &nb.BFD{UUID: u, DstIP: w[3], Status: &status, LogicalPort: m["port"]}
		c := *rt
		c.BFD = ptr(u)
		n.StaticRoutes[ru] = &c
	case "hc":
		if err := need(w, 3, "hc LB VIP [opt:K=V...]"); err != nil {
			return err
		}
		if n.LoadBalancers[UUID("lb", w[1])] == nil {
			return fmt.Errorf("no load balancer %q", w[1])
		}
		lb := loadBalancer(n, w[1])
		_, opts, _ := kv(w[3:])
		u := UUID("hc", w[1]+" "+w[2])
		n.HealthChecks[u] = &nb.LoadBalancerHealthCheck{UUID: u, Vip: w[2], Options: opts, ExternalIDs: map[string]string{}}
		lb.HealthCheck = appendOnce(lb.HealthCheck, u)
		n.LoadBalancers[lb.UUID] = lb
	case "ipmap":
		if err := need(w, 3, "ipmap LB IP=PORT:SRC_IP..."); err != nil {
			return err
		}
		if n.LoadBalancers[UUID("lb", w[1])] == nil {
			return fmt.Errorf("no load balancer %q", w[1])
		}
		lb := loadBalancer(n, w[1])
		m, _, rest := kv(w[2:])
		if len(rest) > 0 {
			return fmt.Errorf("want IP=PORT:SRC_IP, got %q", rest[0])
		}
		maps.Copy(lb.IPPortMappings, m)
		n.LoadBalancers[lb.UUID] = lb
	case "otherconfig":
		if err := need(w, 2, "otherconfig SWITCH K=V..."); err != nil {
			return err
		}
		sw := n.Switches[UUID("ls", w[1])]
		if sw == nil {
			return fmt.Errorf("no switch %q", w[1])
		}
		m, _, _ := kv(w[2:])
		c := *sw
		c.OtherConfig = maps.Clone(sw.OtherConfig)
		if c.OtherConfig == nil {
			c.OtherConfig = map[string]string{}
		}
		for k, v := range m {
			if v == "" {
				delete(c.OtherConfig, k)
			} else {
				c.OtherConfig[k] = v
			}
		}
		n.Switches[sw.UUID] = &c
	case "igmp":
		if err := need(w, 3, "igmp SWITCH ADDRESS [PORT...]"); err != nil {
			return err
		}
		sw := UUID("ls", w[1])
		k := translate.IGMPGroupKey(sw, w[2])
		if len(w) == 3 {
			delete(n.IGMPGroups, k)
			break
		}
		ports := slices.Clone(w[3:])
		slices.Sort(ports)
		n.IGMPGroups[k] = &translate.IGMPGroup{Datapath: sw, Address: w[2], Ports: slices.Compact(ports)}
	case "svcmac":
		if err := need(w, 2, "svcmac MAC"); err != nil {
			return err
		}
		g := nb.NBGlobal{UUID: UUID("NB_Global", ""), Options: map[string]string{}}
		if n.Global != nil {
			g = *n.Global
			g.Options = maps.Clone(g.Options)
			if g.Options == nil {
				g.Options = map[string]string{}
			}
		}
		g.Options["svc_monitor_mac"] = w[1]
		n.Global = &g
	case "nbopt":
		if err := need(w, 2, "nbopt KEY=VALUE (empty VALUE removes KEY)"); err != nil {
			return err
		}
		k, v, _ := strings.Cut(w[1], "=")
		g := nb.NBGlobal{UUID: UUID("NB_Global", ""), Options: map[string]string{}}
		if n.Global != nil {
			g = *n.Global
			g.Options = maps.Clone(g.Options)
			if g.Options == nil {
				g.Options = map[string]string{}
			}
		}
		if v == "" {
			delete(g.Options, k)
		} else {
			g.Options[k] = v
		}
		n.Global = &g
	case "vparent":
		if err := need(w, 3, "vparent VPORT PARENT|none"); err != nil {
			return err
		}
		if w[2] == "none" {
			delete(n.VirtualParents, w[1])
		} else {
			n.VirtualParents[w[1]] = &translate.VirtualParent{Port: w[1], Parent: w[2]}
		}
	case "svcmon":
		if err := need(w, 6, "svcmon PROTO IP PORT LPORT STATUS|none"); err != nil {
			return err
		}
		port, err := strconv.Atoi(w[3])
		if err != nil {
			return fmt.Errorf("port %q: %w", w[3], err)
		}
		k := translate.SvcKey{Protocol: w[1], IP: w[2], Port: port, LogicalPort: w[4]}
		if w[5] == "none" {
			delete(n.ServiceStatus, k.String())
		} else {
			n.ServiceStatus[k.String()] = &translate.ServiceStatus{Key: k, Status: w[5]}
		}
	case "del":
		if err := need(w, 3, "del KIND NAME"); err != nil {
			return err
		}
		return del(n, w[1], strings.Join(w[2:], " "))
	default:
		return fmt.Errorf("unknown command %q", w[0])
	}
	return nil
}

func del(n *translate.NB, kind, name string) error {
	switch kind {
	case "ls":
		u := UUID("ls", name)
		sw := n.Switches[u]
		if sw == nil {
			return fmt.Errorf("no switch %q", name)
		}
		for _, p := range sw.Ports {
			delete(n.SwitchPorts, p)
		}
		delete(n.Switches, u)
	case "lsp":
		u := UUID("lsp", name)
		delete(n.SwitchPorts, u)
		for k, sw := range n.Switches {
			if slices.Contains(sw.Ports, u) {
				c := *sw
				c.Ports = slices.DeleteFunc(slices.Clone(c.Ports), func(s string) bool { return s == u })
				n.Switches[k] = &c
			}
		}
		for k, pg := range n.PortGroups {
			if slices.Contains(pg.Ports, u) {
				c := *pg
				c.Ports = slices.DeleteFunc(slices.Clone(c.Ports), func(s string) bool { return s == u })
				n.PortGroups[k] = &c
			}
		}
	case "lr":
		u := UUID("lr", name)
		r := n.Routers[u]
		if r == nil {
			return fmt.Errorf("no router %q", name)
		}
		for _, p := range r.Ports {
			delete(n.RouterPorts, p)
		}
		delete(n.Routers, u)
	case "lrp":
		u := UUID("lrp", name)
		delete(n.RouterPorts, u)
		for k, r := range n.Routers {
			if slices.Contains(r.Ports, u) {
				c := *r
				c.Ports = slices.DeleteFunc(slices.Clone(c.Ports), func(s string) bool { return s == u })
				n.Routers[k] = &c
			}
		}
	case "route", "nat":
		// NAME is what created the row: "ROUTER PREFIX NEXTHOP" for a
		// route, "ROUTER TYPE EXTERNAL LOGICAL" for a NAT.
		u := UUID(kind, name)
		delete(n.StaticRoutes, u)
		delete(n.NATs, u)
		for k, r := range n.Routers {
			if slices.Contains(r.StaticRoutes, u) || slices.Contains(r.Nat, u) {
				c := *r
				c.StaticRoutes = slices.DeleteFunc(slices.Clone(c.StaticRoutes), func(s string) bool { return s == u })
				c.Nat = slices.DeleteFunc(slices.Clone(c.Nat), func(s string) bool { return s == u })
				n.Routers[k] = &c
			}
		}
	case "hc":
		// NAME is "LB VIP".
		u := UUID("hc", name)
		delete(n.HealthChecks, u)
		for k, lb := range n.LoadBalancers {
			if slices.Contains(lb.HealthCheck, u) {
				c := *lb
				c.HealthCheck = slices.DeleteFunc(slices.Clone(c.HealthCheck), func(s string) bool { return s == u })
				n.LoadBalancers[k] = &c
			}
		}
	case "pg":
		delete(n.PortGroups, UUID("pg", name))
	case "as":
		delete(n.AddressSets, UUID("as", name))
	case "lb":
		u := UUID("lb", name)
		delete(n.LoadBalancers, u)
		for k, sw := range n.Switches {
			if slices.Contains(sw.LoadBalancer, u) {
				c := *sw
				c.LoadBalancer = slices.DeleteFunc(slices.Clone(c.LoadBalancer), func(s string) bool { return s == u })
				n.Switches[k] = &c
			}
		}
		for k, r := range n.Routers {
			if slices.Contains(r.LoadBalancer, u) {
				c := *r
				c.LoadBalancer = slices.DeleteFunc(slices.Clone(c.LoadBalancer), func(s string) bool { return s == u })
				n.Routers[k] = &c
			}
		}
	default:
		return fmt.Errorf("cannot delete %q", kind)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func addRef(list *[]string, u string, set func(*nb.LogicalSwitch), sw *nb.LogicalSwitch) {
	c := *sw
	c.Ports = appendOnce(slices.Clone(sw.Ports), u)
	set(&c)
}

// loadBalancer returns a copy of the load balancer named name (a new one if
// there is none), to be edited and stored back.
// addVIP adds VIP w[3] → BACKENDS w[4] (and proto=, opt:K=V from w[5:])
// to load balancer w[1], creating it if needed: the common part of lb
// and lrlb.
func addVIP(n *translate.NB, w []string) *nb.LoadBalancer {
	m, opts, _ := kv(w[5:])
	lb := loadBalancer(n, w[1])
	lb.Vips[w[3]] = w[4]
	if p := m["proto"]; p != "" {
		lb.Protocol = ptr(p)
	}
	if s := m["sel"]; s != "" {
		lb.SelectionFields = strings.Split(s, ",")
	}
	for k, v := range opts {
		lb.Options[k] = v
	}
	n.LoadBalancers[lb.UUID] = lb
	return lb
}

func loadBalancer(n *translate.NB, name string) *nb.LoadBalancer {
	u := UUID("lb", name)
	lb := &nb.LoadBalancer{UUID: u, Name: name, Vips: map[string]string{}, Options: map[string]string{},
		IPPortMappings: map[string]string{}}
	if old := n.LoadBalancers[u]; old != nil {
		maps.Copy(lb.Vips, old.Vips)
		maps.Copy(lb.Options, old.Options)
		maps.Copy(lb.IPPortMappings, old.IPPortMappings)
		lb.HealthCheck = slices.Clone(old.HealthCheck)
		lb.SelectionFields = slices.Clone(old.SelectionFields)
		lb.Protocol = old.Protocol
	}
	return lb
}
