package pinctrl

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"hcnet/chassis/ofconn"
)

func ipv6Frame(ethDst, ethSrc []byte, src, dst netip.Addr, payload []byte, next byte) []byte {
	p := append(append([]byte{}, ethDst...), ethSrc...)
	p = append(p, 0x86, 0xdd)
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(payload)))
	ip[6], ip[7] = next, 255
	s, d := src.As16(), dst.As16()
	copy(ip[8:], s[:])
	copy(ip[24:], d[:])
	return append(append(p, ip...), payload...)
}

func TestNDGolden(t *testing.T) {
	vm := netip.MustParseAddr("fd00::11")
	rtr := netip.MustParseAddr("fd00::1")
	// An ICMPv6 echo from vm to a host the router must resolve: nd_ns.
	echo := ipv6Frame(routerMAC, vmMAC, vm, netip.MustParseAddr("fd00:1::99"), []byte{128, 0, 0, 0, 0, 1, 0, 1}, 58)
	ns, err := NeighborSolicitation(echo)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "nd-ns.golden", "neighbour solicitation for fd00:1::99 built from an ICMPv6 echo of fd00::11 (MAC 0a:00:00:00:01:11)", ns)
	if icmp6Checksum(ns[22:38], ns[38:54], ns[54:]) != 0 {
		t.Fatal("bad ICMPv6 checksum on NS")
	}

	// vm solicits the router's address: nd_na_router answers.
	sol := append([]byte{135, 0, 0, 0, 0, 0, 0, 0}, rtr.AsSlice()...)
	sol = append(sol, 1, 1)
	sol = append(sol, vmMAC...)
	nsFromVM := ipv6Frame([]byte{0x33, 0x33, 0xff, 0, 0, 1}, vmMAC, vm, netip.MustParseAddr("ff02::1:ff00:1"), sol, 58)
	na, err := NeighborAdvertisement(nsFromVM, true)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "nd-na-router.golden", "router neighbour advertisement for fd00::1 answering fd00::11's solicitation (R, S, O flags)", na)
	if na[54] != 136 || na[58] != 0xe0 || icmp6Checksum(na[22:38], na[38:54], na[54:]) != 0 {
		t.Fatalf("NA type %d flags %#x", na[54], na[58])
	}
	if _, err := NeighborAdvertisement(echo, false); err == nil {
		t.Fatal("nd_na on an echo request accepted")
	}

	// put_nd learns fd00:1::99 at the packet's source MAC, from reg0..reg3.
	a := netip.MustParseAddr("fd00:1::99").As16()
	var md []ofconn.OXM
	md = append(md, ofconn.OXM{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 2}},
		ofconn.OXM{Header: ofconn.FieldReg(14), Value: []byte{0, 0, 0, 1}})
	for i := 0; i < 4; i++ {
		md = append(md, ofconn.OXM{Header: ofconn.FieldReg(i), Value: a[4*i : 4*i+4]})
	}
	res, err := Handle(&ofconn.PacketIn{Packet: echo, Metadata: md, Userdata: []byte{0, 0, 0, OpPutND, 0, 0, 0, 0}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l := res.Learned; l == nil || l.IP.String() != "fd00:1::99" || l.MAC != "0a:00:00:00:01:11" || l.Datapath != 2 || l.Port != 1 {
		t.Fatalf("learned %+v", res.Learned)
	}
}
