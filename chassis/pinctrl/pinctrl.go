package pinctrl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"hcnet/chassis/ofconn"
)

// Controller opcodes (internal/lflow's numbering, which follows OVN's).
const (
	OpARP           = 0
	OpPutARP        = 1
	OpPutDHCPOpts   = 2
	OpICMP          = 10
	OpICMP4Error    = 14
	OpPutDHCPv6Opts = 5
)

// MACBinding is a neighbour learned by put_arp.
type MACBinding struct {
	Datapath uint32 // Datapath_Binding tunnel key
	Port     uint32 // logical input port key
	IP       netip.Addr
	MAC      string // "0a:00:00:00:00:01"
}

// Result is what to do with one packet-in.
type Result struct {
	// Send are OpenFlow messages for the switch (packet-out, resume).
	Send [][]byte
	// Learned is set by put_arp.
	Learned *MACBinding
}

// ErrIgnored marks packet-ins the chassis does not handle (yet); the
// error names the opcode.
var ErrIgnored = errors.New("pinctrl: opcode not handled")

// Handle decides what to do with a packet-in.
func Handle(pi *ofconn.PacketIn, xid uint32) (Result, error) {
	if len(pi.Userdata) < 8 {
		return Result{}, fmt.Errorf("pinctrl: userdata of %d bytes", len(pi.Userdata))
	}
	op := binary.BigEndian.Uint32(pi.Userdata)
	payload := pi.Userdata[8:]
	switch op {
	case OpARP:
		pkt, err := ARPRequest(pi.Packet)
		if err != nil {
			return Result{}, err
		}
		return Result{Send: [][]byte{ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(pi.Metadata), payload...))}}, nil
	case OpPutARP:
		mb, err := putARP(pi)
		if err != nil {
			return Result{}, err
		}
		return Result{Learned: mb}, nil
	case OpPutDHCPOpts:
		if len(payload) < 8 {
			return Result{}, fmt.Errorf("pinctrl: put_dhcp_opts payload of %d bytes", len(payload))
		}
		h := binary.BigEndian.Uint32(payload)
		ofs := int(binary.BigEndian.Uint16(payload[4:]))
		reply, err := DHCPReply(pi.Packet, payload[8:])
		md := pi.Metadata
		pkt := pi.Packet
		if err == nil {
			md = ofconn.SetBit(md, h, ofs)
			pkt = reply
		}
		// Resume in any case, so the pipeline continues (with the
		// result bit clear when no reply could be built).
		return Result{Send: [][]byte{ofconn.Resume(xid, pkt, md, pi.Continuation)}}, err
	case OpNDNS:
		pkt, err := NeighborSolicitation(pi.Packet)
		if err != nil {
			return Result{}, err
		}
		return Result{Send: [][]byte{ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(pi.Metadata), payload...))}}, nil
	case OpNDNA, OpNDNARouter:
		pkt, err := NeighborAdvertisement(pi.Packet, op == OpNDNARouter)
		if err != nil {
			return Result{}, err
		}
		return Result{Send: [][]byte{ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(pi.Metadata), payload...))}}, nil
	case OpPutND:
		mb, err := putND(pi)
		if err != nil {
			return Result{}, err
		}
		return Result{Learned: mb}, nil
	case OpICMP, OpICMP4Error:
		pkt, err := ICMPv4Error(pi.Packet)
		if err != nil {
			return Result{}, err
		}
		return Result{Send: [][]byte{ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(pi.Metadata), payload...))}}, nil
	}
	return Result{}, fmt.Errorf("%w: %d", ErrIgnored, op)
}

func putARP(pi *ofconn.PacketIn) (*MACBinding, error) {
	dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
	port, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
	ip, ok3 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(0))
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("pinctrl: put_arp without metadata, reg14 or reg0 in the packet-in")
	}
	if len(pi.Packet) < 14 {
		return nil, fmt.Errorf("pinctrl: put_arp packet of %d bytes", len(pi.Packet))
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(ip))
	m := pi.Packet[6:12]
	return &MACBinding{Datapath: uint32(dp), Port: uint32(port), IP: netip.AddrFrom4(a),
		MAC: fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])}, nil
}

// l2 returns the Ethernet header length (with one 802.1Q tag) and the
// ethertype.
func l2(pkt []byte) (int, uint16, error) {
	if len(pkt) < 14 {
		return 0, 0, fmt.Errorf("pinctrl: frame of %d bytes", len(pkt))
	}
	et := binary.BigEndian.Uint16(pkt[12:])
	if et == 0x8100 {
		if len(pkt) < 18 {
			return 0, 0, fmt.Errorf("pinctrl: tagged frame of %d bytes", len(pkt))
		}
		return 18, binary.BigEndian.Uint16(pkt[16:]), nil
	}
	return 14, et, nil
}

// ARPRequest builds the ARP request OVN's arp action starts from: from
// the IPv4 packet's source MAC, broadcast, asking for its destination IP
// on behalf of its source IP. The nested actions then adjust it.
func ARPRequest(pkt []byte) ([]byte, error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return nil, err
	}
	if et != 0x0800 || len(pkt) < hl+20 {
		return nil, fmt.Errorf("pinctrl: arp action on a non-IPv4 packet (ethertype %#x)", et)
	}
	ip := pkt[hl:]
	out := make([]byte, 0, 42)
	out = append(out, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	out = append(out, pkt[6:12]...)
	if hl == 18 {
		out = append(out, pkt[12:16]...)
	}
	out = append(out, 0x08, 0x06)
	out = append(out, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	out = append(out, pkt[6:12]...)           // sha
	out = append(out, ip[12:16]...)           // spa
	out = append(out, 0, 0, 0, 0, 0, 0)       // tha
	out = append(out, ip[16:20]...)           // tpa
	return out, nil
}

// ICMPv4Error builds the ICMPv4 packet OVN's icmp4/icmp4_error actions
// start from: same Ethernet and IP addresses, TTL 255, destination
// unreachable (type 3, code 1), carrying the original IP header and the
// first 8 bytes of its payload. The nested actions swap addresses and set
// type and code.
func ICMPv4Error(pkt []byte) ([]byte, error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return nil, err
	}
	if et != 0x0800 || len(pkt) < hl+20 {
		return nil, fmt.Errorf("pinctrl: icmp4 action on a non-IPv4 packet (ethertype %#x)", et)
	}
	ip := pkt[hl:]
	ihl := int(ip[0]&0x0f) * 4
	if ihl < 20 || len(ip) < ihl {
		return nil, fmt.Errorf("pinctrl: IPv4 header length %d", ihl)
	}
	orig := ip[:min(len(ip), ihl+8)]
	icmp := make([]byte, 8, 8+len(orig))
	icmp[0], icmp[1] = 3, 1
	icmp = append(icmp, orig...)
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	out := append([]byte(nil), pkt[:hl]...)
	iph := make([]byte, 20)
	iph[0] = 0x45
	binary.BigEndian.PutUint16(iph[2:], uint16(20+len(icmp)))
	iph[8] = 255
	iph[9] = 1
	copy(iph[12:20], ip[12:20])
	binary.BigEndian.PutUint16(iph[10:], checksum(iph))
	out = append(out, iph...)
	return append(out, icmp...), nil
}

// checksum is the Internet checksum.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
