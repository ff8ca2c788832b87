// Command hcnet runs the whole system on one machine (`make run`) and the
// demo that shows it working (`make demo`).
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct {
	Run  runCmd  `cmd:"" help:"Start nbdb, sbdb, northd and, as root with Open vSwitch, local chassis; Ctrl-C stops everything."`
	Demo demoCmd `cmd:"" help:"On a running system: two tenants, a router each, a gateway with SNAT; print the pings that work and the one that must not."`

	LogFormat string `enum:"text,json" default:"text" help:"Log format of the launcher itself (text or json)."`
	LogLevel  string `enum:"debug,info,warn,error" default:"warn" help:"Log level of the launcher itself (its output already says what starts and stops)."`
}

func main() {
	var c cli
	k := kong.Parse(&c, kong.Name("hcnet"), kong.Description("hcnet on one machine."), kong.UsageOnError())
	if err := k.Run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "hcnet:", err)
		os.Exit(1)
	}
}
