// Package nbdb is the OVN_Northbound database service: the schema from
// hcnet/schema served by our replicated OVSDB server, by default on
// ptcp:6641 with Raft on 127.0.0.1:6643.
//
// Driven by: cmd/nbdb and the launcher. Imports internal/ovsdb/service.
package nbdb
