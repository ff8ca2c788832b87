package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hcnet/e2e/testbed"
	"hcnet/internal/launch"
)

// The binaries `make run` builds, built once per test binary into binDir.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// built returns a directory holding hcnet and the daemons and CLIs it runs.
func built(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH: cannot build the daemons")
	}
	buildOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		root, err := testbed.RepoRoot(wd)
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "hcnet-run-bin-"); err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/hcnet", "./cmd/nbdb", "./cmd/sbdb", "./cmd/northd", "./cmd/chassis", "./cmd/nbctl", "./cmd/sbctl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// syncBuffer collects a process's output for polling.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// launcher is one `hcnet run` under test.
type launcher struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
	data string
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// freeRange returns the first of n consecutive free TCP ports.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := freePorts(t, 1)[0]
		ok := true
		var lns []net.Listener
		for i := 0; i < n && ok; i++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// scrape returns the body of a Prometheus endpoint.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape %s: status %d, %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// startRun starts `hcnet run` on data with ports p (NB, SB, NB Raft, SB
// Raft; the Raft ports must stay the same for a data directory) and waits
// for it to say it is ready. Cleanup stops it (by PID) if the test did not.
func startRun(t *testing.T, bin, data string, p []int, extra ...string) *launcher {
	t.Helper()
	args := append([]string{"run", "--data-dir", data, "--bin-dir", bin,
		"--nb-port", strconv.Itoa(p[0]), "--sb-port", strconv.Itoa(p[1]),
		"--nb-raft-port", strconv.Itoa(p[2]), "--sb-raft-port", strconv.Itoa(p[3])}, extra...)
	l := &launcher{cmd: exec.Command(filepath.Join(bin, "hcnet"), args...), out: &syncBuffer{}, done: make(chan struct{}), data: data}
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		l.err = l.cmd.Wait()
		close(l.done)
	}()
	t.Cleanup(func() {
		select {
		case <-l.done:
			return
		default:
		}
		_ = l.cmd.Process.Signal(os.Interrupt)
		select {
		case <-l.done:
		case <-time.After(60 * time.Second):
			_ = l.cmd.Process.Kill()
			<-l.done
		}
		if t.Failed() {
			t.Logf("hcnet run output:\n%s", l.out.String())
		}
	})
	deadline := time.After(4 * time.Minute)
	for !strings.Contains(l.out.String(), "hcnet: ready") {
		select {
		case <-l.done:
			t.Fatalf("hcnet run exited before ready (%v):\n%s", l.err, l.out.String())
		case <-deadline:
			t.Fatalf("hcnet run not ready after 4m:\n%s", l.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return l
}

// stop sends SIGINT (Ctrl-C) and waits for a clean exit.
func (l *launcher) stop(t *testing.T) {
	t.Helper()
	if err := l.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("hcnet run still running 90s after SIGINT:\n%s", l.out.String())
	}
	if l.err != nil {
		t.Fatalf("hcnet run exited with %v after SIGINT:\n%s", l.err, l.out.String())
	}
	if !strings.Contains(l.out.String(), "hcnet: stopped") {
		t.Fatalf("hcnet run did not report stopping:\n%s", l.out.String())
	}
}

// assertGone checks that no process and no namespace of st is left.
func assertGone(t *testing.T, st launch.State, data string) {
	t.Helper()
	for _, p := range append(st.Processes, launch.ProcState{Name: "hcnet", PID: st.PID}) {
		if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after hcnet run stopped", p.Name, p.PID)
		}
	}
	if st.Topology != nil {
		entries, _ := os.ReadDir("/var/run/netns")
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), st.Topology.Prefix+"-") {
				t.Errorf("namespace %s left after hcnet run stopped", e.Name())
			}
		}
	}
	if _, err := os.Stat(filepath.Join(data, "run", launch.StateFile)); err == nil {
		t.Errorf("state file left after hcnet run stopped")
	}
}

func run(t *testing.T, timeout time.Duration, argv ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("%s: timed out after %s", strings.Join(argv, " "), timeout)
	}
}

