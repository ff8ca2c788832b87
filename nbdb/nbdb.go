package nbdb

import (
	"context"

	"hcnet/internal/ovsdb/service"
	"hcnet/schema"
)

// Default addresses.
const (
	DefaultListen      = "ptcp:6641"
	DefaultRaftAddress = "127.0.0.1:6643"
	// ShardID is the database's Raft shard.
	ShardID = 1
)

// Config configures the service; see service.Config for each field.
type Config = service.Config

// Server is a running OVN_Northbound service.
type Server = service.Service

// SetDefaults fills cfg's unset fields with this service's defaults.
func SetDefaults(cfg *Config) {
	cfg.SetDefaults(service.Defaults{Listen: DefaultListen, RaftAddress: DefaultRaftAddress})
}

// Start fills defaults, validates cfg and starts the service.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	SetDefaults(&cfg)
	return service.Start(ctx, cfg, schema.Northbound, ShardID)
}
