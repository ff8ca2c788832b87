package bench

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	hclient "hcnet/internal/client"
)

// Three-replica clusters side by side: ours (nbdb processes) and
// ovsdb-server (ovsdb-tool create-cluster / join-cluster), on 127.0.0.1.
//
//	go test -run '^$' -bench Cluster -benchtime 1x ./internal/ovsdb/bench/

const (
	failoverRounds   = 9
	clusterClients   = 8
	clusterTxns      = 250 // per client, throughput run
	bigRunClients    = 16
	bigRunTxns       = 100000
	clusterStartWait = 60 * time.Second
)

type member struct {
	args    []string
	dir     string
	remote  string // tcp:127.0.0.1:PORT
	mu      sync.Mutex
	cmd     *exec.Cmd
	logFile string
}

func (m *member) start(tb testing.TB) {
	cmd := exec.Command(m.args[0], m.args[1:]...)
	cmd.Dir = m.dir
	if m.logFile != "" {
		if f, err := os.OpenFile(m.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	m.mu.Lock()
	m.cmd = cmd
	m.mu.Unlock()
}

func (m *member) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// term stops the process with SIGTERM (profiles get written).
func (m *member) term() {
	m.mu.Lock()
	cmd := m.cmd
	m.cmd = nil
	m.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}

func (m *member) kill() {
	m.mu.Lock()
	cmd := m.cmd
	m.cmd = nil
	m.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
}

func (m *member) waitServing(tb testing.TB) {
	addr := strings.TrimPrefix(m.remote, "tcp:")
	deadline := time.Now().Add(clusterStartWait)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%v did not start serving on %s", m.args[0], addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type benchCluster struct {
	name    string
	members []*member
	dir     string
}

func (c *benchCluster) remotes() string {
	var rs []string
	for _, m := range c.members {
		rs = append(rs, m.remote)
	}
	return strings.Join(rs, ",")
}

// leader asks each member's _Server which one leads.
func (c *benchCluster) leader(tb testing.TB, skip int) int {
	deadline := time.Now().Add(clusterStartWait)
	for time.Now().Before(deadline) {
		for i, m := range c.members {
			if i == skip {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			cl, err := hclient.Dial(ctx, m.remote, hclient.Options{})
			if err == nil {
				res, err := cl.Transact(ctx, "_Server", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Database",
					Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "OVN_Northbound"}}})
				cl.Close()
				if err == nil && len(res) == 1 && len(res[0].Rows) == 1 && res[0].Rows[0]["leader"] == true {
					cancel()
					return i
				}
			}
			cancel()
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("%s: no leader", c.name)
	return -1
}

func freePort(tb testing.TB) string {
	_, p, _ := net.SplitHostPort(freeAddr(tb))
	return p
}

// buildNBDB builds cmd/nbdb into the benchmark's temporary directory (the
// build cache makes the second build of a run cheap).
func buildNBDB(tb testing.TB) string {
	bin := filepath.Join(tempDir(tb), "nbdb")
	root := filepath.Dir(filepath.Dir(schemaPath(tb)))
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/nbdb")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/nbdb: %v: %s", err, out)
	}
	return bin
}

func startOurCluster(tb testing.TB) *benchCluster {
	bin := buildNBDB(tb)
	dir := tempDir(tb)
	c := &benchCluster{name: "nbdb", dir: dir}
	var init []string
	rafts := make([]string, 3)
	for i := range rafts {
		rafts[i] = "127.0.0.1:" + freePort(tb)
		init = append(init, fmt.Sprintf("%d=%s", i+1, rafts[i]))
	}
	for i := range rafts {
		port := freePort(tb)
		d := filepath.Join(dir, fmt.Sprintf("r%d", i+1))
		os.MkdirAll(d, 0o750)
		logFile := filepath.Join(d, "log")
		if ldir := os.Getenv("HCNET_BENCH_LOG_DIR"); ldir != "" {
			logFile = filepath.Join(ldir, fmt.Sprintf("nbdb%d.log", i+1)) // kept after the run
		}
		m := &member{dir: d, remote: "tcp:127.0.0.1:" + port, logFile: logFile, args: []string{bin,
			"--data-dir", d, "--listen", "ptcp:" + port + ":127.0.0.1", "--raft-address", rafts[i],
			"--replica-id", fmt.Sprint(i + 1), "--initial-members", strings.Join(init, ","),
			"--inactivity-probe=-1s", "--log-level", "warn"}}
		if pdir := os.Getenv("HCNET_BENCH_PROFILE_DIR"); pdir != "" {
			m.args = append(m.args, "--cpu-profile", filepath.Join(pdir, fmt.Sprintf("nbdb%d.prof", i+1)))
		}
		c.members = append(c.members, m)
		tb.Cleanup(m.kill)
	}
	for _, m := range c.members {
		m.start(tb)
	}
	for _, m := range c.members {
		m.waitServing(tb)
	}
	return c
}

