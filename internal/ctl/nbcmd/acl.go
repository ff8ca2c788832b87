package nbcmd

import (
	"fmt"
	"sort"
	"strconv"

	"hcnet/internal/ctl"
)

func aclCommands() []*ctl.Command {
	return []*ctl.Command{
		{Name: "acl-add", Usage: "{SWITCH | PORTGROUP} DIRECTION PRIORITY MATCH VERDICT", MinArgs: 5, MaxArgs: 5,
			Options: []string{"--type=", "--log", "--meter=", "--severity=", "--name=", "--label=", "--may-exist", "--apply-after-lb"}, Run: aclAdd},
		{Name: "acl-del", Usage: "{SWITCH | PORTGROUP} [DIRECTION [PRIORITY MATCH]]", MinArgs: 1, MaxArgs: 4, Options: []string{"--type="}, Run: aclDel},
		{Name: "acl-list", Usage: "{SWITCH | PORTGROUP}", MinArgs: 1, MaxArgs: 1, Options: []string{"--type="}, Run: aclList},
		{Name: "pg-add", Usage: "GROUP [PORT]...", MinArgs: 1, MaxArgs: -1, Run: pgAdd},
		{Name: "pg-set-ports", Usage: "GROUP PORT...", MinArgs: 1, MaxArgs: -1, Run: pgSetPorts},
		{Name: "pg-del", Usage: "GROUP", MinArgs: 1, MaxArgs: 1, Run: pgDel},
		{Name: "qos-add", Usage: "SWITCH DIRECTION PRIORITY MATCH [rate=RATE [burst=BURST]] [dscp=DSCP] [mark=MARK]", MinArgs: 5, MaxArgs: 8,
			Options: []string{"--may-exist"}, Run: qosAdd},
		{Name: "qos-del", Usage: "SWITCH [{DIRECTION | UUID} [PRIORITY MATCH]]", MinArgs: 1, MaxArgs: 4, Run: qosDel},
		{Name: "qos-list", Usage: "SWITCH", MinArgs: 1, MaxArgs: 1, Run: qosList},
	}
}

// aclParent finds the switch or port group an ACL command names.
func aclParent(c *ctl.Ctx, id string) (*ctl.Row, error) {
	switch c.Opt("--type") {
	case "switch":
		return byNameOrUUID(c, "Logical_Switch", id, "switch")
	case "port-group":
		return byNameOrUUID(c, "Port_Group", id, "port group")
	case "":
	default:
		return nil, fmt.Errorf("invalid argument '%s' for --type", c.Opt("--type"))
	}
	ls, lsErr := byNameOrUUID(c, "Logical_Switch", id, "switch")
	pg, pgErr := byNameOrUUID(c, "Port_Group", id, "port group")
	switch {
	case lsErr == nil && pgErr == nil:
		return nil, fmt.Errorf("Same name '%s' exists in both port-groups and logical switches. Specify --type=port-group or switch", id)
	case lsErr == nil:
		return ls, nil
	case pgErr == nil:
		return pg, nil
	}
	return nil, fmt.Errorf("'%s' is not found in port-groups nor logical switches", id)
}

func parseDirection(s string) (string, error) {
	switch s {
	case "from-lport", "to-lport":
		return s, nil
	}
	return "", fmt.Errorf("%s: direction must be \"to-lport\" or \"from-lport\"", s)
}

func parsePriority(s string) (int64, error) {
	p, err := strconv.ParseInt(s, 10, 64)
	if err != nil || p < 0 || p > 32767 {
		return 0, fmt.Errorf("%s: priority must in range 0...32767", s)
	}
	return p, nil
}

var verdicts = map[string]bool{"allow": true, "allow-related": true, "allow-stateless": true, "drop": true, "reject": true, "pass": true}

