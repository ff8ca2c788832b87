package translate

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// lspAddr is one entry of Logical_Switch_Port.addresses: a MAC and its IPs.
type lspAddr struct {
	MAC  string
	IPv4 []netip.Addr
	IPv6 []netip.Addr
}

// parseLSPAddress parses "MAC [IP...]". It returns ok=false for the keywords
// ("unknown", "router", "dynamic") and for malformed entries.
func parseLSPAddress(s string) (lspAddr, bool) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return lspAddr{}, false
	}
	hw, ok := parseMAC(fields[0])
	if !ok {
		return lspAddr{}, false
	}
	a := lspAddr{MAC: formatMAC(hw)}
	for _, f := range fields[1:] {
		ip, err := netip.ParseAddr(f)
		if err != nil {
			if p, perr := netip.ParsePrefix(f); perr == nil {
				ip = p.Addr()
			} else {
				continue
			}
		}
		if ip.Is4() {
			a.IPv4 = append(a.IPv4, ip)
		} else {
			a.IPv6 = append(a.IPv6, ip)
		}
	}
	return a, true
}

// lrpNetworks parses Logical_Router_Port.networks ("IP/LEN").
func lrpNetworks(nets []string) (v4, v6 []netip.Prefix, err error) {
	for _, n := range nets {
		p, perr := netip.ParsePrefix(n)
		if perr != nil {
			return nil, nil, fmt.Errorf("network %q: %w", n, perr)
		}
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6, nil
}

// ipv4Bcast returns the broadcast address of p.
func ipv4Bcast(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(0xffffffff) >> p.Bits()
	if p.Bits() == 32 {
		host = 0
	}
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ipv4Netmask returns the dotted netmask of a prefix length.
func ipv4Netmask(bits int) string {
	m := uint32(0xffffffff) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// parseMAC parses an Ethernet address "xx:xx:xx:xx:xx:xx".
func parseMAC(s string) ([6]byte, bool) {
	var hw [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return hw, false
	}
	for i, p := range parts {
		if len(p) != 2 {
			return hw, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return hw, false
		}
		hw[i] = byte(v)
	}
	return hw, true
}

func formatMAC(hw [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", hw[0], hw[1], hw[2], hw[3], hw[4], hw[5])
}

// linkLocal returns the EUI-64 IPv6 link-local address of a MAC.
func linkLocal(mac string) netip.Addr {
	hw, ok := parseMAC(mac)
	if !ok {
		return netip.Addr{}
	}
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[8] = hw[0] ^ 0x02
	b[9], b[10] = hw[1], hw[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = hw[3], hw[4], hw[5]
	return netip.AddrFrom16(b)
}

// solicitedNode returns the solicited-node multicast address of ip.
func solicitedNode(ip netip.Addr) netip.Addr {
	a := ip.As16()
	var b [16]byte
	b[0], b[1] = 0xff, 0x02
	b[11], b[12] = 0x01, 0xff
	b[13], b[14], b[15] = a[13], a[14], a[15]
	return netip.AddrFrom16(b)
}

// networkOf returns the masked prefix (the subnet) of an interface prefix.
func networkOf(p netip.Prefix) netip.Prefix { return p.Masked() }

// parseIPOrPrefix parses "A.B.C.D" or "A.B.C.D/N" into a prefix.
func parseIPOrPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// prefixString renders a prefix the way OVN writes matches: a host prefix as
// a bare address.
func prefixString(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}
