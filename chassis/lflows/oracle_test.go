package lflows

import (
	"flag"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

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
