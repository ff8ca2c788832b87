package ctl

import (
	"context"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// DB is what the commands need from an OVSDB connection.
type DB interface {
	Transact(ctx context.Context, db string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error)
	GetSchema(ctx context.Context, db string) (*ovsdb.DatabaseSchema, error)
	Close() error
}
