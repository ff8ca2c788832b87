package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hcnet/e2e/testbed"
	"hcnet/internal/launch"
)

// runCmd is `hcnet run`: the embedded default, everything on this machine.
type runCmd struct {
	DataDir     string        `default:"data" help:"Directory for the databases' data (kept across runs), logs (log/) and sockets and state (run/)."`
	BinDir      string        `default:"bin" help:"Directory holding the built daemons (make build)."`
	Address     string        `default:"127.0.0.1" help:"IP address the databases listen on."`
	NBPort      int           `name:"nb-port" default:"6641" help:"Northbound database TCP port."`
	SBPort      int           `name:"sb-port" default:"6642" help:"Southbound database TCP port."`
	NBRaftPort  int           `name:"nb-raft-port" default:"6643" help:"Northbound Raft port on 127.0.0.1 (keep it for a data directory)."`
	SBRaftPort  int           `name:"sb-raft-port" default:"6644" help:"Southbound Raft port on 127.0.0.1 (keep it for a data directory)."`
	MetricsPort int           `name:"metrics-port" default:"9641" help:"Prometheus metrics of nbdb, sbdb and northd at http://127.0.0.1:PORT, PORT+1, PORT+2 /metrics; 0: off."`
	NoChassis   bool          `help:"Start only the databases and northd."`
	NoInstall   bool          `help:"Do not install missing Debian packages (openvswitch-switch, ethtool, ...) for the chassis."`
	Timeout     time.Duration `default:"120s" help:"How long to wait for everything to be ready."`
}

