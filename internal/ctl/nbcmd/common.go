package nbcmd

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"hcnet/internal/ctl"
)

// byNameOrUUID finds a row of table by UUID or by its name column; what
// names the kind of record in messages ("switch", "port", ...).
func byNameOrUUID(c *ctl.Ctx, table, id, what string) (*ctl.Row, error) {
	if ctl.IsUUID(id) {
		if r := c.Row(table, ctl.UUID(strings.ToLower(id))); r != nil {
			return r, nil
		}
	}
	found := named(c, table, id)
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: %s name not found", id, what)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("multiple %s named '%s'.  Use a UUID", plural[what], id)
}

var plural = map[string]string{"switch": "logical switches", "port": "ports", "router": "logical routers",
	"port group": "port groups", "ha chassis group": "ha chassis groups", "load balancer": "load balancers"}

// find is byNameOrUUID honouring --if-exists: (nil, nil) when missing and allowed.
func find(c *ctl.Ctx, table, id, what string) (*ctl.Row, error) {
	r, err := byNameOrUUID(c, table, id, what)
	if err != nil && c.Has("--if-exists") && strings.Contains(err.Error(), "not found") {
		return nil, nil
	}
	return r, err
}

// named returns the rows of table whose name is name, ordered by UUID.
func named(c *ctl.Ctx, table, name string) []*ctl.Row {
	return c.FindByString(table, "name", name)
}

// parent returns the row of parentTable whose column col references r.
func parent(c *ctl.Ctx, parentTable, col string, r *ctl.Row) *ctl.Row {
	var found *ctl.Row
	c.Each(parentTable, func(p *ctl.Row) bool {
		if c.Get(p, col).Find(r.UUID) >= 0 {
			found = p
			return false
		}
		return true
	})
	return found
}

func ref(u ctl.UUID) ctl.Datum { return ctl.Set(u) }

// sortByName orders rows by name, then UUID.
func sortByName(c *ctl.Ctx, rows []*ctl.Row) []*ctl.Row {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := c.Str(rows[i], "name"), c.Str(rows[j], "name")
		if a != b {
			return a < b
		}
		return rows[i].UUID < rows[j].UUID
	})
	return rows
}

// refRows returns the rows of table referenced by r's column col.
func refRows(c *ctl.Ctx, r *ctl.Row, col, table string) []*ctl.Row {
	var out []*ctl.Row
	for _, u := range c.Get(r, col).UUIDs() {
		if x := c.Row(table, u); x != nil {
			out = append(out, x)
		}
	}
	return out
}

func validMAC(s string) bool {
	hw, err := net.ParseMAC(s)
	return err == nil && len(hw) == 6 && len(s) == 17
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// validNetwork accepts "IP/PLEN" (host bits allowed, as router port networks).
func validNetwork(s string) bool {
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// normalizePrefix canonicalises a route or NAT prefix: "10.0.0.5/24" becomes
// "10.0.0.0/24", a full-length prefix becomes the bare address.
func normalizePrefix(s string) (string, bool) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", false
		}
		return a.String(), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", false
	}
	p = p.Masked()
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String(), true
	}
	return p.String(), true
}

// checkAddresses checks one lsp-set-addresses or lsp-set-port-security
// argument: "MAC [IP[/PLEN]]..." (and, for addresses, the keywords).
func checkAddresses(s string, keywords bool) error {
	switch s {
	case "router", "unknown", "dynamic":
		if keywords {
			return nil
		}
	}
	f := strings.Fields(s)
	if len(f) == 0 || !validMAC(f[0]) {
		return fmt.Errorf("%s: Invalid address format. See ovn-nb(5). Hint: An Ethernet address must be listed before an IP address, together as a single argument.", s)
	}
	for _, x := range f[1:] {
		if x == "dynamic" && keywords {
			continue
		}
		if !validIP(x) && !validNetwork(x) {
			return fmt.Errorf("%s: invalid IP address or network %q", s, x)
		}
	}
	return nil
}

func keyValues(args []string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%s: argument must be of the form KEY=VALUE", a)
		}
		m[k] = v
	}
	return m, nil
}

func printMap(c *ctl.Ctx, d ctl.Datum) {
	m := d.StrMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Printf("%s=%s\n", k, m[k])
	}
}

func printStrings(c *ctl.Ctx, ss []string) {
	for _, s := range ss {
		c.Printf("%s\n", s)
	}
}
