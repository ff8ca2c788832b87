package pinctrl

import (
	"encoding/binary"
	"fmt"
)

// DHCP message types.
const (
	dhcpDiscover = 1
	dhcpOffer    = 2
	dhcpRequest  = 3
	dhcpAck      = 5
	dhcpNak      = 6
	dhcpInform   = 8
)

var dhcpMagic = []byte{99, 130, 83, 99}

// DHCPReply builds the reply to a DHCPv4 DISCOVER (OFFER), REQUEST (ACK,
// or NAK when it asks for another address) or INFORM (ACK without an
// address, lease time, netmask or renewal times, as ovn-controller; RFC
// 2131 4.3.5) from the options put_dhcp_opts encoded (code, length,
// value; code 0 is the offered address). Ethernet,
// IP and UDP addresses and ports are kept: the logical flows after the
// resume rewrite them.
func DHCPReply(pkt, opts []byte) ([]byte, error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return nil, err
	}
	if et != 0x0800 || len(pkt) < hl+20 {
		return nil, fmt.Errorf("pinctrl: DHCP request is not IPv4 (ethertype %#x)", et)
	}
	ip := pkt[hl:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != 17 || len(ip) < ihl+8 {
		return nil, fmt.Errorf("pinctrl: DHCP request is not UDP")
	}
	udp := ip[ihl:]
	d := udp[8:]
	if len(d) < 240 || !equal(d[236:240], dhcpMagic) {
		return nil, fmt.Errorf("pinctrl: DHCP message of %d bytes without magic cookie", len(d))
	}
	if d[0] != 1 {
		return nil, fmt.Errorf("pinctrl: DHCP op %d is not a request", d[0])
	}
	reqType, requested := byte(0), []byte(nil)
	if err := walkOptions(d[240:], func(code byte, v []byte) {
		switch code {
		case 53:
			if len(v) == 1 {
				reqType = v[0]
			}
		case 50:
			if len(v) == 4 {
				requested = v
			}
		}
	}); err != nil {
		return nil, err
	}
	var offer []byte
	var rest []byte
	for b := opts; len(b) > 0; {
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return nil, fmt.Errorf("pinctrl: put_dhcp_opts options truncated")
		}
		code, l := b[0], int(b[1])
		if code == 0 {
			offer = b[2 : 2+l]
		} else {
			rest = append(rest, b[:2+l]...)
		}
		b = b[2+l:]
	}
	if len(offer) != 4 {
		return nil, fmt.Errorf("pinctrl: put_dhcp_opts without offerip")
	}
	var typ byte
	switch reqType {
	case dhcpDiscover:
		typ = dhcpOffer
	case dhcpRequest:
		typ = dhcpAck
		ciaddr := d[12:16]
		if requested != nil && !equal(requested, offer) ||
			requested == nil && !equal(ciaddr, []byte{0, 0, 0, 0}) && !equal(ciaddr, offer) {
			typ = dhcpNak
		}
	case dhcpInform:
		typ = dhcpAck
	default:
		return nil, fmt.Errorf("pinctrl: DHCP message type %d not answered", reqType)
	}
	r := make([]byte, 240)
	r[0], r[1], r[2] = 2, d[1], d[2] // BOOTREPLY, htype, hlen
	copy(r[4:8], d[4:8])             // xid
	copy(r[10:12], d[10:12])         // flags
	if typ == dhcpAck {
		copy(r[12:16], d[12:16]) // ciaddr (RFC 2131 table 3)
	}
	if reqType == dhcpInform {
		var kept []byte
		_ = walkOptions(append(append([]byte(nil), rest...), 255), func(code byte, v []byte) {
			switch code {
			case 1, 51, 58, 59: // netmask, lease time, T1, T2
			default:
				kept = append(append(kept, code, byte(len(v))), v...)
			}
		})
		rest = kept
	} else if typ != dhcpNak {
		copy(r[16:20], offer) // yiaddr
	}
	copy(r[24:28], d[24:28]) // giaddr
	copy(r[28:44], d[28:44]) // chaddr
	copy(r[236:240], dhcpMagic)
	r = append(r, 53, 1, typ)
	if typ == dhcpNak {
		// A NAK carries only the server identifier.
		_ = walkOptions(append(append([]byte(nil), rest...), 255), func(code byte, v []byte) {
			if code == 54 {
				r = append(r, 54, byte(len(v)))
				r = append(r, v...)
			}
		})
	} else {
		r = append(r, rest...)
	}
	r = append(r, 255)
	for len(r) < 300 {
		r = append(r, 0)
	}
	out := append([]byte(nil), pkt[:hl]...)
	iph := append([]byte(nil), ip[:ihl]...)
	binary.BigEndian.PutUint16(iph[2:], uint16(ihl+8+len(r)))
	iph[10], iph[11] = 0, 0
	binary.BigEndian.PutUint16(iph[10:], checksum(iph))
	out = append(out, iph...)
	uh := append([]byte(nil), udp[:8]...)
	binary.BigEndian.PutUint16(uh[4:], uint16(8+len(r)))
	uh[6], uh[7] = 0, 0 // no UDP checksum: the pipeline rewrites addresses
	out = append(out, uh...)
	return append(out, r...), nil
}

func walkOptions(b []byte, fn func(code byte, v []byte)) error {
	for len(b) > 0 {
		code := b[0]
		if code == 0 {
			b = b[1:]
			continue
		}
		if code == 255 {
			return nil
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return fmt.Errorf("pinctrl: DHCP option %d truncated", code)
		}
		fn(code, b[2:2+int(b[1])])
		b = b[2+int(b[1]):]
	}
	return nil
}

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
