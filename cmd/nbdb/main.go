// Command nbdb serves the OVN_Northbound database (OVSDB JSON-RPC, Raft
// replicated, stored in --data-dir); "nbdb cluster …" manages a cluster.
package main

import (
	"os"

	"hcnet/internal/ovsdb/service/cli"
	"hcnet/nbdb"
)

func main() {
	os.Exit(cli.Main(cli.Program{
		Name:        "nbdb",
		Description: "Serve the OVN_Northbound OVSDB database, or manage its cluster.",
		Start:       nbdb.Start,
	}))
}
