package nbcmd

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"hcnet/internal/ctl"
)

func lbCommands() []*ctl.Command {
	return []*ctl.Command{
		{Name: "lb-add", Usage: "LB VIP[:PORT] IP[:PORT]... [PROTOCOL]", MinArgs: 3, MaxArgs: 4,
			Options: []string{"--may-exist", "--add-duplicate", "--reject", "--event"}, Run: lbAdd},
		{Name: "lb-del", Usage: "LB [VIP]", MinArgs: 1, MaxArgs: 2, Options: []string{"--if-exists"}, Run: lbDel},
		{Name: "lb-list", Usage: "[LB]", MaxArgs: 1, Run: lbList},
		{Name: "ls-lb-add", Usage: "SWITCH LB", MinArgs: 2, MaxArgs: 2, Options: []string{"--may-exist"}, Run: attachLB("Logical_Switch", "switch")},
		{Name: "ls-lb-del", Usage: "SWITCH [LB]", MinArgs: 1, MaxArgs: 2, Options: []string{"--if-exists"}, Run: detachLB("Logical_Switch", "switch")},
		{Name: "ls-lb-list", Usage: "SWITCH", MinArgs: 1, MaxArgs: 1, Run: listAttachedLB("Logical_Switch", "switch")},
		{Name: "lr-lb-add", Usage: "ROUTER LB", MinArgs: 2, MaxArgs: 2, Options: []string{"--may-exist"}, Run: attachLB("Logical_Router", "router")},
		{Name: "lr-lb-del", Usage: "ROUTER [LB]", MinArgs: 1, MaxArgs: 2, Options: []string{"--if-exists"}, Run: detachLB("Logical_Router", "router")},
		{Name: "lr-lb-list", Usage: "ROUTER", MinArgs: 1, MaxArgs: 1, Run: listAttachedLB("Logical_Router", "router")},
	}
}

// parseEndpoint accepts IP, IP:PORT, [IPv6] or [IPv6]:PORT and returns the
// canonical text and whether a port was given.
func parseEndpoint(s string) (string, bool, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", false, false
		}
		return ap.String(), true, true
	}
	t := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(t); err == nil {
		if a.Is6() {
			return "[" + a.String() + "]", false, true
		}
		return a.String(), false, true
	}
	return "", false, false
}

func lbAdd(c *ctl.Ctx) error {
	name, vipArg, ipsArg := c.Args[0], c.Args[1], c.Args[2]
	proto := ""
	if len(c.Args) == 4 {
		proto = c.Args[3]
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return fmt.Errorf("%s: protocol must be one of \"tcp\", \"udp\", or \"sctp\".", proto)
		}
	}
	vip, vipPort, ok := parseEndpoint(vipArg)
	if !ok {
		return fmt.Errorf("%s: should be an IP address (or an IP address and a port number with : as a separator).", vipArg)
	}
	if proto != "" && !vipPort {
		return fmt.Errorf("Protocol is unnecessary when no port of vip is given.")
	}
	var ips []string
	for _, ip := range strings.Split(ipsArg, ",") {
		ip = strings.TrimSpace(ip)
		e, port, ok := parseEndpoint(ip)
		if !ok {
			return fmt.Errorf("%s: should be an IP address.", ip)
		}
		if vipPort && !port {
			return fmt.Errorf("%s: should be an IP address and a port number with : as a separator.", ip)
		}
		if !vipPort && port {
			return fmt.Errorf("%s: should be an IP address.", ip)
		}
		ips = append(ips, e)
	}
	if c.Has("--may-exist") && c.Has("--add-duplicate") {
		return fmt.Errorf("--may-exist and --add-duplicate may not be used together")
	}
	var lb *ctl.Row
	if ex := named(c, "Load_Balancer", name); len(ex) > 0 && !c.Has("--add-duplicate") {
		if !c.Has("--may-exist") {
			if _, ok := c.Get(ex[0], "vips").MapGet(vip); ok {
				return fmt.Errorf("%s: a load balancer with this vip (%s) already exists", name, vip)
			}
		}
		lb = ex[0]
	}
	if lb == nil {
		lb = c.Insert("Load_Balancer", "")
		c.SetStr(lb, "name", name)
	}
	if proto != "" {
		c.Set(lb, "protocol", ctl.StrSet(proto))
	} else if lb.IsNew() {
		c.Set(lb, "protocol", ctl.StrSet("tcp"))
	}
	c.SetMapKey(lb, "vips", vip, strings.Join(ips, ","))
	if c.Has("--reject") {
		c.SetMapKey(lb, "options", "reject", "true")
	}
	if c.Has("--event") {
		c.SetMapKey(lb, "options", "event", "true")
	}
	return nil
}

