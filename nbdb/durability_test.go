package nbdb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/nbdb"
)

// The durability test runs the server in a child process (this test binary,
// re-executed) so it can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv("HCNET_NBDB_CHILD_DIR"); dir != "" {
		runChild(dir)
		return
	}
	if cfg := os.Getenv("HCNET_NBDB_REPLICA"); cfg != "" {
		runReplica(cfg)
		return
	}
	os.Exit(m.Run())
}

func runChild(dir string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	raft, _ := os.ReadFile(filepath.Join(dir, "raft-address"))
	srv, err := nbdb.Start(ctx, nbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + filepath.Join(dir, "nb.sock")},
		RaftAddress: string(raft), Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	srv.Close()
	os.Exit(0)
}

type child struct {
	cmd  *exec.Cmd
	sock string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	sock := filepath.Join(dir, "nb.sock")
	os.Remove(sock)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HCNET_NBDB_CHILD_DIR="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, sock: sock}
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if nc, err := net.Dial("unix", sock); err == nil {
			nc.Close()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("child server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *child) kill() {
	if c.cmd.Process != nil && c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
	}
}

// call sends one request and waits for its response (no monitors here).
func call(c *jsonrpc.Conn, id int, method string, params ...any) (*jsonrpc.Message, error) {
	m, err := jsonrpc.NewRequest(id, method, params...)
	if err != nil {
		return nil, err
	}
	if err := c.Write(m); err != nil {
		return nil, err
	}
	for {
		r, err := c.Read()
		if err != nil {
			return nil, err
		}
		if r.IsResponse() {
			return r, nil
		}
	}
}

func TestDurabilityAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dir, err := os.MkdirTemp("", "hcdur")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.WriteFile(filepath.Join(dir, "raft-address"), []byte(freeAddr(t)), 0o600)
	c := startChild(t, dir)

	// Writers insert a switch and its port in one transaction and record
	// the names the server acknowledged.
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			nc, err := net.Dial("unix", c.sock)
			if err != nil {
				return
			}
			conn := jsonrpc.NewConn(nc, jsonrpc.ConnOptions{})
			defer conn.Close()
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				r, err := call(conn, i, "transact", "OVN_Northbound",
					map[string]any{"op": "insert", "table": "Logical_Switch_Port", "row": map[string]any{"name": name + "-p"}, "uuid-name": "p"},
					map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": name, "ports": []any{"named-uuid", "p"}}})
				if err != nil {
					return // the server was killed
				}
				if string(r.Error) != "null" && len(r.Error) > 0 {
					t.Errorf("transaction %s: %s", name, r.Error)
					return
				}
				mu.Lock()
				acked[name] = true
				mu.Unlock()
			}
		}(w)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d transactions acknowledged in 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.kill()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()

	c = startChild(t, dir)
	nc, err := net.Dial("unix", c.sock)
	if err != nil {
		t.Fatal(err)
	}
	conn := jsonrpc.NewConn(nc, jsonrpc.ConnOptions{})
	defer conn.Close()
	r, err := call(conn, 1, "transact", "OVN_Northbound",
		map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name", "ports"}},
		map[string]any{"op": "select", "table": "Logical_Switch_Port", "where": []any{}, "columns": []string{"_uuid", "name"}})
	if err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || len(res) != 2 {
		t.Fatalf("select: %s %s", r.Result, r.Error)
	}
	switches := map[string]bool{}
	for _, row := range res[0].Rows {
		name := row["name"].(string)
		switches[name] = true
		// Every switch has exactly its one port: no partial transaction.
		if p, ok := row["ports"].([]any); !ok || p[0] != "uuid" {
			t.Errorf("switch %s has ports %v", name, row["ports"])
		}
	}
	ports := map[string]bool{}
	for _, row := range res[1].Rows {
		ports[row["name"].(string)] = true
	}
	for name := range switches {
		if !ports[name+"-p"] {
			t.Errorf("switch %s without its port", name)
		}
	}
	if len(ports) != len(switches) {
		t.Errorf("%d ports for %d switches", len(ports), len(switches))
	}
	lost := 0
	for name := range acked {
		if !switches[name] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged transactions lost after SIGKILL", lost, len(acked))
	}
	t.Logf("%d acknowledged, %d present after restart", len(acked), len(switches))
}
