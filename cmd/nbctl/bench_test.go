package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// Each benchmark runs ovn-nbctl and our nbctl as processes, alternately in
// the same loop so that both see the same machine load, each against its
// own ovsdb-server (same program, same starting contents). It reports both
// times per operation and their ratio (nbctl/ovn-nbctl, below 1 is faster).

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

// compare runs op once per tool per iteration, alternating which goes
// first, and reports the mean time of each and the ratio.
func compare(b *testing.B, preload int, op func(b *testing.B, tool, path, remote string, seq int)) {
	ts := tools(b)
	remotes := []string{freshServer(b, preload), freshServer(b, preload)}
	var spent [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < 2; k++ {
			j := (i + k) % 2
			start := time.Now()
			op(b, ts[j].name, ts[j].path, remotes[j], i)
			spent[j] += time.Since(start)
		}
	}
	b.StopTimer()
	ovn := float64(spent[0].Nanoseconds()) / float64(b.N)
	ours := float64(spent[1].Nanoseconds()) / float64(b.N)
	b.ReportMetric(ovn, "ovn-nbctl-ns/op")
	b.ReportMetric(ours, "nbctl-ns/op")
	b.ReportMetric(ours/ovn, "nbctl/ovn-nbctl")
}

func lsAdd(b *testing.B, tool, path, remote string, seq int) {
	name := fmt.Sprintf("%s-%d-%d", tool, seq, time.Now().UnixNano())
	if out, err := exec.Command(path, "--db="+remote, "ls-add", name).CombinedOutput(); err != nil {
		b.Fatalf("%s ls-add: %v: %s", tool, err, out)
	}
}

// BenchmarkLsAddProcess: one ls-add per process, from start to exit, on a
// nearly empty database.
func BenchmarkLsAddProcess(b *testing.B) { compare(b, 0, lsAdd) }

// BenchmarkLsAddProcessLargeDB: the same on a database that already holds
// 5,000 switches with one port each.
func BenchmarkLsAddProcessLargeDB(b *testing.B) { compare(b, 5000, lsAdd) }

// BenchmarkBatch1000: one process running 1,000 commands joined by "--"
// into one transaction (500 switches with one port each).
func BenchmarkBatch1000(b *testing.B) {
	compare(b, 0, func(b *testing.B, tool, path, remote string, seq int) {
		args := []string{"--db=" + remote}
		stamp := time.Now().UnixNano()
		for j := 0; j < 500; j++ {
			sw := fmt.Sprintf("%s-%d-%d-%d", tool, seq, stamp, j)
			if j > 0 {
				args = append(args, "--")
			}
			args = append(args, "ls-add", sw, "--", "lsp-add", sw, sw+"-p")
		}
		if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s batch: %v: %s", tool, err, out)
		}
	})
}
