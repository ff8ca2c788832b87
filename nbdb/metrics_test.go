package nbdb_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
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
		"hcnet_ovsdb_raft_commit_index ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// The three indexes are distinct and ordered: applied <= commit <= last.
	// The commit index is the persisted one, which may trail by a step: poll.
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, commit, applied := gauge(t, srv.MetricsAddr(), "hcnet_ovsdb_raft_log_last_index"),
			gauge(t, srv.MetricsAddr(), "hcnet_ovsdb_raft_commit_index"), gauge(t, srv.MetricsAddr(), "hcnet_ovsdb_raft_applied_index")
		if applied >= 3 && applied <= commit && commit <= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexes out of order: last %v, commit %v, applied %v", last, commit, applied)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gauge scrapes one unlabelled metric's value.
func gauge(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s in:\n%s", name, body)
	return 0
}
