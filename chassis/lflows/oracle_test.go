package lflows

import (
	"flag"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/physical"
)

var seed = flag.Int64("seed", 0, "seed for TestCachedEqualsRecompute (0: time-based)")

// TestCachedEqualsRecompute: after any sequence of changes to ports, their
// keys, residence and the flows themselves, the cached compiler's output
// equals a compilation from scratch (full recompute is the oracle).
func TestCachedEqualsRecompute(t *testing.T) {
	s := *seed
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	rng := rand.New(rand.NewSource(s))
	lf := func(dp string, table, prio int, match, actions string) map[string]any {
		return map[string]any{"pipeline": "ingress", "table_id": table, "priority": prio, "match": match, "actions": actions, "logical_datapath": ref(dp)}
	}
	content := map[string]map[string]map[string]any{
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Logical_Flow":     {},
	}
	for i := 0; i < 6; i++ {
		content["Logical_Flow"][fmt.Sprintf("l2-%d", i)] = lf("sw0", 25, 50,
			fmt.Sprintf(`eth.dst == 0a:00:00:00:00:%02x`, i), fmt.Sprintf(`outport = "vm%d"; output;`, i))
		content["Logical_Flow"][fmt.Sprintf("in-%d", i)] = lf("sw0", 1, 100,
			fmt.Sprintf(`inport == "vm%d" && is_chassis_resident("vm%d")`, i, i), `next;`)
	}
	db := sb(t, content)
	ports := map[string]physical.Port{}
	cached := New()
	for step := 0; step < 200; step++ {
		i := rng.Intn(6)
		id := fmt.Sprintf("pb%d", i)
		switch rng.Intn(4) {
		case 0: // add or re-key
			ports[id] = physical.Port{UUID: id, Name: fmt.Sprintf("vm%d", i), Datapath: uuid("sw0"), Key: uint32(1 + rng.Intn(8))}
		case 1: // remove
			delete(ports, id)
		case 2: // bind here or elsewhere
			if p, ok := ports[id]; ok {
				if rng.Intn(2) == 0 {
					p.Chassis, p.OFPort = "hv1", 10+i
				} else {
					p.Chassis, p.OFPort = "hv2", 0
				}
				ports[id] = p
			}
		case 3: // no change
		}
		in := Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true},
			Physical: physical.Input{Chassis: "hv1", Ports: copyPorts(ports)}}
		got := cached.Compile(in)
		want := New().Compile(in)
		if !reflect.DeepEqual(got.Flows, want.Flows) {
			t.Fatalf("step %d (seed %d): cached output differs from recompute\ncached: %v\nfresh:  %v", step, s, got.Flows, want.Flows)
		}
	}
}

