package chassis

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
)

// Southbound writes for what packet-ins report besides neighbours and
// MACs: virtual port parents (bind_vport), controller events
// (trigger_event, ovn-sb(5) Controller_Event) and multicast group
// memberships (igmp, ovn-sb(5) IGMP_Group). The packet-in loop queues the
// reports in ctrlState (ctrlReport); each round turns them into operations
// against the southbound as it is then (pure functions below).

// ctrlReport queues what a packet-in's Result asks the southbound for and
// reports whether there was anything. d.mu is not held.
func (d *daemon) ctrlReport(res pinctrl.Result) bool {
	if res.Vport == nil && res.Event == nil && len(res.Multicast) == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &d.ctrl
	if res.Vport != nil {
		c.vports = append(c.vports, *res.Vport)
	}
	if res.Event != nil {
		c.events = append(c.events, *res.Event)
	}
	c.memberships = append(c.memberships, res.Multicast...)
	return true
}

// portByKeys indexes Port_Bindings by datapath and port tunnel keys.
type portByKeys map[[2]uint32]ovsdb.Row

func indexPorts(sb *replica.DB) (portByKeys, map[uint32]string) {
	dps := map[string]uint32{}
	dpUUID := map[uint32]string{}
	for u, r := range sb.Table("Datapath_Binding") {
		k := uint32(replica.Int(r, "tunnel_key"))
		dps[u], dpUUID[k] = k, u
	}
	ports := portByKeys{}
	for _, r := range sb.Table("Port_Binding") {
		if k, ok := dps[replica.Ref(r, "datapath")]; ok {
			ports[[2]uint32{k, uint32(replica.Int(r, "tunnel_key"))}] = r
		}
	}
	return ports, dpUUID
}

// vportOps sets the virtual_parent of each virtual port bind_vport
// reported (the last report per port wins); ports that are not virtual,
// unknown parents and unchanged parents write nothing. Claiming the
// port follows from its parent being bound here (package plan).
func vportOps(sb *replica.DB, reports []pinctrl.VirtualBinding) []ovsdb.Operation {
	if len(reports) == 0 {
		return nil
	}
	ports, _ := indexPorts(sb)
	parent := map[string]string{} // virtual port UUID -> parent name
	var order []string
	for _, v := range reports {
		vp, pp := ports[[2]uint32{v.Datapath, v.Virtual}], ports[[2]uint32{v.Datapath, v.Parent}]
		if vp == nil || pp == nil || replica.Str(vp, "type") != "virtual" {
			continue
		}
		u := replica.UUID(vp)
		if _, ok := parent[u]; !ok {
			order = append(order, u)
		}
		parent[u] = replica.Str(pp, "logical_port")
	}
	var ops []ovsdb.Operation
	for _, u := range order {
		if replica.Str(sb.Row("Port_Binding", u), "virtual_parent") == parent[u] {
			continue
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Port_Binding", Where: uuidIs(u),
			Row: ovsdb.Row{"virtual_parent": ovsdb.OvsSet{GoSet: []any{parent[u]}}}})
	}
	return ops
}

// eventOps inserts a Controller_Event row per reported event that this
// chassis (Chassis UUID chassis) has not already reported and the CMS
// has not removed yet, numbered after this chassis's highest seq_num.
func eventOps(sb *replica.DB, chassis string, events []pinctrl.Event) []ovsdb.Operation {
	if len(events) == 0 || chassis == "" {
		return nil
	}
	key := func(typ string, info map[string]string) string {
		k := typ
		for _, n := range slices.Sorted(maps.Keys(info)) {
			k += "\x00" + n + "=" + info[n]
		}
		return k
	}
	seen := map[string]bool{}
	seq := int64(0)
	for _, r := range sb.Table("Controller_Event") {
		if replica.Ref(r, "chassis") != chassis {
			continue
		}
		seen[key(replica.Str(r, "event_type"), replica.Map(r, "event_info"))] = true
		seq = max(seq, replica.Int(r, "seq_num"))
	}
	var ops []ovsdb.Operation
	for _, e := range events {
		k := key(e.Type, e.Info)
		if seen[k] {
			continue
		}
		seen[k] = true
		seq++
		info := map[any]any{}
		for n, v := range e.Info {
			info[n] = v
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Controller_Event", Row: ovsdb.Row{
			"event_type": e.Type, "event_info": ovsdb.OvsMap{GoMap: info},
			"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: chassis}}}, "seq_num": int(seq)}})
	}
	return ops
}

// igmpOps applies membership changes, in order, to this chassis's
// IGMP_Group rows (one per datapath and group address, holding the
// member ports): a group's first member inserts its row, its last leaving
// deletes it, other changes rewrite its ports.
func igmpOps(sb *replica.DB, chassis string, changes []pinctrl.Membership) []ovsdb.Operation {
	if len(changes) == 0 || chassis == "" {
		return nil
	}
	ports, dpUUID := indexPorts(sb)
	type group struct {
		dp, addr string
	}
	rows := map[group]ovsdb.Row{}
	for _, r := range sb.Table("IGMP_Group") {
		if replica.Ref(r, "chassis") == chassis {
			rows[group{replica.Ref(r, "datapath"), replica.Str(r, "address")}] = r
		}
	}
	members := map[group]map[string]bool{}
	var order []group
	for _, m := range changes {
		dp, p := dpUUID[m.Datapath], ports[[2]uint32{m.Datapath, m.Port}]
		if dp == "" || p == nil {
			continue
		}
		g := group{dp, m.Group.String()}
		set, ok := members[g]
		if !ok {
			set = map[string]bool{}
			if r := rows[g]; r != nil {
				for _, u := range replica.Refs(r, "ports") {
					set[u] = true
				}
			}
			members[g] = set
			order = append(order, g)
		}
		if m.Join {
			set[replica.UUID(p)] = true
		} else {
			delete(set, replica.UUID(p))
		}
	}
	var ops []ovsdb.Operation
	for _, g := range order {
		set := members[g]
		var refs []any
		for _, u := range slices.Sorted(maps.Keys(set)) {
			refs = append(refs, ovsdb.UUID{GoUUID: u})
		}
		r := rows[g]
		switch {
		case r == nil && len(refs) > 0:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "IGMP_Group", Row: ovsdb.Row{
				"address": g.addr, "datapath": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: g.dp}}},
				"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: chassis}}}, "ports": ovsdb.OvsSet{GoSet: refs}}})
		case r != nil && len(refs) == 0:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "IGMP_Group", Where: uuidIs(replica.UUID(r))})
		case r != nil:
			old := replica.Refs(r, "ports")
			sort.Strings(old)
			if !slices.Equal(old, slices.Sorted(maps.Keys(set))) {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "IGMP_Group", Where: uuidIs(replica.UUID(r)),
					Row: ovsdb.Row{"ports": ovsdb.OvsSet{GoSet: refs}}})
			}
		}
	}
	return ops
}

