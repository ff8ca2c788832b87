// Package lflow is OVN's logical flow language: the lexer, parser, symbol
// table, normalisation and compiler that turn a Logical_Flow row (match
// and actions, ovn-sb(5)) into OpenFlow flows for the physical pipeline
// laid out in ovn-architecture(7).
//
// It is pure: no sockets, no goroutines, no package state beyond
// immutable tables. The chassis drives it (one Compile per Logical_Flow
// and datapath) and owns the OpenFlow connection; northd may use
// ParseExpr/ParseActions to validate what it writes. It imports only
// internal/openflow.
//
// # API
//
//	flows, err := lflow.Compile(lflow.LogicalFlow{
//		Pipeline: "ingress", TableID: 3, Priority: 100,
//		Match: `inport == "vm1" && ip4.src == $as`, Actions: "next;",
//		Datapath: 1, Cookie: 0x1234,
//	}, &lflow.Env{Port: ..., AddressSet: ..., PortGroup: ..., IsLocal: ...})
//
// Compile = ParseExpr + ParseActions + CompileParsed. The result is a list
// of openflow.Flow (table, priority, cookie, match, actions) whose String
// is ovs-ofctl add-flow text and whose Marshal is an OpenFlow 1.3
// FLOW_MOD. Errors from parsing are *Error with the byte offset and
// token; actions that parse but do not compile give *UnsupportedError
// (errors.Is(err, ErrUnsupported)); outport = "name" with an unknown name
// gives ErrUnknownPort. MatchExpr normalises a bare expression (golden
// tests).
//
// # Conventions (one place: symtab.go)
//
// Logical ingress table N is OpenFlow table 8+N, egress table N is
// 42+N; "output" resubmits to 37 (ingress) or 64 (egress); MAC binding
// lookups use 66/67, FDB 71/72, port security 73/75, LB hairpin 68/69,
// ct_snat_to_vip 70, ECMP symmetric reply 76/77, LB affinity 78. metadata = datapath tunnel key, reg14 = inport,
// reg15 = outport, reg10 = flags (loopback = bit 0 ...), reg11/reg12 =
// router DNAT/SNAT zones, reg13 = port CT zone. Matches on xreg/xxreg are
// split into the 32-bit registers they overlay (xxreg0 = reg0..reg3, reg0
// most significant), so equal matches are always written the same way.
//
// # Normalisation
//
// Negation is pushed into comparisons (prerequisites are never negated),
// != becomes one single-bit test per bit, <, <=, >, >= become prefix
// (masked) matches, sets and address sets become disjunctions, and the
// result is put in disjunctive normal form with duplicate and subsumed
// matches removed. When the top-level conjunction has two or more
// independent dimensions with several alternatives each (after folding
// shared constraints and merging dimensions that test the same fields or
// each other's OpenFlow prerequisites) and every dimension tests a single
// field (ovn-controller distributes other disjunctions, such as
// arp.op == 1 || nd_ns, so those give a cross product), the flow is
// emitted, as ovn-controller does, as a conjunctive match: one flow per alternative
// with conjunction(id,k/n) and cookie 0, and one flow on conj_id=id plus
// the common part with the actions. Conjunction ids are Env.ConjIDBase
// (or derived from the cookie). The caller must merge conjunction actions
// of equal (table, priority, match) flows coming from different logical
// flows.
//
// # Fidelity
//
// TestRootDifferentialOVNController runs the real ovn-controller on the
// reference topology and compares, per logical flow, the OpenFlow matches
// and actions it installs with ours as the switch normalises them: all
// equal for the corpus, except for what is ours by design: conjunction,
// group and meter ids, and the controller userdata (Opcode), which is our
// own format, not ovn-controller's. Groups are compared by their
// description (type, selection method, buckets) as the switch dumps them.
//
// # Supported actions
//
//	action                                   status
//	next, next(T), next(pipeline=P,table=T)  yes (resubmit)
//	output                                   yes (resubmit 37 / 64)
//	drop, empty, comment only                yes
//	F = const, F = G (fields, subfields)      yes (set_field / move)
//	outport = "name", inport = outport       yes (Env.Port)
//	F <-> G                                   yes (push/push/pop/pop)
//	push(F), pop(F)                           yes
//	ip.ttl--                                  yes (dec_ttl)
//	ct_next, ct_commit, ct_commit { ct_mark/ct_label = ...; }   yes
//	ct_commit_nat, ct_dnat, ct_snat (with or without IP[, ports]) yes
//	ct_dnat_in_czone, ct_snat_in_czone        yes (zone reg11)
//	ct_lb, ct_lb_mark (no args, backends=, hash_fields=, skip_snat/force_snat)  yes (select group via Env.Group)
//	ct_clear, ct_snat_to_vip                  yes
//	clone { }                                 yes
//	arp, nd_na, nd_na_router, nd_ns, icmp4, icmp6, icmp4_error,
//	icmp6_error, tcp_reset, sctp_abort, reject { }   yes (controller, nested actions in userdata)
//	icmp4.frag_mtu = N, icmp6.frag_mtu = N    yes (nested controller opcode)
//	put_arp, put_nd, put_fdb, handle_svc_check, handle_dhcpv6_reply, igmp,
//	handle_bfd_msg                            yes (controller)
//	LogicalFlow.ControllerMeter (CoPP)        yes (meter on every controller action but log)
//	^NAME template variables                  yes (Env.Templates, ExpandTemplates)
//	get_arp, get_nd, lookup_arp, lookup_nd, lookup_arp_ip, lookup_nd_ip,
//	lookup_fdb, get_fdb                       yes (lookup tables)
//	R = put_dhcp_opts, put_dhcpv6_opts, put_nd_ra_opts, dns_lookup  yes (controller, pause)
//	log(name=, severity=, verdict=, meter=)  yes (controller, meter id via Env.Meter)
//	trigger_event, bind_vport                 yes (controller)
//	set_queue, set_meter                      yes (meter hoisted to an OpenFlow 1.3 meter instruction)
//	R = check_pkt_larger(L)                   yes
//	R = chk_lb_hairpin(), chk_lb_hairpin_reply(), check_in_port_sec(),
//	check_out_port_sec(), chk_ecmp_nh_mac(), chk_ecmp_nh()   yes (flag lookups)
//	R = select(v1[=w1], ...)                 yes (select group via Env.Group, symmetric dp_hash)
//	fwd_group(liveness=, childports=...)     yes (select group; with liveness only remote
//	                                          children, watching Env.TunnelPort)
//	commit_lb_aff(vip=, backend=, proto=, timeout=)  yes (learn into table 78)
//	R = chk_lb_aff()                          yes (flag lookup in table 78)
//	commit_ecmp_nh(ipv6=, proto=)            yes (learn into tables 76 and 77)
//	sample(probability=, collector_set=, obs_domain=, obs_point=)  yes
//	ct_commit(...) (old argument form), and actions of later
//	OVN releases (ct_commit_to_zone, mac_cache_use, ...)   not yet: parse error
//	or UnsupportedError naming the action
//
// The userdata of controller actions is documented at Opcode: a 32-bit
// opcode, 4 bytes of padding and an opcode-specific payload; nested
// actions are OpenFlow 1.3 action lists (openflow.AppendActions).
package lflow
