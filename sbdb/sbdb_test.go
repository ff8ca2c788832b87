package sbdb_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
	"hcnet/sbdb"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func normalise(s string) string {
	names := map[string]string{}
	return uuidRE.ReplaceAllStringFunc(s, func(u string) string {
		if n, ok := names[u]; ok {
			return n
		}
		names[u] = fmt.Sprintf("<uuid%d>", len(names))
		return names[u]
	})
}

func run(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s (exit: %v)", out, err)
	}
	return string(out)
}

func TestSBCtlMatchesOVSDBServer(t *testing.T) {
	ovstest.Need(t, "ovn-sbctl", "ovsdb-server", "ovsdb-tool")
	dir, err := os.MkdirTemp("", "hcsb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sb.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := sbdb.Start(ctx, sbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + sock},
		RaftAddress: freeAddr(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ours := "unix:" + sock
	ref := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema"))
	script := [][]string{
		{"init"},
		{"chassis-add", "hv1", "geneve", "192.0.2.1"},
		{"set", "Chassis", "hv1", "hostname=host1", "external_ids:k=v"},
		{"show"},
		{"list", "Chassis"},
		{"--columns=type,ip,chassis_name", "list", "Encap"},
		{"get", "Chassis", "hv1", "hostname"},
		{"chassis-del", "hv1"},
		{"show"},
		{"list", "Encap"},
	}
	for _, cmd := range script {
		args := func(db string) []string { return append([]string{"--timeout=15", "--db=" + db}, cmd...) }
		want := normalise(run("ovn-sbctl", args(ref.Remote())...))
		got := normalise(run("ovn-sbctl", args(ours)...))
		if got != want {
			t.Errorf("ovn-sbctl %s:\n--- ovsdb-server:\n%s\n--- sbdb:\n%s", strings.Join(cmd, " "), want, got)
		}
	}
}
