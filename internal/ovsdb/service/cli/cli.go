package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"hcnet/internal/ovsdb/service"
)

// Program describes one database daemon.
type Program struct {
	Name        string // "nbdb"
	Description string
	Start       func(context.Context, service.Config) (*service.Service, error)
}

type serveCmd struct {
	DataDir         string        `name:"data-dir" required:"" help:"Directory for the Raft log and the database store."`
	Listen          []string      `name:"listen" help:"OVSDB listen address, ptcp:PORT[:IP] or punix:PATH (repeatable)."`
	RaftAddress     string        `name:"raft-address" help:"This replica's Raft address host:port (keep it across restarts)."`
	ReplicaID       uint64        `name:"replica-id" default:"1" help:"This replica's id in the Raft shard."`
	InitialMembers  string        `name:"initial-members" help:"Bootstrap a cluster: ID=HOST:PORT,... (every initial member, this one included)."`
	Join            bool          `name:"join" help:"Join a running cluster that added this replica (cluster add)."`
	NonVoting       bool          `name:"non-voting" help:"Run as a non-voting replica (added with cluster add --non-voting)."`
	ElectionTimeout time.Duration `name:"election-timeout" default:"200ms" help:"Raft election timeout."`
	RTT             time.Duration `name:"rtt" default:"20ms" help:"Expected round trip between replicas (heartbeat interval)."`
	SnapshotEntries uint64        `name:"snapshot-entries" default:"10000" help:"Snapshot and compact the log every this many entries."`
	SnapshotBytes   int64         `name:"snapshot-bytes" default:"67108864" help:"Also snapshot once the entries since the last snapshot exceed this many bytes."`
	ControlSocket   string        `name:"control-socket" help:"Unix socket for cluster commands (default DATA-DIR/ctl.sock; - disables)."`
	MetricsAddr     string        `name:"metrics-addr" help:"Serve Prometheus metrics at http://ADDR/metrics (host:port)."`
	InactivityProbe time.Duration `name:"inactivity-probe" default:"5s" help:"Echo idle clients after this long; negative disables."`
	CPUProfile      string        `name:"cpu-profile" hidden:"" help:"Write a CPU profile here until exit."`
	LogFormat       string        `name:"log-format" default:"text" enum:"text,json" help:"Log format: text or json."`
	LogLevel        string        `name:"log-level" default:"info" enum:"debug,info,warn,error" help:"Log level."`
}

type ctlFlags struct {
	DataDir       string        `name:"data-dir" help:"The replica's data directory (its control socket is DATA-DIR/ctl.sock)."`
	ControlSocket string        `name:"control-socket" help:"The replica's control socket."`
	Timeout       time.Duration `name:"timeout" default:"30s" help:"Give up after this long."`
}

func (f ctlFlags) call(cmd string, id uint64, addr string) (service.ControlReply, error) {
	path := f.ControlSocket
	if path == "" {
		if f.DataDir == "" {
			return service.ControlReply{}, fmt.Errorf("give --data-dir or --control-socket")
		}
		path = filepath.Join(f.DataDir, "ctl.sock")
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.Timeout)
	defer cancel()
	return service.ControlCall(ctx, path, service.ControlRequest{Cmd: cmd, ID: id, Address: addr})
}

type statusCmd struct {
	ctlFlags
	Format string `name:"format" default:"text" enum:"text,json" help:"Output format: text or json."`
}

type addCmd struct {
	ctlFlags
	NonVoting bool   `name:"non-voting" help:"Add a non-voting replica (serves reads and monitors)."`
	ID        uint64 `arg:"" help:"The new replica's id (never used before in this cluster)."`
	Address   string `arg:"" help:"The new replica's Raft address host:port."`
}

type idCmd struct {
	ctlFlags
	ID uint64 `arg:"" help:"Replica id."`
}

type cli struct {
	Serve   serveCmd `cmd:"" default:"withargs" help:"Serve the database (the default command)."`
	Cluster struct {
		Status   statusCmd `cmd:"" help:"Term, leader, members, applied index, log and snapshot size."`
		Add      addCmd    `cmd:"" help:"Add a replica (then start it with --join)."`
		Remove   idCmd     `cmd:"" help:"Remove a replica."`
		Transfer idCmd     `cmd:"" help:"Transfer leadership to a replica."`
		Snapshot ctlFlags  `cmd:"" help:"Snapshot the database and compact the log now."`
	} `cmd:"" help:"Manage a running cluster through one replica's control socket."`
}

