package plan

import (
	"sort"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/replica"
)

// Iface is a local Open_vSwitch Interface that carries a logical port.
type Iface struct {
	UUID    string
	Name    string
	IfaceID string
	OFPort  int
}

// LocalIfaces returns the interfaces on bridge whose external_ids:iface-id
// names a logical port, by iface-id. Interfaces without an OpenFlow port
// yet (ofport missing or -1) are left out.
func LocalIfaces(ovs *replica.DB, bridge string) map[string]Iface {
	out := map[string]Iface{}
	br := findByName(ovs, "Bridge", bridge)
	if br == nil {
		return out
	}
	for _, pu := range replica.Refs(br, "ports") {
		p := ovs.Row("Port", pu)
		if p == nil {
			continue
		}
		for _, iu := range replica.Refs(p, "interfaces") {
			i := ovs.Row("Interface", iu)
			if i == nil {
				continue
			}
			id, _ := replica.MapValue(i, "external_ids", "iface-id")
			ofp := int(replica.Int(i, "ofport"))
			if id == "" || ofp <= 0 {
				continue
			}
			if prev, ok := out[id]; ok && prev.Name < replica.Str(i, "name") {
				continue
			}
			out[id] = Iface{UUID: iu, Name: replica.Str(i, "name"), IfaceID: id, OFPort: ofp}
		}
	}
	return out
}

func findByName(db *replica.DB, table, name string) ovsdb.Row {
	for _, r := range db.Table(table) {
		if replica.Str(r, "name") == name {
			return r
		}
	}
	return nil
}

// ChassisUUID returns the UUID of the Chassis row named name, or "".
func ChassisUUID(sb *replica.DB, name string) string {
	if r := findByName(sb, "Chassis", name); r != nil {
		return replica.UUID(r)
	}
	return ""
}

// chassisName maps Chassis UUIDs to names.
func chassisNames(sb *replica.DB) map[string]string {
	out := map[string]string{}
	for u, r := range sb.Table("Chassis") {
		out[u] = replica.Str(r, "name")
	}
	return out
}

// portsByName indexes Port_Bindings by logical_port.
func portsByName(sb *replica.DB) map[string]ovsdb.Row {
	out := map[string]ovsdb.Row{}
	for _, r := range sb.Table("Port_Binding") {
		out[replica.Str(r, "logical_port")] = r
	}
	return out
}

// Wanted returns the Port_Bindings (by UUID) this chassis should hold:
// VIFs whose iface-id is local, l3gateway ports whose
// options:l3gateway-chassis is this chassis, and chassisredirect ports
// this chassis is the active gateway for.
func Wanted(sb *replica.DB, me string, ifaces map[string]Iface, active map[string]string) map[string]bool {
	out := map[string]bool{}
	for u, r := range sb.Table("Port_Binding") {
		name := replica.Str(r, "logical_port")
		switch replica.Str(r, "type") {
		case "":
			if _, ok := ifaces[name]; ok {
				out[u] = true
			}
		case "virtual":
			// A virtual port is bound where its virtual_parent (set by
			// bind_vport) is a local VIF, as ovn-controller claims it.
			if _, ok := ifaces[name]; ok {
				out[u] = true
			} else if vp := replica.Str(r, "virtual_parent"); vp != "" {
				if _, ok := ifaces[vp]; ok {
					out[u] = true
				}
			}
		case "l3gateway":
			if replica.Map(r, "options")["l3gateway-chassis"] == me {
				out[u] = true
			}
		case "chassisredirect":
			if active[u] == me {
				out[u] = true
			}
		}
	}
	return out
}

// LocalDatapaths returns the Datapath_Binding UUIDs whose flows this
// chassis needs: those of the wanted ports and of localport/localnet-less
// VIFs here, closed over patch and l3gateway peers (a switch reaches its
// routers, a router its other switches).
func LocalDatapaths(sb *replica.DB, wanted map[string]bool) map[string]bool {
	byName := portsByName(sb)
	byDP := map[string][]ovsdb.Row{}
	for _, r := range sb.Table("Port_Binding") {
		dp := replica.Ref(r, "datapath")
		byDP[dp] = append(byDP[dp], r)
	}
	out := map[string]bool{}
	var queue []string
	add := func(dp string) {
		if dp != "" && !out[dp] && sb.Row("Datapath_Binding", dp) != nil {
			out[dp] = true
			queue = append(queue, dp)
		}
	}
	for u := range wanted {
		if r := sb.Row("Port_Binding", u); r != nil {
			add(replica.Ref(r, "datapath"))
		}
	}
	for len(queue) > 0 {
		dp := queue[0]
		queue = queue[1:]
		for _, r := range byDP[dp] {
			switch replica.Str(r, "type") {
			case "patch", "l3gateway":
				if peer, ok := byName[replica.Map(r, "options")["peer"]]; ok {
					add(replica.Ref(peer, "datapath"))
				}
			}
		}
	}
	return out
}

// SortedKeys returns a set's keys in order.
func SortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
