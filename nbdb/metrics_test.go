package nbdb_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/nbdb"
)

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := nbdb.Start(ctx, nbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + filepath.Join(dir, "nb.sock")},
		RaftAddress: freeAddr(t), MetricsAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := client.Dial(ctx, "unix:"+filepath.Join(dir, "nb.sock"), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Monitor(ctx, "OVN_Northbound", map[string]client.MonitorRequest{"Logical_Switch": {}}, func(client.TableUpdates) {}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := cl.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": "s" + string(rune('a'+i))}}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get("http://" + srv.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		"hcnet_ovsdb_transactions_total 3",
		"hcnet_ovsdb_transaction_seconds_count 3",
		"hcnet_ovsdb_raft_leader 1",
		"hcnet_ovsdb_raft_leader_id 1",
		"hcnet_ovsdb_connections 1",
		"hcnet_ovsdb_monitors 1",
		"hcnet_ovsdb_raft_term ",
		"hcnet_ovsdb_raft_applied_index ",
		"hcnet_ovsdb_raft_log_last_index ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}
