package nbcmd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"hcnet/internal/ctl"
)

func miscCommands() []*ctl.Command {
	return []*ctl.Command{
		{Name: "dhcp-options-create", Usage: "CIDR [EXTERNAL_IDS]", MinArgs: 1, MaxArgs: -1, Run: dhcpCreate},
		{Name: "dhcp-options-del", Usage: "DHCP_OPTIONS_UUID", MinArgs: 1, MaxArgs: 1, Run: dhcpDel},
		{Name: "dhcp-options-list", MaxArgs: 0, Run: dhcpList},
		{Name: "dhcp-options-set-options", Usage: "DHCP_OPTIONS_UUID KEY=VALUE [KEY=VALUE]...", MinArgs: 1, MaxArgs: -1, Run: dhcpSetOptions},
		{Name: "dhcp-options-get-options", Usage: "DHCP_OPTIONS_UUID", MinArgs: 1, MaxArgs: 1, Run: dhcpGetOptions},
		{Name: "ha-chassis-group-add", Usage: "GROUP", MinArgs: 1, MaxArgs: 1, Run: haAdd},
		{Name: "ha-chassis-group-del", Usage: "GROUP", MinArgs: 1, MaxArgs: 1, Run: haDel},
		{Name: "ha-chassis-group-list", MaxArgs: 1, Run: haList},
		{Name: "ha-chassis-group-add-chassis", Usage: "GROUP CHASSIS PRIORITY", MinArgs: 3, MaxArgs: 3, Run: haAddChassis},
		{Name: "ha-chassis-group-remove-chassis", Usage: "GROUP CHASSIS", MinArgs: 2, MaxArgs: 2, Run: haRemoveChassis},
		{Name: "meter-add", Usage: "NAME ACTION RATE UNIT [BURST]", MinArgs: 4, MaxArgs: 5, Options: []string{"--fair"}, Run: meterAdd},
		{Name: "meter-del", Usage: "[NAME]", MaxArgs: 1, Run: meterDel},
		{Name: "meter-list", MaxArgs: 0, Run: meterList},
		{Name: "show", Usage: "[SWITCH | ROUTER]", MaxArgs: 1, Run: show},
		{Name: "sync", MaxArgs: 0, Run: func(c *ctl.Ctx) error { c.ForceWait = true; return nil }},
	}
}

