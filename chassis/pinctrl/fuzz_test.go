package pinctrl

import (
	"encoding/binary"
	"testing"

	"hcnet/chassis/ofconn"
)

// FuzzHandle feeds arbitrary packets to every opcode: packets come from
// VMs, so no input may panic.
func FuzzHandle(f *testing.F) {
	opts6 := appendOpt6(appendOpt6(nil, opt6ServerID, []byte{0, 0, 0, 0, 0x10, 2}), opt6IAAddr, make([]byte, 16))
	ra := tlv16Append(nil, raAddrMode, []byte("slaac"))
	ra = tlv16Append(ra, raPrefix, make([]byte, 17))
	ra = tlv16Append(ra, raRouteInfo, []byte("HIGH-aef1::/48"))
	for _, seed := range []struct {
		op   uint32
		opts []byte
		pkt  []byte
	}{
		{OpPutDHCPv6Opts, opts6, dhcp6Msg(dhcp6Solicit, nil)},
		{OpPutNDRAOpts, ra, ipv6Frame(routerMAC, vmMAC, vm6, far6, []byte{133, 0, 0, 0, 0, 0, 0, 0}, protoICMPv6)},
		{OpDNSLookup, nil, ipv4(vm4, far4, protoUDP, udpSeg(1, 53, "\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03vm1\x03ovn\x03org\x00\x00\x01\x00\x01"))},
		{OpReject, nil, ipv4(vm4, far4, protoTCP, tcpSeg(1, 2, tcpACK, "x"))},
		{OpReject, nil, ipv4(vm4, far4, protoSCTP, make([]byte, 20))},
		{OpPutDHCPOpts, dhcpOpts, buildDHCP(dhcpDiscover, nil)},
		{OpPutICMP4FragMTU, []byte{5, 0xa2}, ipv4(vm4, far4, protoICMP, make([]byte, 8))},
		{OpNDNA, nil, ipv6Frame(routerMAC, vmMAC, vm6, far6, append([]byte{135, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 16)...), protoICMPv6)},
		{OpLog, []byte{1, 6, 'a'}, ipv4(vm4, far4, protoUDP, udpSeg(1, 2, ""))},
		{OpIGMP, nil, ipv4(vm4, far4, 2, []byte{0x22, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 1, 239, 1, 1, 1, 10, 0, 0, 1})},
	} {
		f.Add(seed.op, seed.opts, seed.pkt)
	}
	dns := DNS{}
	dns.Add([]uint32{3}, map[string]string{"vm1.ovn.org": "10.0.0.4 aef0::4", "4.0.0.10.in-addr.arpa": "vm1.ovn.org"})
	in := &Input{DNS: dns}
	f.Fuzz(func(t *testing.T, op uint32, opts, pkt []byte) {
		ud := binary.BigEndian.AppendUint32(nil, op%32)
		ud = append(ud, 0, 0, 0, 0)
		ud = binary.BigEndian.AppendUint32(ud, ofconn.FieldReg(0))
		ud = append(ud, 0, 3, 0, 1)
		ud = append(ud, opts...)
		HandleWith(&ofconn.PacketIn{Packet: pkt, Metadata: md3, Userdata: ud, Continuation: []byte{1}}, 1, in)
		// The generating opcodes read the nested actions from the
		// payload: the same packet with the options as the payload.
		ud = append(binary.BigEndian.AppendUint32(nil, op%32), 0, 0, 0, 0)
		HandleWith(&ofconn.PacketIn{Packet: pkt, Metadata: md3, Userdata: append(ud, opts...), Continuation: []byte{1}}, 1, in)
	})
}

func tlv16Append(b []byte, code uint16, v []byte) []byte { return appendOpt6(b, code, v) }
