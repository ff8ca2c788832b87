package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Addresses of the fixed parts of every topology.
const (
	// ExternalCIDR is the external network's subnet.
	ExternalCIDR = "172.16.0.0/24"
	// ExternalHostIP is the address of the external namespace itself, on
	// its bridge: the "internet host" scenarios ping.
	ExternalHostIP = "172.16.0.100"
	// PhysicalNetwork is the provider network name gateways map to br-ex.
	PhysicalNetwork = "physnet"
	// VMMTU is the MTU every VM's eth0 gets (TESTBED.md knob 5).
	VMMTU = 1400
)

// ChassisSpec describes one chassis (hypervisor or gateway).
type ChassisSpec struct {
	// Name is the chassis name (system-id) and the suffix of its namespace;
	// at most 10 characters.
	Name string
	// Site is the 1-based site index; each site has its own underlay.
	Site int
	// Gateway gives the chassis a br-ex bridge into the external network,
	// mapped as PhysicalNetwork, and marks it as a gateway chassis.
	Gateway bool
}

// Config describes one testbed.
type Config struct {
	// Combo picks who fills each role. Default: OVN in every role.
	Combo Combo
	// RepoRoot is the hcnet module root (schemas, ./cmd). Default: found
	// from the working directory.
	RepoRoot string
	// BinDir receives our binaries (go build -o BinDir/ ./cmd/NAME); a
	// binary already there is reused. Default: <RunDir>/bin.
	BinDir string
	// Chassis lists the chassis. Default: hv1 and hv2 on site 1.
	Chassis []ChassisSpec
	// Translators is how many translator instances run (active/standby
	// through the SB lock). Default 1.
	Translators int
	// EncapType is the tunnel type, "geneve" (default) or "vxlan".
	EncapType string
	// BFDIntervalMS is the BFD min-rx/min-tx in milliseconds written to
	// NB_Global options (TESTBED.md knob 8). Default 100; multiplier 3.
	BFDIntervalMS int
	// BrokenChassis names a chassis whose daemon is pointed at a wrong
	// integration bridge, so it installs no flows on br-int: used to check
	// that scenario failures tell an operator where to look.
	BrokenChassis string
	// DBReplicas is the number of members of each database: 1 (default)
	// or 3 (a Raft cluster of ovsdb-servers or of nbdb/sbdb replicas).
	DBReplicas int
	// ReadyTimeout bounds the wait for daemons and chassis registration.
	// Default 60s.
	ReadyTimeout time.Duration
	// Logger receives progress messages. Default: the test's output
	// (Start) or stderr (New).
	Logger *slog.Logger

	// RunDir, when set, is the run directory (created when missing) and is
	// kept by Close. Default: a fresh temporary directory, removed when the
	// test passed.
	RunDir string
	// Prefix, when set, is the prefix of every namespace name (at most 8
	// characters). Default: "hc" and 6 random hex digits.
	Prefix string
	// NBRemote and SBRemote, when both set, are central services already
	// running (reachable from every namespace, e.g. unix sockets): the
	// testbed then starts no database and no translator, and the Combo's DB
	// and Translator are not used.
	NBRemote, SBRemote string
	// Ctl is whose nbctl/sbctl NBCtl and SBCtl run: OVN's ovn-nbctl and
	// ovn-sbctl (default) or Ours (BinDir/nbctl, BinDir/sbctl).
	Ctl Impl
	// ChassisArgs are extra arguments for our chassis daemon (Combo.Chassis
	// Ours), e.g. --metrics-addr; it runs inside the chassis's namespace.
	ChassisArgs []string
}

func (c *Config) setDefaults(out io.Writer) error {
	if c.Combo == (Combo{}) {
		c.Combo = Combo{DB: OVN, Translator: OVN, Chassis: OVN}
	}
	if c.RepoRoot == "" && !c.external() {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
		root, err := RepoRoot(wd)
		if err != nil {
			return err
		}
		c.RepoRoot = root
	}
	if len(c.Chassis) == 0 {
		c.Chassis = []ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}}
	}
	if c.Translators == 0 {
		c.Translators = 1
	}
	if c.EncapType == "" {
		c.EncapType = "geneve"
	}
	if c.BFDIntervalMS == 0 {
		c.BFDIntervalMS = 100
	}
	if c.DBReplicas == 0 {
		c.DBReplicas = 1
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if c.Ctl == "" {
		c.Ctl = OVN
	}
	return nil
}

// external reports whether the central services run elsewhere.
func (c *Config) external() bool { return c.NBRemote != "" || c.SBRemote != "" }

// Validate checks the configuration and names the bad field.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i, ch := range c.Chassis {
		if ch.Name == "" || len(ch.Name) > 10 {
			return fmt.Errorf("Chassis[%d].Name %q: want 1 to 10 characters", i, ch.Name)
		}
		if seen[ch.Name] {
			return fmt.Errorf("Chassis[%d].Name %q: duplicate", i, ch.Name)
		}
		seen[ch.Name] = true
		if ch.Site < 1 || ch.Site > 200 {
			return fmt.Errorf("Chassis[%d].Site %d: want 1 to 200", i, ch.Site)
		}
	}
	if len(c.Chassis) > 200 {
		return fmt.Errorf("Chassis: %d entries, at most 200", len(c.Chassis))
	}
	if c.BrokenChassis != "" && !seen[c.BrokenChassis] {
		return fmt.Errorf("BrokenChassis %q: no such chassis", c.BrokenChassis)
	}
	if c.EncapType != "geneve" && c.EncapType != "vxlan" {
		return fmt.Errorf("EncapType %q: want geneve or vxlan", c.EncapType)
	}
	if c.DBReplicas != 1 && c.DBReplicas != 3 {
		return fmt.Errorf("DBReplicas %d: want 1 or 3", c.DBReplicas)
	}
	if c.external() && (c.NBRemote == "" || c.SBRemote == "") {
		return fmt.Errorf("NBRemote %q, SBRemote %q: set both or neither", c.NBRemote, c.SBRemote)
	}
	if len(c.Prefix) > 8 {
		return fmt.Errorf("Prefix %q: at most 8 characters", c.Prefix)
	}
	if c.Ctl != "" && c.Ctl != OVN && c.Ctl != Ours {
		return fmt.Errorf("Ctl %q: want %q or %q", c.Ctl, OVN, Ours)
	}
	if c.Translators < 1 || c.Translators > 5 {
		return fmt.Errorf("Translators %d: want 1 to 5", c.Translators)
	}
	return nil
}

