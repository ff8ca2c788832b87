// Command nbdb serves the OVN_Northbound database (OVSDB JSON-RPC, Raft
// replicated, stored in --data-dir).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"hcnet/nbdb"
)

type cli struct {
	DataDir         string        `name:"data-dir" required:"" help:"Directory for the Raft log and the database store."`
	Listen          []string      `name:"listen" help:"OVSDB listen address, ptcp:PORT[:IP] or punix:PATH (repeatable; default nbdb's ptcp:6641)."`
	RaftAddress     string        `name:"raft-address" help:"This replica's Raft address host:port (keep it across restarts; default 127.0.0.1:6643)."`
	ReplicaID       uint64        `name:"replica-id" default:"1" help:"This replica's id in the Raft shard."`
	InactivityProbe time.Duration `name:"inactivity-probe" default:"5s" help:"Echo idle clients after this long; negative disables."`
	LogFormat       string        `name:"log-format" default:"text" enum:"text,json" help:"Log format: text or json."`
	LogLevel        string        `name:"log-level" default:"info" enum:"debug,info,warn,error" help:"Log level."`
}

// defaultGCPercent trades memory for fewer collections: the database's rows
// are long-lived, so a collection every 100% of growth mostly rescans them.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	var c cli
	kong.Parse(&c, kong.Name("nbdb"), kong.Description("Serve the OVN_Northbound OVSDB database."))
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	log := slog.New(h)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := nbdb.Start(ctx, nbdb.Config{
		DataDir: c.DataDir, Listen: c.Listen, RaftAddress: c.RaftAddress, ReplicaID: c.ReplicaID,
		InactivityProbe: c.InactivityProbe, Logger: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "nbdb:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	log.Info("shutting down")
	srv.Close()
}
