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

// sbctlRunner runs nbctl command lines in process against one server.
type sbctlRunner struct {
	remote  string
	newUUID func() ctl.UUID
}

// run executes one command line and returns stdout, then stderr and the
// exit status if it failed.
func (r *sbctlRunner) run(t testing.TB, line string) string {
	t.Helper()
	args, err := ctltest.Fields(line)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--db=" + r.remote, "--timeout=60"}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := run(ctx, args, env{getenv: func(string) string { return "" }, newUUID: r.newUUID, now: func() time.Time { return testNow }}, &stdout, &stderr)
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
					r := &sbctlRunner{remote: ctltest.Start(t, kind, "sb"), newUUID: ctltest.UUIDs()}
					datadriven.RunTest(t, f, func(t *testing.T, d *datadriven.TestData) string {
						switch d.Cmd {
						case "sbctl":
							var out strings.Builder
							for _, line := range strings.Split(d.Input, "\n") {
								if strings.TrimSpace(line) == "" {
									continue
								}
								out.WriteString("$ sbctl " + line + "\n")
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

// testNow is the clock of the golden scripts: 2026-11-21T08:00:00Z, i.e.
// 1795248000000 ms since the epoch.
var testNow = time.UnixMilli(1795248000000).UTC()
