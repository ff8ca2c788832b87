package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"hcnet/internal/ovstest"
)

// Each benchmark runs ovn-nbctl and our nbctl as processes, each against
// its own fresh ovsdb-server (same program, same starting contents), so the
// two see databases of the same size. Report the ratio of the two ns/op.

// buildNbctl builds this command into a temporary directory.
func buildNbctl(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	out, err := exec.Command("go", "build", "-o", dir, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "nbctl")
}

// tools returns the two CLIs to compare: ovn-nbctl and ours.
func tools(b *testing.B) []struct{ name, path string } {
	ovstest.Need(b, "ovn-nbctl")
	return []struct{ name, path string }{{"ovn-nbctl", "ovn-nbctl"}, {"nbctl", buildNbctl(b)}}
}

// freshServer starts an ovsdb-server with an empty OVN_Northbound
// database, then adds n switches with one port each.
func freshServer(b *testing.B, n int) string {
	b.Helper()
	remote := ovstest.StartOVSDBServer(b, ovstest.SchemaPath(b, "ovn-nb.ovsschema")).Remote()
	if n == 0 {
		return remote
	}
	args := []string{"--db=" + remote, "--timeout=300"}
	for j := 0; j < n; j++ {
		sw := fmt.Sprintf("pre-%d", j)
		if j > 0 {
			args = append(args, "--")
		}
		args = append(args, "ls-add", sw, "--", "lsp-add", sw, sw+"-p")
	}
	var out bytes.Buffer
	if code := run(context.Background(), args, env{getenv: func(string) string { return "" }}, &out, &out); code != 0 {
		b.Fatalf("populate: %s", out.String())
	}
	return remote
}

// benchLsAdd measures one "ls-add" from process start to exit on a
// database that starts with preload switches.
func benchLsAdd(b *testing.B, preload int) {
	for _, tool := range tools(b) {
		remote := freshServer(b, preload)
		seq := 0 // the benchmark function runs several times: names must not repeat
		b.Run(tool.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				seq++
				name := fmt.Sprintf("%s-%d", tool.name, seq)
				if out, err := exec.Command(tool.path, "--db="+remote, "ls-add", name).CombinedOutput(); err != nil {
					b.Fatalf("%s ls-add: %v: %s", tool.name, err, out)
				}
			}
		})
	}
}

// BenchmarkLsAddProcess: one ls-add per process on a nearly empty database.
func BenchmarkLsAddProcess(b *testing.B) { benchLsAdd(b, 0) }

// BenchmarkLsAddProcessLargeDB: the same on a database that already holds
// 5,000 switches with one port each.
func BenchmarkLsAddProcessLargeDB(b *testing.B) { benchLsAdd(b, 5000) }

// BenchmarkBatch1000 measures one process running 1,000 commands joined by
// "--" into one transaction (500 switches with one port each).
func BenchmarkBatch1000(b *testing.B) {
	for _, tool := range tools(b) {
		remote := freshServer(b, 0)
		seq := 0
		b.Run(tool.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				seq++
				args := []string{"--db=" + remote}
				for j := 0; j < 500; j++ {
					sw := fmt.Sprintf("%s-%d-%d", tool.name, seq, j)
					if j > 0 {
						args = append(args, "--")
					}
					args = append(args, "ls-add", sw, "--", "lsp-add", sw, sw+"-p")
				}
				if out, err := exec.Command(tool.path, args...).CombinedOutput(); err != nil {
					b.Fatalf("%s batch: %v: %s", tool.name, err, out)
				}
			}
		})
	}
}
