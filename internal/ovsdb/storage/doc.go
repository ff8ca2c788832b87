// Package storage keeps one OVSDB database durable and replicated: a Dragonboat
// v4 Raft shard whose on-disk state machine is a Pebble store.
//
// Storage does not know OVSDB. It drives an Applier, the deterministic
// application that turns one log entry (an opaque command) into key/value
// writes and an in-memory commit. Every entry is applied exactly in log order;
// the keys it changes and the applied index go into the same Pebble batch, so
// after a restart the Applier is rebuilt from Pebble (Load) and Dragonboat
// replays only the entries after the recorded index.
//
// One Node is one Dragonboat NodeHost per process; each database is a Shard of
// it. The Raft address is separate from the OVSDB listen addresses. Today a
// shard has one replica; the configuration already carries the member map so a
// later change can start 3–5 replicas.
//
// Driven by: internal/ovsdb/server (through the replica glue) and the nbdb and
// sbdb services. Must not import the JSON-RPC server or any OVSDB client.
package storage
