package ovstest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// Switch is a running ovsdb-server + ovs-vswitchd pair.
type Switch struct {
	t     testing.TB
	Dir   string
	NetNS string // the namespace ovs-vswitchd runs in (its netdev taps live there)
	env   []string
}

// Require skips the test when OVS cannot run here.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		t.Skip("HCNET_SKIP_OVS=1")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run ovs-vswitchd")
	}
	for _, b := range []string{"ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
	if _, err := os.Stat("/usr/share/openvswitch/vswitch.ovsschema"); err != nil {
		t.Skip("vswitch.ovsschema not installed")
	}
}

// Start runs a private switch; it is stopped when the test ends.
func Start(t testing.TB) *Switch {
	t.Helper()
	Require(t)
	dir, err := os.MkdirTemp("", "hcof")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Switch{t: t, Dir: dir, env: append(os.Environ(), "OVS_RUNDIR="+dir, "OVS_DBDIR="+dir, "OVS_LOGDIR="+dir, "OVS_SYSCONFDIR="+dir)}
	if out, err := exec.Command("ovsdb-tool", "create", filepath.Join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema").CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v: %s", err, out)
	}
	s.spawn("ovsdb-server", "--remote=punix:"+filepath.Join(dir, "db.sock"), "--unixctl="+filepath.Join(dir, "db.ctl"),
		"--log-file="+filepath.Join(dir, "db.log"), filepath.Join(dir, "conf.db"))
	s.waitFor(filepath.Join(dir, "db.sock"))
	s.Vsctl("--no-wait", "init")
	// Each userspace datapath owns a tap named ovs-netdev: give this one
	// its own network namespace so it never collides with another switch.
	var rnd [4]byte
	rand.Read(rnd[:])
	s.NetNS = fmt.Sprintf("hcof%x", rnd)
	if out, err := exec.Command("ip", "netns", "add", s.NetNS).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", s.NetNS, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", s.NetNS).Run() })
	s.spawn("ip", "netns", "exec", s.NetNS, "ovs-vswitchd", "unix:"+filepath.Join(dir, "db.sock"), "--unixctl="+filepath.Join(dir, "vs.ctl"),
		"--log-file="+filepath.Join(dir, "vs.log"))
	s.waitFor(filepath.Join(dir, "vs.ctl"))
	return s
}

