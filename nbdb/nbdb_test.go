package nbdb_test

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
	"hcnet/nbdb"
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

func startNB(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hcnb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "nb.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := nbdb.Start(ctx, nbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + sock},
		RaftAddress: freeAddr(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return "unix:" + sock
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalise names UUIDs in order of appearance.
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

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s (exit: %v)", out, err)
	}
	return string(out)
}

// nbctlScript is run against both servers; each command's output must match.
var nbctlScript = [][]string{
	{"ls-add", "sw0"},
	{"lsp-add", "sw0", "p1"},
	{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.11"},
	{"lsp-set-port-security", "p1", "00:00:00:00:00:01 10.0.0.11"},
	{"lr-add", "r0"},
	{"lrp-add", "r0", "r0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24"},
	{"lr-route-add", "r0", "0.0.0.0/0", "10.0.0.254"},
	{"acl-add", "sw0", "to-lport", "1000", "ip4.src==10.0.0.0/24", "allow-related"},
	{"lb-add", "lb0", "10.0.0.100:80", "10.0.0.11:8080", "tcp"},
	{"ls-lb-add", "sw0", "lb0"},
	{"dhcp-options-create", "10.0.0.0/24"},
	{"show"},
	{"list", "Logical_Switch"},
	{"--columns=name,addresses,port_security", "find", "Logical_Switch_Port", "name=p1"},
	{"get", "Logical_Switch", "sw0", "name"},
	{"set", "Logical_Switch", "sw0", "other_config:subnet=10.0.0.0/24"},
	{"get", "Logical_Switch", "sw0", "other_config"},
	{"lr-route-list", "r0"},
	{"acl-list", "sw0"},
	{"lb-list"},
	{"dhcp-options-list"},
	{"--all", "destroy", "DHCP_Options"},
	{"list", "DHCP_Options"},
	{"lsp-del", "p1"},
	{"show"},
}

func TestNBCtlMatchesOVSDBServer(t *testing.T) {
	ovstest.Need(t, "ovn-nbctl", "ovsdb-server", "ovsdb-tool")
	ours := startNB(t)
	ref := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"))
	for _, cmd := range nbctlScript {
		args := func(db string) []string { return append([]string{"--timeout=15", "--db=" + db}, cmd...) }
		want := normalise(run(t, "ovn-nbctl", args(ref.Remote())...))
		got := normalise(run(t, "ovn-nbctl", args(ours)...))
		if got != want {
			t.Errorf("ovn-nbctl %s:\n--- ovsdb-server:\n%s\n--- nbdb:\n%s", strings.Join(cmd, " "), want, got)
		}
	}
}

func TestOVSDBClientMatchesOVSDBServer(t *testing.T) {
	ovstest.Need(t, "ovsdb-client", "ovsdb-server", "ovsdb-tool")
	ours := startNB(t)
	ref := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"))
	txn := `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw1","other_config":["map",[["k","v"]]]}},{"op":"select","table":"Logical_Switch","where":[],"columns":["name","other_config"]}]`
	steps := [][]string{
		{"list-dbs", "DB"},
		{"list-tables", "DB", "OVN_Northbound"},
		{"list-columns", "DB", "OVN_Northbound", "Logical_Switch"},
		{"transact", "DB", txn},
		{"dump", "DB", "OVN_Northbound", "Logical_Switch", "name", "other_config"},
		{"--format=json", "dump", "DB", "OVN_Northbound", "Logical_Switch", "name"},
		{"get-schema-version", "DB", "OVN_Northbound"},
	}
	for _, s := range steps {
		for i, a := range s {
			_ = i
			_ = a
		}
		args := func(db string) []string {
			out := append([]string{"--timeout=15"}, s...)
			for i := range out {
				if out[i] == "DB" {
					out[i] = db
				}
			}
			return out
		}
		want := normalise(run(t, "ovsdb-client", args(ref.Remote())...))
		got := normalise(run(t, "ovsdb-client", args(ours)...))
		if s[0] == "list-dbs" {
			want, got = sortLines(want), sortLines(got)
		}
		if got != want {
			t.Errorf("ovsdb-client %s:\n--- ovsdb-server:\n%s\n--- nbdb:\n%s", strings.Join(s, " "), want, got)
		}
	}
	// get-schema: the same schema.
	if a, b := run(t, "ovsdb-client", "get-schema", ours, "OVN_Northbound"), run(t, "ovsdb-client", "get-schema", ref.Remote(), "OVN_Northbound"); a != b {
		t.Errorf("get-schema differs")
	}
	// monitor: initial contents and a change.
	for _, db := range []string{ref.Remote(), ours} {
		got := monitorOnce(t, db)
		if !strings.Contains(got, "initial") || !strings.Contains(got, "insert") || !strings.Contains(got, "sw-mon") {
			t.Errorf("ovsdb-client monitor against %s printed:\n%s", db, got)
		}
	}
}

func sortLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	sortStrings(l)
	return strings.Join(l, "\n")
}

// monitorOnce runs ovsdb-client monitor, inserts a row, and returns the
// output once the insert shows up.
func monitorOnce(t *testing.T, db string) string {
	t.Helper()
	cmd := exec.Command("ovsdb-client", "monitor", db, "OVN_Northbound", "Logical_Switch", "name")
	var out syncBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitFor(t, func() bool { return strings.Contains(out.String(), "initial") }, &out)
	run(t, "ovsdb-client", "transact", db, `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw-mon"}}]`)
	waitFor(t, func() bool { return strings.Contains(out.String(), "sw-mon") }, &out)
	return out.String()
}

func waitFor(t *testing.T, cond func() bool, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; output so far:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