// defaultGCPercent trades memory for fewer collections: the database's rows
// are long-lived, so a collection every 100% of growth mostly rescans them.
const defaultGCPercent = 400

// Main runs the program with os.Args and returns the exit code.
func Main(p Program) int {
	var c cli
	kctx := kong.Parse(&c, kong.Name(p.Name), kong.Description(p.Description))
	var err error
	switch kctx.Command() {
	case "serve":
		err = serve(p, &c.Serve)
	case "cluster status":
		err = status(os.Stdout, &c.Cluster.Status)
	case "cluster add <id> <address>":
		cmd := "add"
		if c.Cluster.Add.NonVoting {
			cmd = "add-non-voting"
		}
		_, err = c.Cluster.Add.call(cmd, c.Cluster.Add.ID, c.Cluster.Add.Address)
	case "cluster remove <id>":
		_, err = c.Cluster.Remove.call("remove", c.Cluster.Remove.ID, "")
	case "cluster transfer <id>":
		_, err = c.Cluster.Transfer.call("transfer", c.Cluster.Transfer.ID, "")
	case "cluster snapshot":
		var rep service.ControlReply
		if rep, err = c.Cluster.Snapshot.call("snapshot", 0, ""); err == nil {
			fmt.Printf("snapshot at index %d\n", rep.Index)
		}
	default:
		err = fmt.Errorf("unknown command %q", kctx.Command())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		return 1
	}
	return 0
}

// ParseMembers parses ID=HOST:PORT,...
func ParseMembers(s string) (map[uint64]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[uint64]string{}
	for _, part := range strings.Split(s, ",") {
		ids, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		id, err := strconv.ParseUint(ids, 10, 64)
		if !ok || err != nil || id == 0 || addr == "" {
			return nil, fmt.Errorf("member %q: want ID=HOST:PORT with a positive ID", part)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("member id %d given twice in %q", id, s)
		}
		out[id] = addr
	}
	return out, nil
}

func serve(p Program, c *serveCmd) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	log := slog.New(h)
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	members, err := ParseMembers(c.InitialMembers)
	if err != nil {
		return fmt.Errorf("--initial-members: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := p.Start(ctx, service.Config{
		DataDir: c.DataDir, Listen: c.Listen, RaftAddress: c.RaftAddress, ReplicaID: c.ReplicaID,
		InactivityProbe: c.InactivityProbe, Logger: log, SnapshotEntries: c.SnapshotEntries,
		SnapshotBytes:  c.SnapshotBytes,
		InitialMembers: members, Join: c.Join, NonVoting: c.NonVoting,
		RTT: c.RTT, ElectionTimeout: c.ElectionTimeout, ControlSocket: c.ControlSocket,
		MetricsAddr: c.MetricsAddr,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	srv.Close()
	return nil
}

func status(w io.Writer, c *statusCmd) error {
	rep, err := c.call("status", 0, "")
	if err != nil && rep.Status == nil {
		return err
	}
	st := rep.Status
	if c.Format == "json" {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintln(w, string(b))
		return err
	}
	role := "follower"
	switch {
	case st.Leader:
		role = "leader"
	case st.NonVoting:
		role = "non-voting"
	}
	fmt.Fprintf(w, "Name: %s\nShard: %d\nReplica: %d (%s)\nTerm: %d\n", st.Name, st.ShardID, st.ReplicaID, role, st.Term)
	if st.LeaderID != 0 {
		fmt.Fprintf(w, "Leader: %d\n", st.LeaderID)
	} else {
		fmt.Fprintf(w, "Leader: unknown\n")
	}
	fmt.Fprintf(w, "Log last index: %d\nCommit index: %d\nApplied index: %d\nLog: %d bytes\nSnapshots: %d bytes\nMembers:\n",
		st.LastIndex, st.Commit, st.Applied, st.LogBytes, st.SnapshotBytes)
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].ID < st.Members[j].ID })
	for _, m := range st.Members {
		kind := "voter"
		if m.NonVoting {
			kind = "non-voting"
		}
		if m.Leader {
			kind += ", leader"
		}
		if m.ID == st.ReplicaID {
			kind += ", self"
		}
		fmt.Fprintf(w, "    %d at %s (%s)\n", m.ID, m.Address, kind)
	}
	return err
}
