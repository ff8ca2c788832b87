package openflow

import (
	"fmt"
	"strings"
)

// Format says how a field's value is written in ovs-ofctl text.
type Format uint8

// Field value formats.
const (
	FmtHex Format = iota
	FmtDec
	FmtMAC
	FmtIPv4
	FmtIPv6
	FmtCTState
	FmtFrag
	FmtTCPFlags
)

// OXM/NXM classes.
const (
	ClassNXM0       = 0x0000
	ClassNXM1       = 0x0001
	ClassBasic      = 0x8000
	ClassPktRegs    = 0x8001
	nxVendor        = 0x00002320
	onfExperimenter = 0x4f4e4600
)

// Field is one OpenFlow match field (an OXM or NXM field) as OVS knows it.
type Field struct {
	Name    string // ovs-fields(7) name, used in ovs-ofctl text ("reg0", "eth_src")
	NXMName string // NXM/OXM name for subfield syntax ("NXM_NX_REG0")
	Class   uint16 // OXM class
	Code    uint8  // OXM field number
	Bits    int    // width in bits
	Bytes   int    // width on the wire
	Mask    bool   // arbitrary bitwise masks allowed
	Format  Format
	order   int // position in canonical match order
}

// Header returns the 32-bit OXM/NXM header for the field, with hasmask.
func (f *Field) Header(hasMask bool) uint32 {
	n := f.Bytes
	h := uint32(f.Class)<<16 | uint32(f.Code)<<9
	if hasMask {
		h |= 1 << 8
		n *= 2
	}
	return h | uint32(n)
}

// String returns the field's name.
func (f *Field) String() string { return f.Name }

// Order is the field's position in the canonical match order.
func (f *Field) Order() int { return f.order }

// FormatValue writes v (masked by m, full mask when m is all ones for the
// field) the way ovs-ofctl reads it.
func (f *Field) FormatValue(v, m U128) string {
	full := Ones(f.Bits)
	exact := m.And(full) == full
	switch f.Format {
	case FmtDec:
		if exact {
			return fmt.Sprint(v.Lo)
		}
	case FmtMAC:
		if exact {
			return v.MAC()
		}
		return v.MAC() + "/" + m.MAC()
	case FmtIPv4:
		if exact {
			return v.IPv4()
		}
		if n, ok := IsPrefix(m, 32); ok {
			return fmt.Sprintf("%s/%d", v.IPv4(), n)
		}
		return v.IPv4() + "/" + m.IPv4()
	case FmtIPv6:
		if exact {
			return v.IPv6()
		}
		if n, ok := IsPrefix(m, 128); ok {
			return fmt.Sprintf("%s/%d", v.IPv6(), n)
		}
		return v.IPv6() + "/" + m.IPv6()
	case FmtCTState:
		var sb strings.Builder
		for i, name := range ctStateNames {
			if !m.Bit(i) {
				continue
			}
			if v.Bit(i) {
				sb.WriteByte('+')
			} else {
				sb.WriteByte('-')
			}
			sb.WriteString(name)
		}
		if sb.Len() > 0 && m.Shr(len(ctStateNames)).IsZero() {
			return sb.String()
		}
	case FmtFrag:
		switch {
		case m.Lo == 1 && v.Lo == 0, m.Lo == 3 && v.Lo == 0:
			return "no"
		case m.Lo == 1 && v.Lo == 1:
			return "yes"
		case m.Lo == 3 && v.Lo == 1:
			return "first"
		case m.Lo == 3 && v.Lo == 3, m.Lo == 2 && v.Lo == 2:
			return "later"
		case m.Lo == 2 && v.Lo == 0:
			return "not_later"
		}
	}
	if exact {
		return v.Hex()
	}
	return v.Hex() + "/" + m.Hex()
}

var ctStateNames = []string{"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"}

// CT state bits (ct_state).
const (
	CTNew  = 0x01
	CTEst  = 0x02
	CTRel  = 0x04
	CTRpl  = 0x08
	CTInv  = 0x10
	CTTrk  = 0x20
	CTSNAT = 0x40
	CTDNAT = 0x80
)

func mk(name, nxm string, class uint16, code uint8, bits int, mask bool, f Format) *Field {
	return &Field{Name: name, NXMName: nxm, Class: class, Code: code, Bits: bits, Bytes: (bits + 7) / 8, Mask: mask, Format: f}
}