// Testbed is a running topology. Methods are safe for one test goroutine
// at a time plus the cleanup.
type Testbed struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	// Prefix is the per-run prefix of every namespace name.
	Prefix string
	// RunDir holds every daemon's files: sockets, databases, logs.
	RunDir string
	// Central is the NB/SB databases and translators.
	Central *Central
	// ExtNS is the external network namespace; its bridge br0 holds
	// ExternalHostIP.
	ExtNS string
	// RouterNS joins the sites' underlays.
	RouterNS string

	// attached is set for a testbed made by Attach: its chassis belong to
	// another process; Close removes only the VMs this one added.
	attached bool

	mu         sync.Mutex // guards the fields below
	namespaces []string
	procs      []*Process
	chassis    []*Chassis
	vms        map[string]*VM
	underlays  map[int]string
}

// Central holds the central services.
type Central struct {
	// NS is the namespace they run in (they listen on unix sockets only).
	NS string
	// Dir is their run directory.
	Dir string
	// NBRemote and SBRemote are "unix:PATH" remotes for clients.
	NBRemote, SBRemote string
	// NB and SB are the first member of each database.
	NB, SB *Process
	// NBServers and SBServers are every member (one unless clustered).
	NBServers, SBServers []*DBServer
	// Translators are the translator instances, index = instance number.
	Translators []*Process
}

// Chassis is one hypervisor or gateway.
type Chassis struct {
	Name    string
	Site    int
	Gateway bool
	// NS is its namespace, Dir its run directory (OVS_RUNDIR).
	NS, Dir string
	// IP is its underlay (tunnel endpoint) address.
	IP string
	// OVSDB, Switch and Daemon are its ovsdb-server, ovs-vswitchd and
	// chassis daemon (nil while stopped).
	OVSDB, Switch, Daemon *Process
	// Broken is set when its daemon was pointed at a wrong bridge.
	Broken bool

	tb *Testbed
}

// Prerequisites returns why a testbed for combo cannot run here, or "" when
// it can: not root, HCNET_SKIP_OVS=1, or a missing binary.
func Prerequisites(combo Combo) string {
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		return "HCNET_SKIP_OVS=1"
	}
	if os.Geteuid() != 0 {
		return "needs root (network namespaces, Open vSwitch)"
	}
	bins := []string{"ip", "ethtool", "tc", "ping", "busybox", "ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-vswitchd", "ovs-ofctl", "ovs-appctl", "ovn-nbctl", "ovn-sbctl"}
	if combo.DB == OVN {
		bins = append(bins, "ovsdb-server")
	}
	if combo.Translator == OVN {
		bins = append(bins, "ovn-northd")
	}
	if combo.Chassis == OVN {
		bins = append(bins, "ovn-controller")
	}
	if len(combo.OursCommands()) > 0 {
		bins = append(bins, "go")
	}
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Sprintf("%s not found in PATH (make deps installs it)", b)
		}
	}
	if _, err := os.Stat(vswitchSchema); err != nil {
		return fmt.Sprintf("Open_vSwitch schema %s missing (openvswitch-common)", vswitchSchema)
	}
	return ""
}

const vswitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// Start builds the topology described by cfg, skipping the test when the
// machine cannot run it and failing it when setup fails. Everything is torn
// down in t.Cleanup.
func Start(t testing.TB, cfg Config) *Testbed {
	t.Helper()
	if reason := Prerequisites(cfg.Combo); reason != "" {
		t.Skip("testbed: " + reason)
	}
	if err := cfg.setDefaults(t.Output()); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("testbed config: %v", err)
	}
	if missing := MissingCommands(cfg.RepoRoot, cfg.Combo); len(missing) > 0 && !cfg.external() {
		t.Skipf("not yet: combo %s needs ./cmd/%s, which does not exist", cfg.Combo, strings.Join(missing, ", ./cmd/"))
	}
	tb, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		report, err := tb.shutdown(t.Failed())
		if report != "" {
			t.Log(report)
		}
		if err != nil {
			t.Errorf("testbed cleanup: %v", err)
		}
	})
	return tb
}

