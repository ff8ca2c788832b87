// Package ctl is the command machinery shared by nbctl and sbctl: the
// ovs-vsctl/ovn-nbctl value syntax, records named by name or UUID, the generic
// database commands (list, find, get, set, add, remove, clear, create,
// destroy, wait-until), output formats (list, table, csv, json) and the
// joining of several commands separated by "--" into one atomic OVSDB
// transaction.
//
// Commands run against a Txn, an in-memory copy of the database that reads
// rows and columns from the server on first use (a lookup by name asks the
// server for that name; a long batch reads the column once and indexes it).
// At commit their edits become one transaction: inserts, updates of single
// values, insert/delete mutations of sets and maps (so concurrent clients
// adding to the same set do not lose each other's elements) and deletes.
// A Txn belongs to one goroutine.
//
// The package talks to a server only through the DB interface, which
// hcnet/internal/client satisfies. It must not import northd, chassis or any
// server package.
package ctl
