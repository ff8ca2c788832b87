package lflow

import (
	"fmt"

	"hcnet/internal/openflow"
)

// OpenFlow table numbers of OVN's logical-to-physical pipeline, as laid out
// in ovn-architecture(7) for OVN 23.03. They are kept here, in one place.
const (
	TablePhyToLog          = 0  // physical-to-logical translation
	TableLogIngress        = 8  // logical ingress table 0
	TableOutputLargePkt    = 37 // entry of "output" in the ingress pipeline
	TableOutputLargePktErr = 38
	TableRemoteOutput      = 39
	TableLocalOutput       = 40
	TableCheckLoopback     = 41
	TableLogEgress         = 42 // logical egress table 0
	TableSaveInport        = 64 // "output" in the egress pipeline
	TableLogToPhy          = 65
	TableMACBinding        = 66 // get_arp / get_nd
	TableMACLookup         = 67 // lookup_arp / lookup_nd
	TableChkLBHairpin      = 68
	TableChkLBHairpinReply = 69
	TableCTSNATHairpin     = 70
	TableGetFDB            = 71
	TableLookupFDB         = 72
	TableChkInPortSec      = 73
	TableChkInPortSecND    = 74
	TableChkOutPortSec     = 75
	TableECMPNHMAC         = 76
	TableECMPNH            = 77
	TableChkLBAffinity     = 78

	// MaxLogicalTables is the number of tables per logical pipeline.
	MaxLogicalTables = 29
)

// Logical registers (ovn-architecture(7) "Logical-to-physical translation").
const (
	RegDNATZone = "reg11"
	RegSNATZone = "reg12"
	RegCTZone   = "reg13"
	RegInport   = "reg14"
	RegOutport  = "reg15"
	RegFlags    = "reg10"
)

// Bits of the logical flags register (reg10).
const (
	FlagAllowLoopback      = 0
	FlagRcvFromRamp        = 1
	FlagForceSNATForDNAT   = 2
	FlagForceSNATForLB     = 3
	FlagLocalOnly          = 4
	FlagNestedContainer    = 5
	FlagLookupMAC          = 6
	FlagLookupLBHairpin    = 7
	FlagLookupFDB          = 8
	FlagSkipSNATForLB      = 9
	FlagLocalport          = 10
	FlagUseSNATZone        = 11
	FlagCheckPortSec       = 12
	FlagLookupCommitECMPNH = 13
	FlagUseLBAffSession    = 14
)

type symKind uint8

const (
	symField     symKind = iota // an OpenFlow field or subfield
	symString                   // inport/outport: names mapped to keys
	symPredicate                // a named expression
)

// symbol is one name of the logical flow language.
type symbol struct {
	name      string
	kind      symKind
	field     *openflow.Field // symField, symString
	ofs, bits int             // bit range within field
	nominal   bool            // only == and != allowed
	prereq    string          // prerequisite expression, "" for none
	expansion string          // symPredicate
	exp, pre  Expr            // parsed expansion and prerequisite
	// Lowered forms, computed once: they depend on nothing but the table.
	preNode *node
	expNode [2]*node // [0] plain, [1] negated
	rw      bool     // may be assigned
}

// symtab maps names to symbols. It is built once and never modified.
type symtab map[string]*symbol

func (st symtab) field(name, of string, prereq string, nominal, rw bool) {
	f := openflow.MustField(of)
	st[name] = &symbol{name: name, kind: symField, field: f, bits: f.Bits, prereq: prereq, nominal: nominal, rw: rw}
}

func (st symtab) subfield(name, of string, ofs, bits int, prereq string, rw bool) {
	f := openflow.MustField(of)
	st[name] = &symbol{name: name, kind: symField, field: f, ofs: ofs, bits: bits, prereq: prereq, rw: rw}
}

func (st symtab) pred(name, expansion string) {
	st[name] = &symbol{name: name, kind: symPredicate, expansion: expansion}
}