func dhcpRow(c *ctl.Ctx, id string) (*ctl.Row, error) {
	if ctl.IsUUID(id) {
		if r := c.Row("DHCP_Options", ctl.UUID(strings.ToLower(id))); r != nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: DHCP options UUID not found", id)
}

func dhcpCreate(c *ctl.Ctx) error {
	cidr := c.Args[0]
	if !validNetwork(cidr) {
		return fmt.Errorf("%s: invalid cidr format", cidr)
	}
	ids, err := keyValues(c.Args[1:])
	if err != nil {
		return err
	}
	d := c.Insert("DHCP_Options", "")
	c.SetStr(d, "cidr", cidr)
	if len(ids) > 0 {
		c.Set(d, "external_ids", ctl.Map(ids))
	}
	return nil
}

func dhcpDel(c *ctl.Ctx) error {
	d, err := dhcpRow(c, c.Args[0])
	if err != nil {
		return err
	}
	for _, lsp := range c.Rows("Logical_Switch_Port") {
		for _, col := range []string{"dhcpv4_options", "dhcpv6_options"} {
			if c.Get(lsp, col).Find(d.UUID) >= 0 {
				c.Set(lsp, col, ctl.Set())
			}
		}
	}
	c.Delete(d)
	return nil
}

func dhcpList(c *ctl.Ctx) error {
	for _, d := range c.Rows("DHCP_Options") {
		c.Printf("%s\n", d.UUID)
	}
	return nil
}

func dhcpSetOptions(c *ctl.Ctx) error {
	d, err := dhcpRow(c, c.Args[0])
	if err != nil {
		return err
	}
	m, err := keyValues(c.Args[1:])
	if err != nil {
		return err
	}
	c.Set(d, "options", ctl.Map(m))
	return nil
}

func dhcpGetOptions(c *ctl.Ctx) error {
	d, err := dhcpRow(c, c.Args[0])
	if err != nil {
		return err
	}
	printMap(c, c.Get(d, "options"))
	return nil
}

// --- HA chassis groups

func haAdd(c *ctl.Ctx) error {
	if len(named(c, "HA_Chassis_Group", c.Args[0])) > 0 {
		return fmt.Errorf("%s: an ha chassis group with this name already exists", c.Args[0])
	}
	c.SetStr(c.Insert("HA_Chassis_Group", ""), "name", c.Args[0])
	return nil
}

func haDel(c *ctl.Ctx) error {
	g, err := byNameOrUUID(c, "HA_Chassis_Group", c.Args[0], "ha chassis group")
	if err != nil {
		return err
	}
	c.Delete(g)
	return nil
}

func haList(c *ctl.Ctx) error {
	groups := sortByName(c, c.Rows("HA_Chassis_Group"))
	if len(c.Args) == 1 {
		g, err := byNameOrUUID(c, "HA_Chassis_Group", c.Args[0], "ha chassis group")
		if err != nil {
			return err
		}
		groups = []*ctl.Row{g}
	}
	for _, g := range groups {
		c.Printf("%s (%s)\n", g.UUID, c.Str(g, "name"))
		chs := refRows(c, g, "ha_chassis", "HA_Chassis")
		sort.SliceStable(chs, func(i, j int) bool {
			a, _ := c.Get(chs[i], "priority").Int()
			b, _ := c.Get(chs[j], "priority").Int()
			return a > b
		})
		for _, ch := range chs {
			p, _ := c.Get(ch, "priority").Int()
			c.Printf("    %s (%s)\n    priority %d\n\n", ch.UUID, c.Str(ch, "chassis_name"), p)
		}
		c.Printf("\n")
	}
	return nil
}

func haAddChassis(c *ctl.Ctx) error {
	g, err := byNameOrUUID(c, "HA_Chassis_Group", c.Args[0], "ha chassis group")
	if err != nil {
		return err
	}
	prio, err := strconv.ParseInt(c.Args[2], 10, 64)
	if err != nil || prio < 0 || prio > 32767 {
		return fmt.Errorf("%s: invalid priority for chassis %s", c.Args[2], c.Args[1])
	}
	for _, ch := range refRows(c, g, "ha_chassis", "HA_Chassis") {
		if c.Str(ch, "chassis_name") == c.Args[1] {
			c.Set(ch, "priority", ctl.Set(prio))
			return nil
		}
	}
	ch := c.Insert("HA_Chassis", "")
	c.SetStr(ch, "chassis_name", c.Args[1])
	c.Set(ch, "priority", ctl.Set(prio))
	c.AddTo(g, "ha_chassis", ref(ch.UUID))
	return nil
}

func haRemoveChassis(c *ctl.Ctx) error {
	g, err := byNameOrUUID(c, "HA_Chassis_Group", c.Args[0], "ha chassis group")
	if err != nil {
		return err
	}
	for _, ch := range refRows(c, g, "ha_chassis", "HA_Chassis") {
		if c.Str(ch, "chassis_name") == c.Args[1] {
			c.RemoveFrom(g, "ha_chassis", ref(ch.UUID))
			c.Delete(ch)
			return nil
		}
	}
	return fmt.Errorf("%s: ha chassis not found in ha chassis group %s", c.Args[1], c.Args[0])
}

// --- meters

func meterAdd(c *ctl.Ctx) error {
	name, action, unit := c.Args[0], c.Args[1], c.Args[3]
	if len(named(c, "Meter", name)) > 0 {
		return fmt.Errorf("meter with name \"%s\" already exists", name)
	}
	if strings.HasPrefix(name, "__") {
		return fmt.Errorf("meter names that begin with \"__\" are reserved")
	}
	if action != "drop" {
		return fmt.Errorf("action must be \"drop\"")
	}
	rate, err := strconv.ParseInt(c.Args[2], 10, 64)
	if err != nil || rate < 1 || rate > 4294967295 {
		return fmt.Errorf("rate must be in the range 1...4294967295")
	}
	if unit != "kbps" && unit != "pktps" {
		return fmt.Errorf("unit must be \"kbps\" or \"pktps\"")
	}
	var burst int64
	if len(c.Args) == 5 {
		burst, err = strconv.ParseInt(c.Args[4], 10, 64)
		if err != nil || burst < 0 || burst > 4294967295 {
			return fmt.Errorf("burst must be in the range 0...4294967295")
		}
	}
	band := c.Insert("Meter_Band", "")
	c.SetStr(band, "action", action)
	c.Set(band, "rate", ctl.Set(rate))
	c.Set(band, "burst_size", ctl.Set(burst))
	m := c.Insert("Meter", "")
	c.SetStr(m, "name", name)
	c.SetStr(m, "unit", unit)
	c.Set(m, "bands", ref(band.UUID))
	if c.Has("--fair") {
		c.Set(m, "fair", ctl.Set(true))
	}
	return nil
}

func meterDel(c *ctl.Ctx) error {
	if len(c.Args) == 0 {
		for _, m := range c.Rows("Meter") {
			c.Delete(m)
		}
		return nil
	}
	ms := named(c, "Meter", c.Args[0])
	for _, m := range ms {
		c.Delete(m)
	}
	return nil
}

func meterList(c *ctl.Ctx) error {
	for _, m := range sortByName(c, c.Rows("Meter")) {
		c.Printf("%s:", c.Str(m, "name"))
		if fair, _ := c.Get(m, "fair").Bool(); fair {
			c.Printf(" (fair)")
		}
		c.Printf(" bands:\n")
		for _, b := range refRows(c, m, "bands", "Meter_Band") {
			rate, _ := c.Get(b, "rate").Int()
			burst, _ := c.Get(b, "burst_size").Int()
			unit := c.Str(m, "unit")
			c.Printf("  %s: %d %s", c.Str(b, "action"), rate, unit)
			if burst > 0 {
				c.Printf(", %d %s burst", burst, map[bool]string{true: "kb", false: "packets"}[unit == "kbps"])
			}
			c.Printf("\n")
		}
	}
	return nil
}

// --- show

func quotedList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func show(c *ctl.Ctx) error {
	c.PrefetchTables(map[string][]string{"Logical_Switch": nil, "Logical_Switch_Port": nil, "Logical_Router": nil,
		"Logical_Router_Port": nil, "NAT": nil, "Gateway_Chassis": nil})
	switches := sortByName(c, c.Rows("Logical_Switch"))
	routers := sortByName(c, c.Rows("Logical_Router"))
	if len(c.Args) == 1 {
		switches, routers = nil, nil
		if ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch"); err == nil {
			switches = []*ctl.Row{ls}
		} else if lr, err2 := byNameOrUUID(c, "Logical_Router", c.Args[0], "router"); err2 == nil {
			routers = []*ctl.Row{lr}
		} else {
			return fmt.Errorf("%s: no switch or router with this name or UUID", c.Args[0])
		}
	}
	aka := func(r *ctl.Row, key string) string {
		if n := c.Get(r, "external_ids").StrMap()[key]; n != "" {
			return " (aka " + n + ")"
		}
		return ""
	}
	for _, ls := range switches {
		c.Printf("switch %s (%s)%s\n", ls.UUID, c.Str(ls, "name"), aka(ls, "neutron:network_name"))
		for _, p := range refRows(c, ls, "ports", "Logical_Switch_Port") {
			c.Printf("    port %s%s\n", c.Str(p, "name"), aka(p, "neutron:port_name"))
			if s := c.Str(p, "parent_name"); s != "" {
				c.Printf("        parent: %s\n", s)
			}
			if t, ok := c.Get(p, "tag").Int(); ok {
				c.Printf("        tag: %d\n", t)
			}
			typ := c.Str(p, "type")
			if typ != "" {
				c.Printf("        type: %s\n", typ)
			}
			// A port whose only address is "router" shows its peer
			// instead (router-port below).
			if a := c.Get(p, "addresses").Strings(); len(a) > 0 && !(len(a) == 1 && a[0] == "router") {
				c.Printf("        addresses: %s\n", quotedList(a))
			}
			if typ == "router" {
				if rp, ok := c.Get(p, "options").MapGet("router-port"); ok {
					c.Printf("        router-port: %s\n", rp)
				}
			}
		}
	}
	for _, lr := range routers {
		c.Printf("router %s (%s)%s\n", lr.UUID, c.Str(lr, "name"), aka(lr, "neutron:router_name"))
		for _, p := range refRows(c, lr, "ports", "Logical_Router_Port") {
			c.Printf("    port %s\n", c.Str(p, "name"))
			c.Printf("        mac: %s\n", strconv.Quote(c.Str(p, "mac")))
			if n := c.Get(p, "networks").Strings(); len(n) > 0 {
				c.Printf("        networks: %s\n", quotedList(n))
			}
			// In the column's order, as ovn-nbctl prints them.
			if gcs := refRows(c, p, "gateway_chassis", "Gateway_Chassis"); len(gcs) > 0 {
				var names []string
				for _, g := range gcs {
					names = append(names, c.Str(g, "chassis_name"))
				}
				c.Printf("        gateway chassis: [%s]\n", strings.Join(names, " "))
			}
		}
		for _, n := range refRows(c, lr, "nat", "NAT") {
			c.Printf("    nat %s\n", n.UUID)
			c.Printf("        external ip: %s\n", strconv.Quote(c.Str(n, "external_ip")))
			c.Printf("        logical ip: %s\n", strconv.Quote(c.Str(n, "logical_ip")))
			c.Printf("        type: %s\n", strconv.Quote(c.Str(n, "type")))
		}
	}
	return nil
}
