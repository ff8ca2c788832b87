package nbcmd

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"hcnet/internal/ctl"
)

func routerCommands() []*ctl.Command {
	return []*ctl.Command{
		{Name: "lr-add", Usage: "[ROUTER]", MaxArgs: 1, Options: []string{"--may-exist", "--add-duplicate"}, Run: lrAdd},
		{Name: "lr-del", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: lrDel},
		{Name: "lr-list", MaxArgs: 0, Run: func(c *ctl.Ctx) error { listNamed(c, "Logical_Router"); return nil }},
		{Name: "lrp-add", Usage: "ROUTER PORT MAC NETWORK... [peer=PEER]", MinArgs: 4, MaxArgs: -1, Options: []string{"--may-exist"}, Run: lrpAdd},
		{Name: "lrp-del", Usage: "PORT", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: lrpDel},
		{Name: "lrp-list", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Run: lrpList},
		{Name: "lrp-set-enabled", Usage: "PORT STATE", MinArgs: 2, MaxArgs: 2, Run: setEnabled("Logical_Router_Port", "port")},
		{Name: "lrp-get-enabled", MinArgs: 1, MaxArgs: 1, Run: getEnabled("Logical_Router_Port", "port")},
		{Name: "lrp-set-options", Usage: "PORT [KEY=VALUE]...", MinArgs: 1, MaxArgs: -1, Run: setOptions("Logical_Router_Port", "port")},
		{Name: "lrp-get-options", MinArgs: 1, MaxArgs: 1, Run: getOptions("Logical_Router_Port", "port")},
		{Name: "lrp-set-gateway-chassis", Usage: "PORT CHASSIS [PRIORITY]", MinArgs: 2, MaxArgs: 3, Run: lrpSetGatewayChassis},
		{Name: "lrp-del-gateway-chassis", Usage: "PORT CHASSIS", MinArgs: 2, MaxArgs: 2, Run: lrpDelGatewayChassis},
		{Name: "lrp-get-gateway-chassis", Usage: "PORT", MinArgs: 1, MaxArgs: 1, Run: lrpGetGatewayChassis},
		{Name: "lr-route-add", Usage: "ROUTER PREFIX NEXTHOP [PORT]", MinArgs: 3, MaxArgs: 4,
			Options: []string{"--may-exist", "--policy=", "--ecmp", "--ecmp-symmetric-reply", "--route-table=", "--bfd"}, Run: lrRouteAdd},
		{Name: "lr-route-del", Usage: "ROUTER [PREFIX [NEXTHOP [PORT]]]", MinArgs: 1, MaxArgs: 4,
			Options: []string{"--if-exists", "--policy=", "--route-table="}, Run: lrRouteDel},
		{Name: "lr-route-list", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Options: []string{"--route-table="}, Run: lrRouteList},
		{Name: "lr-nat-add", Usage: "ROUTER TYPE EXTERNAL_IP LOGICAL_IP [LOGICAL_PORT EXTERNAL_MAC]", MinArgs: 4, MaxArgs: 6,
			Options: []string{"--may-exist", "--stateless", "--portrange", "--add-route"}, Run: lrNATAdd},
		{Name: "lr-nat-del", Usage: "ROUTER [TYPE [IP]]", MinArgs: 1, MaxArgs: 3, Options: []string{"--if-exists"}, Run: lrNATDel},
		{Name: "lr-nat-list", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Run: lrNATList},
		{Name: "lr-policy-add", Usage: "ROUTER PRIORITY MATCH ACTION [NEXTHOP] [OPTIONS...]", MinArgs: 4, MaxArgs: -1, Run: lrPolicyAdd},
		{Name: "lr-policy-del", Usage: "ROUTER [PRIORITY|UUID [MATCH]]", MinArgs: 1, MaxArgs: 3, Options: []string{"--if-exists"}, Run: lrPolicyDel},
		{Name: "lr-policy-list", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Run: lrPolicyList},
	}
}

