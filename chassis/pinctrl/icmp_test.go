package pinctrl

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net/netip"
	"testing"

	"golang.org/x/net/icmp"
	xipv4 "golang.org/x/net/ipv4"
	xipv6 "golang.org/x/net/ipv6"

	"hcnet/chassis/ofconn"
)

var (
	vm4, far4 = [4]byte{10, 0, 1, 11}, [4]byte{10, 0, 9, 9}
	vm6, far6 = netip.MustParseAddr("fd00::11"), netip.MustParseAddr("fd00:9::9")
)

func udpSeg(sport, dport uint16, data string) []byte {
	u := binary.BigEndian.AppendUint16(nil, sport)
	u = binary.BigEndian.AppendUint16(u, dport)
	u = binary.BigEndian.AppendUint16(u, uint16(8+len(data)))
	return append(append(u, 0, 0), data...)
}

func tcpSeg(seq, ack uint32, flags byte, data string) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], 40000)
	binary.BigEndian.PutUint16(h[2:], 80)
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12], h[13] = 5<<4, flags
	binary.BigEndian.PutUint16(h[14:], 1024)
	return append(h, data...)
}

// verify checks a generated frame with independent decoders: the IP
// header (x/net/ipv4 for IPv4), the transport checksum over the
// pseudo-header, and returns the parsed frame.
func verify(t *testing.T, pkt []byte) *frame {
	t.Helper()
	f, err := parseIP(pkt)
	if err != nil {
		t.Fatalf("generated packet does not parse: %v", err)
	}
	if !f.v6 {
		h, err := xipv4.ParseHeader(f.l3)
		if err != nil || h.TotalLen != len(f.l3) || h.Len != 20 {
			t.Fatalf("IPv4 header %+v: %v", h, err)
		}
		if checksum(f.l3[:20]) != 0 {
			t.Fatal("bad IPv4 header checksum")
		}
	} else {
		h, err := xipv6.ParseHeader(f.l3)
		if err != nil || h.PayloadLen != len(f.l4) {
			t.Fatalf("IPv6 header %+v: %v", h, err)
		}
	}
	switch {
	case f.proto == protoICMP:
		if checksum(f.l4) != 0 {
			t.Fatal("bad ICMPv4 checksum")
		}
	case f.proto == protoUDP && !f.v6 && len(f.l4) >= 8 && binary.BigEndian.Uint16(f.l4[6:]) == 0:
		// No checksum (IPv4 only): ovn-controller's DNS answers.
	case f.proto != protoSCTP:
		if pseudoChecksum(f.src, f.dst, f.proto, f.l4) != 0 {
			t.Fatalf("bad checksum for protocol %d", f.proto)
		}
	}
	return f
}

func TestICMPGolden(t *testing.T) {
	udp4 := ipv4(vm4, far4, protoUDP, udpSeg(5000, 53, "xy"))
	udp6 := ipv6Frame(routerMAC, vmMAC, vm6, far6, udpSeg(5000, 53, "xy"), protoUDP)
	echo4 := ipv4(vm4, far4, protoICMP, []byte{8, 0, 0xf7, 0xfe, 0, 1, 0, 0})
	big4 := ipv4(vm4, far4, protoUDP, udpSeg(5000, 9, string(make([]byte, 1000))))
	for _, c := range []struct {
		name, comment string
		build         func() ([]byte, error)
		orig          []byte
		swapped       bool
		typ, code     int
		bodyLen       int // of the original datagram carried; 0: all of it
	}{
		{"icmp4-error.golden", "icmp4/icmp4_error on a UDP packet 10.0.1.11 -> 10.0.9.9: type 3 code 1, addresses kept, the whole datagram carried",
			func() ([]byte, error) { return ICMP(udp4, false, false) }, udp4, false, 3, 1, 0},
		{"icmp4-error-big.golden", "icmp4_error on a 1048-byte UDP datagram: 548 bytes of it carried (576-byte IPv4 limit)",
			func() ([]byte, error) { return ICMP(big4, false, false) }, big4, false, 3, 1, 548},
		{"icmp6-error.golden", "icmp6/icmp6_error on a UDP packet fd00::11 -> fd00:9::9: type 1 code 1, addresses kept",
			func() ([]byte, error) { return ICMP(udp6, false, false) }, udp6, false, 1, 1, 0},
		{"reject-udp4.golden", "reject on a UDP packet 10.0.1.11 -> 10.0.9.9: port unreachable (3/3), addresses swapped",
			func() ([]byte, error) { return Reject(udp4) }, udp4, true, 3, 3, 0},
		{"reject-udp6.golden", "reject on a UDP packet fd00::11 -> fd00:9::9: port unreachable (1/4), addresses swapped",
			func() ([]byte, error) { return Reject(udp6) }, udp6, true, 1, 4, 0},
		{"reject-icmp4.golden", "reject on an ICMPv4 echo: host unreachable (3/1), addresses swapped",
			func() ([]byte, error) { return Reject(echo4) }, echo4, true, 3, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, c.comment, got)
			f := verify(t, got)
			of, _ := parseIP(c.orig)
			wantDst, wantSrc, wantIPSrc := of.ethDst, of.ethSrc, of.src
			if c.swapped {
				wantDst, wantSrc, wantIPSrc = of.ethSrc, of.ethDst, of.dst
			}
			if !bytes.Equal(f.ethDst, wantDst) || !bytes.Equal(f.ethSrc, wantSrc) || !bytes.Equal(f.src, wantIPSrc) {
				t.Fatalf("addresses eth %x > %x ip %x", f.ethSrc, f.ethDst, f.src)
			}
			if f.ttl() != 255 {
				t.Fatalf("hop limit %d", f.ttl())
			}
			proto := 1
			if f.v6 {
				proto = 58
			}
			m, err := icmp.ParseMessage(proto, f.l4)
			if err != nil {
				t.Fatal(err)
			}
			var typ int
			switch tt := m.Type.(type) {
			case xipv4.ICMPType:
				typ = int(tt)
			case xipv6.ICMPType:
				typ = int(tt)
			}
			if typ != c.typ || m.Code != c.code {
				t.Fatalf("type %v code %d", m.Type, m.Code)
			}
			du, ok := m.Body.(*icmp.DstUnreach)
			if !ok {
				t.Fatalf("body %T", m.Body)
			}
			want := of.l3
			if c.bodyLen != 0 {
				want = want[:c.bodyLen]
			}
			if !bytes.Equal(du.Data, want) {
				t.Fatalf("carried %d bytes of the datagram, want %d", len(du.Data), len(want))
			}
		})
	}
	if _, err := ICMP(buildARPFrame(), false, false); err == nil {
		t.Fatal("icmp on ARP accepted")
	}
}

