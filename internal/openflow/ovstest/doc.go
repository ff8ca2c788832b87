// Package ovstest runs a private Open vSwitch (ovsdb-server and
// ovs-vswitchd with a userspace datapath) in a test's temporary directory
// and offers what encoder tests need: netdev bridges, ovs-ofctl add-flow
// and dump-flows, a minimal OpenFlow 1.3 connection that sends encoded
// messages and reports OpenFlow errors, and ofproto/trace.
//
// It is a test helper: it starts processes and opens sockets, and
// everything it starts is stopped by PID in t.Cleanup. Tests skip when
// the binaries or root are missing or HCNET_SKIP_OVS=1.
package ovstest
