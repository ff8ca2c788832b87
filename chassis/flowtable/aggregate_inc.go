package flowtable

import (
	"maps"
	"strconv"
)

// incState is the incremental form of an aggregation: the collapsed
// table and, per group of alike copies, its members and the key of its
// collapsed flow.
type incState struct {
	local     map[uint32]bool
	out       map[string]Flow            // the result, kept up to date
	members   map[string]map[string]bool // group -> member keys
	collapsed map[string]string          // group -> key of its collapsed flow
	byNewKey  map[string]map[string]bool // collapsed flow key -> groups (actions may differ)
	newKey    map[string]string          // group -> its collapsed flow key
}

// Update is Aggregate for a table that differs from the previous call's
// only in the keys changed (added, removed or modified); it touches only
// the groups of those keys. A different set of local datapaths, or no
// previous call, recomputes everything. The result is a map of its own,
// which the caller may keep.
func (a *Aggregator) Update(flows map[string]Flow, local map[uint32]bool, changed []string) map[string]Flow {
	if len(local) < 2 {
		a.inc = nil
		return maps.Clone(flows) // never flows itself: it may be Desired.FinishView's
	}
	if a.inc == nil || !maps.Equal(a.inc.local, local) {
		a.inc = &incState{local: maps.Clone(local), out: map[string]Flow{},
			members: map[string]map[string]bool{}, collapsed: map[string]string{}, byNewKey: map[string]map[string]bool{},
			newKey: map[string]string{}}
		changed = changed[:0:0]
		for k := range flows {
			changed = append(changed, k)
		}
		clear(a.parsed)
	}
	s := a.inc
	dirty := map[string]bool{}
	for _, k := range changed {
		// parsed holds every key of the previous input.
		if p, ok := a.parsed[k]; ok {
			if p.ok && local[p.dp] {
				delete(s.members[p.group], k)
				dirty[p.group] = true
			}
			delete(a.parsed, k)
		}
		for g := range s.byNewKey[k] {
			dirty[g] = true // a flow with a collapsed flow's key came or went
		}
		f, ok := flows[k]
		if !ok {
			delete(s.out, k)
			continue
		}
		s.out[k] = f
		p := splitMetadata(f.Match)
		p.actions = f.Actions
		if p.ok {
			p.group = strconv.Itoa(int(f.Table)) + "|" + strconv.Itoa(int(f.Priority)) + "|" + p.rest + "|" + f.Actions
		}
		a.parsed[k] = p
		if p.ok && local[p.dp] {
			m := s.members[p.group]
			if m == nil {
				m = map[string]bool{}
				s.members[p.group] = m
			}
			m[k] = true
			dirty[p.group] = true
		}
	}
	// Undo every dirty group's collapse first (groups may share a
	// collapsed key: one that ends its collapse must not remove another's
	// new one), then decide again.
	for g := range dirty {
		if nk, ok := s.collapsed[g]; ok {
			delete(s.out, nk)
			delete(s.collapsed, g)
			if f, ok := flows[nk]; ok {
				s.out[nk] = f
			}
		}
		if nk, ok := s.newKey[g]; ok {
			if gs := s.byNewKey[nk]; gs != nil {
				delete(gs, g)
				if len(gs) == 0 {
					delete(s.byNewKey, nk)
				}
			}
			delete(s.newKey, g)
		}
		for k := range s.members[g] {
			s.out[k] = flows[k]
		}
	}
	for g := range dirty {
		m := s.members[g]
		if len(m) == 0 {
			delete(s.members, g)
			continue
		}
		var first string
		for k := range m {
			if first == "" || k < first {
				first = k
			}
		}
		f := collapse(flows[first], a.parsed[first].rest)
		nk := f.Key()
		if s.byNewKey[nk] == nil {
			s.byNewKey[nk] = map[string]bool{}
		}
		s.byNewKey[nk][g], s.newKey[g] = true, nk
		if len(m) != len(local) {
			continue
		}
		if _, taken := flows[nk]; taken {
			continue
		}
		for k := range m {
			delete(s.out, k)
		}
		s.out[nk] = f
		s.collapsed[g] = nk
	}
	return maps.Clone(s.out)
}
