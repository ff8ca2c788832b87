package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"hcnet/internal/metrics"
	"hcnet/internal/ovsdb"
	"hcnet/internal/ovsdb/replica"
	"hcnet/internal/ovsdb/server"
	"hcnet/internal/ovsdb/storage"
)

// Config configures one database service.
type Config struct {
	// DataDir holds the Raft log and the database store. Required.
	DataDir string
	// Listen holds OVSDB listen addresses, "ptcp:PORT[:IP]" or "punix:PATH".
	// Default: the service's default port on all addresses.
	Listen []string
	// RaftAddress is this replica's Raft address (host:port). It must stay the
	// same across restarts of a data directory. Default: the service's.
	RaftAddress string
	// ReplicaID is this replica's id in the database's Raft shard. Default 1.
	ReplicaID uint64
	// InactivityProbe for OVSDB clients. Default 5s; negative disables.
	InactivityProbe time.Duration
	// SnapshotEntries: snapshot and compact the Raft log every this many
	// entries. Default 10000.
	SnapshotEntries uint64
	// SnapshotBytes: also snapshot once the entries since the last snapshot
	// exceed this many bytes. Default 64 MiB; negative disables.
	SnapshotBytes int64
	// Logger receives the service's logs. Default slog.Default().
	Logger *slog.Logger

	// InitialMembers bootstraps a cluster: replica id → Raft address, this
	// replica included, the same on every initial member. Default: this
	// replica alone. Ignored once the data directory holds the database.
	InitialMembers map[uint64]string
	// Join starts a replica that a running cluster added with "cluster add"
	// (InitialMembers is then ignored).
	Join bool
	// NonVoting starts the replica as a non-voting member ("cluster add
	// --non-voting"): it serves reads and monitors, forwards writes.
	NonVoting bool
	// RTT is the expected network round trip; ElectionTimeout is rounded to
	// a multiple of it. Defaults 20ms and 200ms (a LAN).
	RTT             time.Duration
	ElectionTimeout time.Duration
	// MetricsAddr, when set, serves Prometheus metrics at
	// http://MetricsAddr/metrics (host:port; port 0 picks one).
	MetricsAddr string
	// ControlSocket is the unix socket "nbdb cluster …" commands use.
	// Default DataDir/ctl.sock; "-" disables it.
	ControlSocket string
}

// Defaults are a service's built-in addresses.
type Defaults struct {
	Listen      string // e.g. "ptcp:6641"
	RaftAddress string // e.g. "127.0.0.1:6643"
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults(d Defaults) {
	if len(c.Listen) == 0 {
		c.Listen = []string{d.Listen}
	}
	if c.RaftAddress == "" {
		c.RaftAddress = d.RaftAddress
	}
	if c.ReplicaID == 0 {
		c.ReplicaID = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RTT <= 0 {
		c.RTT = 20 * time.Millisecond
	}
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = 10 * c.RTT
	}
	if c.ControlSocket == "" && c.DataDir != "" {
		c.ControlSocket = filepath.Join(c.DataDir, "ctl.sock")
	}
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: DataDir is required")
	}
	if len(c.Listen) == 0 {
		return errors.New("config: Listen is empty")
	}
	for _, l := range c.Listen {
		if _, _, err := server.ParseListen(l); err != nil {
			return fmt.Errorf("config: Listen: %w", err)
		}
	}
	if c.RaftAddress == "" {
		return errors.New("config: RaftAddress is required")
	}
	if c.ReplicaID == 0 {
		return errors.New("config: ReplicaID must be positive")
	}
	if len(c.InitialMembers) > 0 {
		if addr, ok := c.InitialMembers[c.ReplicaID]; !ok {
			return fmt.Errorf("config: InitialMembers %v lacks this replica (%d)", c.InitialMembers, c.ReplicaID)
		} else if addr != c.RaftAddress {
			return fmt.Errorf("config: InitialMembers gives replica %d the address %s, RaftAddress is %s", c.ReplicaID, addr, c.RaftAddress)
		}
	}
	if c.ElectionTimeout < 5*c.RTT {
		return fmt.Errorf("config: ElectionTimeout %v is below 5 RTTs (%v)", c.ElectionTimeout, 5*c.RTT)
	}
	return nil
}

// handOffTimeout bounds the leadership transfer when a leader stops.
const handOffTimeout = time.Second

// Service is one running database service.
type Service struct {
	node *storage.Node
	db   *replica.DB
	srv  *server.Server
	log  *slog.Logger
	ctl  *control

	metricsLn   net.Listener // nil unless MetricsAddr is set
	stopMetrics context.CancelFunc
	metricsDone chan struct{}
}

