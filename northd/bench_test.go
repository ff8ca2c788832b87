package northd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/internal/ovstest"
)

// Benchmarks side by side with ovn-northd on the same machine, NB content
// and ovsdb-server. Run with
//
//	go test -run '^$' -bench . -benchtime 20x ./northd/
//
// Each translator runs as its own process against fresh ovsdb-servers.
// Metrics: ms/commit (NB commit of one port until SB_Global.nb_cfg shows it,
// i.e. its Port_Binding and flows are in SB), sb-rows/commit (SB rows
// inserted, modified or deleted per single-port change, SB_Global aside),
// converge-ms (from-scratch translation of a populated NB), peak-rss-MB
// (VmHWM of the translator process).

type scale struct {
	name                     string
	switches, portsPerSwitch int
	routers, portsPerRouter  int
}

var (
	small = scale{"small", 10, 10, 1, 10}
	big   = scale{"big", 1000, 10, 50, 20}
)

type translator struct {
	name  string
	start func(b *testing.B, nb, sb, dir string) *exec.Cmd
}

func translators(b *testing.B) []translator {
	out := b.TempDir() // lives as long as the parent benchmark
	if o, err := exec.Command("go", "build", "-o", out+"/", "hcnet/cmd/northd").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, o)
	}
	bin := filepath.Join(out, "northd")
	return []translator{
		{"ovn-northd", func(b *testing.B, nb, sb, dir string) *exec.Cmd {
			ovstest.Need(b, "ovn-northd")
			return exec.Command("ovn-northd", "--ovnnb-db="+nb, "--ovnsb-db="+sb,
				"--unixctl="+filepath.Join(dir, "ovn-northd.ctl"), "--log-file="+filepath.Join(dir, "ovn-northd.log"), "-vconsole:off")
		}},
		{"hcnet", func(b *testing.B, nb, sb, dir string) *exec.Cmd {
			level := "warn"
			logFile := os.Getenv("NORTHD_BENCH_LOG")
			if logFile != "" {
				level = "debug"
			}
			args := []string{"--ovnnb-db", nb, "--ovnsb-db", sb, "--log-level", level}
			if p := os.Getenv("NORTHD_BENCH_CPUPROFILE"); p != "" {
				args = append(args, "--cpu-profile", p)
			}
			if p := os.Getenv("NORTHD_BENCH_MEMPROFILE"); p != "" {
				args = append(args, "--mem-profile", p)
			}
			cmd := exec.Command(bin, args...)
			if logFile != "" {
				if f, err := os.Create(logFile); err == nil {
					cmd.Stderr = f
				}
			}
			return cmd
		}},
	}
}

// populate writes a scale's NB content in one transaction: switches with VIF
// ports, routers each connected to its share of the switches.
func populate(b *testing.B, c *client.Client, s scale, nbCfg int) {
	var ops []ovsdb.Operation
	named := 0
	name := func() string { named++; return fmt.Sprintf("r%d", named) }
	swPorts := make([][]any, s.switches)
	for i := 0; i < s.switches; i++ {
		for j := 0; j < s.portsPerSwitch; j++ {
			n := name()
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: n, Row: ovsdb.Row{
				"name":      fmt.Sprintf("ls%d-p%d", i, j),
				"addresses": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("0a:00:%02x:%02x:00:%02x 10.%d.%d.%d", i/256, i%256, j+10, i/256, i%256, j+10)}},
			}})
			swPorts[i] = append(swPorts[i], ovsdb.UUID{GoUUID: n})
		}
	}
	sw := 0
	for r := 0; r < s.routers; r++ {
		var rports []any
		for k := 0; k < s.portsPerRouter && sw < s.switches; k, sw = k+1, sw+1 {
			lrp, lsp := name(), name()
			lrpName := fmt.Sprintf("lr%d-ls%d", r, sw)
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Router_Port", UUIDName: lrp, Row: ovsdb.Row{
				"name": lrpName, "mac": fmt.Sprintf("0a:ff:%02x:%02x:00:01", sw/256, sw%256),
				"networks": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("10.%d.%d.1/24", sw/256, sw%256)}},
			}})
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: lsp, Row: ovsdb.Row{
				"name": fmt.Sprintf("ls%d-lr%d", sw, r), "type": "router",
				"addresses": ovsdb.OvsSet{GoSet: []any{"router"}},
				"options":   ovsdb.OvsMap{GoMap: map[any]any{"router-port": lrpName}},
			}})
			rports = append(rports, ovsdb.UUID{GoUUID: lrp})
			swPorts[sw] = append(swPorts[sw], ovsdb.UUID{GoUUID: lsp})
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Router", Row: ovsdb.Row{
			"name": fmt.Sprintf("lr%d", r), "ports": ovsdb.OvsSet{GoSet: rports}}})
	}
	for i := 0; i < s.switches; i++ {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{
			"name": fmt.Sprintf("ls%d", i), "ports": ovsdb.OvsSet{GoSet: swPorts[i]}}})
	}
	ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "NB_Global", Row: ovsdb.Row{"nb_cfg": nbCfg}})
	mustTransact(b, c, "OVN_Northbound", ops...)
}

