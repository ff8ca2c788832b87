package translate

// Stage is a logical pipeline stage: its pipeline, table number and the name
// ovn-northd(8) gives it (written to Logical_Flow.external_ids:stage-name).
type Stage struct {
	Pipeline string
	Table    int
	Name     string
}

func stagesOf(pipeline string, names ...string) []Stage {
	out := make([]Stage, len(names))
	for i, n := range names {
		out[i] = Stage{Pipeline: pipeline, Table: i, Name: n}
	}
	return out
}

// Logical switch stages, OVN 23.03 numbering.
var (
	switchIngress = stagesOf(Ingress,
		"ls_in_check_port_sec", "ls_in_apply_port_sec", "ls_in_lookup_fdb", "ls_in_put_fdb",
		"ls_in_pre_acl", "ls_in_pre_lb", "ls_in_pre_stateful", "ls_in_acl_hint", "ls_in_acl",
		"ls_in_qos_mark", "ls_in_qos_meter", "ls_in_lb_aff_check", "ls_in_lb", "ls_in_lb_aff_learn",
		"ls_in_pre_hairpin", "ls_in_nat_hairpin", "ls_in_hairpin", "ls_in_acl_after_lb",
		"ls_in_stateful", "ls_in_arp_rsp", "ls_in_dhcp_options", "ls_in_dhcp_response",
		"ls_in_dns_lookup", "ls_in_dns_response", "ls_in_external_port", "ls_in_l2_lkup",
		"ls_in_l2_unknown")
	switchEgress = stagesOf(Egress,
		"ls_out_pre_acl", "ls_out_pre_lb", "ls_out_pre_stateful", "ls_out_acl_hint", "ls_out_acl",
		"ls_out_qos_mark", "ls_out_qos_meter", "ls_out_stateful", "ls_out_check_port_sec",
		"ls_out_apply_port_sec")
	routerIngress = stagesOf(Ingress,
		"lr_in_admission", "lr_in_lookup_neighbor", "lr_in_learn_neighbor", "lr_in_ip_input",
		"lr_in_unsnat", "lr_in_defrag", "lr_in_lb_aff_check", "lr_in_dnat", "lr_in_lb_aff_learn",
		"lr_in_ecmp_stateful", "lr_in_nd_ra_options", "lr_in_nd_ra_response",
		"lr_in_ip_routing_pre", "lr_in_ip_routing", "lr_in_ip_routing_ecmp", "lr_in_policy",
		"lr_in_policy_ecmp", "lr_in_arp_resolve", "lr_in_chk_pkt_len", "lr_in_larger_pkts",
		"lr_in_gw_redirect", "lr_in_arp_request")
	routerEgress = stagesOf(Egress,
		"lr_out_chk_dnat_local", "lr_out_undnat", "lr_out_post_undnat", "lr_out_snat",
		"lr_out_post_snat", "lr_out_egr_loop", "lr_out_delivery")
)

// Switch stage shorthands.
var (
	lsInCheckPortSec = switchIngress[0]
	lsInApplyPortSec = switchIngress[1]
	lsInPreACL       = switchIngress[4]
	lsInPreLB        = switchIngress[5]
	lsInPreStateful  = switchIngress[6]
	lsInACLHint      = switchIngress[7]
	lsInACL          = switchIngress[8]
	lsInQoSMark      = switchIngress[9]
	lsInQoSMeter     = switchIngress[10]
	lsInLB           = switchIngress[12]
	lsInStateful     = switchIngress[18]
	lsInARPRsp       = switchIngress[19]
	lsInDHCPOptions  = switchIngress[20]
	lsInDHCPResponse = switchIngress[21]
	lsInL2Lkup       = switchIngress[25]
	lsInL2Unknown    = switchIngress[26]

	lsOutPreACL       = switchEgress[0]
	lsOutPreLB        = switchEgress[1]
	lsOutPreStateful  = switchEgress[2]
	lsOutACLHint      = switchEgress[3]
	lsOutACL          = switchEgress[4]
	lsOutQoSMark      = switchEgress[5]
	lsOutQoSMeter     = switchEgress[6]
	lsOutStateful     = switchEgress[7]
	lsOutCheckPortSec = switchEgress[8]
	lsOutApplyPortSec = switchEgress[9]
)

// Router stage shorthands.
var (
	lrInAdmission      = routerIngress[0]
	lrInLookupNeighbor = routerIngress[1]
	lrInLearnNeighbor  = routerIngress[2]
	lrInIPInput        = routerIngress[3]
	lrInUnsnat         = routerIngress[4]
	lrInDefrag         = routerIngress[5]
	lrInDNAT           = routerIngress[7]
	lrInIPRoutingPre   = routerIngress[12]
	lrInIPRouting      = routerIngress[13]
	lrInIPRoutingECMP  = routerIngress[14]
	lrInPolicy         = routerIngress[15]
	lrInPolicyECMP     = routerIngress[16]
	lrInARPResolve     = routerIngress[17]
	lrInGwRedirect     = routerIngress[20]
	lrInARPRequest     = routerIngress[21]

	lrOutChkDNATLocal = routerEgress[0]
	lrOutUndnat       = routerEgress[1]
	lrOutSNAT         = routerEgress[3]
	lrOutDelivery     = routerEgress[6]
)
