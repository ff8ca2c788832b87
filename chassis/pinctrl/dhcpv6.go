package pinctrl

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// DHCPv6 message types (RFC 8415 7.3).
const (
	dhcp6Solicit   = 1
	dhcp6Advertise = 2
	dhcp6Request   = 3
	dhcp6Confirm   = 4
	dhcp6Renew     = 5
	dhcp6Rebind    = 6
	dhcp6Reply     = 7
	dhcp6Release   = 8
	dhcp6Decline   = 9
	dhcp6InfoReq   = 11
)

// DHCPv6 option codes (RFC 8415 21, RFC 3646, RFC 4704, RFC 5970).
const (
	opt6ClientID     = 1
	opt6ServerID     = 2
	opt6IANA         = 3
	opt6IAAddr       = 5
	opt6StatusCode   = 13
	opt6RapidCommit  = 14
	opt6DNSServers   = 23
	opt6DomainList   = 24
	opt6ClientFQDN   = 39
	opt6BootfileURL  = 59
	dhcp6ServerPort  = 547
	dhcp6ClientPort  = 546
	dhcp6MinimumSize = 4
)

func appendOpt6(b []byte, code uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// DHCPv6Reply answers a DHCPv6 client message with the options
// put_dhcpv6_opts encoded (code u16, length u16, value: server_id as a
// MAC, ia_addr as an address, dns_server addresses, domain_search,
// fqdn and bootfile_name as text; RFC 8415): SOLICIT gets an ADVERTISE
// (a REPLY with Rapid Commit when the client asked for it), REQUEST,
// RENEW, REBIND and INFORMATION-REQUEST a REPLY, CONFIRM, RELEASE and
// DECLINE a REPLY with status Success. The server DUID is DUID-LL from
// server_id; the client's IA_NA gets ia_addr with infinite T1, T2 and
// lifetimes (none for INFORMATION-REQUEST, or without ia_addr: stateless).
// Options follow the client identifier in the order put_dhcpv6_opts lists
// them, as ovn-controller writes them; unlike ovn-controller (23.03), which
// writes "ovn.org" as one 7-byte label, domain_search is encoded as RFC
// 1035 labels. A message
// naming another server is not answered. Ethernet, IP and UDP addresses
// and ports are kept: the flows after the action rewrite them (the UDP
// checksum is right for the packet as built).
func DHCPv6Reply(pkt, opts []byte) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("put_dhcpv6_opts: %w", err)
	}
	if !f.v6 || f.proto != protoUDP || len(f.l4) < 8+dhcp6MinimumSize {
		return nil, fmt.Errorf("pinctrl: put_dhcpv6_opts on a packet that is not DHCPv6 over UDP/IPv6")
	}
	udp := f.l4
	msg := udp[8:]
	typ := msg[0]
	var clientID, iaid, serverID []byte
	rapid := false
	err = tlv16(msg[4:], func(code uint16, v []byte) error {
		switch code {
		case opt6ClientID:
			clientID = v
		case opt6ServerID:
			serverID = v
		case opt6IANA:
			if len(v) < 12 {
				return fmt.Errorf("pinctrl: DHCPv6 IA_NA of %d bytes", len(v))
			}
			if iaid == nil {
				iaid = v[:4]
			}
		case opt6RapidCommit:
			rapid = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The options in order; IA_NA and the server identifier are placed
	// where ia_addr and server_id are.
	var duid, addr, body []byte
	const iaMark, sidMark = 0xfffe, 0xffff
	err = tlv16(opts, func(code uint16, v []byte) error {
		switch code {
		case opt6ServerID:
			if len(v) != 6 {
				return fmt.Errorf("pinctrl: put_dhcpv6_opts server_id of %d bytes", len(v))
			}
			duid = append([]byte{0, 3, 0, 1}, v...) // DUID-LL, Ethernet
			body = appendOpt6(body, sidMark, nil)
		case opt6IAAddr:
			if len(v) != 16 {
				return fmt.Errorf("pinctrl: put_dhcpv6_opts ia_addr of %d bytes", len(v))
			}
			addr = v
			body = appendOpt6(body, iaMark, nil)
		case opt6DNSServers:
			body = appendOpt6(body, code, v)
		case opt6DomainList, opt6ClientFQDN:
			var names []byte
			if code == opt6ClientFQDN {
				names = []byte{0} // flags: the client updates its AAAA record
			}
			for _, d := range strings.Split(string(v), ",") {
				n, err := encodeName(strings.TrimSpace(d))
				if err != nil {
					return err
				}
				names = append(names, n...)
			}
			body = appendOpt6(body, code, names)
		default:
			body = appendOpt6(body, code, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if duid == nil {
		return nil, fmt.Errorf("pinctrl: put_dhcpv6_opts without server_id")
	}
	if clientID == nil && typ != dhcp6InfoReq {
		return nil, fmt.Errorf("pinctrl: DHCPv6 message type %d without client identifier", typ)
	}
	if serverID != nil && !equal(serverID, duid) {
		return nil, fmt.Errorf("pinctrl: DHCPv6 message for another server")
	}
	reply := byte(dhcp6Reply)
	withIA, status := false, false
	switch typ {
	case dhcp6Solicit:
		if serverID != nil {
			return nil, fmt.Errorf("pinctrl: DHCPv6 SOLICIT with a server identifier")
		}
		if !rapid {
			reply = dhcp6Advertise
		}
		withIA = true
	case dhcp6Request, dhcp6Renew, dhcp6Rebind:
		withIA = true
	case dhcp6InfoReq:
	case dhcp6Confirm, dhcp6Release, dhcp6Decline:
		status = true
	default:
		return nil, fmt.Errorf("pinctrl: DHCPv6 message type %d not answered", typ)
	}
	r := append([]byte{reply}, msg[1:4]...) // transaction id
	if clientID != nil {
		r = appendOpt6(r, opt6ClientID, clientID)
	}
	if rapid && typ == dhcp6Solicit {
		r = appendOpt6(r, opt6RapidCommit, nil)
	}
	if status {
		r = appendOpt6(r, opt6StatusCode, []byte{0, 0})
	}
	_ = tlv16(body, func(code uint16, v []byte) error {
		switch {
		case code == sidMark:
			r = appendOpt6(r, opt6ServerID, duid)
		case code == iaMark:
			if withIA && iaid != nil {
				ia := append([]byte(nil), iaid...)
				ia = binary.BigEndian.AppendUint32(ia, infinite) // T1
				ia = binary.BigEndian.AppendUint32(ia, infinite) // T2
				a := append([]byte(nil), addr...)
				a = binary.BigEndian.AppendUint32(a, infinite)
				a = binary.BigEndian.AppendUint32(a, infinite)
				ia = appendOpt6(ia, opt6IAAddr, a)
				r = appendOpt6(r, opt6IANA, ia)
			}
		case !status:
			r = appendOpt6(r, code, v)
		}
		return nil
	})
	uh := append([]byte(nil), udp[:8]...)
	binary.BigEndian.PutUint16(uh[4:], uint16(8+len(r)))
	return f.build(false, protoUDP, f.ttl(), append(uh, r...), 6), nil
}
