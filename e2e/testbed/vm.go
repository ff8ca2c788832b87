package testbed

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// VMSpec describes a VM: a namespace whose eth0 is plugged into br-int of a
// chassis and bound to a logical switch port.
type VMSpec struct {
	// Name names the VM (namespace suffix); at most 10 characters.
	Name string
	// Chassis is the chassis it runs on.
	Chassis string
	// Port is the logical switch port (external_ids:iface-id). Default Name.
	Port string
	// MAC is eth0's MAC address; must match the port's addresses.
	MAC string
	// CIDR is eth0's address, e.g. "10.0.1.11/24"; empty leaves eth0
	// unnumbered (for DHCP).
	CIDR string
	// Gateway, when set, becomes the default route.
	Gateway string
	// MTU of eth0. Default VMMTU.
	MTU int
}

// VM is a running VM (or, for ExternalHost, the external namespace).
type VM struct {
	Spec VMSpec
	// NS is its namespace.
	NS string
	// Chassis is the chassis it is plugged into (nil for the external host).
	Chassis *Chassis
	// OVSPort is the name of its port on br-int.
	OVSPort string

	tb *Testbed
}

// AddVM creates a VM and plugs it into br-int of its chassis.
func (tb *Testbed) AddVM(spec VMSpec) (*VM, error) {
	if spec.Name == "" || len(spec.Name) > 10 {
		return nil, fmt.Errorf("vm %q: name wants 1 to 10 characters", spec.Name)
	}
	if spec.Port == "" {
		spec.Port = spec.Name
	}
	if spec.MTU == 0 {
		spec.MTU = VMMTU
	}
	mac, err := net.ParseMAC(spec.MAC)
	if err != nil {
		return nil, fmt.Errorf("vm %s: mac %q: %w", spec.Name, spec.MAC, err)
	}
	c := tb.Chassis(spec.Chassis)
	if c == nil {
		return nil, fmt.Errorf("vm %s: no chassis %q", spec.Name, spec.Chassis)
	}
	tb.mu.Lock()
	_, dup := tb.vms[spec.Name]
	tb.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("vm %s: already exists", spec.Name)
	}
	ns, err := tb.addNamespace("vm-" + spec.Name)
	if err != nil {
		return nil, err
	}
	vm := &VM{Spec: spec, NS: ns, Chassis: c, OVSPort: "vm-" + spec.Name, tb: tb}
	if err := tb.veth(ns, "eth0", c.NS, vm.OVSPort); err != nil {
		return nil, err
	}
	if err := configureLink(ns, "eth0", mac, spec.MTU, spec.CIDR); err != nil {
		return nil, err
	}
	if spec.Gateway != "" {
		if err := defaultRoute(ns, spec.Gateway); err != nil {
			return nil, err
		}
	}
	if _, err := c.Vsctl("add-port", "br-int", vm.OVSPort, "--", "set", "Interface", vm.OVSPort,
		fmt.Sprintf("external_ids:iface-id=%q", spec.Port)); err != nil {
		return nil, err
	}
	tb.mu.Lock()
	tb.vms[spec.Name] = vm
	tb.mu.Unlock()
	return vm, nil
}

// MustAddVM is AddVM that fails t on error.
func (tb *Testbed) MustAddVM(t interface {
	Helper()
	Fatalf(string, ...any)
}, spec VMSpec) *VM {
	t.Helper()
	vm, err := tb.AddVM(spec)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return vm
}

// VM returns the named VM, or nil.
func (tb *Testbed) VM(name string) *VM {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.vms[name]
}

// ExternalHost returns the external namespace as a pingable host with
// address ExternalHostIP.
func (tb *Testbed) ExternalHost() *VM {
	return &VM{Spec: VMSpec{Name: "ext", CIDR: ExternalHostIP + "/24"}, NS: tb.ExtNS, tb: tb}
}

// IP returns the VM's configured address without prefix length.
func (vm *VM) IP() string {
	ip, _, _ := strings.Cut(vm.Spec.CIDR, "/")
	return ip
}

