package northd

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/translate"
)

// txn accumulates the operations of one SB transaction.
type txn struct {
	ops   []ovsdb.Operation
	named int
	// inserted and deleted let the caller wait for the monitor to catch up.
	deletes []string
	inserts int
	// flowIns maps the index of each Logical_Flow insert to its content,
	// which the mirror learns from the transaction's result.
	flowIns map[int]translate.Flow
}

func (t *txn) name(prefix string) string {
	t.named++
	return fmt.Sprintf("%s%d", prefix, t.named)
}

// insert appends an insert of row. Empty sets and maps are left out: they
// are the columns' defaults, and a first translation sends tens of
// thousands of rows.
func (t *txn) insert(table string, row ovsdb.Row, named string) {
	for col, v := range row {
		switch x := v.(type) {
		case ovsdb.OvsSet:
			if len(x.GoSet) == 0 {
				delete(row, col)
			}
		case ovsdb.OvsMap:
			if len(x.GoMap) == 0 {
				delete(row, col)
			}
		}
	}
	t.ops = append(t.ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: table, Row: row, UUIDName: named})
	t.inserts++
}

func byUUID(u string) []ovsdb.Condition {
	return []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: u}}}
}

func (t *txn) update(table, uuid string, row ovsdb.Row) {
	t.ops = append(t.ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: table, Row: row, Where: byUUID(uuid)})
}

func (t *txn) delete(table, uuid string) {
	t.ops = append(t.ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: table, Where: byUUID(uuid)})
	t.deletes = append(t.deletes, uuid)
}

func set[T any](v []T) ovsdb.OvsSet {
	s := ovsdb.OvsSet{GoSet: []any{}}
	for _, e := range v {
		s.GoSet = append(s.GoSet, e)
	}
	return s
}

func omap(m map[string]string) ovsdb.OvsMap {
	g := map[any]any{}
	for k, v := range m {
		g[k] = v
	}
	return ovsdb.OvsMap{GoMap: g}
}

func uuidRef(u string) ovsdb.UUID { return ovsdb.UUID{GoUUID: u} }

func optRef(u string) ovsdb.OvsSet {
	if u == "" {
		return ovsdb.OvsSet{GoSet: []any{}}
	}
	return ovsdb.OvsSet{GoSet: []any{uuidRef(u)}}
}

func optStr(s string) ovsdb.OvsSet {
	if s == "" {
		return ovsdb.OvsSet{GoSet: []any{}}
	}
	return ovsdb.OvsSet{GoSet: []any{s}}
}

func optInt(i int) ovsdb.OvsSet {
	if i == 0 {
		return ovsdb.OvsSet{GoSet: []any{}}
	}
	return ovsdb.OvsSet{GoSet: []any{i}}
}

// writer turns desired SB content into operations against an sbState.
type writer struct {
	sb *sbState
	t  *txn
	// portDP returns the datapath key a desired port belongs to, so a port
	// moving between datapaths is updated, not deleted and re-created.
	portDP func(name string) (string, bool)
	// portRef resolves a port name to its UUID or the named UUID of its
	// insertion in this transaction.
	portRef map[string]string
	chassis map[string]string
	// haRefs is the desired HA_Chassis_Group.ref_chassis by group name.
	haRefs map[string][]string
	// dpNamed names the Datapath_Binding rows this transaction inserts,
	// by NB key.
	dpNamed map[string]string
	// groups maps setKey of a datapath set to the Logical_DP_Group this
	// transaction inserted for it, or mutated into it; mutated marks the
	// latter, whose old set no other flow may use.
	groups  map[string]string
	mutated map[string]bool
	// err is set when a desired flow names a datapath that neither SB nor
	// this transaction has.
	err error
	// random fills a slice with random bytes (BFD discriminators).
	random func([]byte)
}

func newWriter(sb *sbState, desired *translate.SB, portDP func(string) (string, bool)) *writer {
	w := &writer{sb: sb, t: &txn{}, portDP: portDP, portRef: map[string]string{}, chassis: sb.chassisByName(),
		dpNamed: map[string]string{}, groups: map[string]string{}, mutated: map[string]bool{}, random: cryptoRandom}
	w.haRefs = haRefChassis(sb, desired)
	return w
}

