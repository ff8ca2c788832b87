package engine

import (
	"iter"
	"slices"

	"hcnet/northd/translate"
)

// Content returns a flow without its datapath: what SB stores once for all
// the datapaths that want the same flow (a Logical_Flow row on a
// Logical_DP_Group, ovn-sb(5)).
func Content(f translate.Flow) translate.Flow {
	f.Datapath = ""
	return f
}

// FlowSets indexes the desired logical flows by content: for each, the
// sorted NB keys of the datapaths that want it. A content wanted by one
// datapath becomes a Logical_Flow row on that datapath; by several, one row
// on a Logical_DP_Group of exactly those datapaths.
type FlowSets struct {
	m map[translate.Flow][]string
}

// NewFlowSets indexes sb's flows.
func NewFlowSets(sb *translate.SB) *FlowSets {
	s := &FlowSets{m: map[translate.Flow][]string{}}
	for key, d := range sb.Datapaths {
		for _, f := range d.Flows {
			c := Content(f)
			dps := s.m[c]
			if n := len(dps); n > 0 && dps[n-1] == key {
				continue // a duplicate within one datapath
			}
			s.m[c] = append(dps, key)
		}
	}
	for c, dps := range s.m {
		if len(dps) > 1 {
			slices.Sort(dps)
			s.m[c] = slices.Compact(dps)
		}
	}
	return s
}

// Datapaths returns the sorted NB keys of the datapaths that want content,
// or nil. Callers must not modify the result, nor keep it past the engine's
// next Apply.
func (s *FlowSets) Datapaths(content translate.Flow) []string { return s.m[content] }

// Len is the number of distinct contents.
func (s *FlowSets) Len() int { return len(s.m) }

// All yields every content with its datapaths.
func (s *FlowSets) All() iter.Seq2[translate.Flow, []string] {
	return func(yield func(translate.Flow, []string) bool) {
		for c, dps := range s.m {
			if !yield(c, dps) {
				return
			}
		}
	}
}

// Equal reports whether two indexes hold the same sets.
func (s *FlowSets) Equal(o *FlowSets) bool {
	if len(s.m) != len(o.m) {
		return false
	}
	for c, dps := range s.m {
		if !slices.Equal(dps, o.m[c]) {
			return false
		}
	}
	return true
}

// add records that datapath key wants content. The set is edited in place:
// Datapaths results are valid until the next Apply.
func (s *FlowSets) add(content translate.Flow, key string) {
	dps := s.m[content]
	if i, found := slices.BinarySearch(dps, key); !found {
		s.m[content] = slices.Insert(dps, i, key)
	}
}

// remove records that datapath key no longer wants content.
func (s *FlowSets) remove(content translate.Flow, key string) {
	dps := s.m[content]
	i, found := slices.BinarySearch(dps, key)
	switch {
	case !found:
	case len(dps) == 1:
		delete(s.m, content)
	default:
		s.m[content] = slices.Delete(dps, i, i+1)
	}
}

// update moves datapath key's flows from old to new (either may be nil) and
// records the contents whose datapath set changed in changed.
func (s *FlowSets) update(key string, old, new *translate.DatapathOut, changed map[translate.Flow]bool) {
	var oldF, newF []translate.Flow
	if old != nil {
		oldF = old.Flows
	}
	if new != nil {
		newF = new.Flows
	}
	if slices.Equal(oldF, newF) {
		return
	}
	want := make(map[translate.Flow]bool, len(newF))
	for _, f := range newF {
		want[Content(f)] = true
	}
	for _, f := range oldF {
		c := Content(f)
		if !want[c] {
			s.remove(c, key)
			changed[c] = true
		}
	}
	had := make(map[translate.Flow]bool, len(oldF))
	for _, f := range oldF {
		had[Content(f)] = true
	}
	for c := range want {
		if !had[c] {
			s.add(c, key)
			changed[c] = true
		}
	}
}
