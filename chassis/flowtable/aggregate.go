package flowtable

import (
	"maps"
	"strconv"
	"strings"

	"hcnet/internal/openflow"
)

// Aggregator collapses flows that every local datapath has alike into one
// flow without the metadata match. A logical flow of a datapath group
// compiles to one OpenFlow flow per datapath (ovn-controller installs
// them all); when the copies for every local datapath have the same
// table, priority, rest of the match and actions, a packet of any local
// datapath meets the same verdict from one flow that ignores metadata.
// Packets only carry the metadata of a local datapath (table 0 sets it
// from local ports, patch peers and tunnels to ports bound here), so the
// tables behave the same. It keeps parsed matches between rounds.
type Aggregator struct {
	parsed map[string]aggKey // flow key -> its parts
	inc    *incState
}

type aggKey struct {
	ok      bool
	dp      uint32
	rest    string // match without the metadata token
	actions string // the actions group was made for
	group   string // table, priority, rest and actions
}

// NewAggregator returns an Aggregator.
func NewAggregator() *Aggregator { return &Aggregator{parsed: map[string]aggKey{}} }

func splitMetadata(match string) aggKey {
	var rest []string
	var dp uint64
	found := false
	for _, part := range strings.Split(match, ",") {
		if v, ok := strings.CutPrefix(part, "metadata="); ok {
			if found || strings.Contains(v, "/") {
				return aggKey{}
			}
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return aggKey{}
			}
			dp, found = n, true
			continue
		}
		rest = append(rest, part)
	}
	if !found {
		return aggKey{}
	}
	return aggKey{ok: true, dp: uint32(dp), rest: strings.Join(rest, ",")}
}

// Aggregate returns flows with the copies shared by all local datapaths
// (keys in local, at least two) replaced by one flow each. flows is not
// modified. A collapsed flow whose key another flow already has is left
// as it is.
func (a *Aggregator) Aggregate(flows map[string]Flow, local map[uint32]bool) map[string]Flow {
	if len(local) < 2 {
		return flows
	}
	seen := make(map[string]bool, len(flows))
	groups := map[string][]string{}
	for k, f := range flows {
		seen[k] = true
		p, ok := a.parsed[k]
		if !ok || p.actions != f.Actions {
			if !ok {
				p = splitMetadata(f.Match)
			}
			p.actions = f.Actions
			if p.ok {
				p.group = strconv.Itoa(int(f.Table)) + "|" + strconv.Itoa(int(f.Priority)) + "|" + p.rest + "|" + f.Actions
			}
			a.parsed[k] = p
		}
		if !p.ok || !local[p.dp] {
			continue
		}
		groups[p.group] = append(groups[p.group], k)
	}
	if len(a.parsed) > len(seen) {
		for k := range a.parsed {
			if !seen[k] {
				delete(a.parsed, k)
			}
		}
	}
	var out map[string]Flow
	for _, keys := range groups {
		// Keys are unique, so a group holds each datapath at most once.
		if len(keys) != len(local) {
			continue
		}
		first := keys[0]
		for _, k := range keys[1:] {
			if k < first {
				first = k
			}
		}
		f := collapse(flows[first], a.parsed[first].rest)
		nk := f.Key()
		if _, taken := flows[nk]; taken {
			continue
		}
		if out == nil {
			out = maps.Clone(flows)
		}
		for _, k := range keys {
			delete(out, k)
		}
		out[nk] = f
	}
	if out == nil {
		return flows
	}
	return out
}

// collapse returns f without its metadata match (rest is its match text
// without the metadata token).
func collapse(f Flow, rest string) Flow {
	f.Match = rest
	if f.OF != nil {
		of := *f.OF
		of.Match = make(openflow.Match, 0, len(f.OF.Match))
		for _, fm := range f.OF.Match {
			if fm.Field.Name != "metadata" {
				of.Match = append(of.Match, fm)
			}
		}
		f.OF = &of
	}
	return f
}