// haRefChassis computes HA_Chassis_Group.ref_chassis: the chassis that bind
// ports on the gateway's router or on the switches attached to it. Their
// ovn-controllers run BFD to the group's gateways and so notice when the
// active one dies.
func haRefChassis(sb *sbState, desired *translate.SB) map[string][]string {
	out := map[string][]string{}
	for key, dp := range desired.Datapaths {
		if len(dp.HAGroups) == 0 {
			continue
		}
		related := map[string]bool{}
		if u, ok := sb.dpByKey[key]; ok {
			related[u] = true
		}
		pbs := sb.table(tPortBinding)
		for _, p := range dp.Ports {
			if peer := p.Options["peer"]; peer != "" {
				if pu, ok := sb.portByName[peer]; ok {
					related[ref(pbs[pu], "datapath")] = true
				}
			}
		}
		seen := map[string]bool{}
		var chassis []string
		for dpu := range related {
			for u := range sb.rowsOf(tPortBinding, dpu) {
				if c := ref(pbs[u], "chassis"); c != "" && !seen[c] {
					seen[c] = true
					chassis = append(chassis, c)
				}
			}
		}
		slices.Sort(chassis)
		for _, g := range dp.HAGroups {
			out[g.Name] = chassis
		}
	}
	return out
}

// deleteDatapath deletes a datapath and the rows that refer to it. Its
// logical flows must be gone or moved (flows) in this or an earlier
// transaction.
func (w *writer) deleteDatapath(key string) {
	dpUUID, have := w.sb.dpByKey[key]
	if !have {
		return
	}
	for u := range w.sb.rowsOf(tMulticastGroup, dpUUID) {
		w.t.delete(tMulticastGroup, u)
	}
	// IP_Multicast refers to the datapath weakly but must name one.
	for u := range w.sb.rowsOf(tIPMulticast, dpUUID) {
		w.t.delete(tIPMulticast, u)
	}
	for u := range w.sb.rowsOf(tPortBinding, dpUUID) {
		if _, moved := w.portDP(str(w.sb.table(tPortBinding)[u], "logical_port")); !moved {
			w.t.delete(tPortBinding, u)
		}
	}
	// Rows other writers made that refer to the datapath strongly.
	for _, t := range []string{"MAC_Binding", "Static_MAC_Binding"} {
		w.t.ops = append(w.t.ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: t,
			Where: []ovsdb.Condition{{Column: "datapath", Function: ovsdb.ConditionEqual, Value: uuidRef(dpUUID)}}})
	}
	w.t.delete(tDatapath, dpUUID)
}