func copyPorts(m map[string]physical.Port) map[string]physical.Port {
	out := make(map[string]physical.Port, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestIncrementalEqualsRecompute drives the compiler with the replica's
// change record (Input.Changed) through random changes to logical flows,
// datapath groups, address sets, ports and the local datapaths: after each
// step its output equals a fresh compiler's full compilation, and a step
// that changes nothing visits no logical flow (the fast path is not lost).
func TestIncrementalEqualsRecompute(t *testing.T) {
	s := *seed
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	rng := rand.New(rand.NewSource(s))
	dps := []string{"sw0", "sw1", "sw2"}
	db := sb(t, map[string]map[string]map[string]any{
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}, "sw1": {"tunnel_key": 2}, "sw2": {"tunnel_key": 3}},
		"Logical_DP_Group": {"g": {"datapaths": []any{"set", []any{ref("sw0"), ref("sw1")}}}},
		"Address_Set":      {"as": {"name": "as1", "addresses": []any{"set", []any{"10.0.0.1"}}}},
	})
	db.TrackChanges()
	put := func(table, tag string, row ovsdb.Row) {
		t.Helper()
		if err := db.ApplyRow(table, uuid(tag), "insert", row); err != nil {
			t.Fatal(err)
		}
	}
	del := func(table, tag string) {
		t.Helper()
		if err := db.ApplyRow(table, uuid(tag), "delete", nil); err != nil {
			t.Fatal(err)
		}
	}
	randFlow := func() ovsdb.Row {
		i := rng.Intn(6)
		r := ovsdb.Row{"pipeline": "ingress", "table_id": 25, "priority": 50 + rng.Intn(3)}
		switch rng.Intn(3) {
		case 0:
			r["match"], r["actions"] = fmt.Sprintf(`eth.dst == 0a:00:00:00:00:%02x`, i), fmt.Sprintf(`outport = "vm%d"; output;`, i)
		case 1:
			r["match"], r["actions"] = fmt.Sprintf(`inport == "vm%d" && ip4.src == $as1`, i), `next;`
		default:
			r["match"], r["actions"] = fmt.Sprintf(`is_chassis_resident("vm%d")`, i), `drop;`
		}
		if rng.Intn(3) == 0 {
			r["logical_dp_group"] = ovsdb.UUID{GoUUID: uuid("g")}
		} else {
			r["logical_datapath"] = ovsdb.UUID{GoUUID: uuid(dps[rng.Intn(len(dps))])}
		}
		return r
	}
	ports := map[string]physical.Port{}
	local := map[string]bool{uuid("sw0"): true}
	inc := New()
	for step := 0; step < 300; step++ {
		i := rng.Intn(6)
		switch rng.Intn(9) {
		case 0, 1: // add or change a logical flow
			put("Logical_Flow", fmt.Sprintf("lf%d", rng.Intn(12)), randFlow())
		case 2:
			del("Logical_Flow", fmt.Sprintf("lf%d", rng.Intn(12)))
		case 3: // a port comes, moves, is re-keyed or bound here
			id := fmt.Sprintf("pb%d", i)
			p := physical.Port{UUID: id, Name: fmt.Sprintf("vm%d", i), Datapath: uuid(dps[rng.Intn(len(dps))]), Key: uint32(1 + rng.Intn(8))}
			if rng.Intn(2) == 0 {
				p.Chassis, p.OFPort = "hv1", 10+i
			}
			ports[id] = p
		case 4:
			delete(ports, fmt.Sprintf("pb%d", i))
		case 5: // datapath group membership
			var members []any
			for _, dp := range dps {
				if rng.Intn(2) == 0 {
					members = append(members, ref(dp))
				}
			}
			put("Logical_DP_Group", "g", ovsdb.Row{"datapaths": ovsdb.OvsSet{GoSet: uuidSet(members)}})
		case 6:
			put("Address_Set", "as", ovsdb.Row{"name": "as1", "addresses": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("10.0.0.%d", 1+rng.Intn(3))}}})
		case 7: // local datapaths
			dp := uuid(dps[rng.Intn(len(dps))])
			local = maps.Clone(local)
			local[dp] = !local[dp]
			if !local[dp] {
				delete(local, dp)
			}
		case 8: // nothing
		}
		in := Input{SB: db, LocalDPs: local, Physical: physical.Input{Chassis: "hv1", Ports: copyPorts(ports)}}
		changed := db.TakeChanged()
		in.Changed = changed
		visited := inc.Visited
		got := inc.Compile(in)
		in.Changed = nil
		want := New().Compile(in)
		if !reflect.DeepEqual(got.Flows, want.Flows) {
			t.Fatalf("step %d (seed %d): incremental output differs from recompute\nincremental: %v\nfresh:       %v", step, s, got.Flows, want.Flows)
		}
		if len(got.Errors) != len(want.Errors) {
			t.Fatalf("step %d (seed %d): %d errors, recompute has %d", step, s, len(got.Errors), len(want.Errors))
		}
		if len(changed) == 0 {
			// Nothing changed in the southbound, ports or local
			// datapaths may have: a second round with the same input
			// must visit nothing.
			visited = inc.Visited
			in.Changed = map[string]map[string]struct{}{}
			inc.Compile(in)
			if inc.Visited != visited {
				t.Fatalf("step %d (seed %d): an unchanged round visited %d logical flows", step, s, inc.Visited-visited)
			}
		}
	}
}

func uuidSet(refs []any) []any {
	out := make([]any, 0, len(refs))
	for _, r := range refs {
		out = append(out, ovsdb.UUID{GoUUID: r.([]any)[1].(string)})
	}
	return out
}