func buildARPFrame() []byte {
	p := append(append([]byte{}, routerMAC...), vmMAC...)
	return append(append(p, 0x08, 0x06), make([]byte, 28)...)
}

func TestTCPResetGolden(t *testing.T) {
	syn := ipv4(vm4, far4, protoTCP, tcpSeg(1000, 0, tcpSYN, ""))
	data := ipv4(vm4, far4, protoTCP, tcpSeg(1000, 7777, tcpACK|0x08, "hello"))
	fin6 := ipv6Frame(routerMAC, vmMAC, vm6, far6, tcpSeg(500, 0, tcpFIN, "abc"), protoTCP)
	for _, c := range []struct {
		name, comment string
		pkt           []byte
		reject        bool
		seq, ack      uint32
		flags         byte
	}{
		{"tcp-reset-syn.golden", "tcp_reset on a SYN (seq 1000) 10.0.1.11:40000 -> 10.0.9.9:80: RST|ACK seq 0 ack 1001, ports reversed, addresses kept",
			syn, false, 0, 1001, tcpRST | tcpACK},
		{"tcp-reset-ack.golden", "tcp_reset on a data segment with ACK 7777: RST seq 7777",
			data, false, 7777, 0, tcpRST},
		{"reject-tcp6.golden", "reject on an IPv6 FIN with 3 bytes (seq 500): RST|ACK ack 504, addresses swapped",
			fin6, true, 0, 504, tcpRST | tcpACK},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []byte
			var err error
			if c.reject {
				got, err = Reject(c.pkt)
			} else {
				got, err = TCPReset(c.pkt, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, c.comment, got)
			f := verify(t, got)
			of, _ := parseIP(c.pkt)
			if c.reject != bytes.Equal(f.src, of.dst) {
				t.Fatalf("source %x (reject %v)", f.src, c.reject)
			}
			th := f.l4
			if len(th) != 20 || binary.BigEndian.Uint16(th[0:]) != 80 || binary.BigEndian.Uint16(th[2:]) != 40000 {
				t.Fatalf("TCP header %x", th)
			}
			if s, a := binary.BigEndian.Uint32(th[4:]), binary.BigEndian.Uint32(th[8:]); s != c.seq || a != c.ack || th[13] != c.flags {
				t.Fatalf("seq %d ack %d flags %#x, want %d %d %#x", s, a, th[13], c.seq, c.ack, c.flags)
			}
		})
	}
	if _, err := TCPReset(ipv4(vm4, far4, protoUDP, udpSeg(1, 2, "")), false); err == nil {
		t.Fatal("tcp_reset on UDP accepted")
	}
}

