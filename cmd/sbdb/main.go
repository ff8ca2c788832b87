// Command sbdb serves the OVN_Southbound database (OVSDB JSON-RPC, Raft
// replicated, stored in --data-dir); "sbdb cluster …" manages a cluster.
package main

import (
	"os"

	"hcnet/internal/ovsdb/service/cli"
	"hcnet/sbdb"
)

func main() {
	os.Exit(cli.Main(cli.Program{
		Name:        "sbdb",
		Description: "Serve the OVN_Southbound OVSDB database, or manage its cluster.",
		Start:       sbdb.Start,
	}))
}