// New builds the topology described by cfg without a test: the caller
// checks Prerequisites first and calls Close when done. When setup fails,
// New removes what it made (keeping the run directory) and returns an error
// that ends with the last lines of every daemon's log.
func New(cfg Config) (*Testbed, error) {
	if err := cfg.setDefaults(os.Stderr); err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("testbed config: %w", err)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		var rnd [3]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, fmt.Errorf("testbed: random prefix: %w", err)
		}
		prefix = "hc" + hex.EncodeToString(rnd[:])
	}
	dir := cfg.RunDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "hcnet-e2e-"); err != nil {
			return nil, fmt.Errorf("testbed: run dir: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: run dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb := &Testbed{
		cfg:       cfg,
		log:       cfg.Logger,
		ctx:       ctx,
		cancel:    cancel,
		Prefix:    prefix,
		RunDir:    dir,
		vms:       map[string]*VM{},
		underlays: map[int]string{},
	}
	tb.log.Info("testbed starting", "combo", cfg.Combo.String(), "prefix", tb.Prefix, "dir", dir)
	start := time.Now()
	if err := tb.setup(); err != nil {
		report, cerr := tb.shutdown(true)
		return nil, errors.Join(fmt.Errorf("testbed setup (combo %s, run dir %s): %w\n%s", cfg.Combo, dir, err, report), cerr)
	}
	tb.log.Info("testbed ready", "combo", cfg.Combo.String(), "took", time.Since(start).Round(time.Millisecond))
	return tb, nil
}

// Close stops every process the testbed started, by PID, deletes its
// namespaces and, unless Config.RunDir was set, its run directory.
func (tb *Testbed) Close() error {
	_, err := tb.shutdown(false)
	return err
}

// Config returns the configuration with defaults filled.
func (tb *Testbed) Config() Config { return tb.cfg }

func (tb *Testbed) setup() error {
	if cmds := tb.cfg.Combo.OursCommands(); len(cmds) > 0 {
		if err := tb.buildOurs(cmds); err != nil {
			return err
		}
	}
	if tb.cfg.external() {
		tb.Central = &Central{NBRemote: tb.cfg.NBRemote, SBRemote: tb.cfg.SBRemote}
		ms := fmt.Sprint(tb.cfg.BFDIntervalMS)
		if _, err := tb.NBCtl("set", "NB_Global", ".", "options:bfd-min-rx="+ms, "options:bfd-min-tx="+ms, "options:bfd-mult=3"); err != nil {
			return err
		}
	} else if err := tb.startCentral(); err != nil {
		return err
	}
	if err := tb.startNetworks(); err != nil {
		return err
	}
	for _, spec := range tb.cfg.Chassis {
		if err := tb.startChassis(spec); err != nil {
			return err
		}
	}
	return tb.waitChassisRegistered()
}

// bin returns the path of one of our binaries.
func (tb *Testbed) bin(name string) string { return filepath.Join(tb.binDir(), name) }

func (tb *Testbed) binDir() string {
	if tb.cfg.BinDir != "" {
		return tb.cfg.BinDir
	}
	return filepath.Join(tb.RunDir, "bin")
}

func (tb *Testbed) buildOurs(cmds []string) error {
	if err := os.MkdirAll(tb.binDir(), 0o755); err != nil {
		return fmt.Errorf("bin dir: %w", err)
	}
	var pkgs []string
	for _, c := range cmds {
		if _, err := os.Stat(tb.bin(c)); err == nil {
			continue
		}
		pkgs = append(pkgs, "./cmd/"+c)
	}
	if len(pkgs) == 0 {
		return nil
	}
	tb.log.Info("building", "packages", strings.Join(pkgs, " "))
	argv := append([]string{"go", "build", "-o", tb.binDir() + "/"}, pkgs...)
	cmd := exec.CommandContext(tb.ctx, argv[0], argv[1:]...)
	cmd.Dir = tb.cfg.RepoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

func (tb *Testbed) addNamespace(suffix string) (string, error) {
	name := tb.Prefix + "-" + suffix
	if err := createNamespace(name); err != nil {
		return "", err
	}
	tb.mu.Lock()
	tb.namespaces = append(tb.namespaces, name)
	tb.mu.Unlock()
	return name, nil
}

func (tb *Testbed) track(p *Process) {
	tb.mu.Lock()
	tb.procs = append(tb.procs, p)
	tb.mu.Unlock()
}

// startProc starts and tracks a daemon.
func (tb *Testbed) startProc(name, ns string, env []string, logPath string, argv ...string) (*Process, error) {
	p, err := startProcess(name, ns, env, logPath, argv...)
	if err != nil {
		return nil, err
	}
	tb.track(p)
	tb.log.Debug("started", "proc", name, "pid", p.PID())
	return p, nil
}

// veth makes a veth pair between two namespaces with transmit checksum
// offload off on both ends (TESTBED.md knob 4).
func (tb *Testbed) veth(nsA, a, nsB, b string) error {
	if err := vethPair(nsA, a, nsB, b); err != nil {
		return err
	}
	for _, e := range [][2]string{{nsA, a}, {nsB, b}} {
		if _, err := run(tb.ctx, 10*time.Second, e[0], nil, "ethtool", "-K", e[1], "tx", "off"); err != nil {
			return fmt.Errorf("disable tx offload on %s in %s: %w", e[1], e[0], err)
		}
	}
	return nil
}

// waitSocket polls until a unix socket accepts connections or the process
// serving it exits.
func waitSocket(path string, p *Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before listening on %s; log %s:\n%s", p.Name, path, p.LogPath, tail(p.LogPath, 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tb *Testbed) startCentral() error {
	ns, err := tb.addNamespace("central")
	if err != nil {
		return err
	}
	dir := filepath.Join(tb.RunDir, "central")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("central dir: %w", err)
	}
	c := &Central{NS: ns, Dir: dir}
	tb.Central = c
	for _, db := range []string{"nb", "sb"} {
		var remotes []string
		for i := 0; i < tb.cfg.DBReplicas; i++ {
			m := &DBServer{DB: db, Index: i, Sock: filepath.Join(dir, fmt.Sprintf("%s%d.sock", db, i))}
			if db == "nb" {
				c.NBServers = append(c.NBServers, m)
			} else {
				c.SBServers = append(c.SBServers, m)
			}
			remotes = append(remotes, "unix:"+m.Sock)
			if err := tb.createDB(m); err != nil {
				return err
			}
			// Start every member before waiting: a replica may listen only
			// once its cluster has a quorum.
			if err := tb.startDBServer(m); err != nil {
				return err
			}
		}
		ms := c.NBServers
		if db == "sb" {
			ms = c.SBServers
		}
		for _, m := range ms {
			if err := waitSocket(m.Sock, m.Proc, tb.cfg.ReadyTimeout); err != nil {
				return err
			}
		}
		if db == "nb" {
			c.NBRemote, c.NB = strings.Join(remotes, ","), c.NBServers[0].Proc
		} else {
			c.SBRemote, c.SB = strings.Join(remotes, ","), c.SBServers[0].Proc
		}
	}
	if _, err := tb.NBCtl("init"); err != nil {
		return err
	}
	ms := fmt.Sprint(tb.cfg.BFDIntervalMS)
	if _, err := tb.NBCtl("set", "NB_Global", ".", "options:bfd-min-rx="+ms, "options:bfd-min-tx="+ms, "options:bfd-mult=3"); err != nil {
		return err
	}
	for i := 0; i < tb.cfg.Translators; i++ {
		c.Translators = append(c.Translators, nil)
		if err := tb.StartTranslator(i); err != nil {
			return err
		}
	}
	return nil
}

