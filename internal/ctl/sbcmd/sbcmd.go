package sbcmd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"hcnet/internal/ctl"
)

// Registry returns the sbctl command set. now gives the time chassis-list
// measures "last seen" against.
func Registry(now func() time.Time) *ctl.Registry {
	reg := &ctl.Registry{
		Prog:   "sbctl",
		DBName: "OVN_Southbound",
		// Record names as ovn-sbctl documents them in its --help.
		IDRules: map[string][]ctl.IDRule{
			"Address_Set":          {{Column: "name"}},
			"Chassis":              {{Column: "name"}},
			"Chassis_Private":      {{Column: "name"}},
			"Chassis_Template_Var": {{Column: "chassis"}},
			"Connection":           {{Column: "target"}},
			"DHCP_Options":         {{Column: "name"}},
			"DHCPv6_Options":       {{Column: "name"}},
			"Datapath_Binding": {{Column: "external_ids", Key: "name"}, {Column: "external_ids", Key: "name2"},
				{Column: "external_ids", Key: "logical-switch"}, {Column: "external_ids", Key: "logical-router"}},
			"Gateway_Chassis":  {{Column: "name"}},
			"HA_Chassis_Group": {{Column: "name"}},
			"Load_Balancer":    {{Column: "name"}},
			"MAC_Binding":      {{Column: "logical_port"}},
			"Meter":            {{Column: "name"}},
			"Mirror":           {{Column: "name"}},
			"Port_Binding":     {{Column: "logical_port"}, {Column: "external_ids", Key: "name"}},
			"Port_Group":       {{Column: "name"}},
			"RBAC_Permission":  {{Column: "table"}},
			"RBAC_Role":        {{Column: "name"}},
			"Service_Monitor":  {{Column: "logical_port"}},
		},
		Singletons: map[string]bool{"SB_Global": true, "SSL": true},
	}
	if now == nil {
		now = time.Now
	}
	reg.Add(ctl.GenericCommands()...)
	reg.Add(
		&ctl.Command{Name: "show", MaxArgs: 0, Run: show},
		&ctl.Command{Name: "chassis-list", MaxArgs: 0, Options: []string{"--dead-after="}, Run: func(c *ctl.Ctx) error { return chassisList(c, now()) }},
		&ctl.Command{Name: "chassis-add", Usage: "CHASSIS ENCAP-TYPE ENCAP-IP", MinArgs: 3, MaxArgs: 3, Options: []string{"--may-exist"}, Run: chassisAdd},
		&ctl.Command{Name: "chassis-del", Usage: "CHASSIS", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: chassisDel},
		&ctl.Command{Name: "lsp-bind", Usage: "PORT CHASSIS", MinArgs: 2, MaxArgs: 2, Options: []string{"--may-exist"}, Run: lspBind},
		&ctl.Command{Name: "lsp-unbind", Usage: "PORT", MinArgs: 1, MaxArgs: 1, Options: []string{"--if-exists"}, Run: lspUnbind},
		&ctl.Command{Name: "lflow-list", Usage: "[DATAPATH] [LFLOW...]", MaxArgs: -1, Options: []string{"--uuid", "--ovs", "--stats", "--vflows"}, Run: lflowList},
	)
	reg.Commands["dump-flows"] = &ctl.Command{Name: "dump-flows", Usage: "[DATAPATH] [LFLOW...]", MaxArgs: -1, Options: []string{"--uuid"}, Run: lflowList}
	return reg
}

// The Chassis_Private external_ids keys of our chassis daemon's heartbeat
// (chassis/plan writes them; sbctl does not import the chassis).
const (
	heartbeatKey         = "hcnet-heartbeat"
	heartbeatIntervalKey = "hcnet-heartbeat-interval"
)

func chassisByName(c *ctl.Ctx, name string) *ctl.Row {
	for _, ch := range c.Rows("Chassis") {
		if c.Str(ch, "name") == name {
			return ch
		}
	}
	return nil
}

func strMapValue(c *ctl.Ctx, r *ctl.Row, col, key string) string {
	return c.Get(r, col).StrMap()[key]
}

