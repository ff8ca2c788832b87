package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// OpPutNDRAOpts is put_nd_ra_opts (internal/lflow's numbering).
const OpPutNDRAOpts = 8

// Codes of put_nd_ra_opts' options in the userdata (internal/lflow's
// ndRAOpts).
const (
	raAddrMode   = 1
	raSLLA       = 2
	raPrefix     = 3
	raMTU        = 4
	raPreference = 5
	raRDNSS      = 6
	raDNSSL      = 7
	raRouteInfo  = 8
)

// Lifetimes in the router advertisements we send, as ovn-controller sends
// them (TestRootRepliesMatchOVNController): router lifetime 65535 s (above
// RFC 4861's 9000; hosts cap it), prefixes, DNS servers and routes that do
// not expire (the southbound withdraws them).
const (
	raRouterLifetime = 0xffff
	infinite         = 0xffffffff
)

// tlv16 walks the options of put_dhcpv6_opts and put_nd_ra_opts: code
// u16, length u16, value.
func tlv16(b []byte, fn func(code uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("pinctrl: option header truncated (%d bytes)", len(b))
		}
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return fmt.Errorf("pinctrl: option %d of %d bytes truncated", code, n)
		}
		if err := fn(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[4+n:]
	}
	return nil
}

// RouterAdvertisement turns a router solicitation into the router
// advertisement put_nd_ra_opts describes (RFC 4861 4.2): hop limit 255,
// the M flag for addr_mode dhcpv6_stateful and O for dhcpv6_stateless,
// router_preference as RFC 4191's Prf bits, source link-layer address
// (slla), MTU, one prefix information option per prefix (on-link, and
// autonomous unless addr_mode is dhcpv6_stateful), RDNSS and DNSSL (RFC
// 8106) and route information (RFC 4191). Ethernet and IPv6 addresses are
// those of the solicitation: the flows after the action rewrite them.
func RouterAdvertisement(pkt, opts []byte) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("put_nd_ra_opts: %w", err)
	}
	if !f.v6 || f.proto != protoICMPv6 || len(f.l4) < 8 || f.l4[0] != 133 {
		return nil, fmt.Errorf("pinctrl: put_nd_ra_opts on a packet that is not a router solicitation")
	}
	ra, err := raMessage(opts)
	if err != nil {
		return nil, err
	}
	return f.build(false, protoICMPv6, 255, ra, 2), nil
}

// raMessage is the ICMPv6 router advertisement (checksum zero) that
// put_nd_ra_opts' options describe.
func raMessage(opts []byte) ([]byte, error) {
	ra := make([]byte, 16)
	ra[0], ra[4] = 134, 255
	binary.BigEndian.PutUint16(ra[6:], raRouterLifetime)
	var body []byte
	autonomous := true
	var prefixes, rest [][2][]byte // code, value pairs in order
	err := tlv16(opts, func(code uint16, v []byte) error {
		switch code {
		case raAddrMode:
			switch string(v) {
			case "dhcpv6_stateful":
				ra[5] |= 0x80
				autonomous = false
			case "dhcpv6_stateless":
				ra[5] |= 0x40
			case "slaac":
			default:
				return fmt.Errorf("pinctrl: put_nd_ra_opts addr_mode %q", v)
			}
		case raPreference:
			switch strings.ToUpper(string(v)) {
			case "HIGH":
				ra[5] |= 0x08
			case "LOW":
				ra[5] |= 0x18
			}
		case raPrefix:
			prefixes = append(prefixes, [2][]byte{{byte(code)}, v})
		default:
			rest = append(rest, [2][]byte{{byte(code)}, v})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, o := range rest {
		switch o[0][0] {
		case raSLLA:
			if len(o[1]) != 6 {
				return nil, fmt.Errorf("pinctrl: put_nd_ra_opts slla of %d bytes", len(o[1]))
			}
			body = append(append(body, 1, 1), o[1]...)
		case raMTU:
			if len(o[1]) != 4 {
				return nil, fmt.Errorf("pinctrl: put_nd_ra_opts mtu of %d bytes", len(o[1]))
			}
			body = append(append(body, 5, 1, 0, 0), o[1]...)
		}
	}
	for _, p := range prefixes {
		v := p[1]
		for ; len(v) >= 17; v = v[17:] {
			flags := byte(0x80)
			if autonomous {
				flags |= 0x40
			}
			body = append(body, 3, 4, v[16], flags)
			body = binary.BigEndian.AppendUint32(body, infinite)
			body = binary.BigEndian.AppendUint32(body, infinite)
			body = append(body, 0, 0, 0, 0)
			body = append(body, v[:16]...)
		}
		if len(v) != 0 {
			return nil, fmt.Errorf("pinctrl: put_nd_ra_opts prefix is not address/length")
		}
	}
	for _, o := range rest {
		switch o[0][0] {
		case raRDNSS:
			if len(o[1]) == 0 || len(o[1])%16 != 0 {
				return nil, fmt.Errorf("pinctrl: put_nd_ra_opts rdnss of %d bytes", len(o[1]))
			}
			body = append(body, 25, byte(1+len(o[1])/8), 0, 0)
			body = binary.BigEndian.AppendUint32(body, infinite)
			body = append(body, o[1]...)
		case raDNSSL:
			var names []byte
			for _, d := range strings.Split(string(o[1]), ",") {
				n, err := encodeName(strings.TrimSpace(d))
				if err != nil {
					return nil, err
				}
				names = append(names, n...)
			}
			for (8+len(names))%8 != 0 {
				names = append(names, 0)
			}
			body = append(body, 31, byte((8+len(names))/8), 0, 0)
			body = binary.BigEndian.AppendUint32(body, infinite)
			body = append(body, names...)
		case raRouteInfo:
			for _, r := range strings.Split(string(o[1]), ",") {
				opt, err := routeInfo(strings.TrimSpace(r))
				if err != nil {
					return nil, err
				}
				body = append(body, opt...)
			}
		}
	}
	return append(ra, body...), nil
}

// routeInfo encodes one route_info entry, [HIGH-|MEDIUM-|LOW-]prefix/len,
// as an RFC 4191 route information option.
func routeInfo(s string) ([]byte, error) {
	prf := byte(0)
	if pre, rest, ok := strings.Cut(s, "-"); ok {
		switch strings.ToUpper(pre) {
		case "HIGH":
			prf = 0x08
		case "LOW":
			prf = 0x18
		case "MEDIUM":
		default:
			return nil, fmt.Errorf("pinctrl: route_info preference %q", pre)
		}
		s = rest
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() {
		return nil, fmt.Errorf("pinctrl: route_info prefix %q", s)
	}
	n := p.Bits()
	words := 1
	switch {
	case n > 64:
		words = 3
	case n > 0:
		words = 2
	}
	opt := []byte{24, byte(words), byte(n), prf}
	opt = binary.BigEndian.AppendUint32(opt, infinite)
	a := p.Masked().Addr().As16()
	return append(opt, a[:(words-1)*8]...), nil
}

// encodeName writes a domain name in DNS wire form (RFC 1035 3.1).
func encodeName(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	var b []byte
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			if l == "" || len(l) > 63 {
				return nil, fmt.Errorf("pinctrl: domain name %q has a label of %d bytes", name, len(l))
			}
			b = append(append(b, byte(len(l))), l...)
		}
	}
	if len(b) > 254 {
		return nil, fmt.Errorf("pinctrl: domain name %q longer than 255 bytes", name)
	}
	return append(b, 0), nil
}