func mustTransact(b testing.TB, c *client.Client, db string, ops ...ovsdb.Operation) []ovsdb.OperationResult {
	b.Helper()
	res, err := c.Transact(context.Background(), db, ops...)
	if err != nil {
		b.Fatalf("transact %s: %v", db, err)
	}
	for _, r := range res {
		if r.Error != "" {
			b.Fatalf("transact %s: %s: %s", db, r.Error, r.Details)
		}
	}
	return res
}

// sbWatch counts SB row changes and tracks SB_Global.nb_cfg.
type sbWatch struct {
	mu   sync.Mutex
	cfg  int
	rows int
	cond chan struct{}
}

func watchSB(b *testing.B, sb string) (*sbWatch, *client.Client) {
	c, err := client.Dial(context.Background(), sb, client.Options{MaxMessageSize: 1 << 30, Probe: -1})
	if err != nil {
		b.Fatal(err)
	}
	w := &sbWatch{cond: make(chan struct{}, 1)}
	reqs := map[string]client.MonitorRequest{}
	// Logical flows are monitored by UUID only (they are never modified);
	// the other tables with all columns so modifications count too.
	for _, t := range []string{"Datapath_Binding", "Port_Binding", "Multicast_Group", "Address_Set", "Port_Group", "Logical_DP_Group"} {
		reqs[t] = client.MonitorRequest{}
	}
	reqs["Logical_Flow"] = client.MonitorRequest{Columns: []string{"_uuid"}}
	reqs["SB_Global"] = client.MonitorRequest{Columns: []string{"nb_cfg"}}
	if _, err := c.Monitor(context.Background(), "OVN_Southbound", reqs, func(u client.TableUpdates) {
		w.mu.Lock()
		for table, rows := range u {
			if table == "SB_Global" {
				for _, r := range rows {
					if v, ok := r.Row["nb_cfg"].(float64); ok {
						w.cfg = int(v)
					}
				}
				continue
			}
			w.rows += len(rows)
		}
		w.mu.Unlock()
		select {
		case w.cond <- struct{}{}:
		default:
		}
	}); err != nil {
		b.Fatal(err)
	}
	return w, c
}

func (w *sbWatch) waitCfg(b *testing.B, cfg int, timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		got := w.cfg
		w.mu.Unlock()
		if got >= cfg {
			return
		}
		select {
		case <-w.cond:
		case <-deadline:
			b.Fatalf("SB_Global.nb_cfg stayed %d, want %d after %v", got, cfg, timeout)
		}
	}
}

func (w *sbWatch) rowCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// procCPU returns the CPU seconds (user and system) process pid has used.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the line, in clock ticks (USER_HZ, 100).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return float64(u+st) / 100
}

// serverPID finds the ovsdb-server this benchmark started on socket.
func serverPID(socket string) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmd), "--remote=punix:"+socket+"\x00") {
			return pid
		}
	}
	return 0
}

func runTranslator(b *testing.B, tr translator, nb, sb string) *exec.Cmd {
	cmd := tr.start(b, nb, sb, b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", tr.name, err)
	}
	b.Cleanup(func() {
		// SIGTERM first so a profiling northd writes its profile.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
	})
	return cmd
}