func (vm *VM) where() string {
	if vm.Chassis == nil {
		return fmt.Sprintf("%s (netns %s, external network)", vm.Spec.Name, vm.NS)
	}
	return fmt.Sprintf("%s (netns %s, port %s, mac %s, ip %s, on chassis %s)", vm.Spec.Name, vm.NS, vm.Spec.Port, vm.Spec.MAC, vm.Spec.CIDR, vm.Chassis.Name)
}

// Exec runs a command inside the VM's namespace.
func (vm *VM) Exec(timeout time.Duration, argv ...string) (string, error) {
	return run(vm.tb.ctx, timeout, vm.NS, nil, argv...)
}

// PingOnce sends one echo request and reports whether a reply came within
// wait.
func (vm *VM) PingOnce(dst string, wait time.Duration) bool {
	_, err := vm.Exec(wait+5*time.Second, "ping", "-n", "-q", "-c", "1", "-W", fmt.Sprintf("%.3f", wait.Seconds()), dst)
	return err == nil
}

// Ping polls with single pings (each waiting up to 300 ms for its reply)
// until one is answered, and returns how long that took. On timeout the
// error explains what to check next.
func (vm *VM) Ping(dst string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		if vm.PingOnce(dst, 300*time.Millisecond) {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s", vm.tb.Explain(vm, dst, fmt.Sprintf("no echo reply within %s", timeout)))
		}
	}
}

// ExpectNoReply sends count pings (one second apart at most) and returns an
// error if any is answered.
func (vm *VM) ExpectNoReply(dst string, count int) error {
	out, err := vm.Exec(time.Duration(count+5)*time.Second, "ping", "-n", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "1", dst)
	st := ParsePing(out)
	if st.Received > 0 {
		return fmt.Errorf("ping from %s to %s: %d of %d answered, want none (isolation or ACL not enforced); output:\n%s", vm.where(), dst, st.Received, st.Transmitted, out)
	}
	if st.Transmitted == 0 {
		return fmt.Errorf("ping from %s to %s did not run: %v", vm.where(), dst, err)
	}
	return nil
}

// PingStats sends count pings 200 ms apart and returns what ping reported.
func (vm *VM) PingStats(dst string, count int) (PingStats, error) {
	out, err := vm.Exec(time.Duration(count)*time.Second+10*time.Second, "ping", "-n", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "2", dst)
	st := ParsePing(out)
	if st.Transmitted == 0 {
		return st, fmt.Errorf("ping from %s to %s did not run: %v", vm.where(), dst, err)
	}
	return st, nil
}

// Lease is what a DHCP client was offered.
type Lease struct {
	// IP is the offered address; Prefix its prefix length (busybox reports
	// the subnet mask option as a length).
	IP        string
	Prefix    int
	Router    string
	MTU       string
	ServerID  string
	LeaseTime string
}

// maskPrefix turns "24" or "255.255.255.0" into 24 (-1 when neither).
func maskPrefix(m string) int {
	if n, err := strconv.Atoi(m); err == nil && n >= 0 && n <= 32 {
		return n
	}
	ip := net.ParseIP(m).To4()
	if ip == nil {
		return -1
	}
	ones, bits := net.IPMask(ip).Size()
	if bits == 0 {
		return -1
	}
	return ones
}

// DHCP runs busybox udhcpc on eth0 and returns the lease (the address is
// not applied: use ApplyLease).
func (vm *VM) DHCP(timeout time.Duration) (Lease, error) {
	script := filepath.Join(vm.tb.RunDir, "udhcpc.script")
	const body = "#!/bin/sh\ncase \"$1\" in bound|renew) echo \"lease ip=$ip mask=$mask router=$router mtu=$mtu serverid=$serverid lease=$lease\";; esac\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return Lease{}, fmt.Errorf("dhcp script: %w", err)
	}
	tries := int(timeout/time.Second) + 1
	out, err := vm.Exec(timeout+10*time.Second, "busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n",
		"-t", fmt.Sprint(tries), "-T", "1", "-s", script)
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "lease "); ok {
			var ls Lease
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "ip":
					ls.IP = v
				case "mask":
					ls.Prefix = maskPrefix(v)
				case "router":
					ls.Router = v
				case "mtu":
					ls.MTU = v
				case "serverid":
					ls.ServerID = v
				case "lease":
					ls.LeaseTime = v
				}
			}
			return ls, nil
		}
	}
	return Lease{}, fmt.Errorf("%s", vm.tb.Explain(vm, "DHCP server (broadcast)", fmt.Sprintf("udhcpc got no lease within %s (%v); its output:\n%s", timeout, err, out)))
}

