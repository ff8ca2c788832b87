package plan

import (
	"encoding/json"
	"sort"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/replica"
)

// Conds are the southbound monitor conditions of the tables that are
// narrowed to the local datapaths.
type Conds map[string][]any

// Conditions returns the conditions for the local datapaths: their
// Port_Bindings, Logical_Flows (directly or through a datapath group),
// Multicast_Groups and MAC_Bindings, plus the Port_Bindings that may make
// a datapath local (local iface-ids, chassisredirect and l3gateway ports,
// ports bound here).
func Conditions(sb *replica.DB, me string, localDPs map[string]bool, ifaces map[string]Iface) Conds {
	dps := SortedKeys(localDPs)
	eq := func(col string, v any) ovsdb.Condition {
		return ovsdb.Condition{Column: col, Function: ovsdb.ConditionEqual, Value: v}
	}
	c := Conds{}
	var pb, lf, mg, mb []any
	for _, dp := range dps {
		u := ovsdb.UUID{GoUUID: dp}
		pb = append(pb, eq("datapath", u))
		lf = append(lf, eq("logical_datapath", u))
		mg = append(mg, eq("datapath", u))
		mb = append(mb, eq("datapath", u))
	}
	// Flows shared through datapath groups are all monitored: northd
	// moves flows between per-datapath rows and groups as datapaths come
	// and go, and a condition naming groups would lose such a flow for a
	// round trip (its flows would blink out of the switch). Per-port flows,
	// the ones that grow with the network, are per datapath.
	lf = append(lf, ovsdb.Condition{Column: "logical_dp_group", Function: ovsdb.ConditionNotEqual, Value: ovsdb.OvsSet{GoSet: []any{}}})
	ids := make([]string, 0, len(ifaces))
	for id := range ifaces {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		pb = append(pb, eq("logical_port", id))
	}
	// Patch ports lead to the peer datapaths that become local through
	// them; their peers must be visible before those datapaths are.
	pb = append(pb, eq("type", "chassisredirect"), eq("type", "l3gateway"), eq("type", "patch"))
	if u := ChassisUUID(sb, me); u != "" {
		pb = append(pb, eq("chassis", ovsdb.UUID{GoUUID: u}))
	}
	none := []any{false}
	for t, v := range map[string][]any{"Port_Binding": pb, "Logical_Flow": lf, "Multicast_Group": mg, "MAC_Binding": mb} {
		if len(v) == 0 {
			v = none
		}
		c[t] = v
	}
	return c
}

// Key is a stable text form, to detect changes.
func (c Conds) Key() string {
	b, _ := json.Marshal(map[string][]any(c))
	return string(b)
}