func aclAdd(c *ctl.Ctx) error {
	p, err := aclParent(c, c.Args[0])
	if err != nil {
		return err
	}
	dir, err := parseDirection(c.Args[1])
	if err != nil {
		return err
	}
	prio, err := parsePriority(c.Args[2])
	if err != nil {
		return err
	}
	match, action := c.Args[3], c.Args[4]
	if !verdicts[action] {
		return fmt.Errorf("%s: action must be one of \"allow\", \"allow-related\", \"allow-stateless\", \"drop\", \"reject\" and \"pass\"", action)
	}
	for _, a := range refRows(c, p, "acls", "ACL") {
		pr, _ := c.Get(a, "priority").Int()
		if c.Str(a, "direction") == dir && pr == prio && c.Str(a, "match") == match && c.Str(a, "action") == action {
			if c.Has("--may-exist") {
				return nil
			}
			return fmt.Errorf("Same ACL already existed on %s %s.", map[bool]string{true: "the ls", false: "the port group"}[p.Table == "Logical_Switch"], c.Args[0])
		}
	}
	acl := c.Insert("ACL", "")
	c.SetStr(acl, "direction", dir)
	c.Set(acl, "priority", ctl.Set(prio))
	c.SetStr(acl, "match", match)
	c.SetStr(acl, "action", action)
	if c.Has("--log") || c.Opt("--severity") != "" || c.Opt("--name") != "" || c.Opt("--meter") != "" {
		c.Set(acl, "log", ctl.Set(true))
	}
	if s := c.Opt("--severity"); s != "" {
		switch s {
		case "alert", "warning", "notice", "info", "debug":
		default:
			return fmt.Errorf("bad severity: %s", s)
		}
		c.Set(acl, "severity", ctl.StrSet(s))
	}
	if n := c.Opt("--name"); n != "" {
		c.Set(acl, "name", ctl.StrSet(n))
	}
	if m := c.Opt("--meter"); m != "" {
		c.Set(acl, "meter", ctl.StrSet(m))
	}
	if l := c.Opt("--label"); l != "" {
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil || v < 0 || v > 4294967295 {
			return fmt.Errorf("%s: label must in range 0...4294967295", l)
		}
		c.Set(acl, "label", ctl.Set(v))
	}
	if c.Has("--apply-after-lb") {
		c.SetMapKey(acl, "options", "apply-after-lb", "true")
	}
	c.AddTo(p, "acls", ref(acl.UUID))
	return nil
}

func aclDel(c *ctl.Ctx) error {
	p, err := aclParent(c, c.Args[0])
	if err != nil {
		return err
	}
	if len(c.Args) == 3 {
		return fmt.Errorf("cannot specify priority without match")
	}
	dir := ""
	if len(c.Args) > 1 {
		if dir, err = parseDirection(c.Args[1]); err != nil {
			return err
		}
	}
	var prio int64 = -1
	if len(c.Args) == 4 {
		if prio, err = parsePriority(c.Args[2]); err != nil {
			return err
		}
	}
	for _, a := range refRows(c, p, "acls", "ACL") {
		pr, _ := c.Get(a, "priority").Int()
		if dir != "" && c.Str(a, "direction") != dir || prio >= 0 && (pr != prio || c.Str(a, "match") != c.Args[3]) {
			continue
		}
		c.RemoveFrom(p, "acls", ref(a.UUID))
		c.Delete(a)
	}
	return nil
}

