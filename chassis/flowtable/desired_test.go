package flowtable

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

// TestDesiredEqualsFullMerge runs random rounds (owners added, changed,
// kept and dropped; shared keys, conjunctions and conflicts) and checks
// that the incremental merge equals a Table built from scratch.
func TestDesiredEqualsFullMerge(t *testing.T) {
	seed := int64(20261121)
	r := rand.New(rand.NewSource(seed))
	randFlows := func() []Flow {
		n := 1 + r.Intn(4)
		out := make([]Flow, n)
		for i := range out {
			f := Flow{Table: uint8(r.Intn(3)), Priority: uint16(100 * r.Intn(2)), Match: fmt.Sprintf("reg15=%#x", r.Intn(6))}
			switch r.Intn(3) {
			case 0:
				f.Actions = fmt.Sprintf("conjunction(%d,%d/2)", 1+r.Intn(5), 1+r.Intn(2))
			case 1:
				f.Actions = fmt.Sprintf("resubmit(,%d)", 10+r.Intn(2))
			default:
				f.Actions = ""
			}
			out[i] = f
		}
		return out
	}
	current := map[string][]Flow{}
	d := NewDesired()
	for round := 0; round < 300; round++ {
		for i := 0; i < 12; i++ {
			o := fmt.Sprintf("owner%d", i)
			switch r.Intn(5) {
			case 0:
				delete(current, o)
			case 1:
				current[o] = randFlows()
			case 2:
				if fs, ok := current[o]; ok {
					// Same content, new slice: must be seen as unchanged.
					current[o] = append([]Flow(nil), fs...)
				}
			}
		}
		full := New()
		for o, fs := range current {
			full.Set(o, fs)
			d.Set(o, fs)
		}
		want, wantC := full.Flows()
		finish := d.Finish
		if round%3 == 1 {
			finish = d.FinishView // the same table, not copied
		}
		got, gotC := finish()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d round %d: incremental\n%v\nfull\n%v", seed, round, got, want)
		}
		sort.Strings(wantC)
		if !reflect.DeepEqual(gotC, wantC) && (len(gotC) > 0 || len(wantC) > 0) {
			t.Fatalf("seed %d round %d: conflicts %v, want %v", seed, round, gotC, wantC)
		}
	}
}

func BenchmarkDesiredUnchangedRound(b *testing.B) {
	owners := map[string][]Flow{}
	for i := 0; i < 2000; i++ {
		owners[fmt.Sprintf("lf%d", i)] = []Flow{{Table: 8, Priority: 100, Match: fmt.Sprintf("reg14=%#x,metadata=0x1", i), Actions: "resubmit(,9)"},
			{Table: 9, Priority: 100, Match: fmt.Sprintf("reg15=%#x,metadata=0x1", i), Actions: "resubmit(,10)"}}
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			t := New()
			for o, fs := range owners {
				t.Set(o, fs)
			}
			t.Flows()
		}
	})
	b.Run("desired", func(b *testing.B) {
		d := NewDesired()
		for b.Loop() {
			for o, fs := range owners {
				d.Set(o, fs)
			}
			d.Finish()
		}
	})
}
