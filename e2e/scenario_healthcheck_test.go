package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// Load balancer health checks (ovn-nb(5) Load_Balancer_Health_Check,
// ovn-sb(5) Service_Monitor): the translator turns the health check into
// one Service_Monitor per backend, the chassis that binds the backend's
// port probes it and writes the status, and the translator leaves offline
// backends out of the VIP.

func init() {
	extraScenarios = append(extraScenarios, scenario{"lb-health-check", testLBHealthCheck},
		scenario{"lb-health-check-udp", testLBHealthCheckUDP})
}

const (
	hcVIP   = "10.0.77.10" // lb-h's VIP, routed through lr-h
	hcPort  = 5801
	hcSrcIP = "10.0.7.2" // the probes' source address on ls-h
)

// healthNet builds router lr-h between ls-h (10.0.7.0/24: backends vmh1 on
// hv1, vmh2 on hv2) and ls-hc (10.0.8.0/24: client vmhc on hv2).
func healthNet(t *testing.T, s *suite) (b1, b2, client *testbed.VM) {
	t.Helper()
	nbctl(t, s, "--may-exist", "lr-add", "lr-h")
	routerPort(t, s, "lr-h", "lr-h-ls", "00:00:00:00:f7:01", "10.0.7.1/24", "ls-h")
	routerPort(t, s, "lr-h", "lr-h-lsc", "00:00:00:00:f8:01", "10.0.8.1/24", "ls-hc")
	addPort(t, s, "ls-h", "vmh1", "0a:00:00:00:07:11", "10.0.7.11")
	addPort(t, s, "ls-h", "vmh2", "0a:00:00:00:07:12", "10.0.7.12")
	addPort(t, s, "ls-hc", "vmhc", "0a:00:00:00:08:13", "10.0.8.13")
	b1 = vm(t, s, testbed.VMSpec{Name: "vmh1", Chassis: "hv1", MAC: "0a:00:00:00:07:11", CIDR: "10.0.7.11/24", Gateway: "10.0.7.1"})
	b2 = vm(t, s, testbed.VMSpec{Name: "vmh2", Chassis: "hv2", MAC: "0a:00:00:00:07:12", CIDR: "10.0.7.12/24", Gateway: "10.0.7.1"})
	client = vm(t, s, testbed.VMSpec{Name: "vmhc", Chassis: "hv2", MAC: "0a:00:00:00:08:13", CIDR: "10.0.8.13/24", Gateway: "10.0.8.1"})
	return b1, b2, client
}

// tcpServer is serveTCP's answer ("<vm> <client>") on one VM that can be
// stopped and started again.
type tcpServer struct {
	vm   *testbed.VM
	port int
	mu   sync.Mutex
	ln   net.Listener
}

func (s *tcpServer) start(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return
	}
	if err := s.vm.Do(func() error {
		var err error
		s.ln, err = net.Listen("tcp", fmt.Sprintf(":%d", s.port))
		return err
	}); err != nil {
		t.Fatalf("%s: listen on port %d: %v", s.vm.Spec.Name, s.port, err)
	}
	ln, name := s.ln, s.vm.Spec.Name
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				src, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
					_, _ = fmt.Fprintf(c, "%s %s\n", name, src)
				}
			}()
		}
	}()
}

func (s *tcpServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
}

// monitorStatus returns the southbound Service_Monitor status of backend
// ip:port ("" when unset, "missing" when there is no such row).
func monitorStatus(t *testing.T, s *suite, ip string, port int) string {
	t.Helper()
	out, err := s.tb.SBCtl("--bare", "--columns=_uuid,status", "find", "Service_Monitor", "ip="+ip, fmt.Sprintf("port=%d", port))
	if err != nil {
		t.Fatalf("list Service_Monitor: %v", err)
	}
	f := strings.Fields(out)
	switch len(f) {
	case 0:
		return "missing"
	case 1:
		return ""
	}
	return f[1]
}

// waitMonitor polls until backend ip's Service_Monitor (port hcPort) has
// status want.
func waitMonitor(t *testing.T, s *suite, ip, want string, timeout time.Duration) time.Duration {
	t.Helper()
	return waitMonitorPort(t, s, ip, hcPort, want, timeout)
}

