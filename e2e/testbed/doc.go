// Package testbed builds end-to-end test topologies on real Open vSwitch:
// chassis in their own network namespaces (each with its own ovsdb-server,
// ovs-vswitchd on the userspace datapath and a chassis daemon), one underlay
// per site joined by a router namespace whose links can be shaped with tc,
// VMs as namespaces plugged into br-int, an external network namespace, and
// the central services (NB and SB databases, one or more translators).
//
// Each role is filled, per run, by OVN's component or ours (see Combo): the
// databases by ovsdb-server or nbdb/sbdb, the translator by ovn-northd or
// northd, the chassis daemon by ovn-controller or chassis.
//
// The package is driven by tests (Start takes a testing.TB and registers
// cleanup) or by programs: New and Close build and remove a topology
// without a test (`hcnet run` uses them, with its own databases and
// northd as Config.NBRemote/SBRemote and a kept Config.RunDir), State
// describes a running topology and Attach lets another process (`hcnet
// demo`) add VMs to it. It owns every namespace, link and process it
// creates: names carry a random per-run prefix, processes are stopped by
// PID, namespaces deleted, also when a test fails; daemon logs stay in the
// run directory, which is kept and printed on failure. The machine's root
// namespace is left alone apart from unix sockets under the run directory.
//
// Namespaces, veths, addresses and routes are made with netlink; OVS is
// configured with ovs-vsctl and the logical network with ovn-nbctl (or our
// nbctl, Config.Ctl), which work against either database implementation.
// It must not import the packages it tests (northd, chassis, nbdb, sbdb):
// it runs their binaries.
package testbed
