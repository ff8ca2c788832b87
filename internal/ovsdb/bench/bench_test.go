package bench

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
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/nbdb"
	"hcnet/sbdb"
)

// Workload sizes. Kept small enough for a loaded two-core machine.
const (
	latencyTxns    = 400
	batchClients   = 8
	batchTxns      = 15 // per client
	batchRows      = 100
	fanoutClients  = 100
	fanoutCommits  = 200
	requestTimeout = 60 * time.Second
)

type target struct {
	name   string
	remote string // unix socket path
	pid    int    // the server process, for its CPU time
}

// cpuTime returns the user+system CPU time the process has used so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command: state is field 3; utime and
	// stime are fields 14 and 15, in clock ticks (100 per second on Linux).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	var u, st int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &st)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tempDir(tb testing.TB) string {
	d, err := os.MkdirTemp("", "hcbench")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func schemaPath(tb testing.TB) string { return schemaFile(tb, "ovn-nb.ovsschema") }

// schemaFile finds schema/NAME above the working directory.
func schemaFile(tb testing.TB, name string) string {
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "schema", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("schema/%s not found", name)
		}
		dir = parent
	}
}

// startOurs runs nbdb in a child process (this test binary, re-executed),
// so that it is measured like ovsdb-server: its own process and CPU time.
func startOurs(tb testing.TB) target { return startOursDB(tb, false) }

// startOursDB runs nbdb, or sbdb when southbound is set, like startOurs.
func startOursDB(tb testing.TB, southbound bool) target {
	dir := tempDir(tb)
	sock := filepath.Join(dir, "nb.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), "HCNET_BENCH_NBDB_DIR="+dir, "HCNET_BENCH_RAFT="+freeAddr(tb))
	name := "nbdb"
	if southbound {
		cmd.Env = append(cmd.Env, "HCNET_BENCH_SOUTHBOUND=1")
		name = "sbdb"
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// SIGTERM first so a profile, if asked for, is written.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("nbdb did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return target{name: name, remote: sock, pid: cmd.Process.Pid}
}

// runNBDB is the child process of startOurs.
func runNBDB(dir string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	start := nbdb.Start
	if os.Getenv("HCNET_BENCH_SOUTHBOUND") != "" {
		start = sbdb.Start
	}
	srv, err := start(ctx, nbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + filepath.Join(dir, "nb.sock")},
		RaftAddress: os.Getenv("HCNET_BENCH_RAFT"), InactivityProbe: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "nbdb:", err)
		os.Exit(1)
	}
	if path := os.Getenv("HCNET_BENCH_SERVER_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("HCNET_BENCH_SERVER_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			defer trace.Stop()
		}
	}
	if path := os.Getenv("HCNET_BENCH_SERVER_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if path := os.Getenv("HCNET_BENCH_SERVER_BLOCKPROFILE"); path != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("block").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	<-ctx.Done()
	// HCNET_TXN_TRACE: where the transactions waited.
	srv.DB().WriteTraceSummary(os.Stderr)
	srv.Close()
}

// startOVSDB starts ovsdb-server on a fresh NB database, clustered (one
// member) or standalone. It returns false when Open vSwitch is missing.
func startOVSDB(tb testing.TB, clustered bool) (target, bool) {
	return startOVSDBWith(tb, clustered, "ovn-nb.ovsschema", "OVN_Northbound")
}