func startOVSDBCluster(tb testing.TB) (*benchCluster, bool) {
	if os.Getenv("HCNET_SKIP_OVS") != "" {
		return nil, false
	}
	for _, p := range []string{"ovsdb-server", "ovsdb-tool"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, false
		}
	}
	dir := tempDir(tb)
	c := &benchCluster{name: "ovsdb-server", dir: dir}
	rafts := make([]string, 3)
	for i := range rafts {
		rafts[i] = "tcp:127.0.0.1:" + freePort(tb)
	}
	for i := range rafts {
		d := filepath.Join(dir, fmt.Sprintf("r%d", i+1))
		os.MkdirAll(d, 0o750)
		db := filepath.Join(d, "nb.db")
		args := []string{"create-cluster", db, schemaPath(tb), rafts[0]}
		if i > 0 {
			args = []string{"join-cluster", db, "OVN_Northbound", rafts[i], rafts[0]}
		}
		if out, err := exec.Command("ovsdb-tool", args...).CombinedOutput(); err != nil {
			tb.Fatalf("ovsdb-tool %v: %v: %s", args, err, out)
		}
		port := freePort(tb)
		m := &member{dir: d, remote: "tcp:127.0.0.1:" + port, args: []string{"ovsdb-server",
			"--remote=ptcp:" + port + ":127.0.0.1", "--unixctl=" + filepath.Join(d, "ctl"),
			"--log-file=" + filepath.Join(d, "log"), "-vconsole:off", db}}
		c.members = append(c.members, m)
		tb.Cleanup(m.kill)
	}
	for _, m := range c.members {
		m.start(tb)
	}
	for _, m := range c.members {
		m.waitServing(tb)
	}
	return c, true
}

// loadWriter commits one-row transactions through a leader-only client
// and records when each successful one began and ended.
type loadWriter struct {
	mu   sync.Mutex
	ok   []span
	stop chan struct{}
	done chan struct{}
}

type span struct{ begin, end time.Time }

func startLoadWriter(tb testing.TB, remotes, prefix string) *loadWriter {
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartWait)
	defer cancel()
	cl, err := hclient.Dial(ctx, remotes, hclient.Options{Database: "OVN_Northbound", LeaderOnly: true,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Probe: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	w := &loadWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer cl.Close()
		for k := 0; ; k++ {
			select {
			case <-w.stop:
				return
			default:
			}
			b := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := cl.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch",
				Row: ovsdb.Row{"name": fmt.Sprintf("%s-%d", prefix, k)}})
			cancel()
			if err == nil {
				w.mu.Lock()
				w.ok = append(w.ok, span{b, time.Now()})
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *loadWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.ok)
}

