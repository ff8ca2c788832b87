// Package client is the OVSDB client that northd, chassis, nbctl and sbctl
// share: a list of remotes, reconnection with backoff to the next one,
// leader-only connections for clustered databases, transactions, monitors
// (monitor_cond_since with update3 when the server has it, monitor_cond with
// update2 otherwise) including monitor_cond_change, locks with their
// locked/stolen notifications, and echo in both directions.
//
// It speaks RFC 7047 and the ovsdb-server(5) extensions through
// internal/jsonrpc, and uses libovsdb's ovsdb package only for wire types.
// It knows no schema: callers bring table and column names.
//
// A leader-only client (Options.LeaderOnly) accepts a clustered server only
// while its _Server database says it leads and is connected, and keeps a
// monitor on that row: when leadership moves, the session is dropped and the
// client walks the remote list again at once (the IDL waits for a failed call
// or an inactivity probe). Transaction ids of our replicas are equal across a
// cluster, so a monitor resumes on another replica without a resync.
//
// After a reconnection the client re-establishes every monitor and lock on
// the new connection. A monitor resumes with monitor_cond_since from the last
// transaction id it saw; when the server cannot resume, it resynchronises,
// and the handler receives "initial" for every current row and "delete" for
// every row it had been told about that no longer exists, so a handler that
// treats "initial" and "insert" as "replace the whole row" never needs to
// know a resync happened.
package client
