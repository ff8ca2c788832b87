// Package ctl is the command machinery shared by nbctl and sbctl: the
// ovs-vsctl/ovn-nbctl value syntax, records named by name or UUID, the generic
// database commands (list, find, get, set, add, remove, clear, create,
// destroy, wait-until), output formats (list, table, csv, json) and the
// joining of several commands separated by "--" into one atomic OVSDB
// transaction.
//
// Commands run against an in-memory copy of the database (a Txn) read at the
// start; their edits become one transaction of insert, update and delete
// operations at commit. The package talks to a server only through the small
// DB interface, so the connection (our internal/client, or the minimal
// JSON-RPC transport in this package) is the caller's choice.
//
// ctl must not import northd, chassis or any server package.
package ctl
