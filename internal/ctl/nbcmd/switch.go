package nbcmd

import (
	"fmt"
	"strconv"

	"hcnet/internal/ctl"
)

func switchCommands() []*ctl.Command {
	return []*ctl.Command{
		{Name: "ls-add", Usage: "[SWITCH]", MaxArgs: 1, Options: []string{"--may-exist", "--add-duplicate"}, Run: lsAdd},
		{Name: "ls-del", Usage: "SWITCH", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: lsDel},
		{Name: "ls-list", MaxArgs: 0, Run: func(c *ctl.Ctx) error { listNamed(c, "Logical_Switch"); return nil }},
		{Name: "lsp-add", Usage: "SWITCH PORT [PARENT] [TAG]", MinArgs: 2, MaxArgs: 4, Options: []string{"--may-exist"}, Run: lspAdd},
		{Name: "lsp-del", Usage: "PORT", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: lspDel},
		{Name: "lsp-list", Usage: "SWITCH", MinArgs: 1, MaxArgs: 1, Run: lspList},
		{Name: "lsp-get-parent", MinArgs: 1, MaxArgs: 1, Run: lspGetStr("parent_name")},
		{Name: "lsp-get-tag", MinArgs: 1, MaxArgs: 1, Run: lspGetTag},
		{Name: "lsp-set-addresses", Usage: "PORT [ADDRESS]...", MinArgs: 1, MaxArgs: -1, Run: lspSetAddresses},
		{Name: "lsp-get-addresses", MinArgs: 1, MaxArgs: 1, Run: lspGetSet("addresses")},
		{Name: "lsp-set-port-security", Usage: "PORT [ADDRS]...", MinArgs: 1, MaxArgs: -1, Run: lspSetPortSecurity},
		{Name: "lsp-get-port-security", MinArgs: 1, MaxArgs: 1, Run: lspGetSet("port_security")},
		{Name: "lsp-get-up", MinArgs: 1, MaxArgs: 1, Run: lspGetUp},
		{Name: "lsp-set-enabled", Usage: "PORT STATE", MinArgs: 2, MaxArgs: 2, Run: setEnabled("Logical_Switch_Port", "port")},
		{Name: "lsp-get-enabled", MinArgs: 1, MaxArgs: 1, Run: getEnabled("Logical_Switch_Port", "port")},
		{Name: "lsp-set-type", Usage: "PORT TYPE", MinArgs: 2, MaxArgs: 2, Run: lspSetType},
		{Name: "lsp-get-type", MinArgs: 1, MaxArgs: 1, Run: lspGetStr("type")},
		{Name: "lsp-set-options", Usage: "PORT [KEY=VALUE]...", MinArgs: 1, MaxArgs: -1, Run: setOptions("Logical_Switch_Port", "port")},
		{Name: "lsp-get-options", MinArgs: 1, MaxArgs: 1, Run: getOptions("Logical_Switch_Port", "port")},
		{Name: "lsp-set-dhcpv4-options", Usage: "PORT [DHCP_OPTIONS_UUID]", MinArgs: 1, MaxArgs: 2, Run: lspSetDHCP("dhcpv4_options")},
		{Name: "lsp-get-dhcpv4-options", MinArgs: 1, MaxArgs: 1, Run: lspGetDHCP("dhcpv4_options")},
		{Name: "lsp-set-dhcpv6-options", Usage: "PORT [DHCP_OPTIONS_UUID]", MinArgs: 1, MaxArgs: 2, Run: lspSetDHCP("dhcpv6_options")},
		{Name: "lsp-get-dhcpv6-options", MinArgs: 1, MaxArgs: 1, Run: lspGetDHCP("dhcpv6_options")},
	}
}

// listNamed prints "UUID (name)" for every row of table, by name.
func listNamed(c *ctl.Ctx, table string) {
	for _, r := range sortByName(c, c.Rows(table)) {
		c.Printf("%s (%s)\n", r.UUID, c.Str(r, "name"))
	}
}

func lsAdd(c *ctl.Ctx) error {
	if len(c.Args) == 0 {
		c.Insert("Logical_Switch", "")
		return nil
	}
	name := c.Args[0]
	if c.Has("--may-exist") && c.Has("--add-duplicate") {
		return fmt.Errorf("--may-exist and --add-duplicate may not be used together")
	}
	if !c.Has("--add-duplicate") && len(named(c, "Logical_Switch", name)) > 0 {
		if c.Has("--may-exist") {
			return nil
		}
		return fmt.Errorf("%s: a switch with this name already exists", name)
	}
	c.SetStr(c.Insert("Logical_Switch", ""), "name", name)
	return nil
}