// startOVSDBWith is startOVSDB for the schema file sch of database dbName.
func startOVSDBWith(tb testing.TB, clustered bool, sch, dbName string) (target, bool) {
	if os.Getenv("HCNET_SKIP_OVS") != "" {
		return target{}, false
	}
	for _, p := range []string{"ovsdb-server", "ovsdb-tool"} {
		if _, err := exec.LookPath(p); err != nil {
			return target{}, false
		}
	}
	dir := tempDir(tb)
	db := filepath.Join(dir, "nb.db")
	args := []string{"create", db, schemaFile(tb, sch)}
	name := "ovsdb-standalone"
	if clustered {
		args = []string{"create-cluster", db, schemaFile(tb, sch), "tcp:" + freeAddr(tb)}
		name = "ovsdb-clustered"
	}
	if out, err := exec.Command("ovsdb-tool", args...).CombinedOutput(); err != nil {
		tb.Fatalf("ovsdb-tool %v: %v: %s", args, err, out)
	}
	sock := filepath.Join(dir, "db.sock")
	cmd := exec.Command("ovsdb-server", "--remote=punix:"+sock, "--unixctl="+filepath.Join(dir, "ctl"),
		"--log-file="+filepath.Join(dir, "log"), "-vconsole:off", db)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("ovsdb-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t := target{name: name, remote: sock, pid: cmd.Process.Pid}
	// A clustered database answers once it has elected itself.
	c := dial(tb, t)
	defer c.close()
	for {
		if _, err := c.call("transact", dbName, map[string]any{"op": "comment", "comment": "ready"}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("ovsdb-server not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return t, true
}

// client is a minimal OVSDB client: one outstanding request at a time,
// notifications go to a channel.
type client struct {
	c       *jsonrpc.Conn
	mu      sync.Mutex
	id      int
	replies chan *jsonrpc.Message
	// armed, when set, takes the next notification (see fanRound).
	armed atomic.Pointer[armedNote]
}

// fanRound follows one commit's notifications to the monitoring clients:
// each client's reader notes when it read its notification, and the last
// one closes done.
type fanRound struct {
	at   []time.Time // by client
	left atomic.Int32
	done chan struct{}
}

type armedNote struct {
	r *fanRound
	i int
}

func dial(tb testing.TB, t target) *client {
	nc, err := net.Dial("unix", t.remote)
	if err != nil {
		tb.Fatal(err)
	}
	c := &client{c: jsonrpc.NewConn(nc, jsonrpc.ConnOptions{}), replies: make(chan *jsonrpc.Message, 1)}
	go func() {
		for {
			m, err := c.c.Read()
			if err != nil {
				close(c.replies)
				return
			}
			switch {
			case m.IsResponse():
				c.replies <- m
			case m.Method == "echo":
				c.c.Write(&jsonrpc.Message{ID: m.ID, Result: m.Params})
			default:
				if a := c.armed.Swap(nil); a != nil {
					a.r.at[a.i] = time.Now()
					if a.r.left.Add(-1) == 0 {
						close(a.r.done)
					}
				}
			}
		}
	}()
	return c
}

func (c *client) close() { c.c.Close() }

func (c *client) call(method string, params ...any) (json.RawMessage, error) {
	m, err := jsonrpc.NewRequest(0, method, params...)
	if err != nil {
		return nil, err
	}
	return c.send(m)
}

// send sends a request (its id replaced by the client's next) and waits
// for the reply.
func (c *client) send(m *jsonrpc.Message) (json.RawMessage, error) {
	b, err := c.encode(m)
	if err != nil {
		return nil, err
	}
	return c.sendRaw(m.Method, b)
}

// encode encodes a request with the client's next id.
func (c *client) encode(m *jsonrpc.Message) ([]byte, error) {
	c.mu.Lock()
	c.id++
	m.ID = json.RawMessage(fmt.Sprint(c.id))
	c.mu.Unlock()
	return m.MarshalJSON()
}

// sendRaw sends an encoded request and waits for the reply.
func (c *client) sendRaw(method string, req []byte) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.c.WriteRaw(req); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-c.replies:
		if !ok {
			return nil, fmt.Errorf("connection closed")
		}
		if len(r.Error) > 0 && string(r.Error) != "null" {
			return nil, fmt.Errorf("%s: %s", method, r.Error)
		}
		if strings.Contains(string(r.Result), `"error"`) {
			return nil, fmt.Errorf("%s: %.300s", method, r.Result)
		}
		return r.Result, nil
	case <-time.After(requestTimeout):
		return nil, fmt.Errorf("%s: no reply", method)
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p * float64(len(s)-1))
	return s[i]
}

type result struct {
	p50, p99       time.Duration // single-row transaction latency
	rowsPerSec     float64       // batched insert throughput
	fanP50, fanP99 time.Duration // commit to last notification
	cpuPerTxn      time.Duration // server CPU per single-row transaction
	cpuPer1kRows   time.Duration // server CPU per 1000 batched rows
}

// singleRow: one client, one-row inserts, one after another.
func singleRow(tb testing.TB, t target) (p50, p99 time.Duration) {
	c := dial(tb, t)
	defer c.close()
	var lat []time.Duration
	for i := 0; i < latencyTxns; i++ {
		start := time.Now()
		if _, err := c.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch",
			"row": map[string]any{"name": fmt.Sprintf("lat-%d-%d", time.Now().UnixNano(), i)}}); err != nil {
			tb.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	return percentile(lat, 0.5), percentile(lat, 0.99)
}

// batched: clients each own a switch and add 100 ports to it per transaction.
func batched(tb testing.TB, t target, round int) float64 {
	var wg sync.WaitGroup
	errs := make(chan error, batchClients)
	clients := make([]*client, batchClients)
	for i := range clients {
		clients[i] = dial(tb, t)
		defer clients[i].close()
		if _, err := clients[i].call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch",
			"row": map[string]any{"name": fmt.Sprintf("batch-%d-%d", round, i)}}); err != nil {
			tb.Fatal(err)
		}
	}
	// The requests are encoded before the clock starts: the client shares
	// the machine with the server, and its JSON encoding is not what is
	// measured.
	reqs := make([][][]byte, len(clients))
	for i := range clients {
		for n := 0; n < batchTxns; n++ {
			ops := []any{}
			var refs []any
			for r := 0; r < batchRows; r++ {
				name := fmt.Sprintf("lsp%d_%d_%d_%d", round, i, n, r)
				ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": name,
					"row": map[string]any{"name": name, "addresses": []any{"set", []any{"00:00:00:00:00:01 10.0.0.1"}}}})
				refs = append(refs, []any{"named-uuid", name})
			}
			ops = append(ops, map[string]any{"op": "mutate", "table": "Logical_Switch",
				"where":     []any{[]any{"name", "==", fmt.Sprintf("batch-%d-%d", round, i)}},
				"mutations": []any{[]any{"ports", "insert", []any{"set", refs}}}})
			m, err := jsonrpc.NewRequest(fmt.Sprint("batch-", n), "transact", append([]any{"OVN_Northbound"}, ops...)...)
			if err != nil {
				tb.Fatal(err)
			}
			b, err := m.MarshalJSON()
			if err != nil {
				tb.Fatal(err)
			}
			reqs[i] = append(reqs[i], b)
		}
	}
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			for _, m := range reqs[i] {
				if _, err := c.sendRaw("transact", m); err != nil {
					errs <- err
					return
				}
			}
		}(i, c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
	return float64(batchClients*batchTxns*batchRows) / elapsed.Seconds()
}