func aclList(c *ctl.Ctx) error {
	p, err := aclParent(c, c.Args[0])
	if err != nil {
		return err
	}
	acls := refRows(c, p, "acls", "ACL")
	afterLB := func(r *ctl.Row) bool { return c.Get(r, "options").StrMap()["apply-after-lb"] == "true" }
	sort.SliceStable(acls, func(i, j int) bool {
		a, b := acls[i], acls[j]
		if x, y := c.Str(a, "direction"), c.Str(b, "direction"); x != y {
			return x < y
		}
		if x, y := afterLB(a), afterLB(b); x != y {
			return !x
		}
		x, _ := c.Get(a, "priority").Int()
		y, _ := c.Get(b, "priority").Int()
		if x != y {
			return x > y
		}
		return c.Str(a, "match") < c.Str(b, "match")
	})
	for _, a := range acls {
		pr, _ := c.Get(a, "priority").Int()
		s := fmt.Sprintf("%10s %5d (%s) %s", c.Str(a, "direction"), pr, c.Str(a, "match"), c.Str(a, "action"))
		if log, _ := c.Get(a, "log").Bool(); log {
			s += " log("
			sep := ""
			if n := c.Str(a, "name"); n != "" {
				s += "name=" + n
				sep = ","
			}
			if v := c.Str(a, "severity"); v != "" {
				s += sep + "severity=" + v
				sep = ","
			}
			if m := c.Str(a, "meter"); m != "" {
				s += sep + "meter=\"" + m + "\""
			}
			s += ")"
		}
		if c.Get(a, "options").StrMap()["apply-after-lb"] == "true" {
			s += " [after-lb]"
		}
		if l, _ := c.Get(a, "label").Int(); l != 0 {
			s += fmt.Sprintf(" label=%d", l)
		}
		c.Printf("%s\n", s)
	}
	return nil
}

// --- port groups

func pgPorts(c *ctl.Ctx, names []string) (ctl.Datum, error) {
	var us []ctl.Atom
	for _, n := range names {
		lsp, err := byNameOrUUID(c, "Logical_Switch_Port", n, "port")
		if err != nil {
			return ctl.Datum{}, err
		}
		us = append(us, lsp.UUID)
	}
	return ctl.Set(us...), nil
}

func pgAdd(c *ctl.Ctx) error {
	name := c.Args[0]
	if len(named(c, "Port_Group", name)) > 0 {
		return fmt.Errorf("%s: a port group with this name already exists", name)
	}
	ports, err := pgPorts(c, c.Args[1:])
	if err != nil {
		return err
	}
	pg := c.Insert("Port_Group", "")
	c.SetStr(pg, "name", name)
	c.Set(pg, "ports", ports)
	return nil
}

func pgSetPorts(c *ctl.Ctx) error {
	pg, err := byNameOrUUID(c, "Port_Group", c.Args[0], "port group")
	if err != nil {
		return err
	}
	ports, err := pgPorts(c, c.Args[1:])
	if err != nil {
		return err
	}
	c.Set(pg, "ports", ports)
	return nil
}

func pgDel(c *ctl.Ctx) error {
	pg, err := byNameOrUUID(c, "Port_Group", c.Args[0], "port group")
	if err != nil {
		return err
	}
	c.Delete(pg)
	return nil
}

// --- QoS

func qosAdd(c *ctl.Ctx) error {
	ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil {
		return err
	}
	dir, err := parseDirection(c.Args[1])
	if err != nil {
		return err
	}
	prio, err := parsePriority(c.Args[2])
	if err != nil {
		return err
	}
	match := c.Args[3]
	action, bw := map[string]int64{}, map[string]int64{}
	for _, a := range c.Args[4:] {
		k, v, ok := cutKV(a)
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case ok && k == "dscp" && err == nil && n >= 0 && n <= 63:
			action["dscp"] = n
		case ok && k == "mark" && err == nil && n > 0 && n <= 4294967295:
			action["mark"] = n
		case ok && k == "rate" && err == nil && n > 0 && n <= 4294967295:
			bw["rate"] = n
		case ok && k == "burst" && err == nil && n > 0 && n <= 4294967295:
			bw["burst"] = n
		case ok && (k == "dscp" || k == "mark" || k == "rate" || k == "burst"):
			return fmt.Errorf("%s: %s must be a number in range", v, k)
		default:
			return fmt.Errorf("%s: supported arguments are \"dscp=\", \"mark=\", \"rate=\", and \"burst=\"", a)
		}
	}
	if len(action) == 0 && len(bw) == 0 {
		return fmt.Errorf("Either \"rate\", \"dscp\" and/or \"mark\" must be specified")
	}
	for _, q := range refRows(c, ls, "qos_rules", "QoS") {
		pr, _ := c.Get(q, "priority").Int()
		if c.Str(q, "direction") == dir && pr == prio && c.Str(q, "match") == match {
			if c.Has("--may-exist") {
				return nil
			}
			return fmt.Errorf("Same qos already existed on the ls %s.", c.Args[0])
		}
	}
	q := c.Insert("QoS", "")
	c.SetStr(q, "direction", dir)
	c.Set(q, "priority", ctl.Set(prio))
	c.SetStr(q, "match", match)
	c.Set(q, "action", intMap(action))
	c.Set(q, "bandwidth", intMap(bw))
	c.AddTo(ls, "qos_rules", ref(q.UUID))
	return nil
}