// benchCommit measures (a) and (d) at one scale.
func benchCommit(b *testing.B, s scale) {
	for _, tr := range translators(b) {
		b.Run(tr.name, func(b *testing.B) {
			nbs := ovstest.StartOVSDBServer(b, ovstest.SchemaPath(b, "ovn-nb.ovsschema"))
			sbs := ovstest.StartOVSDBServer(b, ovstest.SchemaPath(b, "ovn-sb.ovsschema"))
			nbc, err := client.Dial(context.Background(), nbs.Remote(), client.Options{Probe: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer nbc.Close()
			populate(b, nbc, s, 1)
			w, sbc := watchSB(b, sbs.Remote())
			defer sbc.Close()
			cmd := runTranslator(b, tr, nbs.Remote(), sbs.Remote())
			w.waitCfg(b, 1, 10*time.Minute)
			cfg := 1
			commit := func(i int) {
				cfg++
				mustTransact(b, nbc, "OVN_Northbound",
					ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: "np", Row: ovsdb.Row{
						"name": fmt.Sprintf("new%d", i), "addresses": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("0a:01:00:00:%02x:%02x 10.0.0.%d", (i+1)/256, (i+1)%256, 100+(i+1)%100)}}}},
					ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Logical_Switch",
						Where:     []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "ls0"}},
						Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "np"}}}}}},
					ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "NB_Global", Where: []ovsdb.Condition{{Column: "nb_cfg", Function: ovsdb.ConditionGreaterThanOrEqual, Value: 0}}, Row: ovsdb.Row{"nb_cfg": cfg}})
			}
			// One warm-up commit absorbs what follows the first
			// convergence (acknowledgements and their echoes).
			commit(-1)
			w.waitCfg(b, cfg, 5*time.Minute)
			rows := 0
			var nbTxn time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				before := w.rowCount()
				t0 := time.Now()
				commit(i)
				nbTxn += time.Since(t0)
				w.waitCfg(b, cfg, time.Minute)
				rows += w.rowCount() - before
			}
			b.StopTimer()
			b.ReportMetric(float64(nbTxn.Microseconds())/1000/float64(b.N), "nb-txn-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/commit")
			b.ReportMetric(float64(rows)/float64(b.N), "sb-rows/commit")
			b.ReportMetric(peakRSS(cmd.Process.Pid), "peak-rss-MB")
		})
	}
}

func BenchmarkCommitSmall(b *testing.B) { benchCommit(b, small) }
func BenchmarkCommitBig(b *testing.B)   { benchCommit(b, big) }

// BenchmarkConvergeBig measures (b) and (c): a translator started on a
// populated NB and an empty SB, until SB_Global.nb_cfg shows NB's. It also
// reports the SB rows written (sb-rows) and the CPU seconds the translator
// (cpu-s) and the SB ovsdb-server (sb-server-cpu-s) spent on it.
func BenchmarkConvergeBig(b *testing.B) {
	for _, tr := range translators(b) {
		b.Run(tr.name, func(b *testing.B) {
			var total time.Duration
			var rss, cpu, sbCPU float64
			rows := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				nbs := ovstest.StartOVSDBServer(b, ovstest.SchemaPath(b, "ovn-nb.ovsschema"))
				sbs := ovstest.StartOVSDBServer(b, ovstest.SchemaPath(b, "ovn-sb.ovsschema"))
				nbc, err := client.Dial(context.Background(), nbs.Remote(), client.Options{Probe: -1})
				if err != nil {
					b.Fatal(err)
				}
				populate(b, nbc, big, 1)
				nbc.Close()
				w, sbc := watchSB(b, sbs.Remote())
				sbPID := serverPID(sbs.Socket)
				sbCPU0 := procCPU(sbPID)
				b.StartTimer()
				start := time.Now()
				cmd := runTranslator(b, tr, nbs.Remote(), sbs.Remote())
				w.waitCfg(b, 1, 10*time.Minute)
				total += time.Since(start)
				b.StopTimer()
				if r := peakRSS(cmd.Process.Pid); r > rss {
					rss = r
				}
				cpu += procCPU(cmd.Process.Pid)
				sbCPU += procCPU(sbPID) - sbCPU0
				rows += w.rowCount()
				sbc.Close()
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
				nbs.Stop()
				sbs.Stop()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "converge-ms")
			b.ReportMetric(rss, "peak-rss-MB")
			b.ReportMetric(cpu/float64(b.N), "cpu-s")
			b.ReportMetric(sbCPU/float64(b.N), "sb-server-cpu-s")
			b.ReportMetric(float64(rows)/float64(b.N), "sb-rows")
		})
	}
}
