package openflow_test

import (
	"strings"
	"testing"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

func f(name string) *openflow.Field { return openflow.MustField(name) }

func sub(name string, ofs, bits int) openflow.Subfield {
	return openflow.Subfield{Field: f(name), Ofs: ofs, Bits: bits}
}

func m(fms ...openflow.FieldMatch) openflow.Match {
	out := openflow.Match(fms)
	out.Normalize()
	return out
}

func exact(name string, v uint64) openflow.FieldMatch {
	return openflow.FieldMatch{Field: f(name), Value: openflow.U64(v), Mask: openflow.Ones(f(name).Bits)}
}

func masked(name string, v, mask uint64) openflow.FieldMatch {
	return openflow.FieldMatch{Field: f(name), Value: openflow.U64(v & mask), Mask: openflow.U64(mask)}
}

// sampleFlows covers every match format and action type we encode.
func sampleFlows() []openflow.Flow {
	ipv6 := openflow.FieldMatch{Field: f("ipv6_src"), Value: openflow.U128{Hi: 0xfe80000000000000}, Mask: openflow.Range(118, 10)}
	zone := sub("reg13", 0, 16)
	return []openflow.Flow{
		{Table: 8, Priority: 100, Cookie: 0x1, Match: m(exact("reg14", 1), exact("metadata", 5), exact("eth_type", 0x800), masked("ip_src", 0x0a000000, 0xffffff00)),
			Actions: openflow.Actions{openflow.SetField{Field: f("reg15"), Value: openflow.U64(2), Mask: openflow.Ones(32)}, openflow.Resubmit{Table: 37}}},
		{Table: 9, Priority: 50, Cookie: 0x2, Match: m(exact("eth_type", 0x86dd), ipv6, exact("nw_proto", 6), masked("tcp_dst", 0x400, 0xfc00)),
			Actions: openflow.Actions{openflow.Move{Src: sub("ipv6_src", 0, 128), Dst: sub("xxreg0", 0, 128)}, openflow.DecTTL{}, openflow.Resubmit{Table: 10}}},
		{Table: 10, Priority: 10, Match: m(masked("ct_state", 0x22, 0x23), masked("ct_mark", 1, 1), masked("eth_dst", 0x010000000000, 0x010000000000)),
			Actions: openflow.Actions{openflow.SetField{Field: f("reg10"), Value: openflow.U64(0x40), Mask: openflow.U64(0x40)}, openflow.Push{Src: sub("reg0", 0, 32)}, openflow.Pop{Dst: sub("reg1", 0, 32)}}},
		{Table: 11, Priority: 1, Match: m(exact("eth_type", 0x800), exact("nw_proto", 17), exact("udp_dst", 67)),
			Actions: openflow.Actions{openflow.CT{Table: 12, Zone: &zone}}},
		{Table: 12, Priority: 2, Match: m(exact("eth_type", 0x800)),
			Actions: openflow.Actions{openflow.CT{Commit: true, Table: -1, Zone: &zone, Exec: openflow.Actions{
				openflow.SetField{Field: f("ct_mark"), Value: openflow.U64(2), Mask: openflow.U64(2)},
				openflow.SetField{Field: f("ct_label"), Value: openflow.U128{Hi: 0x500000000}, Mask: openflow.U128{Hi: 0xffffffff00000000}}}}}},
		{Table: 13, Priority: 3, Match: m(exact("eth_type", 0x800)),
			Actions: openflow.Actions{openflow.CT{Commit: true, Table: 14, Zone: &zone, NAT: &openflow.NAT{Flags: openflow.NATDst, IPMin: openflow.U64(0x0a00000b), PortMin: 8080}}}},
		{Table: 14, Priority: 3, Match: m(exact("eth_type", 0x800)),
			Actions: openflow.Actions{openflow.CT{Table: 15, Zone: &zone, NAT: &openflow.NAT{}}, openflow.CTClear{}}},
		{Table: 15, Priority: 3, Match: m(exact("eth_type", 0x86dd)),
			Actions: openflow.Actions{openflow.CT{Commit: true, Table: 16, ZoneImm: 7, NAT: &openflow.NAT{Flags: openflow.NATSrc | openflow.NATProtoRandom, IPv6: true, IPMin: openflow.U128{Hi: 0xfd00000000000000, Lo: 1}, PortMin: 1000, PortMax: 2000}}}},
		{Table: 16, Priority: 4, Match: m(exact("eth_type", 0x806), exact("arp_op", 1)),
			Actions: openflow.Actions{openflow.Controller2{Reason: 1, UserData: []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, Pause: true}}},
		{Table: 17, Priority: 5, Match: m(exact("reg15", 3)),
			Actions: openflow.Actions{openflow.Conjunction{ID: 42, Clause: 1, NClauses: 2}, openflow.Conjunction{ID: 43, Clause: 2, NClauses: 2}}},
		{Table: 17, Priority: 5, Match: m(exact("conj_id", 42), exact("metadata", 1)),
			Actions: openflow.Actions{openflow.Clone{Actions: openflow.Actions{openflow.SetField{Field: f("eth_src"), Value: openflow.U64(0x020000000001), Mask: openflow.Ones(48)}, openflow.Resubmit{Table: 18}}}, openflow.Output{Port: 1}}},
		{Table: 18, Priority: 6, Match: m(masked("reg0", 0x10, 0x10)),
			Actions: openflow.Actions{openflow.CheckPktLarger{Len: 1500, Dst: sub("reg0", 3, 1)}, openflow.OutputReg{Src: sub("reg15", 0, 16)}, openflow.SetQueue{Queue: 3}}},
		{Table: 19, Priority: 7, Match: m(exact("eth_type", 0x800), exact("nw_proto", 1), exact("icmp_type", 8)),
			Actions: openflow.Actions{openflow.Move{Src: sub("eth_src", 0, 48), Dst: sub("xreg0", 0, 48)}, openflow.SetField{Field: f("ip_src"), Value: openflow.U64(0x01020304), Mask: openflow.Ones(32)}, openflow.Group{ID: 1}}},
		{Table: 21, Priority: 9, Match: m(exact("eth_type", 0x800), exact("nw_proto", 6)),
			Actions: openflow.Actions{openflow.Learn{Table: 78, IdleTimeout: 60, Flags: openflow.LearnDeleteLearned, Specs: []openflow.LearnSpec{
				{Kind: openflow.LearnMatch, Src: sub("metadata", 0, 64), Dst: sub("metadata", 0, 64)},
				{Kind: openflow.LearnMatch, Imm: openflow.U64(0x800), Dst: sub("eth_type", 0, 16)},
				{Kind: openflow.LearnMatch, Src: sub("ip_src", 0, 32), Dst: sub("ip_src", 0, 32)},
				{Kind: openflow.LearnMatch, Imm: openflow.U64(0x0a000064), Dst: sub("ip_dst", 0, 32)},
				{Kind: openflow.LearnMatch, Imm: openflow.U64(6), Dst: sub("nw_proto", 0, 8)},
				{Kind: openflow.LearnMatch, Imm: openflow.U64(80), Dst: sub("tcp_dst", 0, 16)},
				{Kind: openflow.LearnLoad, Imm: openflow.U64(1), Dst: sub("reg10", 14, 1)},
				{Kind: openflow.LearnLoad, Imm: openflow.U64(0x0a00000b), Dst: sub("reg4", 0, 32)},
				{Kind: openflow.LearnLoad, Src: sub("reg0", 0, 16), Dst: sub("reg8", 0, 16)},
			}}}},
		{Table: 22, Priority: 10, Match: m(exact("reg15", 9)),
			Actions: openflow.Actions{openflow.Sample{Probability: 100, CollectorSetID: 2, ObsDomainID: 0x01000005, ObsPointID: 0xabcd}, openflow.Resubmit{Table: 23}}},
		{Table: 20, Priority: 8, Match: m(masked("vlan_tci", 0x1000, 0x1000), exact("in_port", 3)),
			Actions: openflow.Actions{openflow.Meter{ID: 1}, openflow.Resubmit{Table: 21}}},
	}
}

func TestRootFlowModMatchesOfctl(t *testing.T) {
	sw := ovstest.Start(t)
	text := sw.AddBridge("brtxt")
	bin := sw.AddBridge("brbin")
	group := openflow.GroupDesc{Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{Weight: 100, Actions: openflow.Actions{openflow.Resubmit{Table: 30}}},
		{Weight: 50, WatchPort: 2, Actions: openflow.Actions{openflow.Output{Port: 2}}}}}
	if _, err := sw.Ofctl("add-group", "unix:"+text, "group_id=1,"+group.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Ofctl("add-meter", "unix:"+text, "meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var msgs [][]byte
	msgs = append(msgs, group.GroupMod(0, 1, 100))
	msgs = append(msgs, openflow.MeterMod(openflow.MeterAdd, openflow.MeterKbps|openflow.MeterBurst, 1, []openflow.MeterBand{{Rate: 1000, Burst: 100}}, 101))
	for i, fl := range sampleFlows() {
		lines = append(lines, fl.String())
		msgs = append(msgs, fl.Marshal(openflow.FlowAdd, uint32(i+1)))
	}
	if err := sw.AddFlows(text, lines); err != nil {
		t.Fatalf("ovs-ofctl rejected our text: %v\n%s", err, strings.Join(lines, "\n"))
	}
	c, err := ovstest.Dial(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(msgs, nil); err != nil {
		t.Fatalf("switch rejected our messages: %v", err)
	}
	want, got := sw.DumpFlows(text), sw.DumpFlows(bin)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("binary-installed flows differ from text-installed:\ntext:\n%s\nbinary:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if g1, g2 := sw.DumpGroups(text), sw.DumpGroups(bin); strings.Join(g1, "\n") != strings.Join(g2, "\n") {
		t.Errorf("groups differ:\ntext: %v\nbinary: %v", g1, g2)
	}
	if len(want) != len(sampleFlows()) {
		t.Errorf("installed %d flows, want %d", len(want), len(sampleFlows()))
	}
}

func TestRootBundle(t *testing.T) {
	sw := ovstest.Start(t)
	br := sw.AddBridge("brbundle")
	c, err := ovstest.Dial(br)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flows := sampleFlows()[:3]
	msgs := [][]byte{openflow.BundleOpen(7, openflow.BundleAtomic, 1)}
	for i, fl := range flows {
		msgs = append(msgs, openflow.BundleAdd(7, openflow.BundleAtomic, fl.Marshal(openflow.FlowAdd, uint32(10+i)), uint32(10+i)))
	}
	msgs = append(msgs, openflow.BundleCommit(7, openflow.BundleAtomic, 2))
	if err := c.Send(msgs, nil); err != nil {
		t.Fatal(err)
	}
	if got := sw.DumpFlows(br); len(got) != len(flows) {
		t.Fatalf("after bundle commit: %d flows, want %d:\n%s", len(got), len(flows), strings.Join(got, "\n"))
	}
}