func lsDel(c *ctl.Ctx) error {
	ls, err := find(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil || ls == nil {
		return err
	}
	c.Delete(ls)
	return nil
}

func lspAdd(c *ctl.Ctx) error {
	if len(c.Args) == 3 {
		return fmt.Errorf("invalid arguments: a parent and a tag must be given together")
	}
	ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil {
		return err
	}
	name := c.Args[1]
	var parentName string
	var tag int64 = -1
	if len(c.Args) == 4 {
		parentName = c.Args[2]
		t, err := strconv.ParseInt(c.Args[3], 10, 64)
		if err != nil || t < 0 || t > 4095 {
			return fmt.Errorf("%s: invalid tag (must be in range 0 to 4095)", c.Args[3])
		}
		tag = t
	}
	if ex := named(c, "Logical_Switch_Port", name); len(ex) > 0 {
		if !c.Has("--may-exist") {
			return fmt.Errorf("%s: a port with this name already exists", name)
		}
		lsp := ex[0]
		owner := parent(c, "Logical_Switch", "ports", lsp)
		if owner == nil || owner.UUID != ls.UUID {
			return fmt.Errorf("%s: port already exists but in switch %s", name, nameOf(c, owner))
		}
		if c.Str(lsp, "parent_name") != parentName {
			return fmt.Errorf("%s: port already exists with different parent %s", name, c.Str(lsp, "parent_name"))
		}
		if tag >= 0 {
			if got, _ := c.Get(lsp, "tag_request").Int(); got != tag {
				return fmt.Errorf("%s: port already exists with different tag_request %d", name, got)
			}
		}
		return nil
	}
	lsp := c.Insert("Logical_Switch_Port", "")
	c.SetStr(lsp, "name", name)
	if tag >= 0 {
		c.SetStr(lsp, "parent_name", parentName)
		c.Set(lsp, "tag_request", ctl.Set(tag))
	}
	c.AddTo(ls, "ports", ref(lsp.UUID))
	return nil
}

func nameOf(c *ctl.Ctx, r *ctl.Row) string {
	if r == nil {
		return "(none)"
	}
	return c.Str(r, "name")
}

func lspDel(c *ctl.Ctx) error {
	lsp, err := find(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil || lsp == nil {
		return err
	}
	if ls := parent(c, "Logical_Switch", "ports", lsp); ls != nil {
		c.RemoveFrom(ls, "ports", ref(lsp.UUID))
	}
	c.Delete(lsp)
	return nil
}

func lspList(c *ctl.Ctx) error {
	ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil {
		return err
	}
	for _, p := range sortByName(c, refRows(c, ls, "ports", "Logical_Switch_Port")) {
		c.Printf("%s (%s)\n", p.UUID, c.Str(p, "name"))
	}
	return nil
}

func lspGetStr(col string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
		if err != nil {
			return err
		}
		if s := c.Str(lsp, col); s != "" || col == "type" {
			c.Printf("%s\n", s)
		}
		return nil
	}
}

func lspGetTag(c *ctl.Ctx) error {
	lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	if t, ok := c.Get(lsp, "tag").Int(); ok {
		c.Printf("%d\n", t)
	}
	return nil
}

func lspGetSet(col string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
		if err != nil {
			return err
		}
		printStrings(c, c.Get(lsp, col).Strings())
		return nil
	}
}

func lspSetAddresses(c *ctl.Ctx) error {
	lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	for _, a := range c.Args[1:] {
		if err := checkAddresses(a, true); err != nil {
			return err
		}
	}
	c.Set(lsp, "addresses", ctl.StrSet(c.Args[1:]...))
	return nil
}

func lspSetPortSecurity(c *ctl.Ctx) error {
	lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	for _, a := range c.Args[1:] {
		if err := checkAddresses(a, false); err != nil {
			return err
		}
	}
	c.Set(lsp, "port_security", ctl.StrSet(c.Args[1:]...))
	return nil
}

func lspGetUp(c *ctl.Ctx) error {
	lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	if up, _ := c.Get(lsp, "up").Bool(); up {
		c.Printf("up\n")
	} else {
		c.Printf("down\n")
	}
	return nil
}

func setEnabled(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		switch c.Args[1] {
		case "enabled":
			c.Set(r, "enabled", ctl.Set(true))
		case "disabled":
			c.Set(r, "enabled", ctl.Set(false))
		default:
			return fmt.Errorf("%s: state must be \"enabled\" or \"disabled\"", c.Args[1])
		}
		return nil
	}
}

func getEnabled(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		if b, ok := c.Get(r, "enabled").Bool(); ok && !b {
			c.Printf("disabled\n")
		} else {
			c.Printf("enabled\n")
		}
		return nil
	}
}

var lspTypes = map[string]bool{"": true, "router": true, "localnet": true, "localport": true, "l2gateway": true,
	"vtep": true, "external": true, "virtual": true, "remote": true}

func lspSetType(c *ctl.Ctx) error {
	lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
	if err != nil {
		return err
	}
	if !lspTypes[c.Args[1]] {
		return fmt.Errorf("Logical switch port type '%s' is unrecognized. Not setting type.", c.Args[1])
	}
	c.SetStr(lsp, "type", c.Args[1])
	return nil
}

func setOptions(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		m, err := keyValues(c.Args[1:])
		if err != nil {
			return err
		}
		c.Set(r, "options", ctl.Map(m))
		return nil
	}
}

func getOptions(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		printMap(c, c.Get(r, "options"))
		return nil
	}
}

func lspSetDHCP(col string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
		if err != nil {
			return err
		}
		if len(c.Args) == 1 {
			c.Set(lsp, col, ctl.Set())
			return nil
		}
		id := c.Args[1]
		if !ctl.IsUUID(id) || c.Row("DHCP_Options", ctl.UUID(id)) == nil {
			return fmt.Errorf("%s: DHCP options UUID not found", id)
		}
		c.Set(lsp, col, ref(ctl.UUID(id)))
		return nil
	}
}

func lspGetDHCP(col string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		lsp, err := byNameOrUUID(c, "Logical_Switch_Port", c.Args[0], "port")
		if err != nil {
			return err
		}
		for _, d := range refRows(c, lsp, col, "DHCP_Options") {
			c.Printf("%s (%s)\n", d.UUID, c.Str(d, "cidr"))
		}
		return nil
	}
}
