package openflow_test

import (
	"bytes"
	"testing"
	"time"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

// TestRootPacketIn2Resume sends a packet through a flow that pauses in a
// controller action, decodes the NXT_PACKET_IN2 the switch sends, resumes
// it with our NXT_RESUME, and expects the second controller action of the
// flow (which runs only after a successful resume) to report the packet
// with the metadata the first part of the pipeline set.
func TestRootPacketIn2Resume(t *testing.T) {
	sw := ovstest.Start(t)
	br := sw.AddBridge("brpin")
	c, err := ovstest.Dial(br)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flow := openflow.Flow{Table: 1, Priority: 1, Cookie: 0x77, Actions: openflow.Actions{
		openflow.SetField{Field: openflow.MustField("reg3"), Value: openflow.U64(0x1234), Mask: openflow.Ones(32)},
		openflow.Controller2{Reason: 1, UserData: []byte{0, 0, 0, 1, 0, 0, 0, 0, 0xaa}, Pause: true},
		openflow.Controller2{Reason: 1, UserData: []byte{0, 0, 0, 2, 0, 0, 0, 0, 0xbb}},
	}}
	// Packet-ins may arrive before a barrier reply: keep them.
	var queued [][]byte
	keep := func(m []byte) { queued = append(queued, m) }
	if err := c.Send([][]byte{openflow.SetConfig(0, 0xffff, 5), openflow.SetPacketInFormat(2, 1), flow.Marshal(openflow.FlowAdd, 2)}, keep); err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 60)
	copy(pkt, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
	if err := c.Send([][]byte{openflow.PacketOut(openflow.PortController, openflow.Actions{openflow.Resubmit{Table: 1}}, pkt, 3)}, keep); err != nil {
		t.Fatal(err)
	}
	recvPin := func() *openflow.PacketIn2 {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var msg []byte
			if len(queued) > 0 {
				msg, queued = queued[0], queued[1:]
			} else {
				m, err := c.Recv(time.Until(deadline))
				if err != nil {
					t.Fatal(err)
				}
				msg = m
			}
			if !openflow.IsPacketIn2(msg) {
				continue
			}
			pi, err := openflow.DecodePacketIn2(msg)
			if err != nil {
				t.Fatal(err)
			}
			return pi
		}
		t.Fatal("no NXT_PACKET_IN2")
		return nil
	}
	first := recvPin()
	if !bytes.Equal(first.UserData, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0xaa}) || len(first.Continuation) == 0 {
		t.Fatalf("first packet-in: userdata %x, %d continuation bytes", first.UserData, len(first.Continuation))
	}
	if reg3, ok := first.Metadata.Get(openflow.MustField("reg3")); !ok || reg3.Value.Lo != 0x1234 {
		t.Errorf("first packet-in metadata %s lacks reg3=0x1234", first.Metadata)
	}
	if !bytes.Equal(first.Packet, pkt) {
		t.Errorf("packet %x, want %x", first.Packet, pkt)
	}
	if err := c.Send([][]byte{openflow.Resume(first, first.Packet, 4)}, keep); err != nil {
		t.Fatalf("resume rejected: %v", err)
	}
	second := recvPin()
	if !bytes.Equal(second.UserData, []byte{0, 0, 0, 2, 0, 0, 0, 0, 0xbb}) {
		t.Fatalf("after resume: userdata %x, want the second controller action's", second.UserData)
	}
}
