package ctl

import (
	"context"
	"encoding/json"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// DB is what the commands need from an OVSDB connection.
type DB interface {
	Transact(ctx context.Context, db string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error)
	// GetSchemaJSON returns the database's schema as get_schema sends it.
	GetSchemaJSON(ctx context.Context, db string) (json.RawMessage, error)
	Close() error
}
