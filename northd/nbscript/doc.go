// Package nbscript builds northbound content for tests and benchmarks from a
// small line-oriented language, close to ovn-nbctl's commands:
//
//	ls sw0
//	lsp sw0 vm1 addresses="00:00:00:00:00:01 10.0.0.11" [type=T] [opt:K=V] [port_security="..."] [dhcp=NAME] [dhcp6=NAME] [enabled=false] [up=true]
//	lr lr0 [opt:chassis=gw1]
//	lrp lr0 lr0-sw0 00:00:00:00:ff:01 10.0.0.1/24 [2001:db8::1/64] [peer=P] [opt:K=V] [opt:ra:address_mode=slaac]
//	link sw0 lr0-sw0           (switch port "sw0-lr0-sw0" of type router)
//	gw lr0-public gw1 10       (a Gateway_Chassis)
//	nat lr0 snat 172.16.0.100 10.0.0.0/16
//	nat lr0 dnat_and_snat 172.16.0.50 10.0.0.11 port=vm1 mac=00:00:00:00:aa:01  (distributed)
//	nat lr0 snat 172.16.0.60 10.0.0.0/24 allowed=as1|exempted=as1 [stateless=true]
//	route lr0 0.0.0.0/0 172.16.0.254 [port=P] [policy=src-ip] [table=RTB]
//	bfd lr0 0.0.0.0/0 172.16.0.254 down [port=lr0-ext]   (a BFD row with that status, tied to the route)
//	dns d1 sw0 vm1.example.org=10.0.0.11 ...  (a DNS row in sw0's dns_records)
//	policy lr0 100 "ip4.src == 10.0.0.0/24" drop|allow|reroute [NEXTHOP[,NEXTHOP...]]
//	acl sw0|@pg DIR PRIO "MATCH" ACTION
//	pg pg1 vm1 vm3
//	as as1 10.0.0.5 10.0.0.6
//	dhcp NAME 10.0.0.0/24 lease_time=3600 router=10.0.0.1 ...
//	qos sw0 DIR PRIO "MATCH" [dscp=N] [rate=N] [burst=N]
//	lb web sw0 10.0.0.100:80 10.0.0.11:8080,10.0.0.12:8080 [proto=udp] [sel=ip_src,tp_dst] [opt:K=V]
//	lrlb web lr0 172.16.0.100:80 10.0.0.11:8080 [proto=udp] [opt:skip_snat=true]
//	                           (the same Load_Balancer row, on a router)
//	lbg g1 sw0|lr0 web dns     (a Load_Balancer_Group of existing load balancers, on a switch or router)
//	hc web 10.0.0.100:80 [opt:interval=5 ...]   (a Load_Balancer_Health_Check of load balancer web for that VIP)
//	ipmap web 10.0.0.11=vm1:10.0.0.2 ...       (ip_port_mappings entries)
//	svcmac 0a:00:00:00:fe:fe                   (NB_Global options:svc_monitor_mac)
//	nbopt controller_event=true                (an NB_Global option; an empty value removes it)
//	vparent vip vm1|none                       (what SB reports for virtual port vip: claimed through vm1, or not)
//	otherconfig sw0 mcast_snoop=true [K=]      (Logical_Switch other_config; an empty value removes the key)
//	igmp sw0 239.1.1.1 vm1 vm2                 (what SB IGMP_Group rows report for sw0; no ports: none)
//	svcmon tcp 10.0.0.11 8080 vm1 offline|online|error|none
//	                           (the status SB Service_Monitor reports; none: no status)
//	del ls|lsp|lr|lrp|pg|as|lb NAME
//	del hc LB VIP
//	del route lr0 0.0.0.0/0 172.16.0.254    (the words that created it)
//	del nat lr0 snat 172.16.0.100 10.0.0.0/16
//	nbcfg N
//
// Row UUIDs are derived from names, so scripts are deterministic. nbscript
// does no I/O.
package nbscript