// fieldList is the immutable table of fields we use, in canonical match
// order (close to the order ovs-ofctl prints them).
var fieldList = func() []*Field {
	l := []*Field{
		mk("pkt_mark", "NXM_NX_PKT_MARK", ClassNXM1, 33, 32, true, FmtHex),
		mk("conj_id", "NXM_NX_CONJ_ID", ClassNXM1, 37, 32, false, FmtDec),
		mk("ct_state", "NXM_NX_CT_STATE", ClassNXM1, 105, 32, true, FmtCTState),
		mk("ct_zone", "NXM_NX_CT_ZONE", ClassNXM1, 106, 16, false, FmtHex),
		mk("ct_mark", "NXM_NX_CT_MARK", ClassNXM1, 107, 32, true, FmtHex),
		mk("ct_label", "NXM_NX_CT_LABEL", ClassNXM1, 108, 128, true, FmtHex),
		mk("ct_nw_proto", "NXM_NX_CT_NW_PROTO", ClassNXM1, 119, 8, false, FmtDec),
		mk("ct_nw_src", "NXM_NX_CT_NW_SRC", ClassNXM1, 120, 32, true, FmtIPv4),
		mk("ct_nw_dst", "NXM_NX_CT_NW_DST", ClassNXM1, 121, 32, true, FmtIPv4),
		mk("ct_ipv6_src", "NXM_NX_CT_IPV6_SRC", ClassNXM1, 122, 128, true, FmtIPv6),
		mk("ct_ipv6_dst", "NXM_NX_CT_IPV6_DST", ClassNXM1, 123, 128, true, FmtIPv6),
		mk("ct_tp_src", "NXM_NX_CT_TP_SRC", ClassNXM1, 124, 16, true, FmtDec),
		mk("ct_tp_dst", "NXM_NX_CT_TP_DST", ClassNXM1, 125, 16, true, FmtDec),
	}
	for i := 0; i < 16; i++ {
		l = append(l, mk(fmt.Sprintf("reg%d", i), fmt.Sprintf("NXM_NX_REG%d", i), ClassNXM1, uint8(i), 32, true, FmtHex))
	}
	for i := 0; i < 8; i++ {
		l = append(l, mk(fmt.Sprintf("xreg%d", i), fmt.Sprintf("OXM_OF_PKT_REG%d", i), ClassPktRegs, uint8(i), 64, true, FmtHex))
	}
	for i := 0; i < 4; i++ {
		l = append(l, mk(fmt.Sprintf("xxreg%d", i), fmt.Sprintf("NXM_NX_XXREG%d", i), ClassNXM1, uint8(111+i), 128, true, FmtHex))
	}
	l = append(l,
		mk("tun_id", "NXM_NX_TUN_ID", ClassNXM1, 16, 64, true, FmtHex),
		mk("tun_src", "NXM_NX_TUN_IPV4_SRC", ClassNXM1, 31, 32, true, FmtIPv4),
		mk("tun_dst", "NXM_NX_TUN_IPV4_DST", ClassNXM1, 32, 32, true, FmtIPv4),
		// tun_metadata0 as OVN maps it (NXT_TLV_TABLE_MOD, 4 bytes): the
		// field's width is the mapped option length.
		mk("tun_metadata0", "NXM_NX_TUN_METADATA0", ClassNXM1, 40, 32, true, FmtHex),
		mk("metadata", "OXM_OF_METADATA", ClassBasic, 2, 64, true, FmtHex),
		mk("in_port", "OXM_OF_IN_PORT", ClassBasic, 0, 32, false, FmtDec),
		// The 16-bit NXM in_port, for loading OFPP_NONE (0xffff) to let a
		// packet leave through the port it came in on; OpenFlow 1.3's
		// in_port refuses OFPP_ANY. Actions only.
		mk("nxm_in_port", "NXM_OF_IN_PORT", ClassNXM0, 0, 16, false, FmtHex),
		mk("vlan_tci", "NXM_OF_VLAN_TCI", ClassNXM0, 4, 16, true, FmtHex),
		mk("eth_src", "NXM_OF_ETH_SRC", ClassNXM0, 2, 48, true, FmtMAC),
		mk("eth_dst", "NXM_OF_ETH_DST", ClassNXM0, 1, 48, true, FmtMAC),
		mk("eth_type", "NXM_OF_ETH_TYPE", ClassNXM0, 3, 16, false, FmtHex),
		mk("ip_src", "NXM_OF_IP_SRC", ClassNXM0, 7, 32, true, FmtIPv4),
		mk("ip_dst", "NXM_OF_IP_DST", ClassNXM0, 8, 32, true, FmtIPv4),
		mk("ipv6_src", "NXM_NX_IPV6_SRC", ClassNXM1, 19, 128, true, FmtIPv6),
		mk("ipv6_dst", "NXM_NX_IPV6_DST", ClassNXM1, 20, 128, true, FmtIPv6),
		mk("ipv6_label", "NXM_NX_IPV6_LABEL", ClassNXM1, 27, 20, true, FmtHex),
		mk("arp_op", "NXM_OF_ARP_OP", ClassNXM0, 15, 16, false, FmtDec),
		mk("arp_spa", "NXM_OF_ARP_SPA", ClassNXM0, 16, 32, true, FmtIPv4),
		mk("arp_tpa", "NXM_OF_ARP_TPA", ClassNXM0, 17, 32, true, FmtIPv4),
		mk("arp_sha", "NXM_NX_ARP_SHA", ClassNXM1, 17, 48, true, FmtMAC),
		mk("arp_tha", "NXM_NX_ARP_THA", ClassNXM1, 18, 48, true, FmtMAC),
		mk("nw_proto", "NXM_OF_IP_PROTO", ClassNXM0, 6, 8, false, FmtDec),
		mk("ip_dscp", "OXM_OF_IP_DSCP", ClassBasic, 8, 6, false, FmtDec),
		mk("nw_ecn", "NXM_NX_IP_ECN", ClassNXM1, 28, 2, false, FmtDec),
		mk("nw_ttl", "NXM_NX_IP_TTL", ClassNXM1, 29, 8, false, FmtDec),
		mk("ip_frag", "NXM_NX_IP_FRAG", ClassNXM1, 26, 2, true, FmtFrag),
		mk("tcp_src", "NXM_OF_TCP_SRC", ClassNXM0, 9, 16, true, FmtDec),
		mk("tcp_dst", "NXM_OF_TCP_DST", ClassNXM0, 10, 16, true, FmtDec),
		mk("udp_src", "NXM_OF_UDP_SRC", ClassNXM0, 11, 16, true, FmtDec),
		mk("udp_dst", "NXM_OF_UDP_DST", ClassNXM0, 12, 16, true, FmtDec),
		mk("sctp_src", "OXM_OF_SCTP_SRC", ClassBasic, 17, 16, true, FmtDec),
		mk("sctp_dst", "OXM_OF_SCTP_DST", ClassBasic, 18, 16, true, FmtDec),
		mk("icmp_type", "NXM_OF_ICMP_TYPE", ClassNXM0, 13, 8, false, FmtDec),
		mk("icmp_code", "NXM_OF_ICMP_CODE", ClassNXM0, 14, 8, false, FmtDec),
		mk("icmpv6_type", "NXM_NX_ICMPV6_TYPE", ClassNXM1, 21, 8, false, FmtDec),
		mk("icmpv6_code", "NXM_NX_ICMPV6_CODE", ClassNXM1, 22, 8, false, FmtDec),
		mk("tcp_flags", "NXM_NX_TCP_FLAGS", ClassNXM1, 34, 12, true, FmtHex),
		mk("nd_target", "NXM_NX_ND_TARGET", ClassNXM1, 23, 128, true, FmtIPv6),
		mk("nd_sll", "NXM_NX_ND_SLL", ClassNXM1, 24, 48, true, FmtMAC),
		mk("nd_tll", "NXM_NX_ND_TLL", ClassNXM1, 25, 48, true, FmtMAC),
	)
	for i, f := range l {
		f.order = i
		switch f.Name {
		case "ipv6_label":
			f.Bytes = 4
		}
	}
	return l
}()

