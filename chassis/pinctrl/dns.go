package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// OpDNSLookup is dns_lookup (internal/lflow's numbering).
const OpDNSLookup = 6

// DNS is the southbound DNS table as dns_lookup reads it: for each
// datapath (tunnel key), query names in lower case without the final dot
// and their record values ("10.0.0.4 aef0::4", or for a reverse name such
// as "4.0.0.10.in-addr.arpa" the domain name it points to).
type DNS map[uint32]map[string]string

// Add merges one DNS row (its records column) for the datapaths it lists.
func (d DNS) Add(datapaths []uint32, records map[string]string) {
	for _, dp := range datapaths {
		m := d[dp]
		if m == nil {
			m = map[string]string{}
			d[dp] = m
		}
		for k, v := range records {
			m[strings.TrimSuffix(strings.ToLower(k), ".")] = v
		}
	}
}

// DNS resource record types and the answers' time to live.
const (
	dnsTypeA    = 1
	dnsTypePTR  = 12
	dnsTypeAAAA = 28
	dnsClassIN  = 1
	dnsTTL      = 3600
)

// DNSReply answers a DNS query (RFC 1035 4.1) from records: a standard
// query with one question of class IN for an A, AAAA or PTR record of a
// known name gets a response with the question and one answer per address
// (or the PTR target) named as the question (uncompressed), recursion
// desired copied, TTL one hour, as ovn-controller answers. Anything else (not DNS, not a query, an unknown name, no record of
// the type asked) is an error: dns_lookup then leaves the packet alone and
// stores 0. Ethernet, IP and UDP addresses and ports are kept: the flows
// after the action swap them.
func DNSReply(pkt []byte, records map[string]string) ([]byte, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("dns_lookup: %w", err)
	}
	if f.proto != protoUDP || len(f.l4) < 8+12 {
		return nil, fmt.Errorf("pinctrl: dns_lookup on a packet that is not a DNS query over UDP")
	}
	udp := f.l4
	q := udp[8:]
	flags := binary.BigEndian.Uint16(q[2:])
	if flags&0x8000 != 0 || flags&0x7800 != 0 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, fmt.Errorf("pinctrl: DNS message is not a standard query with one question (flags %#04x)", flags)
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil, fmt.Errorf("pinctrl: DNS question name truncated")
		}
		n := int(q[i])
		if n == 0 {
			i++
			break
		}
		if n > 63 || i+1+n > len(q) {
			return nil, fmt.Errorf("pinctrl: DNS question label of %d bytes (compressed or truncated)", n)
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	if i+4 > len(q) {
		return nil, fmt.Errorf("pinctrl: DNS question truncated")
	}
	qtype, qclass := binary.BigEndian.Uint16(q[i:]), binary.BigEndian.Uint16(q[i+2:])
	question := q[12 : i+4]
	name := strings.ToLower(strings.Join(labels, "."))
	value, ok := records[name]
	if !ok || qclass != dnsClassIN {
		return nil, fmt.Errorf("pinctrl: no DNS records for %q", name)
	}
	var rdatas [][]byte
	switch qtype {
	case dnsTypeA, dnsTypeAAAA:
		for _, s := range strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == ',' }) {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			if qtype == dnsTypeA && a.Is4() {
				b := a.As4()
				rdatas = append(rdatas, b[:])
			} else if qtype == dnsTypeAAAA && a.Is6() && !a.Is4In6() {
				b := a.As16()
				rdatas = append(rdatas, b[:])
			}
		}
	case dnsTypePTR:
		if strings.HasSuffix(name, ".in-addr.arpa") || strings.HasSuffix(name, ".ip6.arpa") {
			n, err := encodeName(strings.TrimSpace(value))
			if err != nil {
				return nil, err
			}
			rdatas = append(rdatas, n)
		}
	}
	if len(rdatas) == 0 {
		return nil, fmt.Errorf("pinctrl: no DNS record of type %d for %q", qtype, name)
	}
	r := make([]byte, 12, 12+len(question)+16*len(rdatas))
	copy(r[0:2], q[0:2])
	binary.BigEndian.PutUint16(r[2:], 0x8000|flags&0x0100) // QR, RD
	binary.BigEndian.PutUint16(r[4:], 1)
	binary.BigEndian.PutUint16(r[6:], uint16(len(rdatas)))
	r = append(r, question...)
	for _, rd := range rdatas {
		r = append(r, question[:len(question)-4]...) // the question's name
		r = binary.BigEndian.AppendUint16(r, qtype)
		r = binary.BigEndian.AppendUint16(r, dnsClassIN)
		r = binary.BigEndian.AppendUint32(r, dnsTTL)
		r = binary.BigEndian.AppendUint16(r, uint16(len(rd)))
		r = append(r, rd...)
	}
	uh := append([]byte(nil), udp[:8]...)
	binary.BigEndian.PutUint16(uh[4:], uint16(8+len(r)))
	f.keepIPv4ID = true
	return f.build(false, protoUDP, f.ttl(), append(uh, r...), 6), nil
}
