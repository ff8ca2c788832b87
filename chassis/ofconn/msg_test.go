package ofconn

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

func TestPacketIn2RoundTrip(t *testing.T) {
	md := []OXM{
		{Header: FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 7}},
		{Header: FieldReg(14), Value: []byte{0, 0, 0, 3}},
	}
	// Build an NXT_PACKET_IN2 the way the switch does: header, then
	// properties padded to 8 bytes.
	b := nxHeader(9, nxtPacketIn2)
	b = appendProp(b, propPacket, []byte{1, 2, 3, 4, 5})
	b = appendProp(b, propTableID, []byte{29})
	cookie := binary.BigEndian.AppendUint64([]byte{0, 0, 0, 0}, 0xabcdef)
	b = appendProp(b, propCookie, cookie)
	b = appendProp(b, propMetadata, AppendOXMs(nil, md))
	b = appendProp(b, propUserdata, []byte{0, 0, 0, 2, 0, 0, 0, 0})
	b = appendProp(b, propContinuation, []byte{9, 9})
	b = finish(b)
	pi, err := ParsePacketIn2(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pi.Packet, []byte{1, 2, 3, 4, 5}) || pi.TableID != 29 || pi.Cookie != 0xabcdef ||
		!bytes.Equal(pi.Continuation, []byte{9, 9}) || len(pi.Metadata) != 2 {
		t.Fatalf("parsed %+v", pi)
	}
	if v, ok := Uint(pi.Metadata, FieldReg(14)); !ok || v != 3 {
		t.Fatalf("reg14 = %d, %v", v, ok)
	}
	// Setting bit 3 of reg0 adds the field; setting bit 1 of reg14 keeps
	// its other bits.
	md2 := SetBit(SetBit(pi.Metadata, FieldReg(0), 3), FieldReg(14), 1)
	if v, _ := Uint(md2, FieldReg(0)); v != 8 {
		t.Fatalf("reg0 = %d, want 8", v)
	}
	if v, _ := Uint(md2, FieldReg(14)); v != 3 {
		t.Fatalf("reg14 = %d, want 3", v)
	}
	if _, err := ParsePacketIn2(Hello(1)); err != ErrNotPacketIn2 {
		t.Fatalf("hello parsed as packet-in2: %v", err)
	}
	// Reload actions restore metadata and registers with set_field, 8-byte
	// aligned.
	acts := ReloadActions(md)
	if len(acts)%8 != 0 || len(acts) != 16+16 {
		t.Fatalf("reload actions %x", acts)
	}
	// A resume carries packet, metadata and continuation.
	r := Resume(5, []byte{7}, md2, []byte{9, 9})
	if binary.BigEndian.Uint16(r[2:]) != uint16(len(r)) || binary.BigEndian.Uint32(r[12:]) != nxtResume {
		t.Fatalf("resume header %x", r[:16])
	}
}

func TestTruncated(t *testing.T) {
	b := finish(append(nxHeader(1, nxtPacketIn2), 0, 0, 0, 99))
	if _, err := ParsePacketIn2(b); err == nil {
		t.Fatal("truncated property accepted")
	}
	if _, err := ParseOXMs([]byte{0, 1, 0, 4, 1}); err == nil {
		t.Fatal("truncated OXM accepted")
	}
}

// TestEncodingsOfpPrint has ovs-ofctl decode the messages the reinjector
// sends (skipped without ovs-ofctl).
func TestEncodingsOfpPrint(t *testing.T) {
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	pkt := bytes.Repeat([]byte{0xff}, 14)
	for _, tc := range []struct {
		msg  []byte
		want []string
	}{
		{PacketOutFrom(3, 7, pkt, OutputAction(PortTable)), []string{"OFPT_PACKET_OUT (OF1.3)", "in_port=7", "actions=TABLE", "data_len=14"}},
		{SetAsync(4, 1<<ReasonNoMatch), []string{"OFPT_SET_ASYNC (OF1.3)", "PACKET_IN: no_match", "(off)"}},
	} {
		out, err := exec.Command("ovs-ofctl", "ofp-print", hex.EncodeToString(tc.msg)).CombinedOutput()
		if err != nil {
			t.Fatalf("ofp-print %x: %v: %s", tc.msg, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("ofp-print %x:\n%s\nwant %q", tc.msg, out, w)
			}
		}
	}
}
