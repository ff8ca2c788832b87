package flowtable

import (
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"hcnet/internal/openflow"
)

func keysOf(m map[string]Flow) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAggregate(t *testing.T) {
	md := openflow.MustField("metadata")
	of := func(dp uint64) *openflow.Flow {
		return &openflow.Flow{Match: openflow.Match{{Field: md, Value: openflow.U64(dp), Mask: openflow.Ones(64)}}, Actions: openflow.Actions{openflow.Resubmit{Table: 47}}}
	}
	fl := func(table uint8, match, actions string) Flow {
		return Flow{Table: table, Priority: 100, Match: match, Actions: actions}
	}
	in := map[string]Flow{}
	add := func(f Flow) { in[f.Key()] = f }
	// Alike in dps 1 and 2: collapsed (with the compiled form).
	a1, a2 := fl(46, "metadata=0x1", "resubmit(,47)"), fl(46, "metadata=0x2", "resubmit(,47)")
	a1.OF, a2.OF = of(1), of(2)
	add(a1)
	add(a2)
	add(fl(13, "icmp6,metadata=0x1,icmp_type=143", "resubmit(,14)"))
	add(fl(13, "icmp6,metadata=0x2,icmp_type=143", "resubmit(,14)"))
	// Different actions: kept.
	add(fl(27, "arp,reg14=0x1,metadata=0x1", "resubmit(,28)"))
	add(fl(27, "arp,reg14=0x1,metadata=0x2", "drop"))
	// Only one local datapath has it: kept.
	add(fl(30, "metadata=0x1,ip", "resubmit(,31)"))
	// Non-local datapath 3 does not block the others.
	add(fl(31, "metadata=0x3", "resubmit(,32)"))
	// The collapsed key is taken by another flow: kept.
	add(fl(33, "metadata=0x1,reg0=0x1", "resubmit(,34)"))
	add(fl(33, "metadata=0x2,reg0=0x1", "resubmit(,34)"))
	add(fl(33, "reg0=0x1", "drop"))
	before := keysOf(in)
	got := NewAggregator().Aggregate(in, map[uint32]bool{1: true, 2: true})
	if !reflect.DeepEqual(keysOf(in), before) {
		t.Fatal("input modified")
	}
	want := []string{
		"table=13,priority=100,icmp6,icmp_type=143",
		"table=27,priority=100,arp,reg14=0x1,metadata=0x1",
		"table=27,priority=100,arp,reg14=0x1,metadata=0x2",
		"table=30,priority=100,metadata=0x1,ip",
		"table=31,priority=100,metadata=0x3",
		"table=33,priority=100,metadata=0x1,reg0=0x1",
		"table=33,priority=100,metadata=0x2,reg0=0x1",
		"table=33,priority=100,reg0=0x1",
		"table=46,priority=100,",
	}
	if g := keysOf(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("keys\n%q\nwant\n%q", g, want)
	}
	c := got["table=46,priority=100,"]
	if c.OF == nil || len(c.OF.Match) != 0 || c.OF.Actions.String() != "resubmit(,47)" {
		t.Errorf("collapsed compiled form %+v", c.OF)
	}
	if a1.OF.Match[0].Field != md {
		t.Error("input's compiled form modified")
	}
	// One local datapath: nothing to share.
	if g := NewAggregator().Aggregate(in, map[uint32]bool{1: true}); len(g) != len(in) {
		t.Errorf("one datapath: %d flows, want %d", len(g), len(in))
	}
}

func BenchmarkAggregate(b *testing.B) {
	flows := map[string]Flow{}
	local := map[uint32]bool{}
	for dp := 1; dp <= 20; dp++ {
		local[uint32(dp)] = true
		for i := 0; i < 120; i++ {
			f := Flow{Table: uint8(i % 50), Priority: uint16(i), Match: "ip,metadata=" + strconv.Itoa(dp) + ",reg0=0x1", Actions: "resubmit(,51)"}
			flows[f.Key()] = f
		}
		for p := 0; p < 60; p++ {
			f := Flow{Table: 27, Priority: 100, Match: "arp,reg14=" + strconv.Itoa(p) + ",metadata=" + strconv.Itoa(dp), Actions: "resubmit(,28)"}
			flows[f.Key()] = f
		}
	}
	a := NewAggregator()
	b.ResetTimer()
	for b.Loop() {
		a.Aggregate(flows, local)
	}
}

// TestUpdateEqualsAggregate drives Desired and the incremental
// aggregation through random rounds and compares with a fresh full
// aggregation of the same table every round.
func TestUpdateEqualsAggregate(t *testing.T) {
	for _, seed := range []int64{8421, 7, 99, 2026} {
		updateEqualsAggregate(t, seed)
	}
}