// StartTranslator (re)starts translator instance i.
func (tb *Testbed) StartTranslator(i int) error {
	c := tb.Central
	if i < 0 || i >= len(c.Translators) {
		return fmt.Errorf("translator %d: have %d", i, len(c.Translators))
	}
	if p := c.Translators[i]; p != nil && !p.Exited() {
		return fmt.Errorf("translator %d: still running as pid %d", i, p.PID())
	}
	var p *Process
	var err error
	switch tb.cfg.Combo.Translator {
	case OVN:
		base := filepath.Join(c.Dir, fmt.Sprintf("ovn-northd-%d", i))
		p, err = tb.startProc(fmt.Sprintf("central/ovn-northd-%d", i), c.NS, nil, base+".out",
			"ovn-northd", "--ovnnb-db="+c.NBRemote, "--ovnsb-db="+c.SBRemote,
			"--pidfile="+base+".pid", "--log-file="+base+".log", "--unixctl="+base+".ctl")
		if p != nil {
			p.LogFiles = append(p.LogFiles, base+".log")
		}
	case Ours:
		p, err = tb.startProc(fmt.Sprintf("central/northd-%d", i), c.NS, nil,
			filepath.Join(c.Dir, fmt.Sprintf("northd-%d.log", i)),
			tb.bin("northd"), "--ovnnb-db", c.NBRemote, "--ovnsb-db", c.SBRemote)
	}
	if err != nil {
		return err
	}
	c.Translators[i] = p
	return nil
}

// StopTranslator stops translator instance i (SIGTERM, then SIGKILL).
func (tb *Testbed) StopTranslator(i int) error {
	c := tb.Central
	if i < 0 || i >= len(c.Translators) || c.Translators[i] == nil {
		return fmt.Errorf("translator %d: not started", i)
	}
	return c.Translators[i].Stop(5 * time.Second)
}

// KillTranslator kills translator instance i with SIGKILL (no clean exit:
// its lock goes when its session dies).
func (tb *Testbed) KillTranslator(i int) error {
	c := tb.Central
	if i < 0 || i >= len(c.Translators) || c.Translators[i] == nil {
		return fmt.Errorf("translator %d: not started", i)
	}
	return c.Translators[i].Kill()
}

func underlayIP(site, index int) string { return fmt.Sprintf("192.168.%d.%d", site, 10+index) }
func underlayRouter(site int) string    { return fmt.Sprintf("192.168.%d.254", site) }
func underlayCIDR(ip string) string     { return ip + "/24" }