// fanout: 100 clients monitor Logical_Switch; a writer updates one switch
// and we time until every client has read its notification and the writer
// its reply (see the package doc).
func fanout(tb testing.TB, t target, round int, dist *fanDist) (p50, p99 time.Duration) {
	fan := fmt.Sprint("fan-", round)
	w := dial(tb, t)
	defer w.close()
	if _, err := w.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch",
		"row": map[string]any{"name": fan}}); err != nil {
		tb.Fatal(err)
	}
	var mons []*client
	for i := 0; i < fanoutClients; i++ {
		c := dial(tb, t)
		defer c.close()
		if _, err := c.call("monitor_cond", "OVN_Northbound", "m", map[string]any{
			"Logical_Switch": []any{map[string]any{"columns": []string{"name", "other_config"},
				"where": []any{[]any{"name", "==", fan}}}}}); err != nil {
			tb.Fatal(err)
		}
		mons = append(mons, c)
	}
	var lat []time.Duration
	cpu0, self0 := cpuTime(t.pid), cpuTime(os.Getpid())
	for n := 0; n < fanoutCommits; n++ {
		// Everything the clients do before the commit is sent (encoding it,
		// arming the readers) is outside the clock.
		req, err := jsonrpc.NewRequest(0, "transact", "OVN_Northbound", map[string]any{"op": "update", "table": "Logical_Switch",
			"where": []any{[]any{"name", "==", fan}},
			"row":   map[string]any{"other_config": []any{"map", []any{[]any{"n", fmt.Sprint(n)}}}}})
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := w.encode(req)
		if err != nil {
			tb.Fatal(err)
		}
		r := &fanRound{at: make([]time.Time, len(mons)), done: make(chan struct{})}
		r.left.Store(int32(len(mons)))
		for i, c := range mons {
			c.armed.Store(&armedNote{r, i})
		}
		start := time.Now()
		if _, err := w.sendRaw("transact", enc); err != nil {
			tb.Fatal(err)
		}
		replied := time.Now()
		select {
		case <-r.done:
		case <-time.After(requestTimeout):
			tb.Fatalf("%s: commit %d: %d monitors without a notification", t.name, n, r.left.Load())
		}
		first, last := r.at[0], r.at[0]
		for _, a := range r.at {
			if a.Before(first) {
				first = a
			}
			if a.After(last) {
				last = a
			}
		}
		end := last
		if replied.After(end) {
			end = replied
		}
		lat = append(lat, end.Sub(start))
		if dist != nil {
			dist.add(t.name, end.Sub(start), first.Sub(start), last.Sub(start), replied.Sub(start))
		}
	}
	if dist != nil {
		dist.cpu[t.name] += cpuTime(t.pid) - cpu0
		dist.self[t.name] += cpuTime(os.Getpid()) - self0
	}
	return percentile(lat, 0.5), percentile(lat, 0.99)
}

