package lflow

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

// installCompiled installs flows (and the groups and meters they use) on
// a bridge, as ovs-ofctl text or as encoded OpenFlow messages.
type installSet struct {
	flows  []openflow.Flow
	groups map[uint32]openflow.GroupDesc
	meters []uint32
}

func (s *installSet) text(t *testing.T, sw *ovstest.Switch, mgmt string) {
	t.Helper()
	for _, id := range s.meters {
		if _, err := sw.Ofctl("add-meter", "unix:"+mgmt, fmt.Sprintf("meter=%d,kbps,band=type=drop,rate=1000", id)); err != nil {
			t.Fatal(err)
		}
	}
	for id, g := range s.groups {
		// OpenFlow 1.5: 1.3 has no selection_method (the switch would
		// silently use its default).
		if _, err := sw.Run("ovs-ofctl", "-O", "OpenFlow15", "add-group", "unix:"+mgmt, fmt.Sprintf("group_id=%d,%s", id, g)); err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	for _, f := range s.flows {
		lines = append(lines, f.String())
	}
	if err := sw.AddFlows(mgmt, lines); err != nil {
		t.Fatalf("ovs-ofctl rejected compiled flows: %v", err)
	}
}

func (s *installSet) binary(t *testing.T, mgmt string) {
	t.Helper()
	c, err := ovstest.Dial(mgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var msgs [][]byte
	xid := uint32(1)
	for _, id := range s.meters {
		msgs = append(msgs, openflow.MeterMod(openflow.MeterAdd, openflow.MeterKbps, id, []openflow.MeterBand{{Rate: 1000}}, xid))
		xid++
	}
	for id, g := range s.groups {
		msgs = append(msgs, g.GroupMod(0, id, xid))
		xid++
	}
	bundle := uint32(9)
	msgs = append(msgs, openflow.BundleOpen(bundle, openflow.BundleAtomic, xid))
	xid++
	for _, f := range s.flows {
		msgs = append(msgs, openflow.BundleAdd(bundle, openflow.BundleAtomic, f.Marshal(openflow.FlowAdd, xid), xid))
		xid++
	}
	msgs = append(msgs, openflow.BundleCommit(bundle, openflow.BundleAtomic, xid))
	if err := c.Send(msgs, nil); err != nil {
		t.Fatalf("switch rejected encoded flows: %v", err)
	}
}

// TestRootSemanticCorpus installs every compiled corpus flow into a real
// userspace switch twice, once as ovs-ofctl text and once as encoded
// OpenFlow 1.3 messages in a bundle, and checks that the switch accepts
// both and ends up with identical flow tables.
func TestRootSemanticCorpus(t *testing.T) {
	sw := ovstest.Start(t)
	c := loadCorpus(t)
	set := &installSet{groups: map[uint32]openflow.GroupDesc{}}
	meters := map[uint32]bool{}
	for _, in := range c.instances() {
		env := *in.env
		env.Group = func(g openflow.GroupDesc) uint32 {
			id := in.env.Group(g)
			set.groups[id] = g
			return id
		}
		env.Meter = func(n string) (uint32, bool) {
			id, ok := in.env.Meter(n)
			meters[id] = true
			return id, ok
		}
		flows, err := Compile(in.lf, &env)
		if err != nil {
			continue // counted by TestCorpus
		}
		set.flows = append(set.flows, flows...)
	}
	for id := range meters {
		set.meters = append(set.meters, id)
	}
	sort.Slice(set.meters, func(i, j int) bool { return set.meters[i] < set.meters[j] })
	text, bin := sw.AddBridge("brtxt"), sw.AddBridge("brbin")
	set.text(t, sw, text)
	set.binary(t, bin)
	want, got := sw.DumpFlows(text), sw.DumpFlows(bin)
	if len(want) < len(set.flows)/2 {
		t.Fatalf("only %d of %d compiled flows installed", len(want), len(set.flows))
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		diff := 0
		for i := 0; i < len(want) && i < len(got); i++ {
			if want[i] != got[i] {
				t.Errorf("first difference:\ntext:   %s\nbinary: %s", want[i], got[i])
				diff++
				break
			}
		}
		t.Errorf("text-installed (%d flows) and binary-installed (%d flows) tables differ", len(want), len(got))
	}
	t.Logf("%d compiled flows, %d distinct installed; %d groups, %d meters", len(set.flows), len(want), len(set.groups), len(set.meters))
}

// TestRootSemanticTrace compiles hand-written logical flows, installs
// them as encoded messages, and checks with ofproto/trace that packets
// which should match hit the flow and those which should not miss it.
func TestRootSemanticTrace(t *testing.T) {
	sw := ovstest.Start(t)
	br := "brtrace"
	mgmt := sw.AddBridge(br)
	env := testEnv()
	type probe struct {
		pkt   string
		match bool
	}
	cases := []struct {
		match  string
		probes []probe
	}{
		{`inport == "vm1" && ip4.src == 10.0.0.0/24 && tcp.dst == {80, 443}`, []probe{
			{"reg14=1,tcp,nw_src=10.0.0.7,tcp_dst=80", true},
			{"reg14=1,tcp,nw_src=10.0.0.7,tcp_dst=443", true},
			{"reg14=1,tcp,nw_src=10.0.0.7,tcp_dst=81", false},
			{"reg14=2,tcp,nw_src=10.0.0.7,tcp_dst=80", false},
			{"reg14=1,udp,nw_src=10.0.0.7,udp_dst=80", false},
		}},
		{`udp.dst >= 1000 && udp.dst <= 2000`, []probe{
			{"udp,udp_dst=1000", true}, {"udp,udp_dst=1500", true}, {"udp,udp_dst=2000", true},
			{"udp,udp_dst=999", false}, {"udp,udp_dst=2001", false}, {"udp6,udp_dst=1234", true}, {"tcp,tcp_dst=1500", false},
		}},
		{`outport == @pg1 && ip4.src == $as1 && tcp.src == {1, 2, 3}`, []probe{
			{"reg15=1,tcp,nw_src=10.0.0.9,tcp_src=2", true},
			{"reg15=2,tcp,nw_src=192.168.1.5,tcp_src=3", true},
			{"reg15=3,tcp,nw_src=192.168.1.5,tcp_src=3", false},
			{"reg15=1,tcp,nw_src=192.168.1.6,tcp_src=3", false},
			{"reg15=1,tcp,nw_src=10.0.0.9,tcp_src=4", false},
		}},
		{`ip4 && !(ip4.dst == 10.0.0.0/8) && reg0[3..5] != 2`, []probe{
			{"ip,nw_dst=11.0.0.1", true}, {"ip,nw_dst=10.1.2.3", false},
			{"ip,nw_dst=11.0.0.1,reg0=0x10", false}, {"ip,nw_dst=11.0.0.1,reg0=0x18", true},
		}},
		{`ct.est && !ct.rel && eth.mcast`, []probe{
			{"ct_state=0x22,dl_dst=01:00:5e:00:00:01", true},
			{"ct_state=0x26,dl_dst=01:00:5e:00:00:01", false},
			{"ct_state=0x22,dl_dst=00:00:5e:00:00:01", false},
			{"ct_state=0x02,dl_dst=01:00:5e:00:00:01", false},
		}},
		{`xxreg0 == fe80::1 || (ip6 && ip6.dst == fd00::/64 && icmp6.type == 128)`, []probe{
			{"reg0=0xfe800000,reg3=1", true}, {"reg0=0xfe800000,reg3=2", false},
			{"icmp6,ipv6_dst=fd00::5,icmpv6_type=128", true}, {"icmp6,ipv6_dst=fd01::5,icmpv6_type=128", false},
		}},
	}
	set := &installSet{groups: map[uint32]openflow.GroupDesc{}}
	for i, tc := range cases {
		lf := LogicalFlow{Pipeline: "ingress", TableID: uint8(i), Priority: 100, Match: tc.match, Actions: "reg9[31] = 1; next;", Datapath: 7, Cookie: uint64(0xc0de00 + i)}
		flows, err := Compile(lf, env)
		if err != nil {
			t.Fatalf("%s: %v", tc.match, err)
		}
		set.flows = append(set.flows, flows...)
		// Every table passes unmatched packets on, so a probe reaches the
		// case's own table.
		set.flows = append(set.flows, openflow.Flow{Table: uint8(TableLogIngress + i), Priority: 0, Actions: openflow.Actions{openflow.Resubmit{Table: uint8(TableLogIngress + i + 1)}}})
	}
	set.flows = append(set.flows, openflow.Flow{Table: 0, Priority: 0, Actions: openflow.Actions{openflow.Resubmit{Table: TableLogIngress}}})
	set.binary(t, mgmt)
	for i, tc := range cases {
		rule := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\. .*cookie 0x%x$`, TableLogIngress+i, 0xc0de00+i))
		for _, p := range tc.probes {
			out := sw.Trace(br, "in_port=LOCAL,metadata=7,"+p.pkt)
			if hit := rule.MatchString(out); hit != p.match {
				t.Errorf("match %q, packet %s: hit=%v, want %v\n%s", tc.match, p.pkt, hit, p.match, out)
			}
		}
	}
}
