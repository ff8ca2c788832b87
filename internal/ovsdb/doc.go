// Package ovsdb is the schema-agnostic, pure core of hcnet's OVSDB servers:
// schema parsing and validation (RFC 7047 §3.2), the value model (atoms,
// datums, rows), the in-memory database, the transaction executor (every
// operation of RFC 7047 §5.2 plus ovsdb-server's extensions) and the helpers
// monitors need (conditions, update2 diffs).
//
// It owns no sockets, files or goroutines and reads no clock: Execute maps
// (state, transaction) to (reply, change set) deterministically, so every
// Raft replica computes the same result from the same log entry, and Commit
// applies the change set. The server, storage and monitor loops in the
// subpackages and in nbdb/sbdb drive it; this package must not import them,
// nor anything that does I/O.
package ovsdb
