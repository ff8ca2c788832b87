package openflow_test

import (
	"strings"
	"testing"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

// tunnelFlows use what an OVN chassis' physical flows need beyond the
// logical pipeline: tun_metadata0 (match, load, move), the bundle action,
// and the saved-in_port loopback.
func tunnelFlows() []openflow.Flow {
	md := f("tun_metadata0")
	return []openflow.Flow{
		{Table: 0, Priority: 100, Match: m(exact("in_port", 3), masked("tun_metadata0", 0x10000, 0x7fff0000)),
			Actions: openflow.Actions{
				openflow.Move{Src: sub("tun_id", 0, 24), Dst: sub("metadata", 0, 24)},
				openflow.Move{Src: sub("tun_metadata0", 16, 15), Dst: sub("reg14", 0, 15)},
				openflow.Move{Src: sub("tun_metadata0", 0, 16), Dst: sub("reg15", 0, 16)},
				openflow.Resubmit{Table: 40}}},
		{Table: 39, Priority: 100, Match: m(exact("reg15", 2), exact("metadata", 1)),
			Actions: openflow.Actions{
				openflow.SetField{Field: f("tun_id"), Value: openflow.U64(1), Mask: openflow.U64(0xffffff)},
				openflow.SetField{Field: md, Value: openflow.U64(2), Mask: openflow.Ones(32)},
				openflow.Move{Src: sub("reg14", 0, 15), Dst: sub("tun_metadata0", 16, 15)},
				openflow.Output{Port: 3}}},
		{Table: 39, Priority: 100, Match: m(exact("reg15", 3), exact("metadata", 1)),
			Actions: openflow.Actions{
				openflow.SetField{Field: md, Value: openflow.U64(3), Mask: openflow.Ones(32)},
				openflow.BundleAction{Algorithm: openflow.BundleActiveBackup, Fields: openflow.HashEthSrc, Members: []uint16{3, 4}}}},
		{Table: 64, Priority: 100, Match: m(masked("reg10", 1, 1), exact("reg15", 2), exact("metadata", 1)),
			Actions: openflow.Actions{
				openflow.Push{Src: sub("in_port", 0, 32)},
				openflow.SetField{Field: f("nxm_in_port"), Value: openflow.U64(0xffff), Mask: openflow.Ones(16)},
				openflow.Resubmit{Table: 65},
				openflow.Pop{Dst: sub("in_port", 0, 32)}}},
	}
}

func TestRootTunnelFlowsMatchOfctl(t *testing.T) {
	sw := ovstest.Start(t)
	text := sw.AddBridge("brtuntxt")
	bin := sw.AddBridge("brtunbin")
	if _, err := sw.Run("ovs-ofctl", "-O", "OpenFlow15", "add-tlv-map", "unix:"+text, openflow.GeneveOVN.String()); err != nil {
		t.Fatal(err)
	}
	var lines []string
	msgs := [][]byte{openflow.TLVTableMod(openflow.TLVAdd, []openflow.TLVMap{openflow.GeneveOVN}, 1)}
	for i, fl := range tunnelFlows() {
		lines = append(lines, fl.String())
		msgs = append(msgs, fl.Marshal(openflow.FlowAdd, uint32(i+10)))
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
	if len(want) != len(tunnelFlows()) {
		t.Errorf("installed %d flows, want %d", len(want), len(tunnelFlows()))
	}
	tlv, err := sw.Run("ovs-ofctl", "-O", "OpenFlow15", "dump-tlv-map", "unix:"+bin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tlv, "0x102") || !strings.Contains(tlv, "tun_metadata0") {
		t.Errorf("TLV map after our mod:\n%s", tlv)
	}
	// Adding the same mapping again is refused with a code the chassis
	// treats as "already there".
	err = c.Send([][]byte{openflow.TLVTableMod(openflow.TLVAdd, []openflow.TLVMap{openflow.GeneveOVN}, 50)}, nil)
	if err == nil {
		t.Fatal("second TLV add accepted; want an already-mapped error")
	}
	t.Logf("second add: %v", err)
}
