// Package replica binds one OVSDB database (the executor in internal/ovsdb)
// to its durable, replicated log (internal/ovsdb/storage).
//
// A DB holds the rows in memory. Writes are proposed as log entries that carry
// everything apply needs to be deterministic (operations, the seed new-row
// UUIDs derive from, the wait-expired flag, the locks the session holds) and a
// transaction id for de-duplication. Apply executes the entry, persists the
// changed rows and commits them in memory; once the batch is in Pebble the DB
// publishes each commit, in log order, to its watchers (the server's
// monitors), before the proposer gets its reply.
//
// A DB without storage (NewLocal) commits in memory only; the server uses one
// for _Server and tests use them.
//
// Driven by: internal/ovsdb/server and the nbdb/sbdb services. Imports the
// executor and storage; must not import the JSON-RPC server.
package replica