// datapath reconciles what one datapath owns but its logical flows (see
// flows); d nil deletes it.
func (w *writer) datapath(key string, d *translate.DatapathOut) {
	if d == nil {
		w.deleteDatapath(key)
		return
	}
	dpUUID, have := w.sb.dpByKey[key]
	var dpRef string
	kind := "logical-switch"
	if d.Datapath.Router {
		kind = "logical-router"
	}
	dpRow := ovsdb.Row{
		"tunnel_key":   d.Datapath.TunnelKey,
		"external_ids": omap(map[string]string{kind: key, "name": d.Datapath.Name}),
	}
	if !have {
		dpRef = w.t.name("dp")
		w.t.insert(tDatapath, dpRow, dpRef)
		w.dpNamed[key] = dpRef
	} else {
		dpRef = dpUUID
		r := w.sb.table(tDatapath)[dpUUID]
		ext := strMap(r, "external_ids")
		if num(r, "tunnel_key") != d.Datapath.TunnelKey || ext[kind] != key || ext["name"] != d.Datapath.Name {
			w.t.update(tDatapath, dpUUID, dpRow)
		}
	}
	dpVal := uuidRef(dpRef)

	// HA chassis groups.
	for _, g := range d.HAGroups {
		w.haGroup(g)
	}

	// Port bindings.
	for _, p := range d.Ports {
		row := ovsdb.Row{
			"logical_port":     p.Name,
			"datapath":         dpVal,
			"tunnel_key":       p.TunnelKey,
			"type":             p.Type,
			"options":          omap(p.Options),
			"mac":              set(p.MAC),
			"port_security":    set(p.PortSecurity),
			"nat_addresses":    set(p.NATAddresses),
			"parent_port":      optStr(p.ParentPort),
			"tag":              optInt(p.Tag),
			"ha_chassis_group": optRef(w.haGroupRef(p.HAChassisGroup)),
		}
		u, exists := w.sb.portByName[p.Name]
		if !exists {
			// up starts false, as ovn-northd writes it: ovn-controller
			// sets up only on rows that have a value (a translator
			// that knows the column).
			row["up"] = ovsdb.OvsSet{GoSet: []any{false}}
			n := w.t.name("pb")
			w.t.insert(tPortBinding, row, n)
			w.portRef[p.Name] = n
			continue
		}
		w.portRef[p.Name] = u
		cur := w.sb.table(tPortBinding)[u]
		if !samePort(cur, row, have, dpUUID) {
			w.t.update(tPortBinding, u, row)
		}
		if _, set := boolean(cur, "up"); !set {
			// A row written before northd set up (see above): false,
			// unless a chassis set it meanwhile.
			w.t.ops = append(w.t.ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: tPortBinding,
				Row:   ovsdb.Row{"up": ovsdb.OvsSet{GoSet: []any{false}}},
				Where: append(byUUID(u), ovsdb.Condition{Column: "up", Function: ovsdb.ConditionEqual, Value: ovsdb.OvsSet{GoSet: []any{}}})})
		}
	}
	if have {
		for u := range w.sb.rowsOf(tPortBinding, dpUUID) {
			name := str(w.sb.table(tPortBinding)[u], "logical_port")
			if k, ok := w.portDP(name); !ok || (k != key && w.sb.portByName[name] != u) {
				w.t.delete(tPortBinding, u)
			}
		}
	}

	// Multicast groups.
	actualMC := map[string]string{}
	if have {
		for u := range w.sb.rowsOf(tMulticastGroup, dpUUID) {
			actualMC[str(w.sb.table(tMulticastGroup)[u], "name")] = u
		}
	}
	for _, g := range d.Groups {
		var ports []ovsdb.UUID
		for _, p := range g.Ports {
			if r, ok := w.portRef[p]; ok {
				ports = append(ports, uuidRef(r))
			}
		}
		row := ovsdb.Row{"datapath": dpVal, "name": g.Name, "tunnel_key": g.TunnelKey, "ports": set(ports)}
		u, ok := actualMC[g.Name]
		delete(actualMC, g.Name)
		if !ok {
			w.t.insert(tMulticastGroup, row, "")
			continue
		}
		r := w.sb.table(tMulticastGroup)[u]
		cur := strSet(r, "ports")
		want := make([]string, len(ports))
		for i, p := range ports {
			want[i] = p.GoUUID
		}
		slices.Sort(cur)
		slices.Sort(want)
		if num(r, "tunnel_key") != g.TunnelKey || !slices.Equal(cur, want) {
			w.t.update(tMulticastGroup, u, row)
		}
	}
	for _, u := range actualMC {
		w.t.delete(tMulticastGroup, u)
	}

	w.ipMulticast(dpUUID, have, dpVal, d.IPMulticast)

	// Port groups ("<datapath key>_<name>"); their names carry the key,
	// so only this datapath's prefix is reconciled here.
	w.portGroups(key, d)
}