// TestRunDatabasesOnly starts the databases and northd (what `make run`
// does without root or Open vSwitch), writes through nbctl, stops with
// Ctrl-C, and starts again on the same data.
func TestRunDatabasesOnly(t *testing.T) {
	bin := built(t)
	data := t.TempDir()
	ports := freePorts(t, 4)
	mport := freeRange(t, 3)
	l := startRun(t, bin, data, ports, "--no-chassis", "--metrics-port", strconv.Itoa(mport))
	st, err := launch.ReadState(filepath.Join(data, "run"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range st.Processes {
		names[p.Name] = true
	}
	if !names["nbdb"] || !names["sbdb"] || !names["northd"] || len(st.Processes) != 3 {
		t.Fatalf("state lists %+v, want nbdb, sbdb and northd", st.Processes)
	}
	for _, want := range []string{"Chassis: not started (--no-chassis)", "nbctl --db " + st.NBRemote + " show", "log " + filepath.Join(data, "log", "nbdb.log")} {
		if !strings.Contains(l.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, l.out.String())
		}
	}
	if out, err := run(t, 30*time.Second, filepath.Join(bin, "nbctl"), "--db", st.NBTCP, "ls-add", "kept"); err != nil {
		t.Fatalf("nbctl over TCP: %v\n%s", err, out)
	}
	// northd translates it into a datapath.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := run(t, 30*time.Second, filepath.Join(bin, "sbctl"), "--db", st.SBRemote, "--bare", "--columns=external_ids", "list", "Datapath_Binding")
		if strings.Contains(out, "kept") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("northd did not create a datapath for switch kept within 60s; SB Datapath_Binding:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(st.Metrics) != 3 {
		t.Fatalf("state lists metrics endpoints %v, want nbdb, sbdb and northd", st.Metrics)
	}
	for _, u := range st.Metrics[:2] {
		if body := scrape(t, u); !strings.Contains(body, "# TYPE ") {
			t.Errorf("%s serves no metrics:\n%s", u, body)
		}
	}
	if body := scrape(t, st.Metrics[2]); !strings.Contains(body, "hcnet_northd_active 1\n") || !strings.Contains(body, `hcnet_northd_runs_total{kind="full"}`) {
		t.Errorf("northd metrics lack the active instance's runs:\n%s", body)
	}
	l.stop(t)
	assertGone(t, st, data)

	l = startRun(t, bin, data, ports, "--no-chassis", "--metrics-port", "0")
	st2, err := launch.ReadState(filepath.Join(data, "run"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, 30*time.Second, filepath.Join(bin, "nbctl"), "--db", st2.NBRemote, "ls-list")
	if err != nil || !strings.Contains(out, "kept") {
		t.Fatalf("after a restart on the same data, ls-list = %q (%v), want switch kept", out, err)
	}
	l.stop(t)
	assertGone(t, st2, data)
}

// TestRunDemo_Root is the check: `hcnet run` as root starts the
// chassis in namespaces, `hcnet demo` shows the pings that work and the
// one that must not, and Ctrl-C leaves nothing behind.
func TestRunDemo_Root(t *testing.T) {
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		t.Skip("HCNET_SKIP_OVS=1")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, Open vSwitch)")
	}
	if cmds, pkgs := launch.Missing(launch.ChassisCommands, launch.LookPath); len(cmds) > 0 {
		t.Skipf("missing %v (packages %v; make deps installs them)", cmds, pkgs)
	}
	bin := built(t)
	data := t.TempDir()
	start := time.Now()
	mport := freeRange(t, 4)
	l := startRun(t, bin, data, freePorts(t, 4), "--no-install", "--metrics-port", strconv.Itoa(mport))
	ready := time.Since(start)
	st, err := launch.ReadState(filepath.Join(data, "run"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Topology == nil || len(st.Topology.Chassis) != 3 {
		t.Fatalf("no chassis topology in the state (%s):\n%s", st.ChassisNote, l.out.String())
	}
	for _, want := range []string{"hv1  host", "hv2  host", "gw1  gateway", "make demo"} {
		if !strings.Contains(l.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, l.out.String())
		}
	}
	start = time.Now()
	out, err := run(t, 4*time.Minute, filepath.Join(bin, "hcnet"), "demo", "--data-dir", data)
	demo := time.Since(start)
	if err != nil {
		t.Fatalf("hcnet demo: %v\n%s", err, out)
	}
	okLines := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "  ok    ") {
			okLines++
		}
	}
	for _, want := range []string{
		"ok    tenant A  a-vm1 (hv1) -> a-vm2 10.0.2.12 (hv2)",
		"ok    tenant B  b-vm1 (hv2) -> b-vm2 10.0.2.13 (hv1)",
		"ok    tenant A  a-vm1 -> external host 172.16.0.100 through gw1, SNAT",
		"ok    tenant A  the external host sees a-vm1's TCP connection from 172.16.0.11",
		"ok    tenant A  a-vm1 -> 10.0.2.13 (tenant B's b-vm2): no reply, and b-vm2 saw no request",
		"demo: all checks passed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if okLines != 7 {
		t.Errorf("demo printed %d ok lines, want 7:\n%s", okLines, out)
	}
	// The demo removed its VMs' namespaces.
	entries, _ := os.ReadDir("/var/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), st.Topology.Prefix+"-vm-") {
			t.Errorf("demo left namespace %s", e.Name())
		}
	}
	// Each chassis serves its metrics inside its namespace.
	if _, err := exec.LookPath("busybox"); err == nil {
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport+3)
		body, err := run(t, 30*time.Second, "ip", "netns", "exec", st.Topology.Chassis[0].NS, "busybox", "wget", "-q", "-O", "-", url)
		if err != nil {
			t.Fatalf("scrape %s in %s: %v\n%s", url, st.Topology.Chassis[0].NS, err, body)
		}
		var flows float64
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "hcnet_chassis_flows_installed "); ok {
				flows, _ = strconv.ParseFloat(v, 64)
			}
		}
		if flows <= 0 {
			t.Errorf("hv1 reports %v flows installed:\n%s", flows, body)
		}
	}
	st, err = launch.ReadState(filepath.Join(data, "run")) // PIDs after any restart
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	l.stop(t)
	t.Logf("hcnet run ready after %s, demo took %s, stop took %s", ready.Round(time.Millisecond), demo.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if n := strings.Count(l.out.String(), "WARNING northd exited"); n > 0 {
		t.Logf("northd exited %d times and was restarted by hcnet run; see its log", n)
	}
	assertGone(t, st, data)
}