// newSymtab builds OVN 23.03's symbol table.
func newSymtab() symtab {
	st := symtab{}
	for i := 0; i < 10; i++ {
		st.field(fmt.Sprintf("reg%d", i), fmt.Sprintf("reg%d", i), "", false, true)
	}
	for i := 0; i < 5; i++ {
		st.field(fmt.Sprintf("xreg%d", i), fmt.Sprintf("xreg%d", i), "", false, true)
	}
	for i := 0; i < 2; i++ {
		st.field(fmt.Sprintf("xxreg%d", i), fmt.Sprintf("xxreg%d", i), "", false, true)
	}
	st["inport"] = &symbol{name: "inport", kind: symString, field: openflow.MustField(RegInport), bits: 32, nominal: true, rw: true}
	st["outport"] = &symbol{name: "outport", kind: symString, field: openflow.MustField(RegOutport), bits: 32, nominal: true, rw: true}

	st.field("flags", RegFlags, "", false, true)
	flagNames := map[string]int{
		"loopback": FlagAllowLoopback, "force_snat_for_dnat": FlagForceSNATForDNAT,
		"force_snat_for_lb": FlagForceSNATForLB, "skip_snat_for_lb": FlagSkipSNATForLB,
		"use_snat_zone": FlagUseSNATZone, "localport": FlagLocalport,
	}
	for n, b := range flagNames {
		st.subfield("flags."+n, RegFlags, b, 1, "", true)
	}
	st.field("pkt.mark", "pkt_mark", "", false, true)

	st.field("ct_mark", "ct_mark", "", false, true)
	st.subfield("ct_mark.blocked", "ct_mark", 0, 1, "", true)
	st.subfield("ct_mark.natted", "ct_mark", 1, 1, "", true)
	st.subfield("ct_mark.ecmp_reply_port", "ct_mark", 16, 16, "", true)
	st.subfield("ct_mark.skip_snat", "ct_mark", 2, 1, "", true)
	st.subfield("ct_mark.force_snat", "ct_mark", 3, 1, "", true)
	st.field("ct_label", "ct_label", "", false, true)
	st.subfield("ct_label.blocked", "ct_label", 0, 1, "", true)
	st.subfield("ct_label.natted", "ct_label", 1, 1, "", true)
	st.subfield("ct_label.skip_snat", "ct_label", 2, 1, "", true)
	st.subfield("ct_label.force_snat", "ct_label", 3, 1, "", true)
	st.subfield("ct_label.ecmp_reply_eth", "ct_label", 32, 48, "", true)
	st.subfield("ct_label.ecmp_reply_port", "ct_label", 80, 16, "", true)
	st.subfield("ct_label.label", "ct_label", 96, 32, "", true)
	st.field("ct_state", "ct_state", "", false, false)
	ctBits := map[string]int{"new": 0, "est": 1, "rel": 2, "rpl": 3, "inv": 4, "snat": 6, "dnat": 7}
	st.subfield("ct.trk", "ct_state", 5, 1, "", false)
	for n, b := range ctBits {
		st.subfield("ct."+n, "ct_state", b, 1, "ct.trk", false)
	}
	st.field("ct_proto", "ct_nw_proto", "ct.trk", true, false)
	st.field("ct_nw_src", "ct_nw_src", "ct.trk && ip4", false, false)
	st.field("ct_nw_dst", "ct_nw_dst", "ct.trk && ip4", false, false)
	st.field("ct_ip6_src", "ct_ipv6_src", "ct.trk && ip6", false, false)
	st.field("ct_ip6_dst", "ct_ipv6_dst", "ct.trk && ip6", false, false)
	st.field("ct_tp_src", "ct_tp_src", "ct.trk", false, false)
	st.field("ct_tp_dst", "ct_tp_dst", "ct.trk", false, false)

	st.field("eth.src", "eth_src", "", false, true)
	st.field("eth.dst", "eth_dst", "", false, true)
	st.field("eth.type", "eth_type", "", true, false)
	st.pred("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff")
	st.subfield("eth.mcast", "eth_dst", 40, 1, "", false)
	st.pred("eth.mcastv6", "eth.dst[32..47] == 0x3333")

	st.field("vlan.tci", "vlan_tci", "", false, true)
	st.subfield("vlan.vid", "vlan_tci", 0, 12, "vlan.present", true)
	st.subfield("vlan.pcp", "vlan_tci", 13, 3, "vlan.present", true)
	st.subfield("vlan.present", "vlan_tci", 12, 1, "", true)

	st.pred("ip4", "eth.type == 0x800")
	st.pred("ip6", "eth.type == 0x86dd")
	st.pred("ip", "ip4 || ip6")
	st.field("ip.proto", "nw_proto", "ip", true, false)
	st.field("ip.dscp", "ip_dscp", "ip", false, true)
	st.field("ip.ecn", "nw_ecn", "ip", false, true)
	st.field("ip.ttl", "nw_ttl", "ip", false, true)
	st.field("ip.frag", "ip_frag", "ip", false, false)
	st.subfield("ip.is_frag", "ip_frag", 0, 1, "ip", false)
	st.subfield("ip.later_frag", "ip_frag", 1, 1, "ip", false)
	st.pred("ip.first_frag", "ip.is_frag && !ip.later_frag")

	st.field("ip4.src", "ip_src", "ip4", false, true)
	st.field("ip4.dst", "ip_dst", "ip4", false, true)
	st.pred("ip4.src_mcast", "ip4.src[28..31] == 0xe")
	st.pred("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe")

	st.field("ip6.src", "ipv6_src", "ip6", false, true)
	st.field("ip6.dst", "ipv6_dst", "ip6", false, true)
	st.field("ip6.label", "ipv6_label", "ip6", false, true)
	st.pred("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0")
	st.pred("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1")
	st.pred("ip6.mcast_all_rtrs", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2")
	st.pred("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0000/104")
	st.pred("ip6.mcast_flood", "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)")
	st.pred("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff")

	st.pred("icmp4", "ip4 && ip.proto == 1")
	st.field("icmp4.type", "icmp_type", "icmp4", true, true)
	st.field("icmp4.code", "icmp_code", "icmp4", true, true)
	st.pred("icmp6", "ip6 && ip.proto == 58")
	st.field("icmp6.type", "icmpv6_type", "icmp6", true, true)
	st.field("icmp6.code", "icmpv6_code", "icmp6", true, true)
	st.pred("icmp", "icmp4 || icmp6")

	st.pred("igmp", "ip4 && ip.proto == 2")
	st.pred("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}")
	st.pred("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143")
	st.pred("ip6.mcast_flood_mld", "ip6.mcast_flood")

	st.pred("arp", "eth.type == 0x806")
	st.pred("rarp", "eth.type == 0x8035")
	for _, p := range []string{"arp", "rarp"} {
		st.field(p+".op", "arp_op", p, true, true)
		st.field(p+".spa", "arp_spa", p, false, true)
		st.field(p+".tpa", "arp_tpa", p, false, true)
		st.field(p+".sha", "arp_sha", p, false, true)
		st.field(p+".tha", "arp_tha", p, false, true)
	}

	st.pred("nd", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255")
	st.pred("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255")
	st.pred("nd_na", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255")
	st.pred("nd_rs", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255")
	st.pred("nd_ra", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255")
	st.pred("nd_ns_mcast", "ip6.mcast && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255")
	st.field("nd.target", "nd_target", "nd", false, true)
	st.field("nd.sll", "nd_sll", "nd_ns", false, true)
	st.field("nd.tll", "nd_tll", "nd_na", false, true)

	st.pred("tcp", "ip.proto == 6")
	st.field("tcp.src", "tcp_src", "tcp", false, true)
	st.field("tcp.dst", "tcp_dst", "tcp", false, true)
	st.field("tcp.flags", "tcp_flags", "tcp", false, false)
	st.pred("udp", "ip.proto == 17")
	st.field("udp.src", "udp_src", "udp", false, true)
	st.field("udp.dst", "udp_dst", "udp", false, true)
	st.pred("sctp", "ip.proto == 132")
	st.field("sctp.src", "sctp_src", "sctp", false, true)
	st.field("sctp.dst", "sctp_dst", "sctp", false, true)
	for _, sym := range st {
		var err error
		if sym.expansion != "" {
			if sym.exp, err = ParseExpr(sym.expansion); err != nil {
				panic(fmt.Sprintf("lflow: symbol %s: bad expansion: %v", sym.name, err))
			}
		}
		if sym.prereq != "" {
			if sym.pre, err = ParseExpr(sym.prereq); err != nil {
				panic(fmt.Sprintf("lflow: symbol %s: bad prerequisite: %v", sym.name, err))
			}
		}
	}
	low := lowerer{st: st}
	for _, sym := range st {
		if sym.exp != nil {
			for i, neg := range []bool{false, true} {
				n, err := low.lower(sym.exp, neg)
				if err == nil {
					sym.expNode[i] = n
				}
			}
		}
		if sym.pre != nil {
			n, err := low.lower(sym.pre, false)
			if err != nil {
				panic(fmt.Sprintf("lflow: symbol %s: bad prerequisite: %v", sym.name, err))
			}
			sym.preNode = n
		}
	}
	return st
}

// builtins is the immutable symbol table shared by every compilation.
var builtins = newSymtab()

func (st symtab) expansion(sym *symbol) (Expr, error) { return sym.exp, nil }
func (st symtab) prereq(sym *symbol) (Expr, error)    { return sym.pre, nil }
