package pinctrl

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Opcodes of the packets generated in reply to a packet (internal/lflow's
// numbering).
const (
	OpTCPReset        = 11
	OpPutICMP4FragMTU = 13
	OpICMP6Error      = 21
	OpPutICMP6FragMTU = 22
	OpReject          = 23
	OpSCTPAbort       = 25
)

// IP protocol numbers.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// frame is an Ethernet frame carrying IPv4 or IPv6, split into its
// headers. l3 runs to the end of the IP datagram (any Ethernet padding
// beyond the IP length is dropped); l4 is the payload after the fixed
// IPv6 header or the IPv4 header with options.
type frame struct {
	ethDst, ethSrc []byte
	vlan           []byte // the 4-byte 802.1Q tag, or nil
	v6             bool
	l3             []byte
	src, dst       []byte // IP addresses (4 or 16 bytes)
	proto          byte   // IPv4 protocol or IPv6 next header
	l4             []byte
	// keepIPv4ID builds IPv4 replies with the packet's own
	// identification and flags (answers made in place: DNS); otherwise
	// generated packets get identification 0 and don't-fragment, as
	// ovn-controller's.
	keepIPv4ID bool
}

// parseIP splits an IPv4 or IPv6 frame; what is not IP is an error.
func parseIP(pkt []byte) (*frame, error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return nil, err
	}
	f := &frame{ethDst: pkt[0:6], ethSrc: pkt[6:12]}
	if hl == 18 {
		f.vlan = pkt[12:16]
	}
	ip := pkt[hl:]
	switch et {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return nil, fmt.Errorf("pinctrl: truncated IPv4 header (%d bytes)", len(ip))
		}
		ihl := int(ip[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || tot < ihl || tot > len(ip) {
			return nil, fmt.Errorf("pinctrl: IPv4 header length %d, total length %d in %d bytes", ihl, tot, len(ip))
		}
		f.l3 = ip[:tot]
		f.src, f.dst, f.proto, f.l4 = ip[12:16], ip[16:20], ip[9], ip[ihl:tot]
	case 0x86dd:
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return nil, fmt.Errorf("pinctrl: truncated IPv6 header (%d bytes)", len(ip))
		}
		tot := 40 + int(binary.BigEndian.Uint16(ip[4:]))
		if tot > len(ip) {
			return nil, fmt.Errorf("pinctrl: IPv6 payload length %d in %d bytes", tot-40, len(ip)-40)
		}
		f.v6 = true
		f.l3 = ip[:tot]
		f.src, f.dst, f.proto, f.l4 = ip[8:24], ip[24:40], ip[6], ip[40:tot]
	default:
		return nil, fmt.Errorf("pinctrl: not an IP packet (ethertype %#x)", et)
	}
	return f, nil
}

// build writes a frame with f's Ethernet addresses and VLAN tag (swapped
// when swap is set), an IP header from src to dst with protocol proto
// and hop limit ttl (IPv4: f's TOS; IPv6: f's traffic class and flow
// label), and payload, whose transport checksum at csumOfs (negative: none)
// is computed over the pseudo-header.
func (f *frame) build(swap bool, proto, ttl byte, payload []byte, csumOfs int) []byte {
	ethDst, ethSrc, src, dst := f.ethDst, f.ethSrc, f.src, f.dst
	if swap {
		ethDst, ethSrc, src, dst = ethSrc, ethDst, dst, src
	}
	out := make([]byte, 0, 18+40+len(payload))
	out = append(append(out, ethDst...), ethSrc...)
	out = append(out, f.vlan...)
	if f.v6 {
		out = append(out, 0x86, 0xdd)
		ip := make([]byte, 40)
		copy(ip[0:4], f.l3[0:4]) // version, traffic class, flow label
		binary.BigEndian.PutUint16(ip[4:], uint16(len(payload)))
		ip[6], ip[7] = proto, ttl
		copy(ip[8:24], src)
		copy(ip[24:40], dst)
		out = append(out, ip...)
	} else {
		out = append(out, 0x08, 0x00)
		ip := make([]byte, 20)
		ip[0], ip[1] = 0x45, f.l3[1]
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(payload)))
		if f.keepIPv4ID && len(f.l3) >= 8 {
			copy(ip[4:8], f.l3[4:8])
		} else {
			ip[6] = 0x40 // don't fragment
		}
		ip[8], ip[9] = ttl, proto
		copy(ip[12:16], src)
		copy(ip[16:20], dst)
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
		out = append(out, ip...)
	}
	p := len(out)
	out = append(out, payload...)
	if csumOfs >= 0 {
		seg := out[p:]
		binary.BigEndian.PutUint16(seg[csumOfs:], 0)
		var c uint16
		if proto == protoICMP {
			c = checksum(seg)
		} else {
			c = pseudoChecksum(src, dst, proto, seg)
		}
		if c == 0 && proto == protoUDP {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(seg[csumOfs:], c)
	}
	return out
}