// rounds: each workload runs this many times per server, interleaved
// across servers, and the median is reported (the machine is shared).
// HCNET_BENCH_ROUNDS overrides it (longer profiles).
const defaultRounds = 3

func benchRounds() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("HCNET_BENCH_ROUNDS"), &n); err == nil && n > 0 {
		return n
	}
	return defaultRounds
}

func median(rs []result) result {
	pick := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return result{
		p50:          time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		p99:          time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
		rowsPerSec:   pick(func(r result) float64 { return r.rowsPerSec }),
		fanP50:       time.Duration(pick(func(r result) float64 { return float64(r.fanP50) })),
		fanP99:       time.Duration(pick(func(r result) float64 { return float64(r.fanP99) })),
		cpuPerTxn:    time.Duration(pick(func(r result) float64 { return float64(r.cpuPerTxn) })),
		cpuPer1kRows: time.Duration(pick(func(r result) float64 { return float64(r.cpuPer1kRows) })),
	}
}

func BenchmarkSideBySide(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if os.Getenv("HCNET_BENCH_ONLY_CONDFANOUT") != "" {
			condFanoutSideBySide(b)
			continue
		}
		starters := []func(testing.TB) (target, bool){
			func(tb testing.TB) (target, bool) { return startOurs(tb), true },
			func(tb testing.TB) (target, bool) { return startOVSDB(tb, true) },
			func(tb testing.TB) (target, bool) { return startOVSDB(tb, false) },
		}
		if os.Getenv("HCNET_BENCH_ONLY_OURS") != "" {
			starters = starters[:1]
		}
		var targets []target
		for _, s := range starters {
			if tgt, ok := s(b); ok {
				targets = append(targets, tgt)
			}
		}
		all := make([][]result, len(targets))
		var dist *fanDist
		if os.Getenv("HCNET_BENCH_FANOUT_DIST") != "" {
			dist = &fanDist{cpu: map[string]time.Duration{}, self: map[string]time.Duration{}}
			defer dist.print()
		}
		rounds := benchRounds()
		for r := 0; r < rounds; r++ {
			for k, tgt := range targets {
				var res result
				onlyBatch := os.Getenv("HCNET_BENCH_ONLY_BATCH") != ""
				if os.Getenv("HCNET_BENCH_ONLY_FANOUT") != "" {
					res.fanP50, res.fanP99 = fanout(b, tgt, r, dist)
					all[k] = append(all[k], res)
					continue
				}
				c0 := cpuTime(tgt.pid)
				if !onlyBatch {
					res.p50, res.p99 = singleRow(b, tgt)
				}
				c1 := cpuTime(tgt.pid)
				if os.Getenv("HCNET_BENCH_ONLY_LATENCY") != "" {
					all[k] = append(all[k], res)
					continue
				}
				res.rowsPerSec = batched(b, tgt, r)
				c2 := cpuTime(tgt.pid)
				res.cpuPerTxn = (c1 - c0) / latencyTxns
				res.cpuPer1kRows = (c2 - c1) * 1000 / (batchClients * batchTxns * batchRows)
				if !onlyBatch {
					res.fanP50, res.fanP99 = fanout(b, tgt, r, dist)
				}
				all[k] = append(all[k], res)
			}
		}
		type col struct {
			name string
			r    result
		}
		var cols []col
		for k, tgt := range targets {
			cols = append(cols, col{tgt.name, median(all[k])})
		}
		ours := cols[0].r
		b.ReportMetric(float64(ours.p50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(ours.p99.Microseconds()), "p99-µs")
		b.ReportMetric(ours.rowsPerSec, "rows/s")
		b.ReportMetric(float64(ours.fanP99.Microseconds()), "fanout-p99-µs")
		var sb strings.Builder
		fmt.Fprintf(&sb, "\nmedians of %d interleaved rounds (load average %s)\n%-18s %10s %10s %10s %12s %12s %14s %14s\n", rounds, loadAvg(),
			"server", "txn p50", "txn p99", "rows/s", "fanout p50", "fanout p99", "CPU/txn", "CPU/1k rows")
		for _, c := range cols {
			fmt.Fprintf(&sb, "%-18s %10v %10v %10.0f %12v %12v %14v %14v\n", c.name, c.r.p50.Round(time.Microsecond), c.r.p99.Round(time.Microsecond),
				c.r.rowsPerSec, c.r.fanP50.Round(time.Microsecond), c.r.fanP99.Round(time.Microsecond), c.r.cpuPerTxn.Round(time.Microsecond), c.r.cpuPer1kRows.Round(time.Microsecond))
		}
		for _, c := range cols[1:] {
			fmt.Fprintf(&sb, "nbdb vs %-16s latency p50 %.2fx p99 %.2fx, fan-out p50 %.2fx p99 %.2fx, CPU per txn %.2fx, CPU per row %.2fx (lower is better); throughput %.2fx (higher is better)\n",
				c.name, ratio(ours.p50, c.r.p50), ratio(ours.p99, c.r.p99), ratio(ours.fanP50, c.r.fanP50), ratio(ours.fanP99, c.r.fanP99),
				ratio(ours.cpuPerTxn, c.r.cpuPerTxn), ratio(ours.cpuPer1kRows, c.r.cpuPer1kRows), ours.rowsPerSec/c.r.rowsPerSec)
		}
		fmt.Print(sb.String())
		if os.Getenv("HCNET_BENCH_ONLY_LATENCY") == "" && os.Getenv("HCNET_BENCH_ONLY_BATCH") == "" && os.Getenv("HCNET_BENCH_ONLY_FANOUT") == "" {
			condFanoutSideBySide(b)
		}
	}
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TestMain gives nbdb the garbage collector setting that cmd/nbdb uses by
// default, and runs it when this binary is re-executed as the server.
func TestMain(m *testing.M) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if dir := os.Getenv("HCNET_BENCH_NBDB_DIR"); dir != "" {
		runNBDB(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fanDist pools the fan-out samples of all rounds per server
// (HCNET_BENCH_FANOUT_DIST=1): the commit's total, when its first and last
// notifications reached the clients' readers, and when the writer had its
// reply, all from the moment the writer sent the transaction.
type fanDist struct {
	names     []string
	s         map[string]*[4][]time.Duration
	cpu, self map[string]time.Duration // server's and benchmark's CPU time
}

func (d *fanDist) add(name string, total, first, last, reply time.Duration) {
	if d.s == nil {
		d.s = map[string]*[4][]time.Duration{}
	}
	v := d.s[name]
	if v == nil {
		v = &[4][]time.Duration{}
		d.s[name] = v
		d.names = append(d.names, name)
	}
	for i, x := range []time.Duration{total, first, last, reply} {
		v[i] = append(v[i], x)
	}
}

func (d *fanDist) print() {
	for _, name := range d.names {
		v := d.s[name]
		fmt.Printf("%s: %d commits, CPU per commit: server %v, clients %v\n", name, len(v[0]),
			(d.cpu[name] / time.Duration(len(v[0]))).Round(time.Microsecond), (d.self[name] / time.Duration(len(v[0]))).Round(time.Microsecond))
		for i, what := range []string{"total", "first note", "last note", "reply"} {
			fmt.Printf("  %-11s p10 %8v p50 %8v p90 %8v p95 %8v p99 %8v max %8v\n", what,
				percentile(v[i], .1).Round(time.Microsecond), percentile(v[i], .5).Round(time.Microsecond),
				percentile(v[i], .9).Round(time.Microsecond), percentile(v[i], .95).Round(time.Microsecond),
				percentile(v[i], .99).Round(time.Microsecond), percentile(v[i], 1).Round(time.Microsecond))
		}
	}
}
