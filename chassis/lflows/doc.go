// Package lflows compiles the southbound Logical_Flow rows of the local
// datapaths into OpenFlow flows with internal/lflow, keyed by the
// Logical_Flow UUID that produced them: it builds each flow's lookup
// environment (port keys of its datapath, address sets, port groups,
// chassis residence) from the replica and maps logical tables to OpenFlow
// tables (ingress from table 8, egress from table 42).
//
// It is pure: replica rows in, flows out. It caches compilations by
// (flow UUID, environment) so an unchanged flow is not recompiled.
package lflows
