// Package sbdb is the OVN_Southbound database service: the schema from
// hcnet/schema served by our replicated OVSDB server, by default on
// ptcp:6642 with Raft on 127.0.0.1:6644.
//
// Driven by: cmd/sbdb and the launcher. Imports internal/ovsdb/service.
package sbdb