func cutKV(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func intMap(m map[string]int64) ctl.Datum {
	d := ctl.Datum{Keys: []ctl.Atom{}, Vals: []ctl.Atom{}}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.Keys = append(d.Keys, k)
		d.Vals = append(d.Vals, m[k])
	}
	return d
}

func qosDel(c *ctl.Ctx) error {
	ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil {
		return err
	}
	if len(c.Args) == 3 {
		return fmt.Errorf("cannot specify priority without match")
	}
	qs := refRows(c, ls, "qos_rules", "QoS")
	del := func(q *ctl.Row) {
		c.RemoveFrom(ls, "qos_rules", ref(q.UUID))
		c.Delete(q)
	}
	if len(c.Args) == 2 && ctl.IsUUID(c.Args[1]) {
		for _, q := range qs {
			if string(q.UUID) == c.Args[1] {
				del(q)
				return nil
			}
		}
		return fmt.Errorf("uuid is not found")
	}
	dir := ""
	if len(c.Args) > 1 {
		if dir, err = parseDirection(c.Args[1]); err != nil {
			return err
		}
	}
	var prio int64 = -1
	if len(c.Args) == 4 {
		if prio, err = parsePriority(c.Args[2]); err != nil {
			return err
		}
	}
	for _, q := range qs {
		pr, _ := c.Get(q, "priority").Int()
		if dir != "" && c.Str(q, "direction") != dir || prio >= 0 && (pr != prio || c.Str(q, "match") != c.Args[3]) {
			continue
		}
		del(q)
	}
	return nil
}

func qosList(c *ctl.Ctx) error {
	ls, err := byNameOrUUID(c, "Logical_Switch", c.Args[0], "switch")
	if err != nil {
		return err
	}
	qs := refRows(c, ls, "qos_rules", "QoS")
	sort.SliceStable(qs, func(i, j int) bool {
		a, b := qs[i], qs[j]
		if x, y := c.Str(a, "direction"), c.Str(b, "direction"); x != y {
			return x < y
		}
		x, _ := c.Get(a, "priority").Int()
		y, _ := c.Get(b, "priority").Int()
		if x != y {
			return x > y
		}
		return c.Str(a, "match") < c.Str(b, "match")
	})
	for _, q := range qs {
		pr, _ := c.Get(q, "priority").Int()
		s := fmt.Sprintf("%10s %5d (%s)", c.Str(q, "direction"), pr, c.Str(q, "match"))
		bw, act := c.Get(q, "bandwidth"), c.Get(q, "action")
		for _, k := range []string{"rate", "burst"} {
			if v, ok := bw.MapGet(k); ok {
				s += fmt.Sprintf(" %s=%d", k, v)
			}
		}
		for _, k := range []string{"dscp", "mark"} {
			if v, ok := act.MapGet(k); ok {
				s += fmt.Sprintf(" %s=%d", k, v)
			}
		}
		c.Printf("%s\n", s)
	}
	return nil
}
