// Package cli is the command line shared by cmd/nbdb and cmd/sbdb: the
// default "serve" command (flags → service.Config) and the "cluster"
// commands that talk to a running replica over its control socket.
//
// Driven by: cmd/nbdb, cmd/sbdb. Imports service; holds no state.
package cli