func lbDel(c *ctl.Ctx) error {
	lbs := named(c, "Load_Balancer", c.Args[0])
	if ctl.IsUUID(c.Args[0]) {
		if r := c.Row("Load_Balancer", ctl.UUID(c.Args[0])); r != nil {
			lbs = []*ctl.Row{r}
		}
	}
	if len(lbs) == 0 {
		if c.Has("--if-exists") {
			return nil
		}
		return fmt.Errorf("%s: load balancer name not found", c.Args[0])
	}
	for _, lb := range lbs {
		if len(c.Args) == 2 {
			vip, _, ok := parseEndpoint(c.Args[1])
			if !ok {
				vip = c.Args[1]
			}
			if _, ok := c.Get(lb, "vips").MapGet(vip); !ok {
				if c.Has("--if-exists") {
					continue
				}
				return fmt.Errorf("vip %s is not part of the load balancer.", c.Args[1])
			}
			c.RemoveFrom(lb, "vips", ctl.Datum{Keys: []ctl.Atom{vip}})
			continue
		}
		detachEverywhere(c, lb)
		c.Delete(lb)
	}
	return nil
}

func detachEverywhere(c *ctl.Ctx, lb *ctl.Row) {
	for _, t := range []string{"Logical_Switch", "Logical_Router", "Load_Balancer_Group"} {
		for _, r := range c.Rows(t) {
			if c.Get(r, "load_balancer").Find(lb.UUID) >= 0 {
				c.RemoveFrom(r, "load_balancer", ref(lb.UUID))
			}
		}
	}
}

func printLBs(c *ctl.Ctx, lbs []*ctl.Row, showUUID bool) {
	lbs = sortByName(c, lbs)
	if len(lbs) == 0 {
		return
	}
	vw := 0
	for _, lb := range lbs {
		for _, k := range c.Get(lb, "vips").Keys {
			vw = max(vw, len(k.(string)))
		}
	}
	vw += 4
	if showUUID {
		c.Printf("%-40s", "UUID")
	}
	c.Printf("%-20s%-11s%-*s%s\n", "LB", "PROTO", vw, "VIP", "IPs")
	for _, lb := range lbs {
		vips := c.Get(lb, "vips")
		proto := c.Str(lb, "protocol")
		if proto == "" {
			proto = "tcp"
		}
		for i, k := range vips.Keys {
			vip := k.(string)
			p := proto
			if !strings.Contains(strings.TrimPrefix(vip, "["), "]:") && !(strings.Count(vip, ":") == 1) {
				p = ""
			}
			if i == 0 {
				if showUUID {
					c.Printf("%-40s", lb.UUID)
				}
				c.Printf("%-20s%-11s", c.Str(lb, "name"), p)
			} else {
				if showUUID {
					c.Printf("%-40s", "")
				}
				c.Printf("%-20s%-11s", "", p)
			}
			c.Printf("%-*s%s\n", vw, vip, vips.Vals[i])
		}
	}
}

func lbList(c *ctl.Ctx) error {
	lbs := c.Rows("Load_Balancer")
	if len(c.Args) == 1 {
		lbs = named(c, "Load_Balancer", c.Args[0])
		if ctl.IsUUID(c.Args[0]) {
			if r := c.Row("Load_Balancer", ctl.UUID(c.Args[0])); r != nil {
				lbs = []*ctl.Row{r}
			}
		}
		if len(lbs) == 0 {
			return fmt.Errorf("%s: load balancer name not found", c.Args[0])
		}
	}
	printLBs(c, lbs, true)
	return nil
}

func lbByName(c *ctl.Ctx, id string) (*ctl.Row, error) {
	r, err := byNameOrUUID(c, "Load_Balancer", id, "load balancer")
	return r, err
}

func attachLB(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		lb, err := lbByName(c, c.Args[1])
		if err != nil {
			return err
		}
		if c.Get(r, "load_balancer").Find(lb.UUID) >= 0 {
			if c.Has("--may-exist") {
				return nil
			}
			return fmt.Errorf("%s: an lb with this name already exists", c.Str(lb, "name"))
		}
		c.AddTo(r, "load_balancer", ref(lb.UUID))
		return nil
	}
}

func detachLB(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		if len(c.Args) == 1 {
			c.Set(r, "load_balancer", ctl.Set())
			return nil
		}
		lb, err := lbByName(c, c.Args[1])
		if err != nil {
			if c.Has("--if-exists") {
				return nil
			}
			return err
		}
		if c.Get(r, "load_balancer").Find(lb.UUID) < 0 {
			if c.Has("--if-exists") {
				return nil
			}
			return fmt.Errorf("load balancer %s is not part of any logical %s.", c.Args[1], what)
		}
		c.RemoveFrom(r, "load_balancer", ref(lb.UUID))
		return nil
	}
}

func listAttachedLB(table, what string) func(*ctl.Ctx) error {
	return func(c *ctl.Ctx) error {
		r, err := byNameOrUUID(c, table, c.Args[0], what)
		if err != nil {
			return err
		}
		lbs := refRows(c, r, "load_balancer", "Load_Balancer")
		sort.SliceStable(lbs, func(i, j int) bool { return lbs[i].UUID < lbs[j].UUID })
		printLBs(c, lbs, true)
		return nil
	}
}