// portGroups reconciles the datapath's "<tunnel key>_<name>" port groups.
// Rows of an earlier key of the datapath are found by the old key.
func (w *writer) portGroups(key string, d *translate.DatapathOut) {
	prefixes := []string{itoa(d.Datapath.TunnelKey) + "_"}
	if u, ok := w.sb.dpByKey[key]; ok {
		if old := num(w.sb.table(tDatapath)[u], "tunnel_key"); old != d.Datapath.TunnelKey {
			prefixes = append(prefixes, itoa(old)+"_")
		}
	}
	pgs := w.sb.table(tPortGroup)
	for name, u := range w.sb.byName[tPortGroup] {
		if !hasAnyPrefix(name, prefixes) {
			continue
		}
		ports, ok := d.PortGroups[name]
		if !ok {
			w.t.delete(tPortGroup, u)
			continue
		}
		cur := strSet(pgs[u], "ports")
		slices.Sort(cur)
		if !slices.Equal(cur, ports) {
			w.t.update(tPortGroup, u, ovsdb.Row{"ports": set(ports)})
		}
	}
	for name, ports := range d.PortGroups {
		if _, ok := w.sb.byName[tPortGroup][name]; !ok {
			w.t.insert(tPortGroup, ovsdb.Row{"name": name, "ports": set(ports)}, "")
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if len(s) > len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// samePort compares an SB Port_Binding row with the desired columns.
func samePort(r, want ovsdb.Row, dpExists bool, dpUUID string) bool {
	if r == nil || !dpExists || ref(r, "datapath") != dpUUID {
		return false
	}
	if num(r, "tunnel_key") != want["tunnel_key"].(int) || str(r, "type") != want["type"].(string) {
		return false
	}
	if !maps.Equal(strMap(r, "options"), strMap(want, "options")) {
		return false
	}
	for _, col := range []string{"mac", "port_security", "nat_addresses", "parent_port"} {
		a, b := strSet(r, col), strSet(want, col)
		if !slices.Equal(a, b) {
			return false
		}
	}
	wantTag := 0
	if s := want["tag"].(ovsdb.OvsSet); len(s.GoSet) == 1 {
		wantTag = s.GoSet[0].(int)
	}
	if num(r, "tag") != wantTag {
		return false
	}
	return ref(r, "ha_chassis_group") == ref(want, "ha_chassis_group")
}

// haGroupRef returns the UUID (or named UUID) of an HA group by name.
func (w *writer) haGroupRef(name string) string {
	if name == "" {
		return ""
	}
	if u, ok := w.portRef["\x00ha:"+name]; ok {
		return u
	}
	return w.sb.byName[tHAGroup][name]
}

// haGroup reconciles one HA_Chassis_Group and its HA_Chassis rows.
func (w *writer) haGroup(g translate.HAGroup) {
	groupUUID := w.sb.byName[tHAGroup][g.Name]
	cur := w.sb.table(tHAGroup)[groupUUID]
	same := cur != nil
	if same {
		members := strSet(cur, "ha_chassis")
		if len(members) != len(g.Members) {
			same = false
		} else {
			have := map[string]int{}
			for _, m := range members {
				r := w.sb.table(tHAChassis)[m]
				if r == nil {
					same = false
					break
				}
				name := strMap(r, "external_ids")["chassis-name"]
				have[name] = num(r, "priority")
				if ref(r, "chassis") != w.chassis[name] {
					same = false
				}
			}
			for _, m := range g.Members {
				if p, ok := have[m.Chassis]; !ok || p != m.Priority {
					same = false
				}
			}
		}
	}
	refs := w.haRefs[g.Name]
	refSet := make([]ovsdb.UUID, len(refs))
	for i, r := range refs {
		refSet[i] = uuidRef(r)
	}
	if same {
		w.portRef["\x00ha:"+g.Name] = groupUUID
		cur := strSet(cur, "ref_chassis")
		slices.Sort(cur)
		if !slices.Equal(cur, refs) {
			w.t.update(tHAGroup, groupUUID, ovsdb.Row{"ref_chassis": set(refSet)})
		}
		return
	}
	var members []ovsdb.UUID
	for _, m := range g.Members {
		n := w.t.name("hac")
		w.t.insert(tHAChassis, ovsdb.Row{
			"chassis":      optRef(w.chassis[m.Chassis]),
			"priority":     m.Priority,
			"external_ids": omap(map[string]string{"chassis-name": m.Chassis}),
		}, n)
		members = append(members, uuidRef(n))
	}
	row := ovsdb.Row{"name": g.Name, "ha_chassis": set(members), "ref_chassis": set(refSet)}
	if groupUUID == "" {
		n := w.t.name("hag")
		w.t.insert(tHAGroup, row, n)
		w.portRef["\x00ha:"+g.Name] = n
		return
	}
	w.t.update(tHAGroup, groupUUID, row)
	w.portRef["\x00ha:"+g.Name] = groupUUID
}

// globals reconciles Address_Set, SB_Global and, if full, DHCP_Options and
// HA groups nobody wants any more.
func (w *writer) globals(desired *translate.SB, full bool) {
	actual := map[string]string{}
	for u, r := range w.sb.table(tAddressSet) {
		name := str(r, "name")
		want, ok := desired.AddressSets[name]
		if !ok {
			w.t.delete(tAddressSet, u)
			continue
		}
		actual[name] = u
		cur := strSet(r, "addresses")
		slices.Sort(cur)
		if !slices.Equal(cur, want) {
			w.t.update(tAddressSet, u, ovsdb.Row{"addresses": set(want)})
		}
	}
	for name, addrs := range desired.AddressSets {
		if _, ok := actual[name]; !ok {
			w.t.insert(tAddressSet, ovsdb.Row{"name": name, "addresses": set(addrs)}, "")
		}
	}
	w.global(desired.Global)
	w.serviceMonitors(desired.ServiceMonitors)
	w.bfd(desired.BFD)
	wantHA := map[string]bool{}
	for _, d := range desired.Datapaths {
		for _, g := range d.HAGroups {
			wantHA[g.Name] = true
		}
	}
	for name, u := range w.sb.byName[tHAGroup] {
		if !wantHA[name] {
			w.t.delete(tHAGroup, u)
		}
	}
	if !full {
		return
	}
	for _, t := range []struct {
		table string
		codes []translate.DHCPOptionCode
	}{{tDHCPOptions, desired.DHCPOptions}, {tDHCPv6Options, desired.DHCPv6Options}} {
		have := map[string]bool{}
		for _, r := range w.sb.table(t.table) {
			have[str(r, "name")] = true
		}
		for _, o := range t.codes {
			if !have[o.Name] {
				w.t.insert(t.table, ovsdb.Row{"name": o.Name, "code": o.Code, "type": o.Type}, "")
			}
		}
	}
}

// early writes, ahead of a large write's flows, what flows may name:
// SB_Global options (ovn-controller defines $svc_monitor_mac from them and
// does not parse a flow naming an unknown set again) and new or changed
// address sets. nb_cfg and deletions wait for the end of the write.
func (w *writer) early(desired *translate.SB) {
	have := map[string]bool{}
	for u, r := range w.sb.table(tAddressSet) {
		name := str(r, "name")
		have[name] = true
		want, ok := desired.AddressSets[name]
		if !ok {
			continue
		}
		cur := strSet(r, "addresses")
		slices.Sort(cur)
		if !slices.Equal(cur, want) {
			w.t.update(tAddressSet, u, ovsdb.Row{"addresses": set(want)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(desired.AddressSets)) {
		if !have[name] {
			w.t.insert(tAddressSet, ovsdb.Row{"name": name, "addresses": set(desired.AddressSets[name])}, "")
		}
	}
	for u, r := range w.sb.table(tSBGlobal) {
		if !maps.Equal(strMap(r, "options"), desired.Global.Options) {
			w.t.update(tSBGlobal, u, ovsdb.Row{"options": omap(desired.Global.Options)})
		}
		return
	}
	w.t.insert(tSBGlobal, ovsdb.Row{"options": omap(desired.Global.Options)}, "")
}

func (w *writer) global(g translate.Global) {
	row := ovsdb.Row{"nb_cfg": g.NbCfg, "options": omap(g.Options)}
	for u, r := range w.sb.table(tSBGlobal) {
		if num(r, "nb_cfg") != g.NbCfg || !maps.Equal(strMap(r, "options"), g.Options) {
			w.t.update(tSBGlobal, u, row)
		}
		return
	}
	w.t.insert(tSBGlobal, row, "")
}
