// Package ctltest holds test helpers for the nbctl and sbctl tests: shell
// word splitting for golden scripts, predictable UUIDs, and starting a
// database server (a real ovsdb-server or our own nbdb/sbdb) for a test.
//
// It is imported only by tests.
package ctltest