// Start opens (or creates) the database in cfg.DataDir, recovers it, and
// serves it on cfg.Listen.
func Start(ctx context.Context, cfg Config, schemaJSON []byte, shardID uint64) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	schema, err := ovsdb.ParseSchema(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("service: schema: %w", err)
	}
	log := cfg.Logger
	node, err := storage.OpenNode(storage.NodeConfig{Dir: cfg.DataDir, RaftAddress: cfg.RaftAddress, RTT: cfg.RTT, Logger: log})
	if err != nil {
		return nil, err
	}
	db := replica.New(schema, shardID, log)
	var reg *metrics.Registry
	if cfg.MetricsAddr != "" {
		reg = metrics.NewRegistry()
		db.SetMetrics(&replica.Metrics{
			Transactions: reg.Counter("hcnet_ovsdb_transactions_total", "Transactions answered."),
			Failed:       reg.Counter("hcnet_ovsdb_transactions_failed_total", "Transactions that failed before execution (no quorum, timeout, shutdown)."),
			Latency: reg.Histogram("hcnet_ovsdb_transaction_seconds", "Time from receiving a transaction to its local apply.",
				[]float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}),
		})
	}
	shard, err := node.StartShard(ctx, storage.ShardConfig{
		ShardID: shardID, ReplicaID: cfg.ReplicaID, Name: schema.Name,
		SnapshotEntries: cfg.SnapshotEntries, SnapshotBytes: cfg.SnapshotBytes, Applier: db,
		Members: cfg.InitialMembers, Join: cfg.Join, NonVoting: cfg.NonVoting,
		ElectionRTT: uint64(cfg.ElectionTimeout / cfg.RTT),
	})
	if err != nil {
		node.Close()
		return nil, err
	}
	db.Attach(shard)
	log = log.With("db", schema.Name)
	srv, err := server.New(server.Config{Listen: cfg.Listen, Logger: log, InactivityProbe: cfg.InactivityProbe}, db)
	if err != nil {
		node.Close()
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		node.Close()
		return nil, err
	}
	svc := &Service{node: node, db: db, srv: srv, log: log}
	if reg != nil {
		if err := svc.startMetrics(cfg.MetricsAddr, reg); err != nil {
			svc.Close()
			return nil, err
		}
	}
	if cfg.ControlSocket != "-" {
		if err := svc.startControl(cfg.ControlSocket); err != nil {
			svc.Close()
			return nil, err
		}
	}
	log.Info("serving", "listen", srv.Addrs(), "raft", cfg.RaftAddress, "replica", cfg.ReplicaID, "index", db.Index())
	return svc, nil
}

// Addrs returns the addresses clients dial ("tcp:IP:PORT", "unix:PATH").
func (s *Service) Addrs() []string { return s.srv.Addrs() }

// DB returns the served database.
func (s *Service) DB() *replica.DB { return s.db }

// Close disconnects clients and stops the database.
func (s *Service) Close() {
	// A leader that stops on purpose hands leadership over first: the
	// cluster then needs no election timeout to go on.
	ctx, cancel := context.WithTimeout(context.Background(), handOffTimeout)
	if err := s.db.Shard().HandOff(ctx); err != nil {
		s.log.Info("leadership not handed off", "err", err)
	}
	cancel()
	if s.ctl != nil {
		s.ctl.close()
	}
	if s.stopMetrics != nil {
		s.stopMetrics()
		<-s.metricsDone
	}
	s.srv.Close()
	s.db.Close()
	s.node.Close()
}

// startMetrics registers the Raft and server gauges and serves reg.
func (s *Service) startMetrics(addr string, reg *metrics.Registry) error {
	sh := s.db.Shard()
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	reg.GaugeFunc("hcnet_ovsdb_raft_term", "Current Raft term as this replica knows it.", func() float64 {
		_, term, _ := sh.LeaderInfo()
		return float64(term)
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_leader", "1 when this replica is the leader.", func() float64 {
		id, _, ok := sh.LeaderInfo()
		return b2f(ok && id == sh.ReplicaID())
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_leader_known", "1 when this replica knows a leader (connected to its cluster).", func() float64 {
		_, _, ok := sh.LeaderInfo()
		return b2f(ok)
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_leader_id", "Replica id of the leader, 0 while unknown.", func() float64 {
		id, _, ok := sh.LeaderInfo()
		if !ok {
			return 0
		}
		return float64(id)
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_log_last_index", "Index of the last entry in this replica's Raft log (appended, not necessarily committed).", func() float64 {
		return float64(sh.LastIndex())
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_commit_index", "Raft commit index as this replica knows it (entries up to it are committed; 0 while unknown).", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return float64(sh.CommitIndex(ctx))
	})
	reg.GaugeFunc("hcnet_ovsdb_raft_applied_index", "Index of the last Raft entry applied to the database here.", func() float64 {
		return float64(sh.Applied())
	})
	reg.GaugeFunc("hcnet_ovsdb_connections", "Open OVSDB client connections.", func() float64 {
		return float64(s.srv.Stats().Connections)
	})
	reg.GaugeFunc("hcnet_ovsdb_monitors", "Monitors registered by OVSDB clients.", func() float64 {
		return float64(s.srv.Stats().Monitors)
	})
	ln, err := metrics.Listen(addr)
	if err != nil {
		return fmt.Errorf("service: metrics address %s: %w", addr, err)
	}
	s.metricsLn = ln
	ctx, cancel := context.WithCancel(context.Background())
	s.stopMetrics = cancel
	s.metricsDone = make(chan struct{})
	go func() {
		defer close(s.metricsDone)
		if err := metrics.ServeListener(ctx, ln, reg, s.log); err != nil {
			s.log.Warn("metrics server", "err", err)
		}
	}()
	return nil
}

// MetricsAddr returns the address metrics are served on ("" without).
func (s *Service) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}