func updateEqualsAggregate(t *testing.T, seed int64) {
	r := rand.New(rand.NewSource(seed))
	md := openflow.MustField("metadata")
	randFlows := func(dp int) []Flow {
		var out []Flow
		for i := 0; i < 1+r.Intn(3); i++ {
			f := Flow{Table: uint8(r.Intn(2)), Priority: 100, Match: fmt.Sprintf("reg%d=0x1,metadata=%#x", r.Intn(2), dp)}
			if r.Intn(4) == 0 {
				f.Match = fmt.Sprintf("reg%d=0x1", r.Intn(2)) // dp-less: may take a collapsed key
			}
			f.Actions = fmt.Sprintf("resubmit(,%d)", 10+r.Intn(2))
			if r.Intn(2) == 0 {
				f.OF = &openflow.Flow{Match: openflow.Match{{Field: md, Value: openflow.U64(uint64(dp)), Mask: openflow.Ones(64)}}}
			}
			out = append(out, f)
		}
		return out
	}
	d := NewDesired()
	agg := NewAggregator()
	owners := map[string][]Flow{}
	local := map[uint32]bool{1: true, 2: true, 3: true}
	for round := 0; round < 1500; round++ {
		for i := 0; i < 9; i++ {
			o := fmt.Sprintf("o%d", i)
			switch r.Intn(4) {
			case 0:
				delete(owners, o)
			case 1:
				owners[o] = randFlows(1 + i%4) // dp 4 is not local
			}
		}
		if r.Intn(25) == 0 {
			local = map[uint32]bool{1: true, 2: true}
			if r.Intn(2) == 0 {
				local[3] = true
			}
		}
		for o, fs := range owners {
			d.Set(o, fs)
		}
		flows, _ := d.FinishView()
		got := agg.Update(flows, local, d.ChangedKeys())
		want := NewAggregator().Aggregate(flows, local)
		if !reflect.DeepEqual(keysOf(got), keysOf(want)) {
			t.Fatalf("seed %d round %d: keys\n%q\nwant\n%q", seed, round, keysOf(got), keysOf(want))
		}
		for k, w := range want {
			g := got[k]
			if g.Actions != w.Actions || g.Match != w.Match || (g.OF == nil) != (w.OF == nil) ||
				(g.OF != nil && g.OF.Match.String() != w.OF.Match.String()) {
				t.Fatalf("seed %d round %d: %s: %+v (OF %v), want %+v (OF %v); changed %v", seed, round, k, g, g.OF, w, w.OF, d.ChangedKeys())
			}
		}
	}
}

func BenchmarkAggregateUpdateFewChanges(b *testing.B) {
	flows := map[string]Flow{}
	local := map[uint32]bool{}
	for dp := 1; dp <= 20; dp++ {
		local[uint32(dp)] = true
		for i := 0; i < 120; i++ {
			f := Flow{Table: uint8(i % 50), Priority: uint16(i), Match: "ip,metadata=" + strconv.Itoa(dp) + ",reg0=0x1", Actions: "resubmit(,51)"}
			flows[f.Key()] = f
		}
		for p := 0; p < 60; p++ {
			f := Flow{Table: 27, Priority: 100, Match: "arp,reg14=" + strconv.Itoa(p) + ",metadata=" + strconv.Itoa(dp), Actions: "resubmit(,28)"}
			flows[f.Key()] = f
		}
	}
	a := NewAggregator()
	a.Update(flows, local, nil)
	extra := Flow{Table: 27, Priority: 100, Match: "arp,reg14=0x999,metadata=0x1", Actions: "resubmit(,28)"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			flows[extra.Key()] = extra
		} else {
			delete(flows, extra.Key())
		}
		a.Update(flows, local, []string{extra.Key()})
	}
}

// TestUpdateResultSurvivesNextFinish: what Update returns (kept by the
// daemon as the installed table) does not change when the desired table
// it read (FinishView's own map) changes, also with fewer than two local
// datapaths (nothing aggregated).
func TestUpdateResultSurvivesNextFinish(t *testing.T) {
	for _, local := range []map[uint32]bool{{1: true}, {1: true, 2: true}} {
		d, agg := NewDesired(), NewAggregator()
		d.Set("a", []Flow{{Table: 8, Priority: 100, Match: "reg14=0x1,metadata=0x1", Actions: "next"}})
		flows, _ := d.FinishView()
		got := agg.Update(flows, local, d.ChangedKeys())
		before := maps.Clone(got)
		d.Set("a", []Flow{{Table: 8, Priority: 100, Match: "reg14=0x1,metadata=0x1", Actions: "drop"}})
		d.Set("b", []Flow{{Table: 9, Priority: 100, Match: "reg14=0x2,metadata=0x1", Actions: "drop"}})
		flows, _ = d.FinishView()
		agg.Update(flows, local, d.ChangedKeys())
		if !reflect.DeepEqual(got, before) {
			t.Fatalf("local %v: the earlier result changed to %v, was %v", local, got, before)
		}
	}
}
