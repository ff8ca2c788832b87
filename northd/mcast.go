package northd

import (
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/engine"
	"hcnet/northd/translate"
)

// SB tables of IGMP/MLD snooping: northd writes IP_Multicast (a switch's
// snooping configuration) and reads IGMP_Group (what each chassis learnt).
const (
	tIPMulticast = "IP_Multicast"
	tIGMPGroup   = "IGMP_Group"
)

// ipMulticast reconciles the IP_Multicast row of a datapath (dpUUID when
// have, dpVal its reference in this transaction) with want (nil: none).
// seq_no is left to whoever flushes.
func (w *writer) ipMulticast(dpUUID string, have bool, dpVal ovsdb.UUID, want *translate.IPMulticast) {
	var rows []string
	if have {
		rows = slices.Sorted(maps.Keys(w.sb.rowsOf(tIPMulticast, dpUUID)))
	}
	if want == nil {
		for _, u := range rows {
			w.t.delete(tIPMulticast, u)
		}
		return
	}
	row := ovsdb.Row{
		"datapath": dpVal, "enabled": optBool(want.Enabled), "querier": optBool(want.Querier),
		"eth_src": want.EthSrc, "ip4_src": want.IP4Src, "ip6_src": want.IP6Src,
		"table_size": optInt(want.TableSize), "idle_timeout": optInt(want.IdleTimeout),
		"query_interval": optInt(want.QueryInterval), "query_max_resp": optInt(want.QueryMaxResp),
	}
	if len(rows) == 0 {
		row["seq_no"] = 0
		w.t.insert(tIPMulticast, row, "")
		return
	}
	for _, u := range rows[1:] {
		w.t.delete(tIPMulticast, u)
	}
	cur := w.sb.table(tIPMulticast)[rows[0]]
	b := func(col string) bool { v, _ := boolean(cur, col); return v }
	if b("enabled") != want.Enabled || b("querier") != want.Querier || str(cur, "eth_src") != want.EthSrc ||
		str(cur, "ip4_src") != want.IP4Src || str(cur, "ip6_src") != want.IP6Src || num(cur, "table_size") != want.TableSize ||
		num(cur, "idle_timeout") != want.IdleTimeout || num(cur, "query_interval") != want.QueryInterval ||
		num(cur, "query_max_resp") != want.QueryMaxResp {
		w.t.update(tIPMulticast, rows[0], row)
	}
}

func optBool(b bool) ovsdb.OvsSet { return ovsdb.OvsSet{GoSet: []any{b}} }

// igmpChanges returns the engine changes that bring the engine's view of
// learnt multicast groups (translate.NB.IGMPGroups) in line with the SB
// IGMP_Group rows: one group per switch and address, with the ports every
// chassis reported.
func (d *Daemon) igmpChanges() []engine.Change {
	want := map[string]*translate.IGMPGroup{}
	for _, r := range d.sb.table(tIGMPGroup) {
		dp, ok := d.sb.dpOf[ref(r, "datapath")]
		if !ok {
			continue
		}
		addr := str(r, "address")
		k := translate.IGMPGroupKey(dp, addr)
		g := want[k]
		if g == nil {
			g = &translate.IGMPGroup{Datapath: dp, Address: addr}
			want[k] = g
		}
		for _, pu := range strSet(r, "ports") {
			if name, ok := d.sb.portNameOf[pu]; ok {
				g.Ports = append(g.Ports, name)
			}
		}
	}
	for _, g := range want {
		slices.Sort(g.Ports)
		g.Ports = slices.Compact(g.Ports)
	}
	have := d.eng.NB().IGMPGroups
	var out []engine.Change
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		if h, ok := have[k]; !ok || h.Datapath != w.Datapath || h.Address != w.Address || !slices.Equal(h.Ports, w.Ports) {
			out = append(out, engine.Change{Table: translate.IGMPGroupTable, UUID: k, Row: w})
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			out = append(out, engine.Change{Table: translate.IGMPGroupTable, UUID: k})
		}
	}
	return out
}