// startNetworks creates the underlay bridge of each site, the router
// between sites and the external network.
func (tb *Testbed) startNetworks() error {
	rtr, err := tb.addNamespace("rtr")
	if err != nil {
		return err
	}
	tb.RouterNS = rtr
	if err := setSysctl(rtr, "net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	sites := map[int]bool{}
	for _, c := range tb.cfg.Chassis {
		sites[c.Site] = true
	}
	for site := range sites {
		ul, err := tb.addNamespace(fmt.Sprintf("ul%d", site))
		if err != nil {
			return err
		}
		tb.underlays[site] = ul
		if err := linuxBridge(ul, "br0"); err != nil {
			return err
		}
		dev := fmt.Sprintf("s%d", site)
		if err := tb.veth(rtr, dev, ul, "rtr"); err != nil {
			return err
		}
		if err := enslave(ul, "rtr", "br0"); err != nil {
			return err
		}
		if err := configureLink(rtr, dev, nil, 0, underlayCIDR(underlayRouter(site))); err != nil {
			return err
		}
	}
	ext, err := tb.addNamespace("ext")
	if err != nil {
		return err
	}
	tb.ExtNS = ext
	if err := linuxBridge(ext, "br0"); err != nil {
		return err
	}
	return configureLink(ext, "br0", nil, 0, ExternalHostIP+"/24")
}

// Shape replaces the root qdisc of the router's link into site's underlay,
// e.g. Shape(2, "netem", "delay", "20ms", "loss", "1%") or
// Shape(2, "tbf", "rate", "100mbit", "burst", "32kbit", "latency", "50ms").
func (tb *Testbed) Shape(site int, qdisc ...string) error {
	argv := append([]string{"tc", "qdisc", "replace", "dev", fmt.Sprintf("s%d", site), "root"}, qdisc...)
	_, err := run(tb.ctx, 10*time.Second, tb.RouterNS, nil, argv...)
	return err
}

// Unshape removes what Shape installed on site's link.
func (tb *Testbed) Unshape(site int) error {
	_, err := run(tb.ctx, 10*time.Second, tb.RouterNS, nil, "tc", "qdisc", "del", "dev", fmt.Sprintf("s%d", site), "root")
	return err
}

func (tb *Testbed) startChassis(spec ChassisSpec) error {
	ns, err := tb.addNamespace(spec.Name)
	if err != nil {
		return err
	}
	dir := filepath.Join(tb.RunDir, spec.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chassis %s dir: %w", spec.Name, err)
	}
	tb.mu.Lock()
	index := len(tb.chassis) + 1
	tb.mu.Unlock()
	c := &Chassis{Name: spec.Name, Site: spec.Site, Gateway: spec.Gateway, NS: ns, Dir: dir,
		IP: underlayIP(spec.Site, index), Broken: spec.Name == tb.cfg.BrokenChassis, tb: tb}
	tb.mu.Lock()
	tb.chassis = append(tb.chassis, c)
	tb.mu.Unlock()

	db := filepath.Join(dir, "conf.db")
	if _, err := run(tb.ctx, 30*time.Second, "", nil, "ovsdb-tool", "create", db, vswitchSchema); err != nil {
		return fmt.Errorf("chassis %s: create Open_vSwitch database: %w", c.Name, err)
	}
	base := filepath.Join(dir, "ovsdb-server")
	c.OVSDB, err = tb.startProc(c.Name+"/ovsdb-server", ns, c.env(), base+".out",
		"ovsdb-server", db, "--remote=punix:"+c.dbSock(), "--pidfile="+base+".pid",
		"--log-file="+base+".log", "--unixctl="+base+".ctl")
	if err != nil {
		return err
	}
	c.OVSDB.LogFiles = append(c.OVSDB.LogFiles, base+".log")
	if err := waitSocket(c.dbSock(), c.OVSDB, tb.cfg.ReadyTimeout); err != nil {
		return err
	}
	if _, err := c.Vsctl("--no-wait", "init"); err != nil {
		return err
	}
	if err := c.StartSwitch(); err != nil {
		return err
	}
	ul := tb.underlays[spec.Site]
	if err := tb.veth(ns, "ul0", ul, spec.Name); err != nil {
		return err
	}
	if err := enslave(ul, spec.Name, "br0"); err != nil {
		return err
	}
	args := []string{
		"--", "add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev",
		"--", "add-port", "br-phy", "ul0",
		"--", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev", "fail_mode=secure",
		"other_config:disable-in-band=true",
	}
	if spec.Gateway {
		if err := tb.veth(ns, "ex0", tb.ExtNS, spec.Name); err != nil {
			return err
		}
		if err := enslave(tb.ExtNS, spec.Name, "br0"); err != nil {
			return err
		}
		args = append(args, "--", "add-br", "br-ex", "--", "set", "Bridge", "br-ex", "datapath_type=netdev",
			"--", "add-port", "br-ex", "ex0")
	}
	if _, err := c.Vsctl(args...); err != nil {
		return err
	}
	if err := waitLink(ns, "br-phy", 20*time.Second); err != nil {
		return err
	}
	if err := configureLink(ns, "br-phy", nil, 0, underlayCIDR(c.IP)); err != nil {
		return err
	}
	if err := defaultRoute(ns, underlayRouter(spec.Site)); err != nil {
		return err
	}
	bridge := "br-int"
	if c.Broken {
		bridge = "br-broken"
		tb.log.Warn("chassis deliberately broken: its daemon manages br-broken, not br-int", "chassis", c.Name)
	}
	ids := []string{
		"external_ids:system-id=" + c.Name,
		"external_ids:hostname=" + c.Name,
		fmt.Sprintf("external_ids:ovn-remote=%q", tb.Central.SBRemote),
		"external_ids:ovn-encap-type=" + tb.cfg.EncapType,
		"external_ids:ovn-encap-ip=" + c.IP,
		"external_ids:ovn-bridge=" + bridge,
		"external_ids:ovn-bridge-datapath-type=netdev",
		fmt.Sprintf("external_ids:site=site%d", spec.Site),
	}
	if spec.Gateway {
		ids = append(ids, fmt.Sprintf("external_ids:ovn-bridge-mappings=%q", PhysicalNetwork+":br-ex"),
			"external_ids:ovn-cms-options=enable-chassis-as-gw")
	}
	if _, err := c.Vsctl(append([]string{"set", "Open_vSwitch", "."}, ids...)...); err != nil {
		return err
	}
	return c.StartDaemon()
}

func (c *Chassis) dbSock() string { return filepath.Join(c.Dir, "db.sock") }

// DBRemote is the "unix:PATH" remote of the chassis's Open_vSwitch database.
func (c *Chassis) DBRemote() string { return "unix:" + c.dbSock() }

// BrIntMgmt is the OpenFlow endpoint of the chassis's br-int.
func (c *Chassis) BrIntMgmt() string { return "unix:" + filepath.Join(c.Dir, "br-int.mgmt") }

// SwitchCtl is ovs-vswitchd's unixctl socket, for ovs-appctl -t.
func (c *Chassis) SwitchCtl() string { return filepath.Join(c.Dir, "ovs-vswitchd.ctl") }

func (c *Chassis) env() []string {
	return []string{"OVS_RUNDIR=" + c.Dir, "OVS_DBDIR=" + c.Dir, "OVS_LOGDIR=" + c.Dir,
		"OVN_RUNDIR=" + c.Dir, "OVN_DBDIR=" + c.Dir, "OVN_LOGDIR=" + c.Dir}
}

// Vsctl runs ovs-vsctl against the chassis's database.
func (c *Chassis) Vsctl(args ...string) (string, error) {
	argv := append([]string{"ovs-vsctl", "--db=" + c.DBRemote(), "--timeout=20"}, args...)
	out, err := run(c.tb.ctx, 30*time.Second, c.NS, c.env(), argv...)
	if err != nil {
		return out, fmt.Errorf("chassis %s: %w", c.Name, err)
	}
	return out, nil
}

// Ofctl runs ovs-ofctl -O OpenFlow13 CMD unix:<dir>/br-int.mgmt ARGS.
func (c *Chassis) Ofctl(cmd string, args ...string) (string, error) {
	argv := append([]string{"ovs-ofctl", "-O", "OpenFlow13", cmd, c.BrIntMgmt()}, args...)
	out, err := run(c.tb.ctx, 30*time.Second, "", nil, argv...)
	if err != nil {
		return out, fmt.Errorf("chassis %s: %w", c.Name, err)
	}
	return out, nil
}

// Appctl runs ovs-appctl against the chassis's ovs-vswitchd.
func (c *Chassis) Appctl(args ...string) (string, error) {
	argv := append([]string{"ovs-appctl", "-t", c.SwitchCtl()}, args...)
	out, err := run(c.tb.ctx, 30*time.Second, "", nil, argv...)
	if err != nil {
		return out, fmt.Errorf("chassis %s: %w", c.Name, err)
	}
	return out, nil
}

// FlowCount returns how many OpenFlow flows br-int holds.
func (c *Chassis) FlowCount() (int, error) {
	out, err := c.Ofctl("dump-flows", "--no-names")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "actions=") {
			n++
		}
	}
	return n, nil
}

