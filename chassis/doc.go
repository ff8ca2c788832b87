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
// The desired table is kept across rounds (flowtable.Desired merges only
// the owners that changed), and copies of a logical flow that every local
// datapath shares become one flow without the metadata match
// (flowtable.Aggregator; Options.PerDatapathFlows keeps ovn-controller's
// one flow per datapath).
//
// Port-up: local interfaces whose iface-id no local port binding has yet
// send to the controller (a metered table 0 flow) instead of hitting the
// table-miss drop that ovs-vswitchd would cache; once a port's flows are
// acknowledged, the reinjector (punt.go, its own OpenFlow connection)
// sends such packets back through the table from their interface, so
// the port works at once rather than after the switch's revalidators
// have re-translated every datapath flow. The echoes of the daemon's own
// bookkeeping writes (ovn-installed, conntrack zones, up, nb_cfg acks)
// update the replicas without waking a round (wake.go).
//
// It must not import northd.
package chassis
