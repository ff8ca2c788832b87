package lflow

import (
	"encoding/binary"
	"fmt"
	"net"
)

// dhcpOpt is a built-in DHCP option: its code and value type.
type dhcpOpt struct {
	code uint16
	typ  string
}

// OVN's built-in DHCPv4 options (ovn-nb(5), DHCP_Options).
var dhcpv4Opts = map[string]dhcpOpt{
	"offerip": {0, "ipv4"}, "netmask": {1, "ipv4"}, "router": {3, "ipv4"}, "dns_server": {6, "ipv4"},
	"log_server": {7, "ipv4"}, "lpr_server": {9, "ipv4"}, "hostname": {12, "str"}, "domain_name": {15, "str"},
	"swap_server": {16, "ipv4"}, "ip_forward_enable": {19, "bool"}, "policy_filter": {21, "ipv4"},
	"default_ttl": {23, "uint8"}, "mtu": {26, "uint16"}, "broadcast_address": {28, "ipv4"},
	"router_discovery": {31, "bool"}, "router_solicitation": {32, "ipv4"}, "arp_cache_timeout": {35, "uint32"},
	"ethernet_encap": {36, "bool"}, "tcp_ttl": {37, "uint8"}, "tcp_keepalive_interval": {38, "uint32"},
	"nis_server": {41, "ipv4"}, "ntp_server": {42, "ipv4"}, "netbios_name_server": {44, "ipv4"},
	"netbios_node_type": {46, "uint8"}, "lease_time": {51, "uint32"}, "server_id": {54, "ipv4"},
	"T1": {58, "uint32"}, "T2": {59, "uint32"}, "tftp_server": {66, "host_id"}, "bootfile_name": {67, "str"},
	"domain_search_list": {119, "domains"}, "classless_static_route": {121, "static_routes"},
	"tftp_server_address": {150, "ipv4"}, "path_prefix": {210, "str"},
	"ms_classless_static_route": {249, "static_routes"}, "wpad": {252, "str"},
	"next_server": {253, "ipv4"}, "bootfile_name_alt": {254, "str"},
}

var dhcpv6Opts = map[string]dhcpOpt{
	"server_id": {2, "mac"}, "ia_addr": {5, "ipv6"}, "dns_server": {23, "ipv6"},
	"domain_search": {24, "str"}, "fqdn": {39, "str"}, "bootfile_name": {59, "str"},
}

var ndRAOpts = map[string]dhcpOpt{
	"addr_mode": {1, "str"}, "slla": {2, "mac"}, "prefix": {3, "ipv6"}, "mtu": {4, "uint32"},
	"router_preference": {5, "str"}, "rdnss": {6, "ipv6"}, "dnssl": {7, "str"}, "route_info": {8, "str"},
}

// encodeOptions encodes the key = value arguments of put_dhcp_opts and
// its relatives as TLVs: code (u8 for DHCPv4, u16 otherwise), length (same
// width), value. dns_lookup has no options.
func (c *compiler) encodeOptions(a *Action) ([]byte, error) {
	var b []byte
	for _, x := range a.Args {
		if x.Key == "" {
			return nil, &Error{Pos: x.Pos, Token: x.String(), Msg: a.Name + " arguments must be name = value"}
		}
		var code uint16
		var typ string
		var ok bool
		switch a.Name {
		case "put_dhcp_opts":
			var o dhcpOpt
			if c.env != nil && c.env.DHCPOption != nil {
				var c8 uint8
				if c8, typ, ok = c.env.DHCPOption(x.Key); ok {
					o = dhcpOpt{uint16(c8), typ}
				}
			}
			if !ok {
				o, ok = dhcpv4Opts[x.Key]
			}
			code, typ = o.code, o.typ
		case "put_dhcpv6_opts":
			var o dhcpOpt
			if c.env != nil && c.env.DHCPv6Option != nil {
				if code, typ, ok = c.env.DHCPv6Option(x.Key); ok {
					o = dhcpOpt{code, typ}
				}
			}
			if !ok {
				o, ok = dhcpv6Opts[x.Key]
			}
			code, typ = o.code, o.typ
		case "put_nd_ra_opts":
			var o dhcpOpt
			o, ok = ndRAOpts[x.Key]
			code, typ = o.code, o.typ
		}
		if !ok {
			return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: fmt.Sprintf("unknown %s option %s", a.Name, x.Key)}
		}
		val, err := optionValue(x, typ)
		if err != nil {
			return nil, err
		}
		if a.Name == "put_dhcp_opts" {
			if len(val) > 255 {
				return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: "option value too long"}
			}
			b = append(b, byte(code), byte(len(val)))
		} else {
			b = binary.BigEndian.AppendUint16(b, code)
			b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
		}
		b = append(b, val...)
	}
	return b, nil
}

// optionValue encodes one option's value tokens.
func optionValue(x Arg, typ string) ([]byte, error) {
	bad := func(t token, msg string) error { return &Error{Pos: t.pos, Token: t.text, Msg: msg} }
	var b []byte
	for _, t := range x.toks {
		switch t.kind {
		case tLCurly, tRCurly, tComma:
			continue
		}
		switch typ {
		case "ipv4":
			if t.kind != tConst || t.format != fmtIPv4 {
				return nil, bad(t, x.Key+" needs IPv4 addresses")
			}
			b = append(b, t.val.Bytes(4)...)
		case "ipv6":
			if t.kind != tConst || t.format != fmtIPv6 {
				return nil, bad(t, x.Key+" needs IPv6 addresses")
			}
			b = append(b, t.val.Bytes(16)...)
			if t.masked {
				n, _ := prefixLen(t)
				b = append(b, byte(n))
			}
		case "mac":
			if t.kind != tConst || t.format != fmtMAC {
				return nil, bad(t, x.Key+" needs a MAC address")
			}
			b = append(b, t.val.Bytes(6)...)
		case "uint8", "uint16", "uint32", "bool":
			if t.kind != tConst || t.masked {
				return nil, bad(t, x.Key+" needs an integer")
			}
			n := map[string]int{"uint8": 1, "bool": 1, "uint16": 2, "uint32": 4}[typ]
			if t.val.Len() > n*8 {
				return nil, bad(t, x.Key+" value too large")
			}
			b = append(b, t.val.Bytes(n)...)
		case "str", "domains":
			// A string constant, as ovn-controller requires
			// (domain_search = ovn.org is a syntax error there).
			if t.kind != tString {
				return nil, bad(t, x.Key+" needs a string")
			}
			b = append(b, t.s...)
		default: // host_id, static_routes: the text
			if t.kind == tString {
				b = append(b, t.s...)
			} else {
				b = append(b, t.text...)
			}
		}
	}
	return b, nil
}

func prefixLen(t token) (int, bool) {
	ones, bits := net.IPMask(t.mask.Bytes(16)).Size()
	return ones, bits != 0
}
