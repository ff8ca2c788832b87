package server_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hcnet/internal/ovsdb"
	"hcnet/internal/ovsdb/replica"
	"hcnet/internal/ovsdb/server"
	"hcnet/internal/ovsdb/storage"
	"hcnet/internal/ovstest"
	"hcnet/schema"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// shortDir returns a temporary directory with a short path (unix socket
// paths are limited to about 100 bytes).
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hcs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func testLogger() *slog.Logger {
	if os.Getenv("HCNET_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// ours is our server on its own storage node.
type ours struct {
	Socket string
	DBs    []*replica.DB
	Srv    *server.Server
	node   *storage.Node
	once   sync.Once
}

// stop closes the server, the databases and the node (once).
func (o *ours) stop() {
	o.once.Do(func() {
		if o.Srv != nil {
			o.Srv.Close()
		}
		for _, d := range o.DBs {
			d.Close()
		}
		o.node.Close()
	})
}

// startOurs serves the schemas (JSON) from a fresh data directory; it is
// stopped when the test ends.
func startOurs(t testing.TB, dir string, cfg server.Config, schemas ...[]byte) *ours {
	t.Helper()
	if dir == "" {
		dir = shortDir(t)
	}
	raft := filepath.Join(dir, "raft-address")
	addr := freeAddr(t)
	if b, err := os.ReadFile(raft); err == nil {
		addr = string(b)
	} else {
		os.WriteFile(raft, []byte(addr), 0o600)
	}
	node, err := storage.OpenNode(storage.NodeConfig{Dir: filepath.Join(dir, "data"), RaftAddress: addr,
		RTT: 5 * time.Millisecond, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	o := &ours{Socket: filepath.Join(dir, "db.sock"), node: node}
	t.Cleanup(o.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, sj := range schemas {
		s, err := ovsdb.ParseSchema(sj)
		if err != nil {
			t.Fatal(err)
		}
		d := replica.New(s, uint64(i+1), testLogger())
		shard, err := node.StartShard(ctx, storage.ShardConfig{ShardID: uint64(i + 1), Name: s.Name, Applier: d})
		if err != nil {
			t.Fatal(err)
		}
		d.Attach(shard)
		o.DBs = append(o.DBs, d)
	}
	cfg.Listen = []string{"punix:" + o.Socket}
	cfg.Logger = testLogger()
	srv, err := server.New(cfg, o.DBs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Srv = srv
	return o
}

// startRef starts a real ovsdb-server with the NB and SB schemas (skips the
// test when it is not installed).
func startRef(t testing.TB) *ovstest.OVSDBServer {
	t.Helper()
	return ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"), ovstest.SchemaPath(t, "ovn-sb.ovsschema"))
}

var bothSchemas = [][]byte{schema.Northbound, schema.Southbound}
