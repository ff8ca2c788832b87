// Package replica binds one OVSDB database (the executor in internal/ovsdb)
// to its durable, replicated log (internal/ovsdb/storage).
//
// A DB holds the rows in memory. Writes are proposed as log entries that carry
// everything apply needs to be deterministic (operations, the seed new-row
// UUIDs derive from, the wait-expired flag, the locks the session holds) and a
// transaction id for de-duplication. Apply executes the entry and commits it
// in memory, handing storage a function that encodes the changed rows (run
// on the store's writer goroutine: committed rows are never modified); once
// the Update's entries are applied (they are in the fsynced Raft log) the DB
// publishes each commit, in log order, to its watchers (the server's
// monitors), before the proposer gets its reply. HCNET_TXN_TRACE=1 records
// each transaction's stages (received, proposed, applied, publishing,
// published, answered); WriteTraceSummary prints their quantiles.
//
// A DB without storage (NewLocal) commits in memory only; the server uses one
// for _Server and tests use them.
//
// Driven by: internal/ovsdb/server and the nbdb/sbdb services. Imports the
// executor and storage; must not import the JSON-RPC server.
package replica
