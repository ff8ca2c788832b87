package openflow

import (
	"fmt"
	"sort"
	"strings"
)

// FieldMatch matches the bits of Field selected by Mask against Value.
// Value has no bits outside Mask.
type FieldMatch struct {
	Field *Field
	Value U128
	Mask  U128
}

// Match is a set of field matches, at most one per field, kept in
// canonical order by Normalize.
type Match []FieldMatch

// Get returns the match on f, if any.
func (m Match) Get(f *Field) (FieldMatch, bool) {
	for _, fm := range m {
		if fm.Field == f {
			return fm, true
		}
	}
	return FieldMatch{}, false
}

// With returns a copy of m that also matches f's bits in mask against v.
// ok is false when the result can never match (conflicting bits).
func (m Match) With(f *Field, v, mask U128) (Match, bool) {
	mask = mask.And(Ones(f.Bits))
	v = v.And(mask)
	out := make(Match, 0, len(m)+1)
	found := false
	for _, fm := range m {
		if fm.Field == f {
			found = true
			common := fm.Mask.And(mask)
			if fm.Value.And(common) != v.And(common) {
				return nil, false
			}
			fm.Value = fm.Value.Or(v)
			fm.Mask = fm.Mask.Or(mask)
		}
		out = append(out, fm)
	}
	if !found {
		out = append(out, FieldMatch{Field: f, Value: v, Mask: mask})
	}
	out.Normalize()
	return out, true
}

// Normalize sorts m into canonical field order and drops empty masks.
func (m *Match) Normalize() {
	out := (*m)[:0]
	for _, fm := range *m {
		if !fm.Mask.IsZero() {
			out = append(out, fm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field.order < out[j].Field.order })
	*m = out
}

// Key returns a string that is equal for equal matches.
func (m Match) Key() string { return m.String() }

type shorthand struct {
	name     string
	ethType  uint64
	nwProto  uint64 // 0: none
	hasProto bool
}

var shorthands = []shorthand{
	{"tcp", 0x0800, 6, true}, {"udp", 0x0800, 17, true}, {"sctp", 0x0800, 132, true}, {"icmp", 0x0800, 1, true},
	{"tcp6", 0x86dd, 6, true}, {"udp6", 0x86dd, 17, true}, {"sctp6", 0x86dd, 132, true}, {"icmp6", 0x86dd, 58, true},
	{"ip", 0x0800, 0, false}, {"ipv6", 0x86dd, 0, false}, {"arp", 0x0806, 0, false}, {"rarp", 0x8035, 0, false},
}

// String writes m as ovs-ofctl match text (without priority), using the
// protocol shorthands (ip, tcp, arp, ...) ovs-ofctl prints.
func (m Match) String() string {
	var parts []string
	ethType, hasEth := m.Get(MustField("eth_type"))
	proto, hasProto := m.Get(MustField("nw_proto"))
	skipEth, skipProto := false, false
	if hasEth {
		for _, s := range shorthands {
			if s.ethType != ethType.Value.Lo {
				continue
			}
			if s.hasProto && (!hasProto || proto.Value.Lo != s.nwProto) {
				continue
			}
			parts = append(parts, s.name)
			skipEth, skipProto = true, s.hasProto
			break
		}
	}
	for _, fm := range m {
		if fm.Field.Name == "eth_type" && skipEth || fm.Field.Name == "nw_proto" && skipProto {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", fm.Field.Name, fm.Field.FormatValue(fm.Value, fm.Mask)))
	}
	return strings.Join(parts, ",")
}
