package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"hcnet/internal/ctl"
	"hcnet/internal/ctl/ctltest"
)

// nbctlRunner runs nbctl command lines in process against one server.
type nbctlRunner struct {
	remote  string
	newUUID func() ctl.UUID
}

// run executes one command line and returns stdout, then stderr and the
// exit status if it failed.
func (r *nbctlRunner) run(t testing.TB, line string) string {
	t.Helper()
	args, err := ctltest.Fields(line)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--db=" + r.remote, "--timeout=60"}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := run(ctx, args, env{getenv: func(string) string { return "" }, newUUID: r.newUUID}, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	if code != 0 {
		out += fmt.Sprintf("[exit %d]\n", code)
	}
	return out
}

// TestGolden runs the scripts in testdata against a fresh OVN_Northbound
// database per file, served by ovsdb-server and by our nbdb.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, kind := range ctltest.Kinds {
		t.Run(kind, func(t *testing.T) {
			for _, f := range files {
				t.Run(filepath.Base(f), func(t *testing.T) {
					r := &nbctlRunner{remote: ctltest.Start(t, kind, "nb"), newUUID: ctltest.UUIDs()}
					datadriven.RunTest(t, f, func(t *testing.T, d *datadriven.TestData) string {
						switch d.Cmd {
						case "nbctl":
							var out strings.Builder
							for _, line := range strings.Split(d.Input, "\n") {
								if strings.TrimSpace(line) == "" {
									continue
								}
								out.WriteString("$ nbctl " + line + "\n")
								out.WriteString(r.run(t, line))
							}
							return out.String()
						}
						t.Fatalf("%s: unknown directive %q", d.Pos, d.Cmd)
						return ""
					})
				})
			}
		})
	}
}

// TestDBFromEnvironment checks where nbctl connects without --db: to
// $OVN_NB_DB when set.
func TestDBFromEnvironment(t *testing.T) {
	remote := ctltest.Start(t, ctltest.OVSDBServer, "nb")
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "OVN_NB_DB" {
			return remote
		}
		return ""
	}
	if code := run(context.Background(), []string{"--timeout=30", "ls-add", "env0"}, env{getenv: getenv}, &stdout, &stderr); code != 0 {
		t.Fatalf("ls-add with OVN_NB_DB=%s: exit %d: %s", remote, code, stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"--db=" + remote, "ls-list"}, env{getenv: func(string) string { return "" }}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "(env0)") {
		t.Fatalf("ls-list: exit %d, %q, %s", code, stdout.String(), stderr.String())
	}
	// An unreachable database gives up at --timeout with a clear message.
	stderr.Reset()
	code := run(context.Background(), []string{"--timeout=1", "--db=unix:" + t.TempDir() + "/none.sock", "ls-list"}, env{getenv: getenv}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "none.sock") {
		t.Fatalf("unreachable db: exit %d, %q", code, stderr.String())
	}
}

// TestConcurrentAdds runs many lsp-add commands on one switch at once:
// each changes the switch's ports by mutation, so none is lost.
func TestConcurrentAdds(t *testing.T) {
	for _, kind := range ctltest.Kinds {
		t.Run(kind, func(t *testing.T) {
			remote := ctltest.Start(t, kind, "nb")
			r := &nbctlRunner{remote: remote}
			if out := r.run(t, "ls-add sw0 -- set logical_switch sw0 external_ids:a=1"); out != "" {
				t.Fatal(out)
			}
			const n = 12
			errs := make(chan string, n)
			for i := 0; i < n; i++ {
				go func() {
					errs <- r.run(t, fmt.Sprintf("lsp-add sw0 p%d -- set logical_switch sw0 external_ids:k%d=v", i, i))
				}()
			}
			for i := 0; i < n; i++ {
				if out := <-errs; out != "" {
					t.Errorf("concurrent lsp-add: %s", out)
				}
			}
			out := r.run(t, "--bare --columns=name find logical_switch_port")
			if got := len(strings.Fields(out)); got != n {
				t.Fatalf("switch has %d ports after %d concurrent lsp-add, want %d:\n%s", got, n, n, out)
			}
			ports := r.run(t, "get logical_switch sw0 ports")
			if got := len(strings.Split(strings.Trim(strings.TrimSpace(ports), "[]"), ", ")); got != n {
				t.Fatalf("sw0.ports has %d entries, want %d: %s", got, n, ports)
			}
			ids := r.run(t, "get logical_switch sw0 external_ids")
			if got := strings.Count(ids, "=v"); got != n || !strings.Contains(ids, `a="1"`) {
				t.Fatalf("external_ids lost concurrent keys: %s", ids)
			}
		})
	}
}
