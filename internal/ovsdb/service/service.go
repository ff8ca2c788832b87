package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

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

// Service is one running database service.
type Service struct {
	node *storage.Node
	db   *replica.DB
	srv  *server.Server
	log  *slog.Logger
	ctl  *control
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
	shard, err := node.StartShard(ctx, storage.ShardConfig{
		ShardID: shardID, ReplicaID: cfg.ReplicaID, Name: schema.Name,
		SnapshotEntries: cfg.SnapshotEntries, Applier: db,
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
	if s.ctl != nil {
		s.ctl.close()
	}
	s.srv.Close()
	s.db.Close()
	s.node.Close()
}
