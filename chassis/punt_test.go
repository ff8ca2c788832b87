package chassis

import (
	"bytes"
	"encoding/binary"
	"testing"

	"hcnet/chassis/ofconn"
)

func TestReinjection(t *testing.T) {
	md := func(port uint32) []ofconn.OXM {
		return []ofconn.OXM{{Header: ofconn.FieldInPort, Value: binary.BigEndian.AppendUint32(nil, port)}}
	}
	ready := func(p uint32) bool { return p == 7 }
	pkt := []byte{1, 2, 3, 4}
	for _, tc := range []struct {
		name string
		pi   ofconn.PacketIn
		want bool
	}{
		{"punted packet of a ready port", ofconn.PacketIn{Packet: pkt, Reason: ofconn.ReasonNoMatch, Metadata: md(7)}, true},
		{"port still waiting", ofconn.PacketIn{Packet: pkt, Reason: ofconn.ReasonNoMatch, Metadata: md(8)}, false},
		{"controller action of the pipeline", ofconn.PacketIn{Packet: pkt, Reason: ofconn.ReasonAction, Metadata: md(7), Userdata: []byte{0, 0, 0, 1, 0, 0, 0, 0}}, false},
		{"userdata", ofconn.PacketIn{Packet: pkt, Reason: ofconn.ReasonNoMatch, Metadata: md(7), Userdata: []byte{1}}, false},
		{"no in_port", ofconn.PacketIn{Packet: pkt, Reason: ofconn.ReasonNoMatch}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := reinjection(&tc.pi, ready, 42)
			if (out != nil) != tc.want {
				t.Fatalf("packet-out %x, want one: %v", out, tc.want)
			}
			if out == nil {
				return
			}
			want := ofconn.PacketOutFrom(42, 7, pkt, ofconn.OutputAction(ofconn.PortTable))
			if !bytes.Equal(out, want) {
				t.Fatalf("packet-out %x, want %x", out, want)
			}
		})
	}
	// The Nicira in_port field is understood too.
	pi := ofconn.PacketIn{Packet: pkt, Metadata: []ofconn.OXM{{Header: 0x00000002, Value: []byte{0, 7}}}}
	if reinjection(&pi, ready, 1) == nil {
		t.Fatal("NXM_OF_IN_PORT 7: no packet-out")
	}
	var r reinjector
	if r.isReady(7) {
		t.Fatal("ready before any installation")
	}
	r.setReady(map[uint32]bool{7: true})
	if !r.isReady(7) || r.isReady(8) {
		t.Fatal("ready set not applied")
	}
}
