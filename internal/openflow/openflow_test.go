package openflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestU128(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  U128
		want U128
	}{
		{"ones64", Ones(64), U128{Lo: ^uint64(0)}},
		{"ones70", Ones(70), U128{Hi: 0x3f, Lo: ^uint64(0)}},
		{"range", Range(60, 8), U128{Hi: 0xf, Lo: 0xf << 60}},
		{"shl", U64(1).Shl(100), U128{Hi: 1 << 36}},
		{"shr", U128{Hi: 1}.Shr(1), U128{Lo: 1 << 63}},
		{"add-carry", U64(^uint64(0)).Add(U64(1)), U128{Hi: 1}},
		{"sub-borrow", U128{Hi: 1}.Sub(U64(1)), U128{Lo: ^uint64(0)}},
		{"bytes", FromBytes(U128{Hi: 0x0102, Lo: 0x0304}.Bytes(16)), U128{Hi: 0x0102, Lo: 0x0304}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if n, ok := IsPrefix(Range(8, 24), 32); !ok || n != 24 {
		t.Errorf("IsPrefix(/24) = %d, %v", n, ok)
	}
	if _, ok := IsPrefix(U64(0xff00ff00), 32); ok {
		t.Error("IsPrefix accepted a non-contiguous mask")
	}
}

func TestMatchString(t *testing.T) {
	m := Match{
		{Field: MustField("ip_src"), Value: U64(0x0a000000), Mask: Range(8, 24)},
		{Field: MustField("eth_type"), Value: U64(0x800), Mask: Ones(16)},
		{Field: MustField("nw_proto"), Value: U64(6), Mask: Ones(8)},
		{Field: MustField("reg14"), Value: U64(1), Mask: Ones(32)},
		{Field: MustField("ct_state"), Value: U64(CTTrk | CTEst), Mask: U64(CTTrk | CTEst | CTNew)},
	}
	m.Normalize()
	want := "tcp,ct_state=-new+est+trk,reg14=0x1,ip_src=10.0.0.0/24"
	if got := m.String(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, ok := m.With(MustField("eth_type"), U64(0x86dd), Ones(16)); ok {
		t.Error("With accepted a conflicting eth_type")
	}
}

// packetIn2 builds an NXT_PACKET_IN2 as ovs-vswitchd would send it.
func packetIn2(props ...[]byte) []byte {
	b := header(nil, TypeExperimenter, 9)
	b = be32(b, nxVendor)
	b = be32(b, nxtPacketIn2)
	for _, p := range props {
		b = append(b, p...)
	}
	return finish(b, 0)
}

func TestDecodePacketIn2(t *testing.T) {
	var md []byte
	md = appendOXM(md, MustField("metadata"), U64(5), Ones(64), false)
	md = appendOXM(md, MustField("reg14"), U64(3), Ones(32), false)
	md = appendOXM(md, MustField("ct_state"), U64(0x21), U64(0x21), true)
	pkt := []byte{1, 2, 3, 4, 5}
	msg := packetIn2(
		prop(nil, pin2Packet, pkt),
		prop(nil, pin2TableID, []byte{12}),
		prop(nil, pin2Cookie, be64(nil, 0xabc)),
		prop(nil, pin2Reason, []byte{1}),
		prop(nil, pin2Metadata, md),
		prop(nil, pin2UserData, []byte{0, 0, 0, 2, 0, 0, 0, 0, 9}),
		prop(nil, pin2Continuation, []byte{7, 7, 7}),
		prop(nil, 0x55, []byte{1}), // unknown property: skipped
	)
	if !IsPacketIn2(msg) {
		t.Fatal("IsPacketIn2 = false")
	}
	pi, err := DecodePacketIn2(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pi.Packet, pkt) || pi.TableID != 12 || pi.Cookie != 0xabc || pi.Reason != 1 || !bytes.Equal(pi.Continuation, []byte{7, 7, 7}) {
		t.Errorf("decoded %+v", pi)
	}
	if got := pi.Metadata.String(); got != "ct_state=+new+trk,reg14=0x3,metadata=0x5" {
		t.Errorf("metadata %s", got)
	}
	res := Resume(pi, []byte{9, 9}, 10)
	if h, err := ParseHeader(res); err != nil || h.Type != TypeExperimenter || binary.BigEndian.Uint32(res[12:]) != nxtResume {
		t.Errorf("resume header %+v %v", h, err)
	}
	// Truncations never panic and report ErrTruncated.
	for n := 16; n < len(msg); n++ {
		cut := append([]byte(nil), msg[:n]...)
		binary.BigEndian.PutUint16(cut[2:], uint16(n))
		if _, err := DecodePacketIn2(cut); err != nil && !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d: %v", n, err)
		}
	}
}

func FuzzDecodePacketIn2(f *testing.F) {
	f.Add(packetIn2(prop(nil, pin2Packet, []byte{1, 2, 3}), prop(nil, pin2Metadata, appendOXM(nil, MustField("reg0"), U64(1), Ones(32), false))))
	f.Add([]byte{4, 4, 0, 8, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodePacketIn2(b)
		DecodeOXMs(b)
	})
}

func TestMessagesHaveLengths(t *testing.T) {
	for name, msg := range map[string][]byte{
		"meter":  MeterMod(MeterAdd, MeterKbps, 1, []MeterBand{{Rate: 10}}, 1),
		"pktout": PacketOut(PortController, Actions{Output{Port: 1}}, []byte{1, 2}, 2),
		"raw":    PacketOutRaw(PortController, AppendActions(nil, Actions{Output{Port: 1}}), []byte{1, 2}, 2),
		"bundle": BundleAdd(1, BundleAtomic, Barrier(3), 3),
		"group":  GroupDesc{Type: GroupTypeAll, Buckets: []Bucket{{Actions: Actions{Output{Port: 2}}}}}.GroupMod(0, 1, 4),
		"pif":    SetPacketInFormat(2, 5),
	} {
		h, err := ParseHeader(msg)
		if err != nil || int(h.Length) != len(msg) || h.Version != Version13 {
			t.Errorf("%s: header %+v, %d bytes, %v", name, h, len(msg), err)
		}
	}
	if !bytes.Equal(PacketOut(1, Actions{Output{Port: 2}}, nil, 1), PacketOutRaw(1, AppendActions(nil, Actions{Output{Port: 2}}), nil, 1)) {
		t.Error("PacketOut and PacketOutRaw differ")
	}
}
