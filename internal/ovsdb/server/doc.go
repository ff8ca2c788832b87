// Package server is hcnet's OVSDB server: RFC 7047 JSON-RPC over TCP and
// unix-socket listeners, with the extensions the OVS IDL uses (monitor_cond,
// monitor_cond_change, monitor_cond_since, lock/steal/unlock, echo, and the
// _Server database described in ovsdb-server(5)).
//
// A connection is a session: one goroutine reads requests, one writes from a
// bounded queue (a client whose backlog grows past the bound is
// disconnected, so a slow monitor never stalls the others), and one runs the
// session's transactions in order. When the queue is empty, whoever sends a
// message writes it to the socket directly without blocking and queues only
// what the socket does not take, so a commit's notifications to many
// monitors leave from the apply path with no goroutine hand-off. Databases
// are replica.DBs; monitors watch them and queue their notifications on the
// apply path, so the updates of a transaction always precede its reply.
// Monitors of the same shape (version, monitor id, columns, conditions)
// get the same bytes for a commit: the first builds the notification, the
// others send it as it is. A monitor's initial rows and the rows a
// monitor_cond_change adds or removes are read through the executor's
// equality indexes when its conditions are "==" clauses (a chassis naming
// its datapaths: Database.RowsMatching), not by scanning the table.
//
// Driven by: the nbdb and sbdb services. Imports the executor
// (internal/ovsdb), replica and jsonrpc; never an OVSDB client.
package server