func (s *Switch) spawn(name string, args ...string) {
	s.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = s.env
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

func (s *Switch) waitFor(path string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("%s did not appear", path)
}

func (s *Switch) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// Vsctl runs ovs-vsctl against the private database.
func (s *Switch) Vsctl(args ...string) string {
	s.t.Helper()
	out, err := s.run("ovs-vsctl", append([]string{"--db=unix:" + filepath.Join(s.Dir, "db.sock"), "--timeout=30"}, args...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// AddBridge creates a netdev bridge in secure fail mode and returns its
// OpenFlow management socket.
func (s *Switch) AddBridge(name string) string {
	s.t.Helper()
	s.Vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev", "fail_mode=secure",
		"protocols=OpenFlow10,OpenFlow13,OpenFlow15")
	mgmt := filepath.Join(s.Dir, name+".mgmt")
	s.waitFor(mgmt)
	return mgmt
}

// Ofctl runs ovs-ofctl -O OpenFlow13 with the given arguments.
func (s *Switch) Ofctl(args ...string) (string, error) {
	return s.run("ovs-ofctl", append([]string{"-O", "OpenFlow13"}, args...)...)
}

// AddFlows installs flows (ovs-ofctl text, one per line) with add-flows.
func (s *Switch) AddFlows(mgmt string, flows []string) error {
	f := filepath.Join(s.Dir, fmt.Sprintf("flows-%d.txt", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(strings.Join(flows, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	_, err := s.Ofctl("add-flows", "unix:"+mgmt, f)
	return err
}

var statsRE = regexp.MustCompile(`(duration|n_packets|n_bytes|idle_age|hard_age)=[^ ,]*,? ?`)

// DumpFlows returns the bridge's flows without statistics, sorted.
func (s *Switch) DumpFlows(mgmt string) []string {
	s.t.Helper()
	return s.DumpFlowsVersion(mgmt, "OpenFlow13")
}

// DumpFlowsVersion is DumpFlows in a given OpenFlow version ("OpenFlow15").
func (s *Switch) DumpFlowsVersion(mgmt, version string) []string {
	s.t.Helper()
	out, err := s.run("ovs-ofctl", "-O", version, "dump-flows", "unix:"+mgmt)
	if err != nil {
		s.t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "OFPST_FLOW") || strings.HasPrefix(l, "OFPST_") {
			continue
		}
		lines = append(lines, statsRE.ReplaceAllString(l, ""))
	}
	sort.Strings(lines)
	return lines
}

// DumpGroups returns the bridge's groups, sorted.
func (s *Switch) DumpGroups(mgmt string) []string {
	s.t.Helper()
	return s.DumpGroupsVersion(mgmt, "OpenFlow13")
}

// DumpGroupsVersion is DumpGroups in a given OpenFlow version
// ("OpenFlow15" shows selection_method).
func (s *Switch) DumpGroupsVersion(mgmt, version string) []string {
	s.t.Helper()
	out, err := s.run("ovs-ofctl", "-O", version, "dump-groups", "unix:"+mgmt)
	if err != nil {
		s.t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "OFPST_GROUP") {
			continue
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return lines
}

// Env returns the environment (OVS_RUNDIR etc.) the switch's tools use.
func (s *Switch) Env() []string { return append([]string(nil), s.env...) }

// Trace runs ofproto/trace on a bridge for a flow in ovs-ofctl syntax.
func (s *Switch) Trace(bridge, flow string) string {
	s.t.Helper()
	out, err := s.run("ovs-appctl", "-t", filepath.Join(s.Dir, "vs.ctl"), "ofproto/trace", bridge, flow)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// Conn is a minimal OpenFlow 1.3 connection for sending encoded messages.
type Conn struct {
	c net.Conn
}

// Dial connects to a bridge's management socket and exchanges hellos.
func Dial(mgmt string) (*Conn, error) {
	c, err := net.DialTimeout("unix", mgmt, 10*time.Second)
	if err != nil {
		return nil, err
	}
	hello := []byte{4, 0, 0, 8, 0, 0, 0, 1}
	if _, err := c.Write(hello); err != nil {
		c.Close()
		return nil, err
	}
	return &Conn{c: c}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

func (c *Conn) read() ([]byte, error) {
	h := make([]byte, 8)
	if _, err := io.ReadFull(c.c, h); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n < 8 {
		return nil, fmt.Errorf("bad OpenFlow length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, h)
	if _, err := io.ReadFull(c.c, msg[8:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// Send writes msgs, then a barrier, and waits for the barrier reply. It
// returns the OpenFlow errors received, as text naming the failed xid.
// Non-error replies are passed to onReply when it is non-nil.
func (c *Conn) Send(msgs [][]byte, onReply func([]byte)) error {
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.c.SetDeadline(time.Time{})
	for _, m := range msgs {
		if _, err := c.c.Write(m); err != nil {
			return err
		}
	}
	const barrierXID = 0xfffffff0
	if _, err := c.c.Write([]byte{4, 20, 0, 8, 0xff, 0xff, 0xff, 0xf0}); err != nil {
		return err
	}
	var errs []string
	for {
		msg, err := c.read()
		if err != nil {
			return err
		}
		xid := binary.BigEndian.Uint32(msg[4:])
		switch msg[1] {
		case 0: // hello
		case 2: // echo request
			r := append([]byte(nil), msg...)
			r[1] = 3
			c.c.Write(r)
		case 1: // error
			typ, code := binary.BigEndian.Uint16(msg[8:]), binary.BigEndian.Uint16(msg[10:])
			errs = append(errs, fmt.Sprintf("xid %d: OpenFlow error type %d code %d", xid, typ, code))
		case 21:
			if xid == barrierXID {
				if len(errs) > 0 {
					return fmt.Errorf("%s", strings.Join(errs, "; "))
				}
				return nil
			}
		default:
			if onReply != nil {
				onReply(msg)
			}
		}
	}
}

// Recv returns the next message other than hello or echo, answering echo
// requests, waiting at most timeout.
func (c *Conn) Recv(timeout time.Duration) ([]byte, error) {
	c.c.SetDeadline(time.Now().Add(timeout))
	defer c.c.SetDeadline(time.Time{})
	for {
		msg, err := c.read()
		if err != nil {
			return nil, err
		}
		switch msg[1] {
		case 0:
		case 2:
			r := append([]byte(nil), msg...)
			r[1] = 3
			c.c.Write(r)
		default:
			return msg, nil
		}
	}
}

// Run runs an OVS tool (ovs-ofctl, ovs-appctl, ...) against the private
// switch's environment.
func (s *Switch) Run(name string, args ...string) (string, error) { return s.run(name, args...) }
