package flowtable

import (
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
