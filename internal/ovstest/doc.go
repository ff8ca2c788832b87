// Package ovstest starts Open vSwitch's own daemons for tests: a real
// ovsdb-server on a unix socket in a test's temporary directory, stopped by
// its PID when the test ends. Tests use it as the reference implementation
// and as a server for clients while ours are being built.
//
// It is imported only by tests.
package ovstest
