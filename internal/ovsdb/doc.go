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
//
// Where RFC 7047 is silent or loose, behaviour follows ovsdb-server 3.1,
// which the tests run side by side with this package: replies are padded
// with null after a failed operation and carry commit-time errors as an
// extra element; error kinds and details match (except where ovsdb-server
// reports rows in hash order); a select reports rows identical in the
// selected columns once; a strong reference to a row's own UUID is ignored;
// rows changed by the operations get a new _version even if weak reference
// cleanup undoes the change; monitors of "all columns" include _version,
// and update2 sends a single-valued column's new value rather than a diff.
package ovsdb
