// Package translate owns northd's pure core: it maps the rows of OVN_Northbound
// (as hcnet/schema/nb models) to the rows northd wants in OVN_Southbound, as
// plain Go values keyed by natural keys (datapath by NB row UUID, port by
// logical port name, flow by its full content). The semantics follow
// ovn-northd(8) and ovn-architecture(7): stage names and table numbers, the
// logical register conventions and the actions are the ones ovn-controller of
// OVN 23.03 understands.
//
// Work is organised per datapath: Index.Datapath computes everything one
// logical switch or router contributes (port bindings, multicast groups,
// logical flows), reading only the Index. The incremental engine
// (hcnet/northd/engine) decides which datapaths to recompute; Translate
// recomputes all of them and is the oracle.
//
// translate does no I/O and must not import sockets, clients or servers.
package translate