func lrAdd(c *ctl.Ctx) error {
	if len(c.Args) == 0 {
		c.Insert("Logical_Router", "")
		return nil
	}
	name := c.Args[0]
	if c.Has("--may-exist") && c.Has("--add-duplicate") {
		return fmt.Errorf("--may-exist and --add-duplicate may not be used together")
	}
	if !c.Has("--add-duplicate") && len(named(c, "Logical_Router", name)) > 0 {
		if c.Has("--may-exist") {
			return nil
		}
		return fmt.Errorf("%s: a router with this name already exists", name)
	}
	c.SetStr(c.Insert("Logical_Router", ""), "name", name)
	return nil
}

func lrDel(c *ctl.Ctx) error {
	lr, err := find(c, "Logical_Router", c.Args[0], "router")
	if err != nil || lr == nil {
		return err
	}
	c.Delete(lr)
	return nil
}

func lrpAdd(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	name, mac := c.Args[1], c.Args[2]
	var networks []string
	peer := ""
	for _, a := range c.Args[3:] {
		if p, ok := strings.CutPrefix(a, "peer="); ok {
			peer = p
			continue
		}
		networks = append(networks, a)
	}
	if !validMAC(mac) {
		return fmt.Errorf("%s: invalid mac address %s.", mac, mac)
	}
	if len(networks) == 0 {
		return fmt.Errorf("%s: at least one network is required", name)
	}
	for _, n := range networks {
		if !validNetwork(n) {
			return fmt.Errorf("%s: invalid network or address %s.", n, n)
		}
	}
	if ex := named(c, "Logical_Router_Port", name); len(ex) > 0 {
		if !c.Has("--may-exist") {
			return fmt.Errorf("%s: a port with this name already exists", name)
		}
		lrp := ex[0]
		if owner := parent(c, "Logical_Router", "ports", lrp); owner == nil || owner.UUID != lr.UUID {
			return fmt.Errorf("%s: port already exists but in router %s", name, nameOf(c, owner))
		}
		if c.Str(lrp, "mac") != mac {
			return fmt.Errorf("%s: port already exists with mac %s", name, c.Str(lrp, "mac"))
		}
		if !c.Get(lrp, "networks").Equal(ctl.StrSet(networks...)) {
			return fmt.Errorf("%s: port already exists with different network", name)
		}
		return nil
	}
	lrp := c.Insert("Logical_Router_Port", "")
	c.SetStr(lrp, "name", name)
	c.SetStr(lrp, "mac", mac)
	c.Set(lrp, "networks", ctl.StrSet(networks...))
	if peer != "" {
		c.Set(lrp, "peer", ctl.StrSet(peer))
	}
	c.AddTo(lr, "ports", ref(lrp.UUID))
	return nil
}

func lrpDel(c *ctl.Ctx) error {
	lrp, err := find(c, "Logical_Router_Port", c.Args[0], "port")
	if err != nil || lrp == nil {
		return err
	}
	if lr := parent(c, "Logical_Router", "ports", lrp); lr != nil {
		c.RemoveFrom(lr, "ports", ref(lrp.UUID))
	}
	c.Delete(lrp)
	return nil
}

func lrpList(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	for _, p := range sortByName(c, refRows(c, lr, "ports", "Logical_Router_Port")) {
		c.Printf("%s (%s)\n", p.UUID, c.Str(p, "name"))
	}
	return nil
}