// StartSwitch (re)starts ovs-vswitchd in the chassis namespace.
func (c *Chassis) StartSwitch() error {
	if c.Switch != nil && !c.Switch.Exited() {
		return fmt.Errorf("chassis %s: ovs-vswitchd still running as pid %d", c.Name, c.Switch.PID())
	}
	base := filepath.Join(c.Dir, "ovs-vswitchd")
	p, err := c.tb.startProc(c.Name+"/ovs-vswitchd", c.NS, c.env(), base+".out",
		"ovs-vswitchd", c.DBRemote(), "--pidfile="+base+".pid", "--log-file="+base+".log",
		"--unixctl="+c.SwitchCtl())
	if err != nil {
		return err
	}
	p.LogFiles = append(p.LogFiles, base+".log")
	c.Switch = p
	return waitSocket(c.SwitchCtl(), p, c.tb.cfg.ReadyTimeout)
}

// KillSwitch kills ovs-vswitchd with SIGKILL: the chassis's data plane
// stops at once (its taps remain, TESTBED.md knob 7).
func (c *Chassis) KillSwitch() error {
	if c.Switch == nil {
		return nil
	}
	return c.Switch.Kill()
}

// StartDaemon (re)starts the chassis daemon of the combo.
func (c *Chassis) StartDaemon() error {
	if c.Daemon != nil && !c.Daemon.Exited() {
		return fmt.Errorf("chassis %s: daemon still running as pid %d", c.Name, c.Daemon.PID())
	}
	var p *Process
	var err error
	switch c.tb.cfg.Combo.Chassis {
	case OVN:
		base := filepath.Join(c.Dir, "ovn-controller")
		p, err = c.tb.startProc(c.Name+"/ovn-controller", c.NS, c.env(), base+".out",
			"ovn-controller", c.DBRemote(), "--pidfile="+base+".pid", "--log-file="+base+".log")
		if p != nil {
			p.LogFiles = append(p.LogFiles, base+".log")
		}
	case Ours:
		argv := append([]string{c.tb.bin("chassis"), "--ovs-db", c.DBRemote(), "--ovs-rundir", c.Dir}, c.tb.cfg.ChassisArgs...)
		p, err = c.tb.startProc(c.Name+"/chassis", c.NS, c.env(), filepath.Join(c.Dir, "chassis.log"), argv...)
	}
	if err != nil {
		return err
	}
	c.Daemon = p
	return nil
}

// StopDaemon stops the chassis daemon (SIGTERM, then SIGKILL).
func (c *Chassis) StopDaemon() error {
	if c.Daemon == nil {
		return nil
	}
	return c.Daemon.Stop(5 * time.Second)
}

// KillDaemon kills the chassis daemon with SIGKILL.
func (c *Chassis) KillDaemon() error {
	if c.Daemon == nil {
		return nil
	}
	return c.Daemon.Kill()
}

// Chassis returns the named chassis, or nil.
func (tb *Testbed) Chassis(name string) *Chassis {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, c := range tb.chassis {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// AllChassis returns every chassis in start order.
func (tb *Testbed) AllChassis() []*Chassis {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*Chassis(nil), tb.chassis...)
}

// liveRemote lists the members whose server runs: one-shot OVS IDL clients
// (ovn-nbctl, ovn-sbctl) try a limited number of remotes, so a dead member
// in the list can make them give up.
func (tb *Testbed) liveRemote(ms []*DBServer, all string) string {
	var live []string
	for _, m := range ms {
		if m.Proc != nil && !m.Proc.Exited() {
			live = append(live, "unix:"+m.Sock)
		}
	}
	if len(live) == 0 {
		return all
	}
	return strings.Join(live, ",")
}

// Processes returns every process the testbed started, in start order.
func (tb *Testbed) Processes() []*Process {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*Process(nil), tb.procs...)
}