func TestSCTPAbort(t *testing.T) {
	sctp := func(vtag uint32, chunk byte, initTag uint32) []byte {
		h := make([]byte, 12)
		binary.BigEndian.PutUint16(h[0:], 3868)
		binary.BigEndian.PutUint16(h[2:], 9)
		binary.BigEndian.PutUint32(h[4:], vtag)
		c := []byte{chunk, 0, 0, 20}
		c = binary.BigEndian.AppendUint32(c, initTag)
		c = append(c, make([]byte, 12)...)
		p := append(h, c...)
		binary.LittleEndian.PutUint32(p[8:], crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)))
		return p
	}
	init := ipv4(vm4, far4, protoSCTP, sctp(0, 1, 0xabcdef01))
	got, err := Reject(init)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "reject-sctp-init.golden", "reject on an SCTP INIT (initiate tag abcdef01): ABORT with that tag, T bit clear, addresses swapped", got)
	f := verify(t, got)
	sh := append([]byte(nil), f.l4...)
	if binary.BigEndian.Uint32(sh[4:]) != 0xabcdef01 || sh[12] != 6 || sh[13] != 0 {
		t.Fatalf("SCTP %x", sh)
	}
	sum := binary.LittleEndian.Uint32(sh[8:])
	binary.LittleEndian.PutUint32(sh[8:], 0)
	if crc32.Checksum(sh, crc32.MakeTable(crc32.Castagnoli)) != sum {
		t.Fatal("bad SCTP checksum")
	}
	got, err = SCTPAbort(ipv4(vm4, far4, protoSCTP, sctp(0x1234, 0, 0)), false)
	if err != nil {
		t.Fatal(err)
	}
	f = verify(t, got)
	if binary.BigEndian.Uint32(f.l4[4:]) != 0x1234 || f.l4[13] != 1 {
		t.Fatalf("SCTP ABORT for DATA %x", f.l4)
	}
	if _, err := SCTPAbort(ipv4(vm4, far4, protoSCTP, sctp(0x1234, 6, 0)), false); err == nil {
		t.Fatal("ABORT answered with an ABORT")
	}
}

func TestFragMTU(t *testing.T) {
	big := ipv4(vm4, far4, protoUDP, udpSeg(5000, 9, string(make([]byte, 1500))))
	e, err := ICMP(big, false, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SetFragMTU(e, 1442)
	if err != nil {
		t.Fatal(err)
	}
	f := verify(t, got)
	if binary.BigEndian.Uint16(f.l4[6:]) != 1442 {
		t.Fatalf("ICMPv4 %x", f.l4[:8])
	}
	e6, err := ICMP(ipv6Frame(routerMAC, vmMAC, vm6, far6, udpSeg(1, 2, string(make([]byte, 1500))), protoUDP), false, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err = SetFragMTU(e6, 1400)
	if err != nil {
		t.Fatal(err)
	}
	f = verify(t, got)
	if binary.BigEndian.Uint32(f.l4[4:]) != 1400 {
		t.Fatalf("ICMPv6 %x", f.l4[:8])
	}

	// Through Handle: a paused packet-in resumes with the MTU written.
	ud := []byte{0, 0, 0, OpPutICMP4FragMTU, 0, 0, 0, 0, 0x05, 0xa2}
	res, err := Handle(&ofconn.PacketIn{Packet: e, Userdata: ud, Continuation: []byte{9}}, 3)
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("send %d err %v", len(res.Send), err)
	}
	if !bytes.Contains(res.Send[0], got[:0]) || !bytes.Contains(res.Send[0], []byte{0x05, 0xa2}) {
		t.Fatal("resume does not carry the MTU")
	}
	if _, err := Handle(&ofconn.PacketIn{Packet: e, Userdata: ud}, 3); err == nil {
		t.Fatal("frag_mtu without a continuation accepted")
	}
}

// TestHandleGenerated checks that the generating opcodes send one
// packet-out whose packet is the one the builder makes and whose actions
// end with the flow's nested actions.
func TestHandleGenerated(t *testing.T) {
	udp4 := ipv4(vm4, far4, protoUDP, udpSeg(5000, 53, "xy"))
	tcp4 := ipv4(vm4, far4, protoTCP, tcpSeg(1, 0, tcpSYN, ""))
	udp6 := ipv6Frame(routerMAC, vmMAC, vm6, far6, udpSeg(5000, 53, "xy"), protoUDP)
	nested := []byte{0, 0, 0, 0, 0, 0, 0, 0} // stands for encoded actions
	for _, c := range []struct {
		op  byte
		pkt []byte
		fn  func([]byte) ([]byte, error)
	}{
		{OpICMP, udp4, func(p []byte) ([]byte, error) { return ICMP(p, false, false) }},
		{OpICMP, udp6, func(p []byte) ([]byte, error) { return ICMP(p, false, false) }},
		{OpICMP4Error, udp4, func(p []byte) ([]byte, error) { return ICMP(p, false, false) }},
		{OpICMP6Error, udp6, func(p []byte) ([]byte, error) { return ICMP(p, false, false) }},
		{OpTCPReset, tcp4, func(p []byte) ([]byte, error) { return TCPReset(p, false) }},
		{OpReject, tcp4, Reject},
		{OpReject, udp6, Reject},
	} {
		ud := append([]byte{0, 0, 0, c.op, 0, 0, 0, 0}, nested...)
		res, err := Handle(&ofconn.PacketIn{Packet: c.pkt, Userdata: ud}, 5)
		if err != nil || len(res.Send) != 1 {
			t.Fatalf("opcode %d: send %d err %v", c.op, len(res.Send), err)
		}
		want, _ := c.fn(c.pkt)
		if !bytes.Equal(res.Send[0], ofconn.PacketOut(5, want, nested)) {
			t.Fatalf("opcode %d: packet-out differs", c.op)
		}
	}
}
