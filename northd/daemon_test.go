package northd_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/internal/ovstest"
	"hcnet/northd"
)

// dbs starts an NB and an SB ovsdb-server with our schema files.
func dbs(t *testing.T) (nbRemote, sbRemote string) {
	t.Helper()
	ovstest.Need(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "ovn-sbctl")
	nbs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"))
	sbs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema"))
	return nbs.Remote(), sbs.Remote()
}

func nbctl(t *testing.T, nb string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ovn-nbctl", append([]string{"--db=" + nb, "--timeout=20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovn-nbctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func sbctl(t *testing.T, sb string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ovn-sbctl", append([]string{"--db=" + sb, "--timeout=20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovn-sbctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startInProcess runs a northd in this process until the test ends.
func startInProcess(t *testing.T, nb, sb string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- northd.Run(ctx, northd.Config{NBRemotes: nb, SBRemotes: sb, Logger: testLogger(t)}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("northd: %v", err)
		}
	})
}

// sbPort polls SB until Port_Binding name exists, returning its row.
func sbPortExists(ctx context.Context, c *client.Client, name string) (bool, error) {
	res, err := c.Transact(ctx, "OVN_Southbound", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Port_Binding",
		Where: []ovsdb.Condition{{Column: "logical_port", Function: ovsdb.ConditionEqual, Value: name}}})
	if err != nil {
		return false, err
	}
	return len(res) == 1 && len(res[0].Rows) == 1, nil
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonTranslatesAndAcks drives a northd with ovn-nbctl against real
// ovsdb-servers: SB gets datapaths, ports and flows; --wait=sb returns;
// router-type switch ports come up; an update and a deletion follow.
func TestDaemonTranslatesAndAcks(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	nbctl(t, nb, "ls-add", "sw0", "--", "lsp-add", "sw0", "vm1", "--", "lsp-set-addresses", "vm1", "00:00:00:00:00:01 10.0.0.11")
	nbctl(t, nb, "lr-add", "lr0", "--", "lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24")
	nbctl(t, nb, "lsp-add", "sw0", "sw0-lr0", "--", "lsp-set-type", "sw0-lr0", "router", "--",
		"lsp-set-addresses", "sw0-lr0", "router", "--", "lsp-set-options", "sw0-lr0", "router-port=lr0-sw0")
	nbctl(t, nb, "--wait=sb", "sync")

	if got := sbctl(t, sb, "--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port=vm1"); got != "vm1" {
		t.Fatalf("Port_Binding vm1: got %q", got)
	}
	flows := sbctl(t, sb, "lflow-list", "sw0")
	for _, want := range []string{
		`match=(eth.dst == 00:00:00:00:00:01), action=(outport = "vm1"; output;)`,
		`match=(arp.tpa == 10.0.0.1 && arp.op == 1)`,
	} {
		if !strings.Contains(flows, want) {
			t.Errorf("sw0 flows lack %s:\n%s", want, flows)
		}
	}
	if got := sbctl(t, sb, "--bare", "--columns=nb_cfg", "list", "SB_Global"); got == "0" || got == "" {
		t.Errorf("SB_Global.nb_cfg = %q after --wait=sb", got)
	}
	waitFor(t, "sw0-lr0 up", 5*time.Second, func() bool {
		return nbctl(t, nb, "get", "Logical_Switch_Port", "sw0-lr0", "up") == "true"
	})

	// Change and delete.
	nbctl(t, nb, "--wait=sb", "lsp-set-addresses", "vm1", "00:00:00:00:00:09 10.0.0.19")
	if flows := sbctl(t, sb, "lflow-list", "sw0"); !strings.Contains(flows, "eth.dst == 00:00:00:00:00:09") || strings.Contains(flows, "eth.dst == 00:00:00:00:00:01") {
		t.Errorf("address change not reflected:\n%s", flows)
	}
	// A MAC_Binding ovn-controller learned must not pin a deleted router.
	lrDP := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "external_ids:name=lr0")
	sbctl(t, sb, "create", "MAC_Binding", "datapath="+lrDP, "logical_port=lr0-sw0", "ip=10.0.0.99", `mac="00:00:00:00:00:99"`)
	nbctl(t, nb, "--wait=sb", "lr-del", "lr0")
	if got := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "external_ids:name=lr0"); got != "" {
		t.Errorf("Datapath_Binding lr0 survived lr-del: %q", got)
	}
	nbctl(t, nb, "--wait=sb", "ls-del", "sw0")
	if got := sbctl(t, sb, "--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port=vm1"); got != "" {
		t.Errorf("Port_Binding vm1 survived ls-del: %q", got)
	}
	if got := sbctl(t, sb, "--bare", "--columns=external_ids", "list", "Datapath_Binding"); strings.Contains(got, "sw0") {
		t.Errorf("Datapath_Binding sw0 survived ls-del: %q", got)
	}
}

