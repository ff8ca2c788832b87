package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"hcnet/chassis/ofconn"
)

// IPv6 neighbour discovery opcodes (internal/lflow's numbering).
const (
	OpNDNA       = 3
	OpPutND      = 4
	OpNDNS       = 9
	OpNDNARouter = 12
)

func ipv6Hdr(pkt []byte) (hl int, ip []byte, err error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return 0, nil, err
	}
	if et != 0x86dd || len(pkt) < hl+40 {
		return 0, nil, fmt.Errorf("pinctrl: not an IPv6 packet (ethertype %#x, %d bytes)", et, len(pkt))
	}
	return hl, pkt[hl:], nil
}

// icmp6Checksum computes the ICMPv6 checksum over the pseudo-header.
func icmp6Checksum(src, dst, icmp []byte) uint16 {
	ph := make([]byte, 0, 40+len(icmp))
	ph = append(ph, src...)
	ph = append(ph, dst...)
	ph = binary.BigEndian.AppendUint32(ph, uint32(len(icmp)))
	ph = append(ph, 0, 0, 0, 58)
	ph = append(ph, icmp...)
	return checksum(ph)
}

func ipv6Packet(ethDst, ethSrc, vlan, src, dst, icmp []byte) []byte {
	out := append(append([]byte(nil), ethDst...), ethSrc...)
	out = append(out, vlan...)
	out = append(out, 0x86, 0xdd)
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(icmp)))
	ip[6], ip[7] = 58, 255
	copy(ip[8:24], src)
	copy(ip[24:40], dst)
	binary.BigEndian.PutUint16(icmp[2:], 0)
	binary.BigEndian.PutUint16(icmp[2:], icmp6Checksum(src, dst, icmp))
	return append(append(out, ip...), icmp...)
}

// NeighborSolicitation builds the NS OVN's nd_ns action starts from: from
// the IPv6 packet's source MAC and address, to the solicited-node
// multicast group of its destination, asking for the destination, with
// the source link-layer address option.
func NeighborSolicitation(pkt []byte) ([]byte, error) {
	hl, ip, err := ipv6Hdr(pkt)
	if err != nil {
		return nil, err
	}
	target := ip[24:40]
	dst := []byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]}
	ethDst := []byte{0x33, 0x33, 0xff, target[13], target[14], target[15]}
	icmp := []byte{135, 0, 0, 0, 0, 0, 0, 0}
	icmp = append(icmp, target...)
	icmp = append(icmp, 1, 1)
	icmp = append(icmp, pkt[6:12]...)
	return ipv6Packet(ethDst, pkt[6:12], pkt[12:hl-2], ip[8:24], dst, icmp), nil
}

// NeighborAdvertisement builds the NA OVN's nd_na and nd_na_router actions
// start from, answering a neighbour solicitation: back to the solicitor,
// for the solicited target, solicited and override flags (and router
// with router set), with a target link-layer address option. The nested
// actions set the answering MAC and addresses.
func NeighborAdvertisement(pkt []byte, router bool) ([]byte, error) {
	hl, ip, err := ipv6Hdr(pkt)
	if err != nil {
		return nil, err
	}
	if ip[6] != 58 || len(ip) < 40+24 || ip[40] != 135 {
		return nil, fmt.Errorf("pinctrl: nd_na on a packet that is not a neighbour solicitation")
	}
	target := ip[40+8 : 40+24]
	flags := uint32(0x60000000) // solicited, override
	if router {
		flags |= 0x80000000
	}
	icmp := []byte{136, 0, 0, 0}
	icmp = binary.BigEndian.AppendUint32(icmp, flags)
	icmp = append(icmp, target...)
	icmp = append(icmp, 2, 1)
	icmp = append(icmp, pkt[0:6]...)
	src := ip[8:24]
	if netip.AddrFrom16([16]byte(src)).IsUnspecified() {
		// Duplicate address detection: answer to all nodes.
		src = []byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	}
	return ipv6Packet(pkt[6:12], pkt[0:6], pkt[12:hl-2], target, src, icmp), nil
}

func putND(pi *ofconn.PacketIn) (*MACBinding, error) {
	dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
	port, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
	if !ok1 || !ok2 || len(pi.Packet) < 14 {
		return nil, fmt.Errorf("pinctrl: put_nd without metadata or reg14 in the packet-in")
	}
	a, found := xxreg0(pi.Metadata)
	if !found {
		return nil, fmt.Errorf("pinctrl: put_nd without xxreg0 in the packet-in")
	}
	m := pi.Packet[6:12]
	return &MACBinding{Datapath: uint32(dp), Port: uint32(port), IP: netip.AddrFrom16(a),
		MAC: fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])}, nil
}

// xxreg0 reads xxreg0 from packet-in metadata, which may carry it whole or
// as reg0..reg3.
func xxreg0(md []ofconn.OXM) ([16]byte, bool) {
	var a [16]byte
	for _, o := range md {
		if ofconn.SameField(o.Header, ofconn.FieldXXReg(0)) && o.Mask == nil && len(o.Value) == 16 {
			copy(a[:], o.Value)
			return a, true
		}
	}
	found := false
	for i := 0; i < 4; i++ {
		v, ok := ofconn.Uint(md, ofconn.FieldReg(i))
		if ok {
			found = true
		}
		binary.BigEndian.PutUint32(a[4*i:], uint32(v))
	}
	return a, found
}