func lrpSetGatewayChassis(c *ctl.Ctx) error {
	lrp, err := byNameOrUUID(c, "Logical_Router_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	var prio int64
	if len(c.Args) == 3 {
		prio, err = strconv.ParseInt(c.Args[2], 10, 64)
		if err != nil || prio < 0 || prio > 32767 {
			return fmt.Errorf("%s: invalid priority for chassis %s", c.Args[2], c.Args[1])
		}
	}
	gcName := c.Str(lrp, "name") + "-" + c.Args[1]
	for _, gc := range refRows(c, lrp, "gateway_chassis", "Gateway_Chassis") {
		if c.Str(gc, "name") == gcName {
			c.Set(gc, "priority", ctl.Set(prio))
			return nil
		}
	}
	gc := c.Insert("Gateway_Chassis", "")
	c.SetStr(gc, "name", gcName)
	c.SetStr(gc, "chassis_name", c.Args[1])
	c.Set(gc, "priority", ctl.Set(prio))
	c.AddTo(lrp, "gateway_chassis", ref(gc.UUID))
	return nil
}

func lrpDelGatewayChassis(c *ctl.Ctx) error {
	lrp, err := byNameOrUUID(c, "Logical_Router_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	for _, gc := range refRows(c, lrp, "gateway_chassis", "Gateway_Chassis") {
		if c.Str(gc, "chassis_name") == c.Args[1] {
			c.RemoveFrom(lrp, "gateway_chassis", ref(gc.UUID))
			c.Delete(gc)
			return nil
		}
	}
	return fmt.Errorf("chassis %s is not added to logical port %s", c.Args[1], c.Args[0])
}

func lrpGetGatewayChassis(c *ctl.Ctx) error {
	lrp, err := byNameOrUUID(c, "Logical_Router_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	gcs := refRows(c, lrp, "gateway_chassis", "Gateway_Chassis")
	sort.SliceStable(gcs, func(i, j int) bool {
		a, _ := c.Get(gcs[i], "priority").Int()
		b, _ := c.Get(gcs[j], "priority").Int()
		if a != b {
			return a > b
		}
		return c.Str(gcs[i], "name") < c.Str(gcs[j], "name")
	})
	for _, gc := range gcs {
		p, _ := c.Get(gc, "priority").Int()
		c.Printf("%s %5d\n", c.Str(gc, "name"), p)
	}
	return nil
}

// --- static routes

func routePolicy(c *ctl.Ctx) (string, error) {
	p := c.Opt("--policy")
	if p != "" && p != "dst-ip" && p != "src-ip" {
		return "", fmt.Errorf("bad policy: %s", p)
	}
	return p, nil
}

func effPolicy(c *ctl.Ctx, r *ctl.Row) string {
	if p := c.Str(r, "policy"); p != "" {
		return p
	}
	return "dst-ip"
}

func lrRouteAdd(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	policy, err := routePolicy(c)
	if err != nil {
		return err
	}
	prefix, ok := normalizePrefix(c.Args[1])
	if !ok {
		return fmt.Errorf("bad prefix argument: %s", c.Args[1])
	}
	nexthop := c.Args[2]
	if nexthop != "discard" {
		if !validIP(nexthop) {
			return fmt.Errorf("bad nexthop argument: %s", nexthop)
		}
		nexthop, _ = normalizePrefix(nexthop)
	}
	port := ""
	if len(c.Args) == 4 {
		port = c.Args[3]
	}
	ecmp := c.Has("--ecmp") || c.Has("--ecmp-symmetric-reply")
	effP := policy
	if effP == "" {
		effP = "dst-ip"
	}
	table := c.Opt("--route-table")
	for _, rt := range refRows(c, lr, "static_routes", "Logical_Router_Static_Route") {
		if c.Str(rt, "ip_prefix") != prefix || effPolicy(c, rt) != effP || c.Str(rt, "route_table") != table {
			continue
		}
		if ecmp {
			if c.Str(rt, "nexthop") == nexthop {
				if c.Has("--may-exist") {
					return nil
				}
				return fmt.Errorf("duplicate nexthop for the same ECMP route")
			}
			continue
		}
		if !c.Has("--may-exist") {
			return fmt.Errorf("duplicate prefix: %s (policy: %s). Use option --ecmp to allow this for ECMP routing.", prefix, effP)
		}
		c.SetStr(rt, "nexthop", nexthop)
		if port != "" {
			c.Set(rt, "output_port", ctl.StrSet(port))
		}
		if policy != "" {
			c.Set(rt, "policy", ctl.StrSet(policy))
		}
		return setRouteBFD(c, rt, nexthop, port)
	}
	if err := checkRouteBFD(c, nexthop, port); err != nil {
		return err
	}
	rt := c.Insert("Logical_Router_Static_Route", "")
	c.SetStr(rt, "ip_prefix", prefix)
	c.SetStr(rt, "nexthop", nexthop)
	if port != "" {
		c.Set(rt, "output_port", ctl.StrSet(port))
	}
	if policy != "" {
		c.Set(rt, "policy", ctl.StrSet(policy))
	}
	if table != "" {
		c.SetStr(rt, "route_table", table)
	}
	if c.Has("--ecmp-symmetric-reply") {
		c.SetMapKey(rt, "options", "ecmp_symmetric_reply", "true")
	}
	c.AddTo(lr, "static_routes", ref(rt.UUID))
	return setRouteBFD(c, rt, nexthop, port)
}

// routeBFD finds the BFD row --bfd names for a route: the row of
// --bfd=UUID, else the one whose dst_ip is the next hop (and whose
// logical_port is port, when given). create reports that none exists and
// one is to be inserted (possible only with an output port).
func routeBFD(c *ctl.Ctx, nexthop, port string) (row *ctl.Row, create bool, err error) {
	if id := c.Opt("--bfd"); id != "" {
		if !ctl.IsUUID(id) {
			return nil, false, fmt.Errorf("--bfd=%s: not a UUID", id)
		}
		if r := c.Row("BFD", ctl.UUID(strings.ToLower(id))); r != nil {
			return r, false, nil
		}
		return nil, false, fmt.Errorf("--bfd=%s: no BFD row has this UUID", id)
	}
	for _, r := range c.Rows("BFD") {
		if c.Str(r, "dst_ip") == nexthop && (port == "" || c.Str(r, "logical_port") == port) {
			return r, false, nil
		}
	}
	if port == "" {
		return nil, false, fmt.Errorf("--bfd: no BFD row has dst_ip %s; give the route's output port to create one", nexthop)
	}
	return nil, true, nil
}

// checkRouteBFD fails early, before anything is inserted, when --bfd
// cannot be satisfied.
func checkRouteBFD(c *ctl.Ctx, nexthop, port string) error {
	if !c.Has("--bfd") {
		return nil
	}
	_, _, err := routeBFD(c, nexthop, port)
	return err
}

// setRouteBFD links route rt to its BFD session when --bfd is given,
// inserting the session (dst_ip the next hop, logical_port the output
// port) when the BFD table has none for it.
func setRouteBFD(c *ctl.Ctx, rt *ctl.Row, nexthop, port string) error {
	if !c.Has("--bfd") {
		return nil
	}
	b, create, err := routeBFD(c, nexthop, port)
	if err != nil {
		return err
	}
	if create {
		b = c.Insert("BFD", "")
		c.SetStr(b, "dst_ip", nexthop)
		c.SetStr(b, "logical_port", port)
	}
	c.Set(rt, "bfd", ref(b.UUID))
	return nil
}

func lrRouteDel(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	policy, err := routePolicy(c)
	if err != nil {
		return err
	}
	prefix, nexthop, port := "", "", ""
	if len(c.Args) > 1 {
		var ok bool
		if prefix, ok = normalizePrefix(c.Args[1]); !ok {
			return fmt.Errorf("bad prefix argument: %s", c.Args[1])
		}
	}
	if len(c.Args) > 2 {
		nexthop = c.Args[2]
		if nexthop != "discard" {
			if !validIP(nexthop) {
				return fmt.Errorf("bad nexthop argument: %s", nexthop)
			}
			nexthop, _ = normalizePrefix(nexthop)
		}
	}
	if len(c.Args) > 3 {
		port = c.Args[3]
	}
	n := 0
	for _, rt := range refRows(c, lr, "static_routes", "Logical_Router_Static_Route") {
		if policy != "" && effPolicy(c, rt) != policy ||
			prefix != "" && c.Str(rt, "ip_prefix") != prefix ||
			nexthop != "" && c.Str(rt, "nexthop") != nexthop ||
			port != "" && c.Str(rt, "output_port") != port ||
			c.Has("--route-table") && c.Str(rt, "route_table") != c.Opt("--route-table") {
			continue
		}
		c.RemoveFrom(lr, "static_routes", ref(rt.UUID))
		c.Delete(rt)
		n++
	}
	if n == 0 && len(c.Args) > 1 && !c.Has("--if-exists") {
		any := func(s string) string {
			if s == "" {
				return "any"
			}
			return s
		}
		return fmt.Errorf("no matching route: policy '%s', prefix '%s', nexthop '%s', output_port '%s'.", any(policy), prefix, any(nexthop), any(port))
	}
	return nil
}

type routeLine struct {
	table, prefix, text string
	plen                int
	v6                  bool
}

func lrRouteList(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	var lines []routeLine
	routes := refRows(c, lr, "static_routes", "Logical_Router_Static_Route")
	type routeKey struct{ prefix, policy, table string }
	same := map[routeKey]int{}
	for _, rt := range routes {
		same[routeKey{c.Str(rt, "ip_prefix"), effPolicy(c, rt), c.Str(rt, "route_table")}]++
	}
	for _, rt := range routes {
		if c.Has("--route-table") && c.Str(rt, "route_table") != c.Opt("--route-table") {
			continue
		}
		prefix := c.Str(rt, "ip_prefix")
		l := routeLine{table: c.Str(rt, "route_table"), prefix: prefix}
		if p, err := netip.ParsePrefix(prefix); err == nil {
			l.plen, l.v6 = p.Bits(), p.Addr().Is6()
		} else if a, err := netip.ParseAddr(prefix); err == nil {
			l.plen, l.v6 = a.BitLen(), a.Is6()
		}
		text := fmt.Sprintf("%25s %25s %s", prefix, c.Str(rt, "nexthop"), effPolicy(c, rt))
		if p := c.Str(rt, "output_port"); p != "" {
			text += " " + p
		}
		if same[routeKey{prefix, effPolicy(c, rt), c.Str(rt, "route_table")}] > 1 {
			text += " ecmp"
		}
		if c.Get(rt, "options").StrMap()["ecmp_symmetric_reply"] == "true" {
			text += " ecmp-symmetric-reply"
		}
		if len(c.Get(rt, "bfd").UUIDs()) > 0 {
			text += " bfd"
		}
		l.text = text
		lines = append(lines, l)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.table != b.table {
			return a.table < b.table
		}
		if a.plen != b.plen {
			return a.plen > b.plen
		}
		return a.text < b.text
	})
	for _, v6 := range []bool{false, true} {
		header := false
		table := "\x00"
		for _, l := range lines {
			if l.v6 != v6 {
				continue
			}
			if !header {
				if v6 {
					c.Printf("\nIPv6 Routes\n")
				} else {
					c.Printf("IPv4 Routes\n")
				}
				header = true
			}
			if l.table != table {
				if table != "\x00" {
					c.Printf("\n")
				}
				table = l.table
				name := table
				if name == "" {
					name = "<main>"
				}
				c.Printf("Route Table %s:\n", name)
			}
			c.Printf("%s\n", l.text)
		}
	}
	return nil
}

// --- NAT

func lrNATAdd(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	typ, extIP, logIP := c.Args[1], c.Args[2], c.Args[3]
	if typ != "snat" && typ != "dnat" && typ != "dnat_and_snat" {
		return fmt.Errorf("%s: type must be one of \"dnat\", \"snat\" and \"dnat_and_snat\".", typ)
	}
	if !validIP(extIP) {
		return fmt.Errorf("%s: should be an IPv4 address.", extIP)
	}
	if typ == "snat" {
		n, ok := normalizePrefix(logIP)
		if !ok {
			return fmt.Errorf("%s: should be an IPv4 address or network.", logIP)
		}
		logIP = n
	} else if !validIP(logIP) {
		return fmt.Errorf("%s: should be an IPv4 address.", logIP)
	}
	port, mac := "", ""
	if len(c.Args) == 5 {
		return fmt.Errorf("lr-nat-add with logical_port must also specify external_mac.")
	}
	if len(c.Args) == 6 {
		if typ != "dnat_and_snat" {
			return fmt.Errorf("logical_port and external_mac are only valid when type is \"dnat_and_snat\".")
		}
		port, mac = c.Args[4], c.Args[5]
		if !validMAC(mac) {
			return fmt.Errorf("invalid mac address %s.", mac)
		}
		if _, err := byNameOrUUID(c, "Logical_Switch_Port", port, "port"); err != nil {
			return err
		}
	}
	if c.Has("--stateless") && typ != "dnat_and_snat" {
		return fmt.Errorf("stateless is not applicable to dnat or snat types")
	}
	for _, nat := range refRows(c, lr, "nat", "NAT") {
		if c.Str(nat, "type") != typ {
			continue
		}
		sameExt := c.Str(nat, "external_ip") == extIP
		sameLog := c.Str(nat, "logical_ip") == logIP
		if typ == "snat" && sameLog || typ != "snat" && sameExt {
			if c.Has("--may-exist") {
				if typ == "snat" {
					c.SetStr(nat, "external_ip", extIP)
				} else {
					c.SetStr(nat, "logical_ip", logIP)
				}
				return nil
			}
			if typ == "snat" {
				return fmt.Errorf("a NAT with this type (%s) and logical_ip (%s) already exists", typ, logIP)
			}
			return fmt.Errorf("a NAT with this type (%s) and external_ip (%s) already exists", typ, extIP)
		}
	}
	nat := c.Insert("NAT", "")
	c.SetStr(nat, "type", typ)
	c.SetStr(nat, "external_ip", extIP)
	c.SetStr(nat, "logical_ip", logIP)
	if port != "" {
		c.Set(nat, "logical_port", ctl.StrSet(port))
		c.Set(nat, "external_mac", ctl.StrSet(mac))
	}
	stateless := "false"
	if c.Has("--stateless") {
		stateless = "true"
	}
	c.SetMapKey(nat, "options", "stateless", stateless)
	c.AddTo(lr, "nat", ref(nat.UUID))
	return nil
}

func lrNATDel(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	typ, ip := "", ""
	if len(c.Args) > 1 {
		typ = c.Args[1]
		if typ != "snat" && typ != "dnat" && typ != "dnat_and_snat" {
			return fmt.Errorf("%s: type must be one of \"dnat\", \"snat\" and \"dnat_and_snat\".", typ)
		}
	}
	if len(c.Args) > 2 {
		ip = c.Args[2]
		if typ == "snat" {
			if n, ok := normalizePrefix(ip); ok {
				ip = n
			}
		}
	}
	n := 0
	for _, nat := range refRows(c, lr, "nat", "NAT") {
		if typ != "" && c.Str(nat, "type") != typ {
			continue
		}
		if ip != "" {
			col := "external_ip"
			if typ == "snat" {
				col = "logical_ip"
			}
			if c.Str(nat, col) != ip {
				continue
			}
		}
		c.RemoveFrom(lr, "nat", ref(nat.UUID))
		c.Delete(nat)
		n++
	}
	if n == 0 && ip != "" && !c.Has("--if-exists") {
		return fmt.Errorf("no matching NAT with the type (%s) and %s (%s)", typ, map[bool]string{true: "logical_ip", false: "external_ip"}[typ == "snat"], ip)
	}
	return nil
}

func lrNATList(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	nats := refRows(c, lr, "nat", "NAT")
	if len(nats) == 0 {
		return nil
	}
	sort.SliceStable(nats, func(i, j int) bool {
		a, b := nats[i], nats[j]
		if x, y := c.Str(a, "type"), c.Str(b, "type"); x != y {
			return x < y
		}
		if x, y := c.Str(a, "external_ip"), c.Str(b, "external_ip"); x != y {
			return x < y
		}
		return c.Str(a, "logical_ip") < c.Str(b, "logical_ip")
	})
	line := func(f ...string) {
		s := fmt.Sprintf("%-17s%-22s%-19s%-17s%-20s%-21s%s", f[0], f[1], f[2], f[3], f[4], f[5], f[6])
		c.Printf("%s\n", strings.TrimRight(s, " "))
	}
	line("TYPE", "GATEWAY_PORT", "EXTERNAL_IP", "EXTERNAL_PORT", "LOGICAL_IP", "EXTERNAL_MAC", "LOGICAL_PORT")
	for _, nat := range nats {
		gw := ""
		for _, u := range c.Get(nat, "gateway_port").UUIDs() {
			if p := c.Row("Logical_Router_Port", u); p != nil {
				gw = c.Str(p, "name")
			}
		}
		line(c.Str(nat, "type"), gw, c.Str(nat, "external_ip"), c.Str(nat, "external_port_range"),
			c.Str(nat, "logical_ip"), c.Str(nat, "external_mac"), c.Str(nat, "logical_port"))
	}
	return nil
}

// --- policies

func lrPolicyAdd(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	prio, err := strconv.ParseInt(c.Args[1], 10, 64)
	if err != nil || prio < 0 || prio > 32767 {
		return fmt.Errorf("%s: priority must in range 0...32767", c.Args[1])
	}
	match, action := c.Args[2], c.Args[3]
	rest := c.Args[4:]
	var nexthops []string
	switch action {
	case "allow", "drop":
	case "reroute":
		if len(rest) == 0 {
			return fmt.Errorf("Nexthop is required when action is reroute.")
		}
		for _, nh := range strings.Split(rest[0], ",") {
			if !validIP(nh) {
				return fmt.Errorf("bad next hop argument: %s", rest[0])
			}
			nexthops = append(nexthops, nh)
		}
		rest = rest[1:]
	default:
		return fmt.Errorf("%s: action must be one of \"allow\", \"drop\", and \"reroute\"", action)
	}
	opts, err := keyValues(rest)
	if err != nil {
		return err
	}
	for _, p := range refRows(c, lr, "policies", "Logical_Router_Policy") {
		if got, _ := c.Get(p, "priority").Int(); got == prio && c.Str(p, "match") == match {
			return fmt.Errorf("Same routing policy already existed on the logical router %s.", c.Args[0])
		}
	}
	p := c.Insert("Logical_Router_Policy", "")
	c.Set(p, "priority", ctl.Set(prio))
	c.SetStr(p, "match", match)
	c.SetStr(p, "action", action)
	if len(nexthops) > 0 {
		c.Set(p, "nexthops", ctl.StrSet(nexthops...))
	}
	if len(opts) > 0 {
		c.Set(p, "options", ctl.Map(opts))
	}
	c.AddTo(lr, "policies", ref(p.UUID))
	return nil
}

func lrPolicyDel(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	pols := refRows(c, lr, "policies", "Logical_Router_Policy")
	del := func(p *ctl.Row) {
		c.RemoveFrom(lr, "policies", ref(p.UUID))
		c.Delete(p)
	}
	if len(c.Args) == 1 {
		for _, p := range pols {
			del(p)
		}
		return nil
	}
	if ctl.IsUUID(c.Args[1]) {
		for _, p := range pols {
			if string(p.UUID) == strings.ToLower(c.Args[1]) {
				del(p)
				return nil
			}
		}
		if c.Has("--if-exists") {
			return nil
		}
		return fmt.Errorf("Logical router policy uuid is not found.")
	}
	prio, err := strconv.ParseInt(c.Args[1], 10, 64)
	if err != nil || prio < 0 || prio > 32767 {
		return fmt.Errorf("%s: priority must in range 0...32767", c.Args[1])
	}
	n := 0
	for _, p := range pols {
		if got, _ := c.Get(p, "priority").Int(); got != prio {
			continue
		}
		if len(c.Args) == 3 && c.Str(p, "match") != c.Args[2] {
			continue
		}
		del(p)
		n++
	}
	if n == 0 && len(c.Args) == 3 && !c.Has("--if-exists") {
		return fmt.Errorf("Logical router policy match is not found.")
	}
	return nil
}

func lrPolicyList(c *ctl.Ctx) error {
	lr, err := byNameOrUUID(c, "Logical_Router", c.Args[0], "router")
	if err != nil {
		return err
	}
	pols := refRows(c, lr, "policies", "Logical_Router_Policy")
	if len(pols) == 0 {
		return nil
	}
	sort.SliceStable(pols, func(i, j int) bool {
		a, _ := c.Get(pols[i], "priority").Int()
		b, _ := c.Get(pols[j], "priority").Int()
		if a != b {
			return a > b
		}
		return c.Str(pols[i], "match") < c.Str(pols[j], "match")
	})
	c.Printf("Routing Policies\n")
	for _, p := range pols {
		prio, _ := c.Get(p, "priority").Int()
		s := fmt.Sprintf("%10d %50s %15s", prio, c.Str(p, "match"), c.Str(p, "action"))
		for i, nh := range c.Get(p, "nexthops").Strings() {
			if i == 0 {
				s += fmt.Sprintf(" %25s", nh)
			} else {
				s += ", " + nh
			}
		}
		if opts := c.Get(p, "options"); opts.Len() > 0 {
			var kv []string
			for i, k := range opts.Keys {
				kv = append(kv, fmt.Sprintf("%s=%s", k, opts.Vals[i]))
			}
			s += fmt.Sprintf("%15s%s", "", strings.Join(kv, ","))
		}
		c.Printf("%s\n", s)
	}
	return nil
}