// Namespaces returns every namespace the testbed created.
func (tb *Testbed) Namespaces() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.namespaces...)
}

// NBCtl runs ovn-nbctl against the NB database.
func (tb *Testbed) NBCtl(args ...string) (string, error) {
	argv := append([]string{tb.ctl("nbctl"), "--db=" + tb.liveRemote(tb.Central.NBServers, tb.Central.NBRemote), "--timeout=20"}, args...)
	return run(tb.ctx, 30*time.Second, "", nil, argv...)
}

// SBCtl runs ovn-sbctl against the SB database.
func (tb *Testbed) SBCtl(args ...string) (string, error) {
	argv := append([]string{tb.ctl("sbctl"), "--db=" + tb.liveRemote(tb.Central.SBServers, tb.Central.SBRemote), "--timeout=20"}, args...)
	return run(tb.ctx, 30*time.Second, "", nil, argv...)
}

// ctl returns the nbctl or sbctl to run (Config.Ctl).
func (tb *Testbed) ctl(name string) string {
	if tb.cfg.Ctl == Ours {
		return tb.bin(name)
	}
	return "ovn-" + name
}

// MustNBCtl runs ovn-nbctl and fails t on error.
func (tb *Testbed) MustNBCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := tb.NBCtl(args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return strings.TrimSpace(out)
}