// ttl is the packet's IPv4 TTL or IPv6 hop limit.
func (f *frame) ttl() byte {
	if f.v6 {
		return f.l3[7]
	}
	return f.l3[8]
}

// pseudoChecksum is the transport checksum of seg over the IPv4 or IPv6
// pseudo-header (RFC 768, RFC 8200 section 8.1).
func pseudoChecksum(src, dst []byte, proto byte, seg []byte) uint16 {
	ph := make([]byte, 0, 40+len(seg))
	ph = append(ph, src...)
	ph = append(ph, dst...)
	if len(src) == 16 {
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(seg)))
		ph = append(ph, 0, 0, 0, proto)
	} else {
		ph = append(ph, 0, proto)
		ph = binary.BigEndian.AppendUint16(ph, uint16(len(seg)))
	}
	return checksum(append(ph, seg...))
}

// ICMP builds the packet OVN's icmp4, icmp4_error, icmp6 and icmp6_error
// actions start from (ovn-sb(5)): same Ethernet and IP addresses (swapped
// when swap is set, as reject does), hop limit 255, destination
// unreachable (ICMPv4 type 3, ICMPv6 type 1) with code 1, or, when
// portUnreachable is set and the packet is UDP, code 3 (ICMPv4) or 4
// (ICMPv6). The body carries as much of the original datagram as fits in
// 576 bytes of IPv4 (RFC 1812 4.3.2.3) or 1280 bytes of IPv6 (RFC 4443
// 2.4 (c)). The nested actions then set addresses, type and code; the
// switch keeps the checksums right as they do.
func ICMP(pkt []byte, swap, portUnreachable bool) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("icmp: %w", err)
	}
	if f.v6 {
		code := byte(1)
		if portUnreachable && f.proto == protoUDP {
			code = 4
		}
		orig := f.l3[:min(len(f.l3), 1280-40-8)]
		body := append([]byte{1, code, 0, 0, 0, 0, 0, 0}, orig...)
		return f.build(swap, protoICMPv6, 255, body, 2), nil
	}
	code := byte(1)
	if portUnreachable && f.proto == protoUDP {
		code = 3
	}
	orig := f.l3[:min(len(f.l3), 576-20-8)]
	body := append([]byte{3, code, 0, 0, 0, 0, 0, 0}, orig...)
	return f.build(swap, protoICMP, 255, body, 2), nil
}

// ICMPv4Error is ICMP for an IPv4 packet, without swapping addresses.
func ICMPv4Error(pkt []byte) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, err
	}
	if f.v6 {
		return nil, fmt.Errorf("pinctrl: icmp4 action on an IPv6 packet")
	}
	return ICMP(pkt, false, false)
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// TCPReset builds the segment OVN's tcp_reset action starts from, as RFC
// 793 (page 36) resets a connection: the ports reversed; if the segment
// carried an ACK, sequence number = its acknowledgment number and flag
// RST; otherwise sequence number 0, acknowledgment = its sequence number
// plus its length (SYN and FIN count one each) and flags RST|ACK. No
// options, no payload, hop limit 255. The IP and Ethernet addresses are
// kept (swapped when swap is set, as reject does): the nested actions
// swap them.
func TCPReset(pkt []byte, swap bool) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("tcp_reset: %w", err)
	}
	if f.proto != protoTCP || len(f.l4) < 20 {
		return nil, fmt.Errorf("pinctrl: tcp_reset on a packet that is not TCP (protocol %d, %d bytes)", f.proto, len(f.l4))
	}
	in := f.l4
	doff := int(in[12]>>4) * 4
	if doff < 20 || doff > len(in) {
		return nil, fmt.Errorf("pinctrl: TCP data offset %d in a %d-byte segment", doff, len(in))
	}
	flags := in[13]
	th := make([]byte, 20)
	copy(th[0:2], in[2:4])
	copy(th[2:4], in[0:2])
	th[12] = 5 << 4
	if flags&tcpACK != 0 {
		copy(th[4:8], in[8:12])
		th[13] = tcpRST
	} else {
		n := uint32(len(in) - doff)
		if flags&tcpSYN != 0 {
			n++
		}
		if flags&tcpFIN != 0 {
			n++
		}
		binary.BigEndian.PutUint32(th[8:], binary.BigEndian.Uint32(in[4:])+n)
		th[13] = tcpRST | tcpACK
	}
	return f.build(swap, protoTCP, 255, th, 16), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SCTPAbort builds the packet OVN's sctp_abort action starts from: an
