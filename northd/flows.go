package northd

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/translate"
)

// flowMove is a content whose row must be inserted (row "") or re-pointed
// to the datapaths dps.
type flowMove struct {
	content translate.Flow
	row     string
	dps     []string
}

// flows reconciles the Logical_Flow rows of contents with want, the sorted
// NB keys of the datapaths that want each content (engine.FlowSets). A
// content wanted by one datapath is one row on it (logical_datapath), by
// several one row on a Logical_DP_Group of exactly those (ovn-sb(5)); groups
// are shared by the flows with the same set. A row that already applies to
// the wanted datapaths is kept however it says so (a datapath, a group, or
// both, as another translator may have written it). A group whose every
// flow moves to the same new set is mutated in place instead of moving each
// flow.
func (w *writer) flows(contents []translate.Flow, want func(translate.Flow) []string) {
	var moves []flowMove
	for _, c := range contents {
		dps := want(c)
		rows := w.sb.flowRows[c]
		keep := -1
		if len(dps) > 0 {
			for i, u := range rows {
				if got, ok := w.sb.flowDatapaths(u); ok && slices.Equal(got, dps) {
					keep = i
					break
				}
			}
			if keep < 0 {
				m := flowMove{content: c, dps: dps}
				if len(rows) > 0 {
					keep, m.row = 0, rows[0]
				}
				moves = append(moves, m)
			}
		}
		for i, u := range rows {
			if i != keep {
				w.t.delete(tLogicalFlow, u)
			}
		}
	}
	done := w.mutateGroups(moves)
	for i, m := range moves {
		if done[i] {
			continue
		}
		dp, group := w.placement(m.dps)
		if w.err != nil {
			return
		}
		if m.row != "" {
			w.t.update(tLogicalFlow, m.row, ovsdb.Row{"logical_datapath": optRef(dp), "logical_dp_group": optRef(group)})
			continue
		}
		c := m.content
		if w.t.flowIns == nil {
			w.t.flowIns = map[int]translate.Flow{}
		}
		w.t.flowIns[len(w.t.ops)] = c
		w.t.insert(tLogicalFlow, ovsdb.Row{
			"logical_datapath": optRef(dp),
			"logical_dp_group": optRef(group),
			"pipeline":         c.Pipeline,
			"table_id":         c.Table,
			"priority":         c.Priority,
			"match":            c.Match,
			"actions":          c.Actions,
			"external_ids":     omap(map[string]string{"stage-name": c.Stage}),
		}, "")
	}
}

// mutateGroups finds the groups whose every flow moves to one same set of
// several datapaths and changes those groups' datapaths
// instead (adding a switch to a deployment changes one group, not every
// flow the switches share). It returns which moves that settled.
func (w *writer) mutateGroups(moves []flowMove) []bool {
	done := make([]bool, len(moves))
	byGroup := map[string][]int{}
	for i, m := range moves {
		if m.row == "" || len(m.dps) < 2 {
			continue
		}
		if f := w.sb.flowOf[m.row]; f.group != "" && f.dp == "" {
			byGroup[f.group] = append(byGroup[f.group], i)
		}
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		idx := byGroup[g]
		if len(idx) != w.sb.groupUsers[g] || w.mutated[g] {
			continue
		}
		dps := moves[idx[0]].dps
		same := true
		for _, i := range idx[1:] {
			if !slices.Equal(moves[i].dps, dps) {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		k := setKey(dps)
		if _, taken := w.groups[k]; taken {
			continue
		}
		// A group SB already has for the set takes the flows instead
		// (placement): mutating this one would make two groups of
		// the same datapaths (after a datapath in both went away).
		if other := w.sb.groupFor(dps); other != "" && other != g && !w.mutated[other] {
			continue
		}
		// New datapaths go in by named UUID: they are inserted in this
		// transaction.
		want := make([]string, 0, len(dps))
		for _, key := range dps {
			r := w.dpRef(key)
			if r == "" {
				return done
			}
			want = append(want, r)
		}
		slices.Sort(want)
		cur := w.sb.groupDPs[g]
		var add, del []ovsdb.UUID
		for _, u := range want {
			if _, found := slices.BinarySearch(cur, u); !found {
				add = append(add, uuidRef(u))
			}
		}
		for _, u := range cur {
			if _, found := slices.BinarySearch(want, u); !found {
				del = append(del, uuidRef(u))
			}
		}
		var muts []ovsdb.Mutation
		if len(add) > 0 {
			muts = append(muts, ovsdb.Mutation{Column: "datapaths", Mutator: ovsdb.MutateOperationInsert, Value: set(add)})
		}
		if len(del) > 0 {
			muts = append(muts, ovsdb.Mutation{Column: "datapaths", Mutator: ovsdb.MutateOperationDelete, Value: set(del)})
		}
		if len(muts) > 0 {
			w.t.ops = append(w.t.ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: tDPGroup, Where: byUUID(g), Mutations: muts})
		}
		w.mutated[g] = true
		w.groups[k] = g
		for _, i := range idx {
			done[i] = true
		}
	}
	return done
}

// placement returns where a flow wanted by dps goes: a datapath (UUID or
// named UUID) when there is one, else a group, inserted in this
// transaction when SB has none with exactly those datapaths.
func (w *writer) placement(dps []string) (dp, group string) {
	if len(dps) == 1 {
		return w.dpRef(dps[0]), ""
	}
	k := setKey(dps)
	if g, ok := w.groups[k]; ok {
		return "", g
	}
	if g := w.sb.groupFor(dps); g != "" && !w.mutated[g] {
		w.groups[k] = g
		return "", g
	}
	refs := make([]ovsdb.UUID, 0, len(dps))
	for _, key := range dps {
		r := w.dpRef(key)
		if r == "" {
			return "", ""
		}
		refs = append(refs, uuidRef(r))
	}
	g := w.t.name("dpg")
	w.t.insert(tDPGroup, ovsdb.Row{"datapaths": set(refs)}, g)
	w.groups[k] = g
	return "", g
}

// dpRef returns the UUID, or named UUID, of the datapath with NB key key.
func (w *writer) dpRef(key string) string {
	if n := w.dpNamed[key]; n != "" {
		return n
	}
	if u, ok := w.sb.dpByKey[key]; ok {
		return u
	}
	if w.err == nil {
		w.err = fmt.Errorf("logical flow on datapath %s, which SB does not have", key)
	}
	return ""
}
