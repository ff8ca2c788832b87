// Package storage keeps one OVSDB database durable and replicated: a Dragonboat
// v4 Raft shard whose on-disk state machine is a Pebble store.
//
// Storage does not know OVSDB. It drives an Applier, the deterministic
// application that turns one log entry (an opaque command) into key/value
// writes and an in-memory commit. Every entry is applied exactly in log order;
// the keys it changes and the applied index go into the same Pebble batch, so
// after a restart the Applier is rebuilt from Pebble (Load) and Dragonboat
// replays only the entries after the recorded index. The Raft log entry is
// fsynced before it is applied, so the Pebble batch need not be durable nor
// written before the reply: a writer goroutine (writer.go) encodes and
// commits the batches in order, off the serial apply path (small updates are
// written inline when it is idle); Sync, snapshots and Close wait for it.
//
// One Node is one Dragonboat NodeHost per process; each database is a Shard of
// it. The Raft address is separate from the OVSDB listen addresses. A shard is
// bootstrapped from a member map (or joins a running one, as a voter or a
// non-voting replica) and runs with PreVote and CheckQuorum and an election
// timeout in RTTs; cluster.go changes membership, transfers leadership,
// reports status and hands leadership over before a leader stops. Proposals
// from any replica are forwarded to the leader; a proposal caught by a
// leader change is proposed again (the Applier de-duplicates by an id in the
// command). Snapshots are taken every SnapshotEntries entries and whenever
// SnapshotBytes of entries accumulated; a replica behind the compacted log
// is sent one. The log store is tan, Dragonboat's append-only log (one file
// per replica; a data directory created with the earlier Pebble log store
// keeps it), on logFS: the log file being written extends itself in zeros
// a megabyte at a time, so that each commit's sync writes data only, not
// file-size metadata through the file system journal (walfs.go). tan
// rotates its file at 64 MiB and deletes a file once every entry in it is
// compacted behind a snapshot, so a replica's log stays under about twice
// that. tan is told the last Raft state with every update
// (stateSyncFactory), so a commit costs one fsync, not two.
//
// Raft messages travel over our own transport (transport.go), which speaks
// Dragonboat's frame format: a failed send redials at once and retries the
// batch once, and a batch that still cannot be delivered is dropped for
// Raft to resend, instead of a circuit breaker that silenced a restarted
// peer for up to 1.5 s and stretched elections. Tests inject drops and
// delays per peer (transport_faults.go).
//
// Driven by: internal/ovsdb/server (through the replica glue) and the nbdb and
// sbdb services. Must not import the JSON-RPC server or any OVSDB client.
package storage
