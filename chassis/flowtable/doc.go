// Package flowtable owns the chassis's desired OpenFlow table and its
// difference from what is installed (STYLE.md §4). Desired flows are kept
// per owner, the southbound row (or physical input) that produced them;
// Diff turns desired versus installed into the flow-mods of one bundle,
// rendered in ovs-ofctl's add-flows syntax.
//
// It is pure: no sockets, no processes. The installer lives in
// package chassis/ofctl.
package flowtable