// igmpGrace is how long a port must have been seen not bound here
// before igmpCleanupOps drops it from a group: a port being claimed may
// report joins before the southbound shows it bound here.
const igmpGrace = 5 * time.Second

// igmpCleanupOps drops from this chassis's IGMP_Group rows the ports not
// bound here for igmpGrace (a VM deleted or moved away sends no leave),
// and deletes rows left without ports. unbound remembers since when each
// row's port ("row|port") has been seen not bound here; entries no longer
// seen are forgotten.
func igmpCleanupOps(sb *replica.DB, chassis string, unbound map[string]time.Time, now time.Time) []ovsdb.Operation {
	var ops []ovsdb.Operation
	seen := map[string]bool{}
	for _, r := range sb.Sorted("IGMP_Group") {
		if chassis == "" || replica.Ref(r, "chassis") != chassis {
			continue
		}
		ports := replica.Refs(r, "ports")
		var keep []any
		for _, u := range ports {
			if pb := sb.Row("Port_Binding", u); pb != nil && replica.Ref(pb, "chassis") == chassis {
				keep = append(keep, ovsdb.UUID{GoUUID: u})
				continue
			}
			k := replica.UUID(r) + "|" + u
			seen[k] = true
			since, ok := unbound[k]
			if !ok {
				unbound[k], since = now, now
			}
			if now.Sub(since) < igmpGrace {
				keep = append(keep, ovsdb.UUID{GoUUID: u})
			}
		}
		switch {
		case len(keep) == 0:
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "IGMP_Group", Where: uuidIs(replica.UUID(r))})
		case len(keep) < len(ports):
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "IGMP_Group", Where: uuidIs(replica.UUID(r)),
				Row: ovsdb.Row{"ports": ovsdb.OvsSet{GoSet: keep}}})
		}
	}
	for k := range unbound {
		if !seen[k] {
			delete(unbound, k)
		}
	}
	return ops
}

func uuidIs(u string) []ovsdb.Condition {
	return []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: u}}}
}

// reportOpsLocked turns the queued reports into their southbound writes
// (one transaction each kind) and clears the queues. d.mu is held.
func (d *daemon) reportOpsLocked() []ctrlTxn {
	c := &d.ctrl
	if d.sb == nil {
		return nil
	}
	me := plan.ChassisUUID(d.sb, d.cfg.SystemID)
	if len(c.vports)+len(c.events)+len(c.memberships) == 0 {
		if len(d.sb.Table("IGMP_Group")) == 0 {
			return nil
		}
		if c.igmpUnbound == nil {
			c.igmpUnbound = map[string]time.Time{}
		}
		return []ctrlTxn{{"IGMP_Group", igmpCleanupOps(d.sb, me, c.igmpUnbound, time.Now())}}
	}
	txns := []ctrlTxn{{"virtual_parent", vportOps(d.sb, c.vports)}}
	// Rows are compared with the southbound's: only write tables the
	// chassis monitors (others would get a duplicate per report).
	if slices.Contains(sbTables, "Controller_Event") {
		txns = append(txns, ctrlTxn{"Controller_Event", eventOps(d.sb, me, c.events)})
	}
	if slices.Contains(sbTables, "IGMP_Group") {
		txns = append(txns, ctrlTxn{"IGMP_Group", igmpOps(d.sb, me, c.memberships)})
	}
	c.vports, c.events, c.memberships = nil, nil, nil
	return txns
}