func (w *loadWriter) waitMore(tb testing.TB, n int) {
	target := w.count() + n
	deadline := time.Now().Add(clusterStartWait)
	for w.count() < target {
		if time.Now().After(deadline) {
			tb.Fatalf("writer stalled at %d commits", w.count())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// firstAfter returns the time from t0 to the end of the first commit begun
// after t0.
func (w *loadWriter) firstAfter(tb testing.TB, t0 time.Time) time.Duration {
	deadline := time.Now().Add(clusterStartWait)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for i := len(w.ok) - 1; i >= 0 && w.ok[i].end.After(t0); i-- {
			if w.ok[i].begin.After(t0) && (i == 0 || !w.ok[i-1].begin.After(t0)) {
				d := w.ok[i].end.Sub(t0)
				w.mu.Unlock()
				return d
			}
		}
		w.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	tb.Fatalf("no commit within %v of the leader's death", clusterStartWait)
	return 0
}

func (w *loadWriter) finish() {
	close(w.stop)
	<-w.done
}

// failover kills the leader failoverRounds times and returns the
// unavailability windows.
func failover(tb testing.TB, c *benchCluster) []time.Duration {
	w := startLoadWriter(tb, c.remotes(), "fo")
	defer w.finish()
	w.waitMore(tb, 20)
	var out []time.Duration
	for r := 0; r < failoverRounds; r++ {
		l := c.leader(tb, -1)
		t0 := time.Now()
		c.members[l].kill()
		if os.Getenv("HCNET_BENCH_DEBUG") != "" {
			nl := c.leader(tb, l)
			tb.Logf("%s killed leader %d, new leader %d seen after %v", t0.Format("15:04:05.000000"), l+1, nl+1, time.Since(t0))
		}
		out = append(out, w.firstAfter(tb, t0))
		c.members[l].start(tb)
		c.members[l].waitServing(tb)
		w.waitMore(tb, 50)
	}
	return out
}

// throughput runs clusterClients leader-only clients of clusterTxns
// one-row transactions each and returns transactions per second.
func throughput(tb testing.TB, c *benchCluster, clients, txns int) float64 {
	var wg sync.WaitGroup
	cls := make([]*hclient.Client, clients)
	for i := range cls {
		ctx, cancel := context.WithTimeout(context.Background(), clusterStartWait)
		cl, err := hclient.Dial(ctx, c.remotes(), hclient.Options{Database: "OVN_Northbound", LeaderOnly: true})
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
		cls[i] = cl
		defer cl.Close()
	}
	start := time.Now()
	errs := make(chan error, clients)
	for i, cl := range cls {
		wg.Add(1)
		go func(i int, cl *hclient.Client) {
			defer wg.Done()
			for k := 0; k < txns; k++ {
				ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				_, err := cl.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch",
					Row: ovsdb.Row{"name": fmt.Sprintf("tp%d-%d", i, k), "external_ids": ovsdb.OvsMap{GoMap: map[any]any{"k": "v"}}}})
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}(i, cl)
	}
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		tb.Fatalf("%s: %v", c.name, err)
	default:
	}
	return float64(clients*txns) / el.Seconds()
}

func medianDur(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkClusterFailover: time from SIGKILL of the leader to the first
// successful commit (leader-only client of all three), median of
// failoverRounds; then 3-replica write throughput.
func BenchmarkClusterFailover(b *testing.B) {
	for n := 0; n < b.N; n++ {
		ours := startOurCluster(b)
		oursTP := throughput(b, ours, clusterClients, clusterTxns)
		if os.Getenv("HCNET_BENCH_PROFILE_DIR") != "" {
			// Profiles cover the throughput run: stop the members so that
			// they write them (the failover rounds would SIGKILL them).
			for _, m := range ours.members {
				m.term()
			}
			b.Logf("nbdb: throughput %.0f txn/s (%d clients); profiles written, failover skipped", oursTP, clusterClients)
			continue
		}
		oursFO := failover(b, ours)
		b.Logf("nbdb: failover windows %v, median %v; throughput %.0f txn/s (%d clients)", oursFO, medianDur(oursFO), oursTP, clusterClients)
		b.ReportMetric(float64(medianDur(oursFO).Milliseconds()), "nbdb-failover-ms")
		b.ReportMetric(oursTP, "nbdb-txn/s")
		if os.Getenv("HCNET_BENCH_DEBUG") != "" {
			continue
		}
		theirs, ok := startOVSDBCluster(b)
		if !ok {
			b.Log("ovsdb-server not installed: no comparison")
			continue
		}
		theirsTP := throughput(b, theirs, clusterClients, clusterTxns)
		theirsFO := failover(b, theirs)
		b.Logf("ovsdb-server: failover windows %v, median %v; throughput %.0f txn/s", theirsFO, medianDur(theirsFO), theirsTP)
		b.ReportMetric(float64(medianDur(theirsFO).Milliseconds()), "ovsdb-failover-ms")
		b.ReportMetric(theirsTP, "ovsdb-txn/s")
		b.Logf("ratios nbdb/ovsdb-server: throughput %.2fx, failover window %.2fx", oursTP/theirsTP, ratio(medianDur(oursFO), medianDur(theirsFO)))
	}
}

// BenchmarkCluster100k: 100,000 one-row transactions on a 3-replica nbdb
// cluster, in five legs; after each leg it reports the leader's resident
// memory and every replica's data directory, so that growth shows (memory
// follows the rows the database holds; the Raft log is compacted behind
// snapshots, so disk must level off).
func BenchmarkCluster100k(b *testing.B) {
	for n := 0; n < b.N; n++ {
		c := startOurCluster(b)
		l := c.leader(b, -1)
		txns := bigRunTxns
		if v, err := strconv.Atoi(os.Getenv("HCNET_BENCH_TXNS")); err == nil && v > 0 {
			txns = v // a shorter run for experiments
		}
		defer func() {
			for _, m := range c.members {
				m.term()
			}
		}()
		const legs = 5
		var done int
		var elapsed time.Duration
		for leg := 1; leg <= legs; leg++ {
			per := txns / legs / bigRunClients
			start := time.Now()
			throughput(b, c, bigRunClients, per)
			elapsed += time.Since(start)
			done += per * bigRunClients
			hwm, rss := procMem(c.members[l].pid())
			var sizes []string
			for _, m := range c.members {
				// The Raft log and snapshots (bounded by compaction) apart
				// from the row store (which grows with the rows).
				sizes = append(sizes, fmt.Sprintf("%.1f+%.1fMiB", float64(dirSize(filepath.Join(m.dir, "raft")))/(1<<20),
					float64(dirSize(filepath.Join(m.dir, "db")))/(1<<20)))
			}
			b.Logf("after %6d txns: leader RSS %s (peak %s), data dirs raft+rows %v", done, rss, hwm, sizes)
		}
		tp := float64(done) / elapsed.Seconds()
		b.Logf("nbdb 100k: %.0f txn/s (%d clients)", tp, bigRunClients)
		b.ReportMetric(tp, "txn/s")
	}
}

// procMem returns a process's peak and current resident set size, as
// /proc/PID/status gives them ("123 kB").
func procMem(pid int) (hwm, rss string) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?", "?"
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
	}
	return hwm, rss
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