// SCTP packet with the ports reversed and one ABORT chunk (RFC 9260 8.4
// item 3): answering an INIT (verification tag 0), it carries the INIT's
// initiate tag with the T bit clear; otherwise the packet's own tag with
// the T bit set. An incoming ABORT is not answered.
func SCTPAbort(pkt []byte, swap bool) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("sctp_abort: %w", err)
	}
	in := f.l4
	if f.proto != protoSCTP || len(in) < 16 {
		return nil, fmt.Errorf("pinctrl: sctp_abort on a packet that is not SCTP with a chunk (protocol %d, %d bytes)", f.proto, len(in))
	}
	chunk := in[12]
	if chunk == 6 {
		return nil, fmt.Errorf("pinctrl: sctp_abort on an SCTP ABORT")
	}
	sh := make([]byte, 16)
	copy(sh[0:2], in[2:4])
	copy(sh[2:4], in[0:2])
	tag, tbit := in[4:8], byte(1)
	if binary.BigEndian.Uint32(tag) == 0 && chunk == 1 { // INIT
		if len(in) < 20 {
			return nil, fmt.Errorf("pinctrl: truncated SCTP INIT chunk")
		}
		tag, tbit = in[16:20], 0
	}
	copy(sh[4:8], tag)
	sh[12], sh[13] = 6, tbit // ABORT
	binary.BigEndian.PutUint16(sh[14:], 4)
	binary.LittleEndian.PutUint32(sh[8:], crc32.Checksum(sh, castagnoli))
	return f.build(swap, protoSCTP, 255, sh, -1), nil
}

// Reject builds the packet of OVN's reject action: a TCP reset for TCP,
// an SCTP ABORT for SCTP and an ICMP destination unreachable (port
// unreachable for UDP) otherwise, with Ethernet and IP addresses already
// swapped.
func Reject(pkt []byte) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("reject: %w", err)
	}
	switch f.proto {
	case protoTCP:
		return TCPReset(pkt, true)
	case protoSCTP:
		return SCTPAbort(pkt, true)
	}
	return ICMP(pkt, true, true)
}

// SetFragMTU writes the MTU of icmp4.frag_mtu (ICMPv4 next-hop MTU, RFC
// 1191) or icmp6.frag_mtu (ICMPv6 packet too big MTU, RFC 4443 3.2) into
// an ICMP packet and fixes its checksum.
func SetFragMTU(pkt []byte, mtu uint32) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("frag_mtu: %w", err)
	}
	if len(f.l4) < 8 || !f.v6 && f.proto != protoICMP || f.v6 && f.proto != protoICMPv6 {
		return nil, fmt.Errorf("pinctrl: frag_mtu on a packet that is not ICMP (protocol %d)", f.proto)
	}
	out := append([]byte(nil), pkt...)
	off := l4Offset(pkt, f)
	icmp := out[off : off+len(f.l4)]
	if f.v6 {
		binary.BigEndian.PutUint32(icmp[4:], mtu)
		binary.BigEndian.PutUint16(icmp[2:], 0)
		binary.BigEndian.PutUint16(icmp[2:], pseudoChecksum(f.src, f.dst, protoICMPv6, icmp))
	} else {
		if mtu > 0xffff {
			return nil, fmt.Errorf("pinctrl: icmp4.frag_mtu %d does not fit 16 bits", mtu)
		}
		binary.BigEndian.PutUint16(icmp[4:], 0)
		binary.BigEndian.PutUint16(icmp[6:], uint16(mtu))
		binary.BigEndian.PutUint16(icmp[2:], 0)
		binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	}
	return out, nil
}

// l4Offset is where f.l4 starts in pkt.
func l4Offset(pkt []byte, f *frame) int {
	hl, _, _ := l2(pkt)
	return hl + len(f.l3) - len(f.l4)
}