// TestDaemonTakesOverOVNSB starts from SB content written by ovn-northd and
// checks that our northd keeps its tunnel keys.
func TestDaemonTakesOverOVNSB(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	stopOVN := startOVNNorthd(t, nb, sb)
	nbctl(t, nb, "ls-add", "a", "--", "ls-add", "b", "--", "lsp-add", "b", "p1", "--", "lsp-add", "b", "p2")
	nbctl(t, nb, "--wait=sb", "sync")
	before := sbctl(t, sb, "--bare", "--columns=logical_port,tunnel_key", "list", "Port_Binding")
	dpBefore := sbctl(t, sb, "--bare", "--columns=external_ids,tunnel_key", "list", "Datapath_Binding")
	stopOVN()
	startInProcess(t, nb, sb)
	nbctl(t, nb, "--wait=sb", "lsp-add", "a", "p3")
	after := sbctl(t, sb, "--bare", "--columns=logical_port,tunnel_key", "list", "Port_Binding")
	dpAfter := sbctl(t, sb, "--bare", "--columns=external_ids,tunnel_key", "list", "Datapath_Binding")
	for _, line := range strings.Split(before, "\n\n") {
		if !strings.Contains(after, line) {
			t.Errorf("port binding %q changed: before\n%s\nafter\n%s", line, before, after)
		}
	}
	for _, line := range strings.Split(dpBefore, "\n\n") {
		if !strings.Contains(dpAfter, strings.TrimSpace(line)) {
			t.Errorf("datapath %q changed: before\n%s\nafter\n%s", line, dpBefore, dpAfter)
		}
	}
}

// buildNorthd builds cmd/northd into a temporary directory.
func buildNorthd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir+"/", "hcnet/cmd/northd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/northd: %v: %s", err, out)
	}
	return filepath.Join(dir, "northd")
}

// proc is a northd process whose log we watch for the lock.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	active bool
	log    strings.Builder
}

func startProc(t *testing.T, bin, nb, sb string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, "--ovnnb-db", nb, "--ovnsb-db", sb)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("northd pid %d log:\n%s", p.cmd.Process.Pid, p.logText())
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			fmt.Fprintln(&p.log, sc.Text())
			if strings.Contains(sc.Text(), "now active") {
				p.active = true
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	return p
}

func (p *proc) isActive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// TestHAFailover runs two northd processes, SIGKILLs the active one and
// checks that the standby takes over and a new NB change reaches SB within
// one second.
func TestHAFailover(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	bin := buildNorthd(t)
	a := startProc(t, bin, nb, sb)
	waitFor(t, "first northd active", 20*time.Second, a.isActive)
	b := startProc(t, bin, nb, sb)
	nbctl(t, nb, "ls-add", "sw0", "--", "lsp-add", "sw0", "before")
	nbctl(t, nb, "--wait=sb", "sync")

	ctx := context.Background()
	sbc, err := client.Dial(ctx, sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sbc.Close()
	nbc, err := client.Dial(ctx, nb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nbc.Close()
	// b is a hot standby once it has loaded both databases and asked for
	// the lock; it says so in its log.
	waitFor(t, "standby ready", 20*time.Second, func() bool { return strings.Contains(b.logText(), "standby") })

	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	// A new NB change right after the kill.
	uuidName := "newport"
	res, err := nbc.Transact(ctx, "OVN_Northbound",
		ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", Row: ovsdb.Row{"name": "after"}, UUIDName: uuidName},
		ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Logical_Switch", Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "sw0"}},
			Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: uuidName}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("NB insert: %s %s", r.Error, r.Details)
		}
	}
	for {
		ok, err := sbPortExists(ctx, sbc, "after")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("port did not reach SB within 5 s of the failover")
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("failover: NB change reached SB %v after SIGKILL of the active northd", took)
	if !b.isActive() {
		t.Errorf("standby never logged becoming active")
	}
	if took > time.Second {
		t.Errorf("failover took %v, want ≤ 1 s", took)
	}
}

// TestDaemonManyDatapaths covers writes split over several transactions:
// 250 switches appear and disappear in one NB transaction each.
func TestDaemonManyDatapaths(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	ctx := context.Background()
	nbc, err := client.Dial(ctx, nb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nbc.Close()
	var ops []ovsdb.Operation
	for i := 0; i < 250; i++ {
		p := fmt.Sprintf("p%d", i)
		ops = append(ops,
			ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: p, Row: ovsdb.Row{
				"name": fmt.Sprintf("port%d", i), "addresses": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("0a:00:00:00:%02x:%02x 10.0.%d.%d", i/256, i%256, i/250, 2+i%250)}}}},
			ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{
				"name": fmt.Sprintf("sw%d", i), "ports": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: p}}}}})
	}
	mustTransact(t, nbc, "OVN_Northbound", ops...)
	nbctl(t, nb, "--wait=sb", "sync")
	count := func(table string) int {
		out := sbctl(t, sb, "--bare", "--columns=_uuid", "list", table)
		return len(strings.Fields(out))
	}
	if n := count("Datapath_Binding"); n != 250 {
		t.Errorf("%d Datapath_Binding rows, want 250", n)
	}
	if n := count("Port_Binding"); n != 250 {
		t.Errorf("%d Port_Binding rows, want 250", n)
	}
	// The write went in several transactions, some in flight together:
	// still one row per content and one group per datapath set.
	sbc, err := client.Dial(ctx, sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sbc.Close()
	readSBFlows(t, sbc).checkShape(t)
	mustTransact(t, nbc, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "Logical_Switch",
		Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionNotEqual, Value: ""}}})
	nbctl(t, nb, "--wait=sb", "sync")
	for _, table := range []string{"Datapath_Binding", "Port_Binding", "Logical_Flow", "Multicast_Group"} {
		if n := count(table); n != 0 {
			t.Errorf("%d %s rows left after deleting every switch", n, table)
		}
	}
}