func (tb *Testbed) waitChassisRegistered() error {
	deadline := time.Now().Add(tb.cfg.ReadyTimeout)
	for {
		out, err := tb.SBCtl("--bare", "--columns=name", "list", "Chassis")
		have := map[string]bool{}
		for _, f := range strings.Fields(out) {
			have[f] = true
		}
		var missing []string
		for _, c := range tb.AllChassis() {
			if !have[c.Name] {
				missing = append(missing, c.Name)
			}
		}
		if err == nil && len(missing) == 0 {
			return nil
		}
		for _, name := range missing {
			if c := tb.Chassis(name); c != nil && c.Daemon != nil && c.Daemon.Exited() {
				return fmt.Errorf("chassis %s: daemon %s exited before registering; log %s:\n%s",
					name, c.Daemon.Name, c.Daemon.LogPath, tail(c.Daemon.LogPath, 20))
			}
		}
		if time.Now().After(deadline) {
			var logs []string
			for _, name := range missing {
				if c := tb.Chassis(name); c != nil && c.Daemon != nil {
					logs = append(logs, c.Daemon.LogFiles...)
				}
			}
			return fmt.Errorf("chassis %s not registered in SB Chassis after %s (sbctl error: %v); check the chassis daemon logs %s and that %s is reachable",
				strings.Join(missing, ", "), tb.cfg.ReadyTimeout, err, strings.Join(logs, " "), tb.Central.SBRemote)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shutdown stops every process by PID (reverse start order) and deletes
// every namespace. When failed, it returns the daemons' log tails as a
// report and keeps the run directory; otherwise it removes the run
// directory unless Config.RunDir chose it. An attached testbed also
// removes its VMs' ports from their chassis's br-int.
func (tb *Testbed) shutdown(failed bool) (string, error) {
	tb.mu.Lock()
	procs := append([]*Process(nil), tb.procs...)
	namespaces := append([]string(nil), tb.namespaces...)
	vms := make([]*VM, 0, len(tb.vms))
	for _, vm := range tb.vms {
		vms = append(vms, vm)
	}
	tb.mu.Unlock()
	var errs []error
	if tb.attached {
		for _, vm := range vms {
			if _, err := vm.Chassis.Vsctl("--if-exists", "del-port", "br-int", vm.OVSPort); err != nil {
				errs = append(errs, err)
			}
		}
	}
	tb.cancel()
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(5 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	var report string
	if failed && len(procs) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "testbed %s (combo %s) failed; run directory kept: %s\n", tb.Prefix, tb.cfg.Combo, tb.RunDir)
		for _, p := range procs {
			// The daemon's own log file when it has one, else its output.
			f := p.LogFiles[len(p.LogFiles)-1]
			if st, err := os.Stat(f); err != nil || st.Size() == 0 {
				f = p.LogPath
			}
			fmt.Fprintf(&b, "---- %s (pid %d): %s, last lines:\n%s\n", p.Name, p.PID(), f, tail(f, 12))
		}
		report = b.String()
	}
	for i := len(namespaces) - 1; i >= 0; i-- {
		if err := deleteNamespace(namespaces[i]); err != nil {
			errs = append(errs, err)
		}
	}
	if !failed && tb.cfg.RunDir == "" {
		if err := os.RemoveAll(tb.RunDir); err != nil {
			errs = append(errs, fmt.Errorf("remove run dir: %w", err))
		}
	}
	return report, errors.Join(errs...)
}

// DBServer is one member of the NB or SB database.
type DBServer struct {
	// DB is "nb" or "sb"; Index its member number.
	DB    string
	Index int
	// Sock is its unix socket; Proc the running server (nil before start).
	Sock string
	Proc *Process

	path string // OVN: database file; ours: data directory
	ctl  string // OVN: unixctl socket
}

func dbSchemaName(db string) (file, name string) {
	if db == "nb" {
		return "ovn-nb.ovsschema", "OVN_Northbound"
	}
	return "ovn-sb.ovsschema", "OVN_Southbound"
}

// raftAddress is member i's Raft address on the central namespace's own
// loopback (isolated, so fixed ports cannot collide with anything).
func raftAddress(db string, i int) string {
	base := 6700
	if db == "sb" {
		base = 6710
	}
	return fmt.Sprintf("tcp:127.0.0.1:%d", base+i)
}

// createDB prepares member m's storage: a standalone database, or a cluster
// created by member 0 and joined by the others.
func (tb *Testbed) createDB(m *DBServer) error {
	dir := tb.Central.Dir
	schemaFile, dbName := dbSchemaName(m.DB)
	if tb.cfg.Combo.DB == Ours {
		m.path = filepath.Join(dir, fmt.Sprintf("%sdb%d-data", m.DB, m.Index))
		return nil
	}
	m.path = filepath.Join(dir, fmt.Sprintf("%s%d.db", m.DB, m.Index))
	m.ctl = filepath.Join(dir, fmt.Sprintf("%s%d-ovsdb-server.ctl", m.DB, m.Index))
	schema := filepath.Join(tb.cfg.RepoRoot, "schema", schemaFile)
	var argv []string
	switch {
	case tb.cfg.DBReplicas == 1:
		argv = []string{"ovsdb-tool", "create", m.path, schema}
	case m.Index == 0:
		argv = []string{"ovsdb-tool", "create-cluster", m.path, schema, raftAddress(m.DB, 0)}
	default:
		argv = []string{"ovsdb-tool", "join-cluster", m.path, dbName, raftAddress(m.DB, m.Index), raftAddress(m.DB, 0)}
	}
	if _, err := run(tb.ctx, 30*time.Second, "", nil, argv...); err != nil {
		return fmt.Errorf("create %s database member %d: %w", m.DB, m.Index, err)
	}
	return nil
}

func (tb *Testbed) dbServer(db string, i int) (*DBServer, error) {
	var ms []*DBServer
	switch db {
	case "nb":
		ms = tb.Central.NBServers
	case "sb":
		ms = tb.Central.SBServers
	default:
		return nil, fmt.Errorf("database %q: want nb or sb", db)
	}
	if i < 0 || i >= len(ms) {
		return nil, fmt.Errorf("%s member %d: have %d", db, i, len(ms))
	}
	return ms[i], nil
}

// StartDBServer (re)starts member i of db ("nb" or "sb") on its existing
// storage.
func (tb *Testbed) StartDBServer(db string, i int) error {
	m, err := tb.dbServer(db, i)
	if err != nil {
		return err
	}
	if err := tb.startDBServer(m); err != nil {
		return err
	}
	return waitSocket(m.Sock, m.Proc, tb.cfg.ReadyTimeout)
}

func (tb *Testbed) startDBServer(m *DBServer) error {
	db, i := m.DB, m.Index
	if m.Proc != nil && !m.Proc.Exited() {
		return fmt.Errorf("%s member %d: still running as pid %d", db, i, m.Proc.PID())
	}
	c := tb.Central
	var p *Process
	var err error
	switch tb.cfg.Combo.DB {
	case OVN:
		base := filepath.Join(c.Dir, fmt.Sprintf("%s%d-ovsdb-server", db, i))
		p, err = tb.startProc(fmt.Sprintf("central/%s%d-ovsdb-server", db, i), c.NS, nil, base+".out",
			"ovsdb-server", "--remote=punix:"+m.Sock, "--pidfile="+base+".pid",
			"--log-file="+base+".log", "--unixctl="+m.ctl, m.path)
		if p != nil {
			p.LogFiles = append(p.LogFiles, base+".log")
		}
	case Ours:
		name := db + "db"
		argv := []string{tb.bin(name), "--data-dir", m.path, "--listen", "punix:" + m.Sock}
		if tb.cfg.DBReplicas > 1 {
			var members []string
			for j := 0; j < tb.cfg.DBReplicas; j++ {
				members = append(members, fmt.Sprintf("%d=%s", j+1, strings.TrimPrefix(raftAddress(db, j), "tcp:")))
			}
			argv = append(argv, "--replica-id", fmt.Sprint(i+1), "--raft-address", strings.TrimPrefix(raftAddress(db, i), "tcp:"),
				"--initial-members", strings.Join(members, ","))
		}
		p, err = tb.startProc(fmt.Sprintf("central/%s%d", name, i), c.NS, nil, filepath.Join(c.Dir, fmt.Sprintf("%s%d.log", name, i)), argv...)
	}
	if err != nil {
		return err
	}
	m.Proc = p
	return nil
}

// KillDBServer kills member i of db with SIGKILL.
func (tb *Testbed) KillDBServer(db string, i int) error {
	m, err := tb.dbServer(db, i)
	if err != nil {
		return err
	}
	if m.Proc == nil {
		return nil
	}
	return m.Proc.Kill()
}

// DBLeader returns the index of db's Raft leader, asking each running
// member (ovsdb-server's cluster/status, or "nbdb|sbdb cluster status").
func (tb *Testbed) DBLeader(db string) (int, error) {
	if tb.cfg.DBReplicas < 2 {
		return 0, fmt.Errorf("%s leader: the database is not clustered", db)
	}
	_, dbName := dbSchemaName(db)
	ms := tb.Central.NBServers
	if db == "sb" {
		ms = tb.Central.SBServers
	}
	for _, m := range ms {
		if m.Proc == nil || m.Proc.Exited() {
			continue
		}
		argv := []string{"ovs-appctl", "-t", m.ctl, "cluster/status", dbName}
		want := "Role: leader"
		if tb.cfg.Combo.DB == Ours {
			argv = []string{tb.bin(db + "db"), "cluster", "status", "--data-dir", m.path, "--timeout", "5s"}
			want = fmt.Sprintf("Replica: %d (leader)", m.Index+1)
		}
		out, err := run(tb.ctx, 10*time.Second, "", nil, argv...)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.TrimSpace(l) == want {
				return m.Index, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no member reports Role: leader", db)
}
