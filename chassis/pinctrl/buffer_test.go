package pinctrl

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

func TestBuffer(t *testing.T) {
	md := []ofconn.OXM{
		{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
		{Header: ofconn.FieldReg(0), Value: []byte{10, 0, 9, 9}},
		{Header: ofconn.FieldReg(15), Value: []byte{0, 0, 0, 2}},
	}
	b := NewBuffer()
	t0 := time.Unix(1000, 0)
	var sent [][]byte
	for i := 0; i < BufferDepth+1; i++ {
		pkt := ipv4(vm4, far4, protoUDP, udpSeg(uint16(1000+i), 9, "x"))
		res, err := Handle(&ofconn.PacketIn{Packet: pkt, Metadata: md, Userdata: []byte{0, 0, 0, OpARP, 0, 0, 0, 0}}, 1)
		if err != nil || res.Hold == nil || len(res.Send) != 1 {
			t.Fatalf("arp: hold %+v, %d messages, err %v", res.Hold, len(res.Send), err)
		}
		if res.Hold.Datapath != 3 || res.Hold.IP != netip.MustParseAddr("10.0.9.9") {
			t.Fatalf("held for %d %s", res.Hold.Datapath, res.Hold.IP)
		}
		if err := b.Add(res.Hold, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, pkt)
	}
	if b.Len() != 1 {
		t.Fatalf("%d neighbours", b.Len())
	}
	if out := b.Release(3, netip.MustParseAddr("10.0.9.10"), "0a:00:00:00:09:09", 7); out != nil {
		t.Fatal("released packets held for another neighbour")
	}
	out := b.Release(3, netip.MustParseAddr("10.0.9.9"), "0a:00:00:00:09:09", 7)
	if len(out) != BufferDepth {
		t.Fatalf("released %d packets, want the newest %d", len(out), BufferDepth)
	}
	resubmit := openflow.AppendActions(nil, openflow.Actions{openflow.Resubmit{Table: tableRemoteOutput}})
	for i, m := range out {
		want := append([]byte(nil), sent[i+1]...)
		copy(want, []byte{0x0a, 0, 0, 0, 9, 9})
		if !bytes.Equal(m, ofconn.PacketOut(7+uint32(i), want, append(ofconn.ReloadActions(md), resubmit...))) {
			t.Fatalf("packet-out %d differs", i)
		}
	}
	if b.Len() != 0 || b.Release(3, netip.MustParseAddr("10.0.9.9"), "0a:00:00:00:09:09", 7) != nil {
		t.Fatal("released twice")
	}

	// IPv6 neighbours are keyed by xxreg0; expiry; the neighbour limit.
	md6 := []ofconn.OXM{{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}}, {Header: ofconn.FieldXXReg(0), Value: far6.AsSlice()}}
	res, err := Handle(&ofconn.PacketIn{Packet: ipv6Frame(routerMAC, vmMAC, vm6, far6, udpSeg(1, 2, ""), protoUDP), Metadata: md6, Userdata: []byte{0, 0, 0, OpNDNS, 0, 0, 0, 0}}, 1)
	if err != nil || res.Hold == nil || res.Hold.IP != far6 {
		t.Fatalf("nd_ns hold %+v err %v", res.Hold, err)
	}
	b.Add(res.Hold, t0)
	if n := b.Expire(t0.Add(BufferTimeout - time.Millisecond)); n != 0 || b.Len() != 1 {
		t.Fatalf("expired %d early", n)
	}
	if n := b.Expire(t0.Add(BufferTimeout)); n != 1 || b.Len() != 0 {
		t.Fatalf("expired %d, %d left", n, b.Len())
	}
	for i := 0; i < BufferNeighbors; i++ {
		h := *res.Hold
		h.IP = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if err := b.Add(&h, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Add(res.Hold, t0); err == nil {
		t.Fatal("neighbour limit not enforced")
	}
}

// TestBufferReleaseKnown: a neighbour learned by another chassis (its
// southbound MAC_Binding) releases the packets held for it, as a local
// put_arp would; bindings of other datapaths or addresses release nothing.
func TestBufferReleaseKnown(t *testing.T) {
	md := []ofconn.OXM{
		{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
		{Header: ofconn.FieldReg(0), Value: []byte{10, 0, 9, 9}},
	}
	hold := func(b *Buffer) {
		t.Helper()
		res, err := Handle(&ofconn.PacketIn{Packet: ipv4(vm4, far4, protoUDP, udpSeg(1000, 9, "x")), Metadata: md, Userdata: []byte{0, 0, 0, OpARP, 0, 0, 0, 0}}, 1)
		if err != nil || res.Hold == nil {
			t.Fatalf("arp: hold %+v, err %v", res.Hold, err)
		}
		if err := b.Add(res.Hold, time.Unix(1000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	known := MACBindings{}
	for _, r := range [][3]string{{"4", "10.0.9.9", "0a:00:00:00:04:04"}, {"3", "10.0.9.8", "0a:00:00:00:03:08"}, {"3", "fd00::9", "0a:00:00:00:03:09"}} {
		dp, _ := strconv.Atoi(r[0])
		if err := known.Add(uint32(dp), r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBuffer()
	hold(b)
	if out := b.ReleaseKnown(known, 7); out != nil || b.Len() != 1 {
		t.Fatalf("released %d packets for bindings of other neighbours", len(out))
	}
	if err := known.Add(3, "10.0.9.9", "0A:00:00:00:09:09"); err != nil {
		t.Fatal(err)
	}
	out := b.ReleaseKnown(known, 7)
	ref := NewBuffer()
	hold(ref)
	want := ref.Release(3, netip.MustParseAddr("10.0.9.9"), "0a:00:00:00:09:09", 7)
	if len(out) != 1 || !bytes.Equal(out[0], want[0]) {
		t.Fatalf("released %d packets, want the one Release sends", len(out))
	}
	if b.Len() != 0 || b.ReleaseKnown(known, 8) != nil {
		t.Fatal("released twice")
	}
	for _, bad := range [][2]string{{"10.0.9", "0a:00:00:00:09:09"}, {"10.0.9.9", "0a:00"}} {
		if err := known.Add(3, bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), bad[0]) && !strings.Contains(err.Error(), bad[1]) {
			t.Fatalf("Add(%q, %q): err %v, want one naming the bad value", bad[0], bad[1], err)
		}
	}

	// The packet-in loop and the southbound side use the buffer at once.
	b = NewBuffer()
	var wg sync.WaitGroup
	released := make(chan int, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := 0
		for i := 0; i < 200; i++ {
			n += len(b.ReleaseKnown(known, 1))
		}
		released <- n
	}()
	for i := 0; i < 200; i++ {
		hold(b)
	}
	wg.Wait()
	n := <-released + len(b.ReleaseKnown(known, 1))
	if n == 0 || b.Len() != 0 {
		t.Fatalf("released %d packets, %d neighbours left", n, b.Len())
	}
}
