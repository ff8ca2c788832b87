// Package nbcmd holds the commands of nbctl, the OVN_Northbound CLI: the
// ovn-nbctl(8) commands for switches, routers, ports, ACLs, load balancers,
// NAT, routes, policies, DHCP options, meters, QoS and HA chassis groups,
// "show", "sync", the generic database commands from package ctl, and the
// --wait=sb|hv handling through NB_Global.nb_cfg.
//
// It is pure command logic over a ctl.Txn; the connection belongs to the
// caller (cmd/nbctl).
package nbcmd