func (r *runCmd) Run(c *cli) error {
	log := newLogger(c.LogFormat, c.LogLevel)
	data, err := filepath.Abs(r.DataDir)
	if err != nil {
		return err
	}
	binDir, err := filepath.Abs(r.BinDir)
	if err != nil {
		return err
	}
	runDir := filepath.Join(data, "run")
	logDir := filepath.Join(data, "log")
	for _, d := range []string{runDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	unlock, err := lockDir(runDir)
	if err != nil {
		return err
	}
	defer unlock()
	cleanStale(runDir, log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := os.Stdout
	bin := func(name string) (string, bool) {
		p := filepath.Join(binDir, name)
		_, err := os.Stat(p)
		return p, err == nil
	}

	g := &launch.Group{LogDir: logDir, Log: log}
	var tb *testbed.Testbed
	defer func() {
		if tb != nil {
			fmt.Fprintln(out, "hcnet: stopping the chassis and removing their namespaces")
			if err := tb.Close(); err != nil {
				log.Error("chassis cleanup", "err", err)
			}
			sweepNamespaces(tb.Prefix, log)
		}
		g.StopAll(5 * time.Second)
		_ = os.Remove(filepath.Join(runDir, launch.StateFile))
		fmt.Fprintln(out, "hcnet: stopped")
	}()

	st := launch.State{PID: os.Getpid()}
	var missing []string
	type db struct {
		name, dir, sock string
		port, raft      int
	}
	dbs := []db{
		{"nbdb", filepath.Join(data, "nb"), filepath.Join(runDir, "nb.sock"), r.NBPort, r.NBRaftPort},
		{"sbdb", filepath.Join(data, "sb"), filepath.Join(runDir, "sb.sock"), r.SBPort, r.SBRaftPort},
	}
	metricsArgs := func(i int) []string {
		if r.MetricsPort == 0 {
			return nil
		}
		addr := fmt.Sprintf("127.0.0.1:%d", r.MetricsPort+i)
		st.Metrics = append(st.Metrics, "http://"+addr+"/metrics")
		return []string{"--metrics-addr", addr}
	}
	started := map[string]*launch.Proc{}
	for i, d := range dbs {
		path, ok := bin(d.name)
		if !ok {
			missing = append(missing, d.name)
			continue
		}
		_ = os.Remove(d.sock)
		fmt.Fprintf(out, "hcnet: starting %s (data %s)\n", d.name, d.dir)
		args := append([]string{path, "serve",
			"--data-dir", d.dir,
			"--raft-address", "127.0.0.1:" + strconv.Itoa(d.raft),
			"--listen", "punix:" + d.sock,
			"--listen", "ptcp:" + strconv.Itoa(d.port) + ":" + r.Address}, metricsArgs(i)...)
		p, err := g.Start(d.name, nil, args...)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, r.Timeout)
		err = launch.WaitListening(wctx, p, "unix", d.sock)
		cancel()
		if err != nil {
			return fmt.Errorf("%w; last lines of %s:\n%s", err, p.Log, tail(p.Log, 15))
		}
		started[d.name] = p
	}
	nbRemote := "unix:" + dbs[0].sock
	sbRemote := "unix:" + dbs[1].sock
	st.NBRemote, st.SBRemote = nbRemote, sbRemote
	st.NBTCP = fmt.Sprintf("tcp:%s:%d", r.Address, r.NBPort)
	st.SBTCP = fmt.Sprintf("tcp:%s:%d", r.Address, r.SBPort)
	northdArgs := append([]string{"--ovnnb-db", nbRemote, "--ovnsb-db", sbRemote}, metricsArgs(2)...)
	if started["nbdb"] != nil && started["sbdb"] != nil {
		if path, ok := bin("northd"); ok {
			fmt.Fprintln(out, "hcnet: starting northd")
			if _, err := g.Start("northd", nil, append([]string{path}, northdArgs...)...); err != nil {
				return err
			}
		} else {
			missing = append(missing, "northd")
		}
	}

	if r.NoChassis {
		st.ChassisNote = "not started (--no-chassis)"
	} else if started["sbdb"] == nil {
		st.ChassisNote = "not started: the southbound database is not running"
	} else {
		tb, st.ChassisNote = r.startChassis(ctx, log, out, bin, binDir, runDir, nbRemote, sbRemote)
		if tb != nil {
			t := tb.State()
			st.Topology = &t
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	writeState := func() error {
		st.Processes = nil
		for _, p := range g.Procs() {
			if !p.HasExited() {
				st.Processes = append(st.Processes, launch.ProcState{Name: p.Name, PID: p.PID(), Logs: []string{p.Log}})
			}
		}
		if tb != nil {
			for _, p := range tb.Processes() {
				st.Processes = append(st.Processes, launch.ProcState{Name: p.Name, PID: p.PID(), Logs: p.LogFiles})
			}
		}
		return launch.WriteState(runDir, st)
	}
	if err := writeState(); err != nil {
		return err
	}
	r.printSummary(out, st, tb, missing, runDir)

	// northd keeps no state of its own: when it dies it is restarted,
	// loudly, with a backoff growing with its recent exits; a database
	// dying ends the run.
	var exits []time.Time
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\nhcnet: stopping")
			return nil
		case p := <-g.Exits():
			if p.Name != "northd" {
				return fmt.Errorf("%s exited (%v); last lines of its log %s:\n%s", p.Name, p.Err(), p.Log, tail(p.Log, 15))
			}
			now := time.Now()
			for len(exits) > 0 && now.Sub(exits[0]) > time.Minute {
				exits = exits[1:]
			}
			exits = append(exits, now)
			delay := min(100*time.Millisecond<<len(exits), 10*time.Second)
			fmt.Fprintf(out, "hcnet: WARNING northd exited (%v), restarting it in %s; last lines of %s:\n%s\n", p.Err(), delay, p.Log, indent(tail(p.Log, 2), "    "))
			select {
			case <-ctx.Done():
				continue
			case <-time.After(delay):
			}
			path, _ := bin("northd")
			if _, err := g.Start("northd", nil, append([]string{path}, northdArgs...)...); err != nil {
				return err
			}
			if err := writeState(); err != nil {
				return err
			}
		}
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// chassisSpecs is the local topology: two hosts and a gateway on one site.
var chassisSpecs = []testbed.ChassisSpec{
	{Name: "hv1", Site: 1},
	{Name: "hv2", Site: 1},
	{Name: "gw1", Site: 1, Gateway: true},
}

// chassisMetricsArgs has each chassis serve metrics inside its own
// namespace, on the same port in every namespace.
func (r *runCmd) chassisMetricsArgs() []string {
	if r.MetricsPort == 0 {
		return nil
	}
	return []string{"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", r.MetricsPort+3)}
}

// startChassis starts the local chassis in namespaces when the machine
// allows it; otherwise it returns nil and says what is missing.
func (r *runCmd) startChassis(ctx context.Context, log *slog.Logger, out io.Writer, bin func(string) (string, bool), binDir, runDir, nbRemote, sbRemote string) (*testbed.Testbed, string) {
	for _, b := range []string{"chassis", "nbctl", "sbctl"} {
		if _, ok := bin(b); !ok {
			return nil, fmt.Sprintf("not started: %s is not built in %s (make build)", b, binDir)
		}
	}
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		return nil, "not started: HCNET_SKIP_OVS=1"
	}
	if os.Geteuid() != 0 {
		return nil, "not started: network namespaces and Open vSwitch need root (run `sudo make run`)"
	}
	cmds, pkgs := launch.Missing(launch.ChassisCommands, launch.LookPath)
	if len(pkgs) > 0 && !r.NoInstall {
		if _, err := exec.LookPath("apt-get"); err == nil {
			fmt.Fprintf(out, "hcnet: installing Debian packages for the chassis: %s (log %s)\n", strings.Join(pkgs, " "), filepath.Join(filepath.Dir(runDir), "log", "apt.log"))
			if err := aptInstall(ctx, filepath.Join(filepath.Dir(runDir), "log", "apt.log"), pkgs); err != nil {
				return nil, fmt.Sprintf("not started: installing %s failed: %v", strings.Join(pkgs, " "), err)
			}
			cmds, pkgs = launch.Missing(launch.ChassisCommands, launch.LookPath)
		}
	}
	if len(cmds) > 0 {
		return nil, fmt.Sprintf("not started: missing %s (apt-get install %s)", strings.Join(cmds, ", "), strings.Join(pkgs, " "))
	}
	if _, err := os.Stat(launch.VSwitchSchema); err != nil {
		return nil, fmt.Sprintf("not started: %s is missing (apt-get install openvswitch-common)", launch.VSwitchSchema)
	}
	// ovs-vsctl and friends expect their default run directory to exist
	// even when told where everything is.
	_ = os.MkdirAll("/var/run/openvswitch", 0o755)
	ovsDir := filepath.Join(runDir, "ovs")
	// Each run builds its switches afresh (like its namespaces); only the
	// NB and SB data are kept.
	if err := os.RemoveAll(ovsDir); err != nil {
		return nil, fmt.Sprintf("not started: remove old %s: %v", ovsDir, err)
	}
	fmt.Fprintf(out, "hcnet: starting chassis hv1, hv2 and gateway gw1 in network namespaces (Open vSwitch under %s)\n", ovsDir)
	type result struct {
		tb  *testbed.Testbed
		err error
	}
	done := make(chan result, 1)
	go func() {
		tb, err := testbed.New(testbed.Config{
			Combo:        testbed.Combo{DB: testbed.Ours, Translator: testbed.Ours, Chassis: testbed.Ours},
			BinDir:       binDir,
			Chassis:      chassisSpecs,
			RunDir:       ovsDir,
			NBRemote:     nbRemote,
			SBRemote:     sbRemote,
			Ctl:          testbed.Ours,
			ChassisArgs:  r.chassisMetricsArgs(),
			ReadyTimeout: r.Timeout,
			Logger:       log,
		})
		done <- result{tb, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// Let setup finish (bounded by its timeouts), then undo it.
		res = <-done
		if res.tb != nil {
			_ = res.tb.Close()
			sweepNamespaces(res.tb.Prefix, log)
		}
		return nil, "interrupted"
	}
	if res.err != nil {
		log.Error("chassis setup failed", "err", res.err)
		return nil, fmt.Sprintf("not started: setup failed: %v", firstLine(res.err.Error()))
	}
	return res.tb, ""
}

func (r *runCmd) printSummary(out io.Writer, st launch.State, tb *testbed.Testbed, missing []string, runDir string) {
	fmt.Fprintln(out)
	fmt.Fprintln(out, "hcnet is running:")
	for _, p := range st.Processes {
		fmt.Fprintf(out, "  %-20s pid %-7d log %s\n", p.Name, p.PID, p.Logs[len(p.Logs)-1])
	}
	if len(missing) > 0 {
		fmt.Fprintf(out, "  not started (not built in %s; run make build): %s\n", r.BinDir, strings.Join(missing, ", "))
	}
	if st.NBRemote != "" {
		fmt.Fprintf(out, "\nNorthbound: %s or %s\n", st.NBRemote, st.NBTCP)
		fmt.Fprintf(out, "Southbound: %s or %s\n", st.SBRemote, st.SBTCP)
	}
	if tb != nil {
		fmt.Fprintln(out, "\nChassis (each in its own network namespace with its own Open vSwitch):")
		for _, ch := range tb.AllChassis() {
			role := "host"
			if ch.Gateway {
				role = "gateway"
			}
			flows := "?"
			if n, err := ch.FlowCount(); err == nil {
				flows = strconv.Itoa(n)
			}
			fmt.Fprintf(out, "  %-4s %-7s netns %-16s tunnel ip %-13s br-int flows %s\n", ch.Name, role, ch.NS, ch.IP, flows)
		}
		fmt.Fprintf(out, "  external network: netns %s, host %s\n", tb.ExtNS, testbed.ExternalHostIP)
		if r.MetricsPort != 0 {
			fmt.Fprintf(out, "  chassis metrics: ip netns exec %s curl -s http://127.0.0.1:%d/metrics (same for hv2, gw1)\n", tb.AllChassis()[0].NS, r.MetricsPort+3)
		}
	} else {
		fmt.Fprintf(out, "\nChassis: %s\n", st.ChassisNote)
	}
	if len(st.Metrics) > 0 {
		fmt.Fprintf(out, "Metrics (nbdb, sbdb, northd): %s\n", strings.Join(st.Metrics, " "))
	}
	fmt.Fprintf(out, "State file: %s\n", filepath.Join(runDir, launch.StateFile))
	fmt.Fprintln(out, "\nTry next, in another terminal:")
	fmt.Fprintf(out, "  %s/nbctl --db %s show\n", r.BinDir, st.NBRemote)
	fmt.Fprintf(out, "  %s/sbctl --db %s show\n", r.BinDir, st.SBRemote)
	fmt.Fprintf(out, "  %s/sbctl --db %s chassis-list\n", r.BinDir, st.SBRemote)
	if tb != nil {
		fmt.Fprintln(out, "  make demo        # two tenants, routers, SNAT gateway, VMs as namespaces; pings")
	}
	fmt.Fprintln(out, "\nhcnet: ready (Ctrl-C stops everything)")
}

// aptInstall installs Debian packages, logging to logPath.
func aptInstall(ctx context.Context, logPath string, pkgs []string) error {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, argv := range [][]string{
		{"apt-get", "update", "-q"},
		append([]string{"apt-get", "install", "-y", "-q", "--no-install-recommends"}, pkgs...),
	} {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w (see %s)", strings.Join(argv, " "), err, logPath)
		}
	}
	return nil
}

// lockDir takes an exclusive lock on dir, so two launchers never share a
// data directory.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another hcnet run uses %s (lock %s is held)", filepath.Dir(dir), path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// cleanStale removes what a previous launcher of this data directory left
// when it was killed without cleaning up: its namespaces (named by its
// prefix) and its still-running processes (by PID).
func cleanStale(runDir string, log *slog.Logger) {
	st, err := launch.ReadState(runDir)
	if err != nil {
		return
	}
	log.Warn("previous run did not stop cleanly; removing what it left", "pid", st.PID)
	for _, p := range st.Processes {
		if proc, err := os.FindProcess(p.PID); err == nil && pidIs(p.PID, p.Name) {
			_ = proc.Signal(syscall.SIGKILL)
		}
	}
	if st.Topology != nil {
		sweepNamespaces(st.Topology.Prefix, log)
	}
	_ = os.Remove(filepath.Join(runDir, launch.StateFile))
}

// pidIs reports whether pid still runs the daemon called name (its command
// line mentions the daemon's binary), so a reused PID is left alone.
func pidIs(pid int, name string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	base := name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		base = name[i+1:]
	}
	return strings.Contains(string(b), base)
}

// sweepNamespaces deletes the network namespaces named prefix-*, which
// only hcnet run and hcnet demo create.
func sweepNamespaces(prefix string, log *slog.Logger) {
	if prefix == "" {
		return
	}
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			if out, err := exec.Command("ip", "netns", "delete", e.Name()).CombinedOutput(); err != nil {
				log.Warn("delete namespace", "netns", e.Name(), "err", err, "out", strings.TrimSpace(string(out)))
			}
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func newLogger(format, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