// waitMonitorPort polls until the Service_Monitor of ip:port has status
// want.
func waitMonitorPort(t *testing.T, s *suite, ip string, port int, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := monitorStatus(t, s, ip, port)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			all, _ := s.tb.SBCtl("list", "Service_Monitor")
			t.Fatalf("Service_Monitor of %s:%d is %q after %s, want %q; the chassis binding its port probes it (daemon log). Rows:\n%s",
				ip, port, got, timeout, want, all)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testLBHealthCheck: a load balancer on ls-hc with a health check and two
// backends (vmh1 on hv1, vmh2 on hv2). Both monitors go online; with
// vmh2's listener stopped its monitor goes offline and every connection
// to the VIP reaches vmh1; with the listener back the monitor is online
// again and vmh2 gets connections again.
func testLBHealthCheck(t *testing.T, s *suite) {
	b1, b2, client := healthNet(t, s)
	srv1 := &tcpServer{vm: b1, port: hcPort}
	srv2 := &tcpServer{vm: b2, port: hcPort}
	srv1.start(t)
	srv2.start(t)
	t.Cleanup(srv1.stop)
	t.Cleanup(srv2.stop)

	vip := fmt.Sprintf("%s:%d", hcVIP, hcPort)
	nbctl(t, s, "--if-exists", "lb-del", "lb-h")
	t.Cleanup(func() { _, _ = s.tb.NBCtl("--if-exists", "lb-del", "lb-h") })
	nbctl(t, s, "lb-add", "lb-h", vip, fmt.Sprintf("%s:%d,%s:%d", b1.IP(), hcPort, b2.IP(), hcPort), "tcp")
	nbctl(t, s, "set", "Load_Balancer", "lb-h",
		fmt.Sprintf(`ip_port_mappings:"%s"="vmh1:%s"`, b1.IP(), hcSrcIP),
		fmt.Sprintf(`ip_port_mappings:"%s"="vmh2:%s"`, b2.IP(), hcSrcIP))
	nbctl(t, s, "--id=@hc", "create", "Load_Balancer_Health_Check", fmt.Sprintf(`vip="%s"`, vip),
		"options:interval=1", "options:timeout=1", "options:success_count=1", "options:failure_count=1",
		"--", "add", "Load_Balancer", "lb-h", "health_check", "@hc")
	nbctl(t, s, "--may-exist", "ls-lb-add", "ls-hc", "lb-h")

	took := waitMonitor(t, s, b1.IP(), "online", 60*time.Second)
	waitMonitor(t, s, b2.IP(), "online", 30*time.Second)
	s.figure(t, "lb-health-check: both backends online after", took.Round(100*time.Millisecond))
	askTCPUntil(t, client, vip, 60*time.Second)
	// Both backends get connections (ephemeral source ports spread them).
	if by := connectionsUntil(t, client, vip, func(by map[string]int) bool { return by["vmh1"] > 0 && by["vmh2"] > 0 }, 30*time.Second); by["vmh2"] == 0 || by["vmh1"] == 0 {
		t.Fatalf("with both backends online the VIP reached only %s", countsString(by))
	}

	// vmh2 stops listening: its kernel resets the probes.
	srv2.stop()
	stopped := time.Now()
	waitMonitor(t, s, b2.IP(), "offline", 30*time.Second)
	s.figure(t, "lb-health-check: stopped backend offline after", time.Since(stopped).Round(100*time.Millisecond))
	if st := monitorStatus(t, s, b1.IP(), hcPort); st != "online" {
		t.Fatalf("vmh1's monitor is %q while vmh2 is offline, want online", st)
	}
	// Once the VIP's flows leave vmh2 out, every connection reaches
	// vmh1: wait for 12 in a row, within a deadline.
	deadline := time.Now().Add(30 * time.Second)
	streak := 0
	for streak < 12 {
		b, _, err := askTCP(client, "", vip, 3*time.Second)
		switch {
		case err == nil && b == "vmh1":
			streak++
		case err == nil:
			t.Fatalf("connection answered by %s, whose listener is stopped", b)
		default:
			streak = 0
		}
		if streak < 12 && time.Now().After(deadline) {
			t.Fatal(client.Explain(hcVIP, fmt.Sprintf("VIP %s still sends connections to offline backend %s after 30 s (last error: %v)", vip, b2.IP(), err)))
		}
	}

	// vmh2 listens again: online, and it gets connections again.
	srv2.start(t)
	restarted := time.Now()
	waitMonitor(t, s, b2.IP(), "online", 30*time.Second)
	s.figure(t, "lb-health-check: restarted backend online after", time.Since(restarted).Round(100*time.Millisecond))
	if by := connectionsUntil(t, client, vip, func(by map[string]int) bool { return by["vmh2"] > 0 }, 30*time.Second); by["vmh2"] == 0 {
		t.Fatalf("backend vmh2 is online again but got no connection: %s", countsString(by))
	}
}

// connectionsUntil opens connections to vip (retrying failures, which do
// not count) until done says enough or timeout passes, and returns how
// many each backend answered.
func connectionsUntil(t *testing.T, from *testbed.VM, vip string, done func(map[string]int) bool, timeout time.Duration) map[string]int {
	t.Helper()
	by := map[string]int{}
	deadline := time.Now().Add(timeout)
	for !done(by) && time.Now().Before(deadline) {
		b, _, err := askTCP(from, "", vip, 3*time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		by[b]++
	}
	return by
}

const hcUDPPort = 5802

// testLBHealthCheckUDP: a UDP load balancer with a health check (every
// 2 s: above the kernel's ICMP rate limit). A backend without a listener
// answers the probe with an ICMP port unreachable: offline; one with a
// listener stays silent: online. vmh1 then starts listening: online.
func testLBHealthCheckUDP(t *testing.T, s *suite) {
	b1, b2, _ := healthNet(t, s)
	listen := func(v *testbed.VM) *net.UDPConn {
		var c *net.UDPConn
		if err := v.Do(func() error {
			var err error
			c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: hcUDPPort})
			return err
		}); err != nil {
			t.Fatalf("%s: listen on udp %d: %v", v.Spec.Name, hcUDPPort, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	listen(b2)
	vip := fmt.Sprintf("%s:%d", hcVIP, hcUDPPort)
	nbctl(t, s, "--if-exists", "lb-del", "lb-hu")
	t.Cleanup(func() { _, _ = s.tb.NBCtl("--if-exists", "lb-del", "lb-hu") })
	nbctl(t, s, "lb-add", "lb-hu", vip, fmt.Sprintf("%s:%d,%s:%d", b1.IP(), hcUDPPort, b2.IP(), hcUDPPort), "udp")
	nbctl(t, s, "set", "Load_Balancer", "lb-hu",
		fmt.Sprintf(`ip_port_mappings:"%s"="vmh1:%s"`, b1.IP(), hcSrcIP),
		fmt.Sprintf(`ip_port_mappings:"%s"="vmh2:%s"`, b2.IP(), hcSrcIP))
	nbctl(t, s, "--id=@hc", "create", "Load_Balancer_Health_Check", fmt.Sprintf(`vip="%s"`, vip),
		"options:interval=2", "options:timeout=1", "options:success_count=1", "options:failure_count=1",
		"--", "add", "Load_Balancer", "lb-hu", "health_check", "@hc")
	nbctl(t, s, "--may-exist", "ls-lb-add", "ls-hc", "lb-hu")
	waitMonitorPort(t, s, b1.IP(), hcUDPPort, "offline", 60*time.Second)
	waitMonitorPort(t, s, b2.IP(), hcUDPPort, "online", 30*time.Second)
	listen(b1)
	started := time.Now()
	waitMonitorPort(t, s, b1.IP(), hcUDPPort, "online", 30*time.Second)
	s.figure(t, "lb-health-check-udp: backend online after it started listening", time.Since(started).Round(100*time.Millisecond))
	if st := monitorStatus(t, s, b2.IP(), hcUDPPort); st != "online" {
		t.Fatalf("vmh2's UDP monitor is %q, want online", st)
	}
}
