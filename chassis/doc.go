// Package chassis is the host and gateway daemon: the thin shell that
// connects the local Open_vSwitch database, the southbound database and
// the integration bridge's OpenFlow endpoint to the pure packages below
// it. One goroutine owns all state; monitor handlers only update the
// replicas (under one mutex) and wake it.
//
// Each round it reads the configuration (package config), creates the
// integration bridge if missing, registers the chassis, decides bindings,
// gateways, tunnels and local datapaths (package plan), sends the
// resulting OVSDB transactions, compiles physical and logical flows into
// the desired table (packages physical, lflows, flowtable) and installs
// the difference in one atomic bundle over its own OpenFlow connection
// (package ofinstall; a restart or a new switch gets the whole table as a
// new cookie generation in one bundle), then acknowledges nb_cfg. Meters
// go over the same connection; groups still go through ovs-ofctl (package
// ofctl), as do flows with Options.OfctlFlows (a debugging fallback).
//
// Rounds cost in proportion to what changed (daemon.go): the plan
// (planLocked) and the desired flows (flowsLocked) of the last round are
// reused while no replica update that wakes a round arrived, and the
// configuration and conntrack zones are the same (a tick, an answered
// condition change, the controller's own wake-ups cost no recompute);
// what the plan reads of the integration bridge is kept while the
// Open_vSwitch replica is unchanged; physical flows are generated again
// only for the ports and multicast groups whose inputs changed
// (physical.Generator); logical flows are compiled again only where
// their rows or what they name changed (lflows.Compiler); the desired
// table is kept across rounds (flowtable.Desired merges only the owners
// that changed), and copies of a logical flow that every local datapath
// shares become one flow without the metadata match
// (flowtable.Aggregator, updated by changed keys; Options.PerDatapathFlows
// keeps ovn-controller's one flow per datapath). The echoes of the
// daemon's own bookkeeping writes (ovn-installed, conntrack zones, up,
// nb_cfg acks, heartbeats, with or without _version) update the replicas
// without waking a round (wake.go).
//
// The controller path (controller.go, package pinctrl) is one OpenFlow
// connection for packet-ins and the daemon's own packets: ARP and ND,
// ICMP errors and resets, DHCP/DHCPv6, DNS, router solicitation answers,
// packets held for a neighbour, neighbour and MAC learning (MAC_Binding,
// FDB), and the features in ctrl_*.go: load balancer health
// checks (ctrl_health.go, Service_Monitor status), BFD sessions
// (ctrl_bfd.go), gratuitous ARPs for NAT, router and VIF addresses
// through localnet ports (ctrl_garp.go), periodic router advertisements
// (ctrl_ra.go), and virtual port binding, controller events and IGMP
// group membership (ctrl_events.go). Each round turns what packet-ins
// reported into southbound writes (controllerTxnsLocked); timed packets
// (announcements, probes, advertisements) go out from the session's
// timer goroutine.
//
// Port-up: local interfaces whose iface-id no local port binding has yet
// send to the controller (a metered table 0 flow, reason no_match)
// instead of hitting the table-miss drop that ovs-vswitchd would cache;
// once a port's flows are acknowledged, the reinjector (punt.go, its own
// OpenFlow connection) sends such packets back through the table from
// their interface, so the port works at once rather than after the
// switch's revalidators have re-translated every datapath flow.
// Options.TracePortUp logs each new port's way up (trace.go).
//
// It must not import northd.
package chassis
