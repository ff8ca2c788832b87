package northd

import (
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/translate"
)

// sharedRow is a desired SB row that several datapaths list: a
// Load_Balancer (by NB load balancer) or a DNS row (by NB DNS row).
type sharedRow struct {
	dps []string // NB keys of the datapaths that list it, sorted
	lb  translate.LoadBalancer
	dns translate.DNSRecords
}

// desiredShared collects the Load_Balancer and DNS rows the datapaths
// list, by NB key.
func desiredShared(desired *translate.SB) (lbs, dns map[string]*sharedRow) {
	lbs, dns = map[string]*sharedRow{}, map[string]*sharedRow{}
	for key, d := range desired.Datapaths {
		for _, l := range d.LoadBalancers {
			r := lbs[l.Key]
			if r == nil {
				r = &sharedRow{lb: l}
				lbs[l.Key] = r
			}
			r.dps = append(r.dps, key)
		}
		for _, x := range d.DNS {
			r := dns[x.Key]
			if r == nil {
				r = &sharedRow{dns: x}
				dns[x.Key] = r
			}
			r.dps = append(r.dps, key)
		}
	}
	for _, m := range []map[string]*sharedRow{lbs, dns} {
		for _, r := range m {
			slices.Sort(r.dps)
		}
	}
	return lbs, dns
}

// shared reconciles SB Load_Balancer and DNS rows, as ovn-northd 23.03
// writes them: one per NB row that some datapath uses, identified by
// external_ids lb_id or dns_id, listing those datapaths. It must run
// before, or in the transaction of, any datapath deletion: the rows refer
// to datapaths strongly.
func (w *writer) shared(desired *translate.SB) {
	lbs, dns := desiredShared(desired)
	w.reconcileShared(tLoadBalancer, "lb_id", lbs, func(r *sharedRow, refs ovsdb.OvsSet) ovsdb.Row {
		return ovsdb.Row{
			"name": r.lb.Name, "protocol": optStr(r.lb.Protocol), "vips": omap(r.lb.Vips),
			"external_ids": omap(map[string]string{"lb_id": r.lb.Key}),
			"options":      omap(r.lb.Options),
			"datapaths":    refs, "datapath_group": optRef(""),
		}
	}, func(cur ovsdb.Row, r *sharedRow) bool {
		return str(cur, "name") == r.lb.Name && optString(cur, "protocol") == r.lb.Protocol &&
			maps.Equal(strMap(cur, "vips"), nonNil(r.lb.Vips)) &&
			maps.Equal(strMap(cur, "options"), r.lb.Options) &&
			ref(cur, "datapath_group") == ""
	})
	w.reconcileShared(tDNS, "dns_id", dns, func(r *sharedRow, refs ovsdb.OvsSet) ovsdb.Row {
		return ovsdb.Row{
			"records":      omap(r.dns.Records),
			"external_ids": omap(map[string]string{"dns_id": r.dns.Key}),
			"datapaths":    refs,
		}
	}, func(cur ovsdb.Row, r *sharedRow) bool {
		return maps.Equal(strMap(cur, "records"), nonNil(r.dns.Records))
	})
}

// reconcileShared makes table hold exactly one row per desired key (in
// external_ids idKey), with the row build makes; same compares the
// columns other than datapaths and external_ids.
func (w *writer) reconcileShared(table, idKey string, desired map[string]*sharedRow,
	build func(*sharedRow, ovsdb.OvsSet) ovsdb.Row, same func(ovsdb.Row, *sharedRow) bool) {
	seen := map[string]bool{}
	for u, cur := range w.sb.table(table) {
		ext := strMap(cur, "external_ids")
		key := ext[idKey]
		r, ok := desired[key]
		if !ok || seen[key] {
			w.t.delete(table, u)
			continue
		}
		seen[key] = true
		refs, ok := w.dpRefs(r.dps)
		if !ok {
			return
		}
		have := strSet(cur, "datapaths")
		slices.Sort(have)
		want := make([]string, len(refs.GoSet))
		for i, e := range refs.GoSet {
			want[i] = e.(ovsdb.UUID).GoUUID
		}
		slices.Sort(want)
		if !same(cur, r) || !slices.Equal(have, want) || len(ext) != 1 {
			w.t.update(table, u, build(r, refs))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(desired)) {
		if seen[key] {
			continue
		}
		r := desired[key]
		refs, ok := w.dpRefs(r.dps)
		if !ok {
			return
		}
		w.t.insert(table, build(r, refs), "")
	}
}

// dpRefs returns the datapaths with NB keys keys as a set of UUIDs or
// named UUIDs.
func (w *writer) dpRefs(keys []string) (ovsdb.OvsSet, bool) {
	refs := make([]ovsdb.UUID, 0, len(keys))
	for _, k := range keys {
		r := w.dpRef(k)
		if r == "" {
			return ovsdb.OvsSet{}, false
		}
		refs = append(refs, uuidRef(r))
	}
	return set(refs), true
}

// optString reads an optional string column.
func optString(r ovsdb.Row, col string) string {
	if s := strSet(r, col); len(s) == 1 {
		return s[0]
	}
	return str(r, col)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
