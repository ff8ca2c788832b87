// Command sbctl inspects and manages the OVN_Southbound database for
// operators: chassis with their liveness, bindings and logical flows, with
// the commands and value syntax of ovn-sbctl(8). Several commands separated
// by "--" run as one atomic transaction.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"hcnet/internal/client"
	"hcnet/internal/ctl"
	"hcnet/internal/ctl/ctlcli"
	"hcnet/internal/ctl/sbcmd"
)

// cli holds the global options; commands follow them on the command line.
type cli struct {
	DB             string `name:"db" help:"Database remotes, comma-separated unix:PATH or tcp:IP:PORT. Default: $OVN_SB_DB, else unix:/var/run/ovn/ovnsb_db.sock,tcp:127.0.0.1:6642."`
	Timeout        int    `name:"timeout" short:"t" help:"Give up after this many seconds (0: never)." default:"0"`
	ctlcli.Listing `embed:""`
	LeaderOnly     bool          `name:"leader-only" negatable:"" default:"true" help:"Only talk to the leader of a clustered database (--no-leader-only: any member)."`
	DryRun         bool          `name:"dry-run" help:"Run the commands but do not commit their changes."`
	Poll           time.Duration `name:"poll" hidden:"" default:"50ms"`
	Commands       []string      `arg:"" optional:"" passthrough:"" help:"COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]..."`
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], env{getenv: os.Getenv}, os.Stdout, os.Stderr))
}

// env is what run takes from its surroundings.
type env struct {
	getenv func(string) string
	// newUUID, when set, chooses the UUIDs of inserted rows (tests).
	newUUID func() ctl.UUID
	// now, when set, is the clock chassis-list measures against (tests).
	now func() time.Time
}

func run(ctx context.Context, args []string, e env, stdout, stderr io.Writer) int {
	getenv := e.getenv
	const prog = "sbctl"
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	reg := sbcmd.Registry(e.now)
	var c cli
	exit := -1
	parser, err := kong.New(&c, kong.Name(prog),
		kong.Description("Inspect and manage the OVN_Southbound database. Commands: "+strings.Join(reg.Names(), ", ")),
		kong.Writers(stdout, stderr), kong.Exit(func(code int) { exit = code }))
	if err != nil {
		return fail(err)
	}
	global, rest := ctl.SplitGlobal(args, ctlcli.GlobalFlags(parser))
	if _, err := parser.Parse(global); err != nil {
		return fail(err)
	}
	if exit >= 0 {
		return exit
	}
	invs, err := reg.Parse(ctl.SplitGroups(rest))
	if err != nil {
		return fail(err)
	}
	remotes := c.DB
	if remotes == "" {
		remotes = getenv("OVN_SB_DB")
	}
	if remotes == "" {
		remotes = "unix:/var/run/ovn/ovnsb_db.sock,tcp:127.0.0.1:6642"
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(c.Timeout)*time.Second)
		defer cancel()
	}
	db, err := client.Dial(ctx, remotes, client.Options{Database: reg.DBName, LeaderOnly: c.LeaderOnly, Probe: -1})
	if err != nil {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("timeout expired connecting to %s", remotes))
		}
		return fail(err)
	}
	defer db.Close()
	ro := ctl.RunOptions{
		Output:      c.Listing.Output(global),
		Poll:        c.Poll,
		NewUUID:     e.newUUID,
		ClientUUIDs: e.newUUID != nil,
	}
	if err := reg.Run(ctx, db, invs, ro, stdout); err != nil {
		if errors.Is(err, ctl.ErrTimeout) || ctx.Err() != nil {
			return fail(fmt.Errorf("timeout expired after %d seconds", c.Timeout))
		}
		return fail(err)
	}
	return 0
}