// Site returns a chassis's site: external_ids:site, else other_config:site.
func site(c *ctl.Ctx, ch *ctl.Row) string {
	if s := strMapValue(c, ch, "external_ids", "site"); s != "" {
		return s
	}
	return strMapValue(c, ch, "other_config", "site")
}

// gatewayMember is one chassis that may host a distributed gateway port:
// a Gateway_Chassis row or an HA_Chassis row of the port's group.
type gatewayMember struct {
	duty     string // Gateway_Chassis name, or HA_Chassis_Group name
	chassis  ctl.UUID
	priority int64
}

// gatewayPort is a chassisredirect Port_Binding with the chassis its
// Port_Binding.chassis names (the active one) and every candidate.
type gatewayPort struct {
	name    string
	active  ctl.UUID // "" when no chassis has claimed it
	members []gatewayMember
}

// gatewayPorts collects the distributed gateway ports: chassisredirect
// Port_Bindings, with candidates from Port_Binding.gateway_chassis and from
// the HA_Chassis_Group the port names, highest priority first.
func gatewayPorts(c *ctl.Ctx) []gatewayPort {
	var out []gatewayPort
	for _, pb := range c.Rows("Port_Binding") {
		if c.Str(pb, "type") != "chassisredirect" {
			continue
		}
		gp := gatewayPort{name: c.Str(pb, "logical_port")}
		if ch := c.Get(pb, "chassis").UUIDs(); len(ch) > 0 {
			gp.active = ch[0]
		}
		for _, u := range c.Get(pb, "gateway_chassis").UUIDs() {
			if gc := c.Row("Gateway_Chassis", u); gc != nil {
				p, _ := c.Get(gc, "priority").Int()
				for _, ch := range c.Get(gc, "chassis").UUIDs() {
					gp.members = append(gp.members, gatewayMember{duty: c.Str(gc, "name"), chassis: ch, priority: p})
				}
			}
		}
		for _, gu := range c.Get(pb, "ha_chassis_group").UUIDs() {
			g := c.Row("HA_Chassis_Group", gu)
			if g == nil {
				continue
			}
			for _, u := range c.Get(g, "ha_chassis").UUIDs() {
				if hc := c.Row("HA_Chassis", u); hc != nil {
					p, _ := c.Get(hc, "priority").Int()
					for _, ch := range c.Get(hc, "chassis").UUIDs() {
						gp.members = append(gp.members, gatewayMember{duty: c.Str(g, "name"), chassis: ch, priority: p})
					}
				}
			}
		}
		sort.SliceStable(gp.members, func(i, j int) bool {
			a, b := gp.members[i], gp.members[j]
			if (a.chassis == gp.active) != (b.chassis == gp.active) {
				return a.chassis == gp.active
			}
			return a.priority > b.priority
		})
		out = append(out, gp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// show prints each chassis as ovn-sbctl show does (name, hostname, encaps,
// bound ports), plus lines ovn-sbctl does not print: site, the gateway
// duties with priority and whether this chassis is the active or a standby
// one for the port, and a "Gateway port" section per distributed gateway
// port naming its active chassis and its standbys.
func show(c *ctl.Ctx) error {
	c.PrefetchTables(map[string][]string{"Chassis": nil, "Encap": nil,
		"Port_Binding":    {"logical_port", "chassis", "type", "gateway_chassis", "ha_chassis_group"},
		"Gateway_Chassis": nil, "HA_Chassis": nil, "HA_Chassis_Group": nil})
	gports := gatewayPorts(c)
	// role says whether chassis ch is active or standby for the gateway
	// ports that list duty for it.
	role := func(duty string, ch ctl.UUID) string {
		r := ""
		for _, gp := range gports {
			for _, m := range gp.members {
				if m.duty != duty || m.chassis != ch {
					continue
				}
				if gp.active == ch {
					return "active"
				}
				r = "standby"
			}
		}
		return r
	}
	chassis := c.Rows("Chassis")
	sort.SliceStable(chassis, func(i, j int) bool { return c.Str(chassis[i], "name") < c.Str(chassis[j], "name") })
	for _, ch := range chassis {
		c.Printf("Chassis %s\n", ctl.AtomString(c.Str(ch, "name"), false))
		if h := c.Str(ch, "hostname"); h != "" {
			c.Printf("    hostname: %s\n", h)
		}
		if s := site(c, ch); s != "" {
			c.Printf("    site: %s\n", s)
		}
		encaps := []*ctl.Row{}
		for _, u := range c.Get(ch, "encaps").UUIDs() {
			if e := c.Row("Encap", u); e != nil {
				encaps = append(encaps, e)
			}
		}
		sort.SliceStable(encaps, func(i, j int) bool { return c.Str(encaps[i], "type") < c.Str(encaps[j], "type") })
		for _, e := range encaps {
			c.Printf("    Encap %s\n", c.Str(e, "type"))
			c.Printf("        ip: %s\n", strconv.Quote(c.Str(e, "ip")))
			c.Printf("        options: %s\n", ctl.DatumString(c.Column("Encap", "options"), c.Get(e, "options")))
		}
		var ports, gws []string
		for _, pb := range c.Rows("Port_Binding") {
			if c.Get(pb, "chassis").Find(ch.UUID) >= 0 {
				ports = append(ports, c.Str(pb, "logical_port"))
			}
		}
		duty := func(name string, prio int64) string {
			if r := role(name, ch.UUID); r != "" {
				return fmt.Sprintf("%s (priority %d, %s)", name, prio, r)
			}
			return fmt.Sprintf("%s (priority %d)", name, prio)
		}
		for _, gc := range c.Rows("Gateway_Chassis") {
			if c.Get(gc, "chassis").Find(ch.UUID) >= 0 {
				p, _ := c.Get(gc, "priority").Int()
				gws = append(gws, duty(c.Str(gc, "name"), p))
			}
		}
		for _, hc := range c.Rows("HA_Chassis") {
			if c.Get(hc, "chassis").Find(ch.UUID) >= 0 {
				p, _ := c.Get(hc, "priority").Int()
				group := ""
				for _, g := range c.Rows("HA_Chassis_Group") {
					if c.Get(g, "ha_chassis").Find(hc.UUID) >= 0 {
						group = c.Str(g, "name")
					}
				}
				gws = append(gws, duty(group, p))
			}
		}
		sort.Strings(ports)
		sort.Strings(gws)
		for _, p := range ports {
			c.Printf("    Port_Binding %s\n", ctl.AtomString(p, false))
		}
		for _, g := range gws {
			c.Printf("    Gateway %s\n", g)
		}
	}
	chassisName := func(u ctl.UUID) string {
		if r := c.Row("Chassis", u); r != nil {
			return c.Str(r, "name")
		}
		return string(u)
	}
	for _, gp := range gports {
		c.Printf("Gateway port %s\n", ctl.AtomString(gp.name, false))
		if gp.active == "" {
			c.Printf("    active: none\n")
		} else {
			p, listed := int64(0), false
			for _, m := range gp.members {
				if m.chassis == gp.active {
					p, listed = m.priority, true
					break
				}
			}
			if listed {
				c.Printf("    active: %s (priority %d)\n", chassisName(gp.active), p)
			} else {
				c.Printf("    active: %s (not a listed gateway chassis)\n", chassisName(gp.active))
			}
		}
		for _, m := range gp.members {
			if m.chassis != gp.active {
				c.Printf("    standby: %s (priority %d)\n", chassisName(m.chassis), m.priority)
			}
		}
	}
	return nil
}

// Liveness is what chassis-list knows of one chassis: its Chassis_Private
// row (if any) and the heartbeat our chassis daemon writes there.
type Liveness struct {
	// Private is set when a Chassis_Private row names the chassis;
	// Attached when that row points at the Chassis row.
	Private, Attached bool
	// NbCfg is the chassis's acknowledged nb_cfg, Target SB_Global's.
	NbCfg, Target int64
	// NbCfgStamp is nb_cfg_timestamp, Heartbeat external_ids:hcnet-heartbeat
	// and Interval hcnet-heartbeat-interval, all in milliseconds; 0 when
	// absent.
	NbCfgStamp, Heartbeat, Interval int64
}

// DefaultDeadAfter is how old a heartbeat may be, when the chassis did not
// publish its interval, before chassis-list calls the chassis down: three
// times the chassis daemon's default interval.
const DefaultDeadAfter = 30 * time.Second

// Classify returns a chassis's state and when it was last seen (zero when
// never). Without a Chassis_Private row, or one detached from the chassis,
// it is "down". LAST_SEEN is the newest of heartbeat and nb_cfg_timestamp.
// A chassis that writes heartbeats is "down" when it was last seen longer
// ago than deadAfter (when deadAfter is 0: three heartbeat intervals, or
// DefaultDeadAfter); otherwise, and for chassis without heartbeats
// (ovn-controller), "lagging" while its nb_cfg trails the target and "up"
// when it does not.
func Classify(l Liveness, now time.Time, deadAfter time.Duration) (state string, lastSeen time.Time) {
	if ms := max(l.Heartbeat, l.NbCfgStamp); ms > 0 {
		lastSeen = time.UnixMilli(ms).UTC()
	}
	if !l.Private || !l.Attached {
		return "down", lastSeen
	}
	if l.Heartbeat > 0 {
		if deadAfter <= 0 {
			deadAfter = DefaultDeadAfter
			if l.Interval > 0 {
				deadAfter = 3 * time.Duration(l.Interval) * time.Millisecond
			}
		}
		if now.Sub(lastSeen) > deadAfter {
			return "down", lastSeen
		}
	}
	if l.NbCfg < l.Target {
		return "lagging", lastSeen
	}
	return "up", lastSeen
}

// chassisList prints every chassis with its liveness (see Classify) and
// LAST_SEEN, the newest of its heartbeat and nb_cfg acknowledgement.
// --dead-after=DURATION overrides how old a heartbeat may get.
func chassisList(c *ctl.Ctx, now time.Time) error {
	var deadAfter time.Duration
	if c.Has("--dead-after") {
		d, err := time.ParseDuration(c.Opt("--dead-after"))
		if err != nil || d <= 0 {
			return fmt.Errorf("--dead-after=%s: want a positive duration such as 30s", c.Opt("--dead-after"))
		}
		deadAfter = d
	}
	c.PrefetchTables(map[string][]string{"Chassis": nil, "Chassis_Private": nil, "SB_Global": nil})
	var target int64
	for _, g := range c.Rows("SB_Global") {
		target, _ = c.Get(g, "nb_cfg").Int()
	}
	rows := [][]string{{"NAME", "SITE", "STATE", "NB_CFG", "LAG", "LAST_SEEN"}}
	chassis := c.Rows("Chassis")
	sort.SliceStable(chassis, func(i, j int) bool { return c.Str(chassis[i], "name") < c.Str(chassis[j], "name") })
	for _, ch := range chassis {
		name := c.Str(ch, "name")
		var priv *ctl.Row
		for _, p := range c.Rows("Chassis_Private") {
			if c.Str(p, "name") == name {
				priv = p
			}
		}
		l := Liveness{Target: target}
		cfg, lag, seen := "-", "-", "never"
		if priv != nil {
			l.Private = true
			l.Attached = c.Get(priv, "chassis").Len() > 0
			l.NbCfg, _ = c.Get(priv, "nb_cfg").Int()
			l.NbCfgStamp, _ = c.Get(priv, "nb_cfg_timestamp").Int()
			ids := c.Get(priv, "external_ids").StrMap()
			l.Heartbeat, _ = strconv.ParseInt(ids[heartbeatKey], 10, 64)
			l.Interval, _ = strconv.ParseInt(ids[heartbeatIntervalKey], 10, 64)
			cfg = strconv.FormatInt(l.NbCfg, 10)
			lag = strconv.FormatInt(max(target-l.NbCfg, 0), 10)
		}
		state, t := Classify(l, now, deadAfter)
		if !t.IsZero() {
			seen = fmt.Sprintf("%s (%s ago)", t.Format(time.RFC3339), now.Sub(t).Truncate(time.Second))
		}
		st := site(c, ch)
		if st == "" {
			st = "-"
		}
		rows = append(rows, []string{name, st, state, cfg, lag, seen})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			widths[i] = max(widths[i], len(s))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, s := range r {
			if i < len(r)-1 {
				fmt.Fprintf(&b, "%-*s  ", widths[i], s)
			} else {
				b.WriteString(s)
			}
		}
		c.Printf("%s\n", strings.TrimRight(b.String(), " "))
	}
	return nil
}

func chassisAdd(c *ctl.Ctx) error {
	name := c.Args[0]
	if chassisByName(c, name) != nil {
		if c.Has("--may-exist") {
			return nil
		}
		return fmt.Errorf("%s: chassis with this name already exists", name)
	}
	types := strings.Split(c.Args[1], ",")
	ch := c.Insert("Chassis", "")
	c.SetStr(ch, "name", name)
	var encaps []ctl.Atom
	for _, t := range types {
		switch t {
		case "geneve", "vxlan", "stt":
		default:
			return fmt.Errorf("%s: encapsulation type must be \"geneve\", \"vxlan\" or \"stt\"", t)
		}
		e := c.Insert("Encap", "")
		c.SetStr(e, "type", t)
		c.SetStr(e, "ip", c.Args[2])
		c.SetStr(e, "chassis_name", name)
		c.Set(e, "options", ctl.Map(map[string]string{"csum": "true"}))
		encaps = append(encaps, e.UUID)
	}
	c.Set(ch, "encaps", ctl.Set(encaps...))
	return nil
}

func chassisDel(c *ctl.Ctx) error {
	ch := chassisByName(c, c.Args[0])
	if ch == nil {
		if c.Has("--if-exists") {
			return nil
		}
		return fmt.Errorf("%s: chassis name not found", c.Args[0])
	}
	for _, u := range c.Get(ch, "encaps").UUIDs() {
		if e := c.Row("Encap", u); e != nil {
			c.Delete(e)
		}
	}
	for _, p := range c.Rows("Chassis_Private") {
		if c.Str(p, "name") == c.Args[0] {
			c.Delete(p)
		}
	}
	for _, pb := range c.Rows("Port_Binding") {
		if c.Get(pb, "chassis").Find(ch.UUID) >= 0 {
			c.Set(pb, "chassis", ctl.Set())
		}
	}
	c.Delete(ch)
	return nil
}

func portBinding(c *ctl.Ctx, name string) *ctl.Row {
	for _, pb := range c.Rows("Port_Binding") {
		if c.Str(pb, "logical_port") == name {
			return pb
		}
	}
	return nil
}

func lspBind(c *ctl.Ctx) error {
	pb := portBinding(c, c.Args[0])
	if pb == nil {
		return fmt.Errorf("%s: port name not found", c.Args[0])
	}
	ch := chassisByName(c, c.Args[1])
	if ch == nil {
		return fmt.Errorf("%s: chassis name not found", c.Args[1])
	}
	if cur := c.Get(pb, "chassis").UUIDs(); len(cur) > 0 {
		if c.Has("--may-exist") && cur[0] == ch.UUID {
			return nil
		}
		if c.Has("--may-exist") {
			return fmt.Errorf("%s: port already bound to another chassis", c.Args[0])
		}
		return fmt.Errorf("%s: port already bound", c.Args[0])
	}
	c.Set(pb, "chassis", ctl.Set(ch.UUID))
	return nil
}

func lspUnbind(c *ctl.Ctx) error {
	pb := portBinding(c, c.Args[0])
	if pb == nil {
		if c.Has("--if-exists") {
			return nil
		}
		return fmt.Errorf("%s: port name not found", c.Args[0])
	}
	c.Set(pb, "chassis", ctl.Set())
	return nil
}

// datapathName is how lflow-list names a datapath: external_ids:name (or
// name2), else its UUID.
func datapathName(c *ctl.Ctx, dp *ctl.Row) string {
	for _, k := range []string{"name", "name2", "logical-switch", "logical-router"} {
		if n := strMapValue(c, dp, "external_ids", k); n != "" {
			return n
		}
	}
	return ""
}

type flowLine struct {
	dp       *ctl.Row
	pipeline string
	table    int64
	priority int64
	match    string
	actions  string
	stage    string
	uuid     ctl.UUID
}

func lflowList(c *ctl.Ctx) error {
	c.PrefetchTables(map[string][]string{"Logical_Flow": nil, "Datapath_Binding": nil, "Logical_DP_Group": nil})
	var only *ctl.Row
	args := c.Args
	if len(args) > 0 {
		for _, dp := range c.Rows("Datapath_Binding") {
			if string(dp.UUID) == strings.ToLower(args[0]) || datapathName(c, dp) == args[0] {
				only = dp
			}
		}
		if only == nil && !isHexPrefix(args[0]) {
			return fmt.Errorf("%s: no datapath with this name or UUID", args[0])
		}
		if only != nil {
			args = args[1:]
		}
	}
	var lines []flowLine
	for _, f := range c.Rows("Logical_Flow") {
		if len(args) > 0 {
			ok := false
			for _, a := range args {
				if strings.HasPrefix(string(f.UUID), strings.ToLower(a)) {
					ok = true
				}
			}
			if !ok {
				continue
			}
		}
		var dps []*ctl.Row
		for _, u := range c.Get(f, "logical_datapath").UUIDs() {
			if dp := c.Row("Datapath_Binding", u); dp != nil {
				dps = append(dps, dp)
			}
		}
		for _, gu := range c.Get(f, "logical_dp_group").UUIDs() {
			if g := c.Row("Logical_DP_Group", gu); g != nil {
				for _, u := range c.Get(g, "datapaths").UUIDs() {
					if dp := c.Row("Datapath_Binding", u); dp != nil {
						dps = append(dps, dp)
					}
				}
			}
		}
		table, _ := c.Get(f, "table_id").Int()
		prio, _ := c.Get(f, "priority").Int()
		for _, dp := range dps {
			if only != nil && dp.UUID != only.UUID {
				continue
			}
			lines = append(lines, flowLine{dp: dp, pipeline: c.Str(f, "pipeline"), table: table, priority: prio,
				match: c.Str(f, "match"), actions: c.Str(f, "actions"), stage: strMapValue(c, f, "external_ids", "stage-name"), uuid: f.UUID})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		an, bn := datapathName(c, a.dp), datapathName(c, b.dp)
		if an != bn {
			return an < bn
		}
		if a.dp.UUID != b.dp.UUID {
			return a.dp.UUID < b.dp.UUID
		}
		if a.pipeline != b.pipeline {
			return a.pipeline == "ingress"
		}
		if a.table != b.table {
			return a.table < b.table
		}
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if a.match != b.match {
			return a.match < b.match
		}
		return a.actions < b.actions
	})
	var prevDP ctl.UUID
	prevPipe := ""
	for _, l := range lines {
		if l.dp.UUID != prevDP || l.pipeline != prevPipe {
			c.Printf("Datapath: %s (%s)  Pipeline: %s\n", strconv.Quote(datapathName(c, l.dp)), l.dp.UUID, l.pipeline)
			prevDP, prevPipe = l.dp.UUID, l.pipeline
		}
		prefix := ""
		if c.Has("--uuid") {
			prefix = "uuid=0x" + string(l.uuid)[:8] + ", "
		}
		c.Printf("  %stable=%-2s(%-19s), priority=%-5d, match=(%s), action=(%s)\n",
			prefix, strconv.FormatInt(l.table, 10), l.stage, l.priority, l.match, l.actions)
	}
	return nil
}

func isHexPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F' || ch == '-') {
			return false
		}
	}
	return len(s) >= 4
}
