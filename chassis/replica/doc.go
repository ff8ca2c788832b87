// Package replica owns an in-memory copy of the OVSDB tables the chassis
// monitors (the local Open_vSwitch database and its slice of the
// southbound database). It applies update2/update3 notifications
// (ovsdb-server(7): initial, insert, modify with set and map differences,
// delete) using the database schema, and offers typed accessors for column
// values.
//
// It is pure data: it never touches a socket. The daemon feeds it the
// TableUpdates2 its monitors receive. It must not import the OVSDB client.
package replica