// ApplyLease configures eth0 with the leased address and default route.
func (vm *VM) ApplyLease(l Lease) error {
	ip := net.ParseIP(l.IP).To4()
	if ip == nil || l.Prefix < 0 || l.Prefix > 32 {
		return fmt.Errorf("vm %s: lease %+v: bad ip or prefix", vm.Spec.Name, l)
	}
	vm.Spec.CIDR = fmt.Sprintf("%s/%d", ip, l.Prefix)
	if err := configureLink(vm.NS, "eth0", nil, 0, vm.Spec.CIDR); err != nil {
		return err
	}
	if l.Router != "" {
		vm.Spec.Gateway = strings.Fields(l.Router)[0]
		return defaultRoute(vm.NS, vm.Spec.Gateway)
	}
	return nil
}

// TCP connects from vm to dst:port where server (a VM or the external
// host) listens on all its addresses, sends a line, and returns the source
// address the server saw: the check for statefulness and NAT.
func (tb *Testbed) TCP(from, server *VM, dst string, port int, timeout time.Duration) (string, error) {
	var ln net.Listener
	if err := inNamespace(server.NS, func() error {
		var err error
		ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		return err
	}); err != nil {
		return "", fmt.Errorf("listen on %s port %d: %w", server.where(), port, err)
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		src, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		seen <- src
		if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			_, _ = io.WriteString(c, src+"\n")
		}
	}()
	var conn net.Conn
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	if err := inNamespace(from.NS, func() error {
		var err error
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp4", fmt.Sprintf("%s:%d", dst, port))
		return err
	}); err != nil {
		return "", fmt.Errorf("%s", tb.Explain(from, dst, fmt.Sprintf("tcp connect to %s:%d (server %s): %v", dst, port, server.where(), err)))
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, "hello\n"); err != nil {
		return "", fmt.Errorf("tcp %s -> %s:%d: write: %w", from.Spec.Name, dst, port, err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("%s", tb.Explain(from, dst, fmt.Sprintf("tcp %s:%d connected but no data came back (%v): a dropped reply direction, check the ACLs and TX offload", dst, port, err)))
	}
	return strings.TrimSpace(reply), nil
}

// Throughput sends n bytes over TCP from vm to dst:port, where server
// listens, and returns the goodput in bit/s measured until the server has
// read everything.
func (tb *Testbed) Throughput(from, server *VM, dst string, port int, n int64, timeout time.Duration) (float64, error) {
	var ln net.Listener
	if err := inNamespace(server.NS, func() error {
		var err error
		ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		return err
	}); err != nil {
		return 0, fmt.Errorf("listen on %s port %d: %w", server.where(), port, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		got, _ := io.Copy(io.Discard, c)
		_, _ = fmt.Fprintf(c, "%d\n", got)
	}()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	var conn net.Conn
	if err := inNamespace(from.NS, func() error {
		var err error
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp4", fmt.Sprintf("%s:%d", dst, port))
		return err
	}); err != nil {
		return 0, fmt.Errorf("%s", tb.Explain(from, dst, fmt.Sprintf("tcp connect to %s:%d: %v", dst, port, err)))
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	start := time.Now()
	if _, err := io.CopyN(conn, zeroReader{}, n); err != nil {
		return 0, fmt.Errorf("tcp %s -> %s:%d: send %d bytes: %w", from.Spec.Name, dst, port, n, err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, fmt.Errorf("tcp %s -> %s:%d: close write: %w", from.Spec.Name, dst, port, err)
	}
	ack, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("tcp %s -> %s:%d: no count back from the server: %w", from.Spec.Name, dst, port, err)
	}
	elapsed := time.Since(start)
	if got := strings.TrimSpace(ack); got != fmt.Sprint(n) {
		return 0, fmt.Errorf("tcp %s -> %s:%d: server read %s bytes, sent %d", from.Spec.Name, dst, port, got, n)
	}
	return float64(n*8) / elapsed.Seconds(), nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