var fieldsByName = func() map[string]*Field {
	m := make(map[string]*Field, len(fieldList)*2)
	for _, f := range fieldList {
		m[f.Name] = f
		m[f.NXMName] = f
	}
	return m
}()

// FieldByName returns the field with the given ovs-fields(7) or NXM name.
func FieldByName(name string) (*Field, bool) {
	f, ok := fieldsByName[name]
	return f, ok
}

// MustField returns the named field and panics if it is unknown; for
// package-internal tables only.
func MustField(name string) *Field {
	f, ok := fieldsByName[name]
	if !ok {
		panic(fmt.Sprintf("openflow: unknown field %q", name))
	}
	return f
}

// Fields returns all known fields in canonical order.
func Fields() []*Field { return append([]*Field(nil), fieldList...) }

// Subfield is a bit range of a field: Field[Ofs..Ofs+Bits-1].
type Subfield struct {
	Field *Field
	Ofs   int
	Bits  int
}

// Whole reports whether s covers its entire field.
func (s Subfield) Whole() bool { return s.Ofs == 0 && s.Bits == s.Field.Bits }

// String writes s in ovs-ofctl subfield syntax ("NXM_NX_REG0[0..15]").
func (s Subfield) String() string {
	switch {
	case s.Whole():
		return s.Field.NXMName + "[]"
	case s.Bits == 1:
		return fmt.Sprintf("%s[%d]", s.Field.NXMName, s.Ofs)
	default:
		return fmt.Sprintf("%s[%d..%d]", s.Field.NXMName, s.Ofs, s.Ofs+s.Bits-1)
	}
}
