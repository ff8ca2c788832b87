package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"hcnet/e2e/testbed"
)

// Scenarios for the router, IPv6 and controller-path features: load
// balancing on a gateway router, ECMP static routes, IPv6 routing with
// SLAAC from router advertisements, reject ACLs and DNS answered by the
// chassis. Each builds its part of the logical network idempotently on the
// shared topology (tenant A's lr-a and ls-a1/ls-a2, the external network).

// ---- shared helpers ----

// extSwitch is the external network's logical switch: a localnet port on
// the provider network gateways bridge into the external namespace.
func extSwitch(t *testing.T, s *suite) {
	t.Helper()
	nbctl(t, s, "--may-exist", "ls-add", "ls-ext")
	nbctl(t, s, "--may-exist", "lsp-add", "ls-ext", "ext-localnet", "--", "lsp-set-type", "ext-localnet", "localnet",
		"--", "lsp-set-addresses", "ext-localnet", "unknown",
		"--", "lsp-set-options", "ext-localnet", "network_name="+testbed.PhysicalNetwork)
}

// serveTCP listens on port on every address of each VM and answers the
// first line of each connection with "<vm name> <client address>"; it stops
// with the test.
func serveTCP(t *testing.T, port int, vms ...*testbed.VM) {
	t.Helper()
	for _, v := range vms {
		var ln net.Listener
		if err := v.Do(func() error {
			var err error
			ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
			return err
		}); err != nil {
			t.Fatalf("listen on port %d: %v", port, err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		name := v.Spec.Name
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
}

// askTCP connects from vm (from the local address src when set) to dst,
// sends a line and returns serveTCP's answer: the backend's name and the
// client address it saw.
func askTCP(from *testbed.VM, src, dst string, timeout time.Duration) (backend, seen string, err error) {
	err = from.Do(func() error {
		d := net.Dialer{Timeout: timeout}
		if src != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
		}
		c, err := d.Dial("tcp", dst)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := io.WriteString(c, "hello\n"); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return fmt.Errorf("connected but no answer: %w", err)
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return fmt.Errorf("answer %q, want \"<backend> <client>\"", line)
		}
		backend, seen = f[0], f[1]
		return nil
	})
	return backend, seen, err
}

// askTCPUntil retries askTCP until it is answered or timeout passes.
func askTCPUntil(t *testing.T, from *testbed.VM, dst string, timeout time.Duration) (backend, seen string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, s, err := askTCP(from, "", dst, 3*time.Second)
		if err == nil {
			return b, s
		}
		if time.Now().After(deadline) {
			host, _, _ := net.SplitHostPort(dst)
			t.Fatal(from.Explain(host, fmt.Sprintf("tcp to %s not answered within %s: %v", dst, timeout, err)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// addAddresses adds extra addresses to a VM's device (removed when the
// test ends) and returns them.
func addAddresses(t *testing.T, v *testbed.VM, dev, prefix string, first, n, plen int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		ip := fmt.Sprintf("%s.%d", prefix, first+i)
		if o, err := v.Exec(10*time.Second, "ip", "addr", "replace", fmt.Sprintf("%s/%d", ip, plen), "dev", dev); err != nil {
			t.Fatalf("%s: add address %s: %v: %s", v.Spec.Name, ip, err, o)
		}
		t.Cleanup(func() { _, _ = v.Exec(10*time.Second, "ip", "addr", "del", fmt.Sprintf("%s/%d", ip, plen), "dev", dev) })
		out = append(out, ip)
	}
	return out
}

func countsString(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// ---- router-lb ----

const (
	grExtIP     = "172.16.0.3"   // gateway router gr-g on the external network
	lbVIP       = "172.16.0.210" // its load balancer's VIP
	lbPort      = 5701
	lbForcePort = 5703 // router-lb-force-snat's VIP port
)

// gatewayRouterLB builds gateway router gr-g (options:chassis=gw1) between
// ls-g (10.0.3.0/24: vmg1 on hv1, vmg2 on hv2) and the external network,
// with load balancer lb-g: lbVIP:lbPort -> both VMs.
func gatewayRouterLB(t *testing.T, s *suite) (b1, b2 *testbed.VM) {
	t.Helper()
	extSwitch(t, s)
	nbctl(t, s, "--may-exist", "lr-add", "gr-g")
	nbctl(t, s, "set", "Logical_Router", "gr-g", "options:chassis=gw1")
	routerPort(t, s, "gr-g", "gr-g-ls", "00:00:00:00:fe:01", "10.0.3.1/24", "ls-g")
	routerPort(t, s, "gr-g", "gr-g-ext", "00:00:00:00:fe:03", grExtIP+"/24", "ls-ext")
	addPort(t, s, "ls-g", "vmg1", "0a:00:00:00:03:11", "10.0.3.11")
	addPort(t, s, "ls-g", "vmg2", "0a:00:00:00:03:12", "10.0.3.12")
	b1 = vm(t, s, testbed.VMSpec{Name: "vmg1", Chassis: "hv1", MAC: "0a:00:00:00:03:11", CIDR: "10.0.3.11/24", Gateway: "10.0.3.1"})
	b2 = vm(t, s, testbed.VMSpec{Name: "vmg2", Chassis: "hv2", MAC: "0a:00:00:00:03:12", CIDR: "10.0.3.12/24", Gateway: "10.0.3.1"})
	nbctl(t, s, "--may-exist", "lb-add", "lb-g", fmt.Sprintf("%s:%d", lbVIP, lbPort),
		fmt.Sprintf("%s:%d,%s:%d", b1.IP(), lbPort, b2.IP(), lbPort), "tcp")
	nbctl(t, s, "--may-exist", "lr-lb-add", "gr-g", "lb-g")
	return b1, b2
}

// testRouterLB: the external host opens TCP connections to a VIP of a load
// balancer on a gateway router; connections from different source ports
// (and, where the datapath's hash ignores ports, addresses) reach both
// backends, and each backend sees the client's own address (no SNAT
// without lb_force_snat_ip).
func testRouterLB(t *testing.T, s *suite) {
	b1, b2 := gatewayRouterLB(t, s)
	serveTCP(t, lbPort, b1, b2)
	ext := s.tb.ExternalHost()
	vip := net.JoinHostPort(lbVIP, fmt.Sprint(lbPort))
	start := time.Now()
	askTCPUntil(t, ext, vip, 60*time.Second)
	s.figure(t, "router-lb: first connection to the VIP answered after", time.Since(start).Round(10*time.Millisecond))

	// Source ports first: one client address, ephemeral ports.
	byBackend := map[string]int{}
	const perPhase = 16
	for i := 0; i < perPhase; i++ {
		backend, seen, err := askTCP(ext, "", vip, 5*time.Second)
		if err != nil {
			t.Fatal(ext.Explain(lbVIP, fmt.Sprintf("connection %d to VIP %s: %v", i, vip, err)))
		}
		if seen != testbed.ExternalHostIP {
			t.Fatalf("backend %s saw the VIP client as %s, want the external host's own address %s (a gateway router without lb_force_snat_ip does not SNAT)", backend, seen, testbed.ExternalHostIP)
		}
		byBackend[backend]++
	}
	how := "source ports"
	if len(byBackend) < 2 {
		// Source addresses too: 8 client addresses, ports varying.
		how = "source addresses and ports"
		for i, src := range addAddresses(t, ext, "br0", "172.16.0", 111, 8, 24) {
			for j := 0; j < 2; j++ {
				backend, seen, err := askTCP(ext, src, vip, 5*time.Second)
				if err != nil {
					t.Fatal(ext.Explain(lbVIP, fmt.Sprintf("connection %d from %s to VIP %s: %v", 2*i+j, src, vip, err)))
				}
				if seen != src {
					t.Fatalf("backend %s saw the VIP client %s as %s (a gateway router without lb_force_snat_ip does not SNAT)", backend, src, seen)
				}
				byBackend[backend]++
			}
		}
	}
	s.figure(t, "router-lb: connections per backend (varying "+how+")", countsString(byBackend))
	if len(byBackend) < 2 {
		groups, _ := s.tb.Chassis("gw1").Groups()
		t.Fatalf("all connections to VIP %s went to one backend (%s) although source ports and addresses varied; gw1's groups:\n%s", vip, countsString(byBackend), groups)
	}
}

// testRouterLBForceSNAT: with lb_force_snat_ip=router_ip on the gateway
// router, the load balancer's backends see the router's address on their
// own network as the client.
func testRouterLBForceSNAT(t *testing.T, s *suite) {
	b1, b2 := gatewayRouterLB(t, s)
	serveTCP(t, lbForcePort, b1, b2)
	nbctl(t, s, "--may-exist", "lb-add", "lb-g", fmt.Sprintf("%s:%d", lbVIP, lbForcePort),
		fmt.Sprintf("%s:%d,%s:%d", b1.IP(), lbForcePort, b2.IP(), lbForcePort), "tcp")
	ext := s.tb.ExternalHost()
	vip := net.JoinHostPort(lbVIP, fmt.Sprint(lbForcePort))
	nbctl(t, s, "set", "Logical_Router", "gr-g", "options:lb_force_snat_ip=router_ip")
	t.Cleanup(func() { _, _ = s.tb.NBCtl("remove", "Logical_Router", "gr-g", "options", "lb_force_snat_ip") })
	deadline := time.Now().Add(30 * time.Second)
	for {
		backend, seen, err := askTCP(ext, "", vip, 3*time.Second)
		if err == nil && seen == "10.0.3.1" {
			break
		}
		if time.Now().After(deadline) {
			flows, _ := s.tb.SBCtl("lflow-list", "gr-g")
			var fs []string
			for _, l := range strings.Split(flows, "\n") {
				if strings.Contains(l, "force_snat") {
					fs = append(fs, strings.TrimSpace(l))
				}
			}
			ct, _ := s.tb.Chassis("gw1").Appctl("dpctl/dump-conntrack")
			var cts []string
			for _, l := range strings.Split(ct, "\n") {
				if strings.Contains(l, fmt.Sprint(lbForcePort)) {
					cts = append(cts, l)
				}
			}
			groups, _ := s.tb.Chassis("gw1").Groups()
			fs = append(fs, "gw1's groups:", groups)
			t.Fatal(ext.Explain(lbVIP, fmt.Sprintf("with lb_force_snat_ip=router_ip on gr-g, backend %q saw the VIP client as %q (err %v) 30s later, want the router's address 10.0.3.1\ngr-g's logical flows with force_snat:\n%s\ngw1's conntrack entries for the VIP port:\n%s",
				backend, seen, err, strings.Join(fs, "\n"), strings.Join(cts, "\n"))))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ---- ecmp-routes ----

// testECMPRoutes: lr-a gets a static route 10.9.0.0/24 with two nexthops,
// vmr1 (hv1) and vmr2 (hv2) on ls-a2, both owning 10.9.0.1; UDP flows from
// vme (ls-a1) with different source addresses and ports reach both.
func testECMPRoutes(t *testing.T, s *suite) {
	tenantARouter(t, s)
	addPort(t, s, "ls-a2", "vmr1", "0a:00:00:00:02:21", "10.0.2.21")
	addPort(t, s, "ls-a2", "vmr2", "0a:00:00:00:02:22", "10.0.2.22")
	addPort(t, s, "ls-a1", "vme", "0a:00:00:00:01:31", "10.0.1.31")
	r1 := vm(t, s, testbed.VMSpec{Name: "vmr1", Chassis: "hv1", MAC: "0a:00:00:00:02:21", CIDR: "10.0.2.21/24", Gateway: "10.0.2.1"})
	r2 := vm(t, s, testbed.VMSpec{Name: "vmr2", Chassis: "hv2", MAC: "0a:00:00:00:02:22", CIDR: "10.0.2.22/24", Gateway: "10.0.2.1"})
	vme := vm(t, s, testbed.VMSpec{Name: "vme", Chassis: "hv1", MAC: "0a:00:00:00:01:31", CIDR: "10.0.1.31/24", Gateway: "10.0.1.1"})
	for _, r := range []*testbed.VM{r1, r2} {
		if out, err := r.Exec(10*time.Second, "ip", "addr", "replace", "10.9.0.1/32", "dev", "lo"); err != nil {
			t.Fatalf("%s: add 10.9.0.1: %v: %s", r.Spec.Name, err, out)
		}
	}
	if !strings.Contains(nbctl(t, s, "lr-route-list", "lr-a"), "10.9.0.0/24") {
		nbctl(t, s, "lr-route-add", "lr-a", "10.9.0.0/24", r1.IP())
		nbctl(t, s, "--ecmp", "lr-route-add", "lr-a", "10.9.0.0/24", r2.IP())
	}
	// Every chassis has both routes before the flows start (the first
	// route alone already answers the ping below).
	nbctl(t, s, "--wait=hv", "--timeout=30", "sync")
	mustPing(t, vme, "10.9.0.1", 45*time.Second)

	// UDP to a closed port: each nexthop counts what it got in Udp
	// NoPorts. 8 source addresses x 8 source ports.
	srcs := append([]string{vme.IP()}, addAddresses(t, vme, "eth0", "10.0.1", 32, 7, 24)...)
	before := make([]int, 2)
	for i, r := range []*testbed.VM{r1, r2} {
		n, err := r.SNMPCounter("Udp", "NoPorts")
		if err != nil {
			t.Fatal(err)
		}
		before[i] = n
	}
	sent := 0
	if err := vme.Do(func() error {
		for _, src := range srcs {
			for p := 0; p < 8; p++ {
				c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(src), Port: 31000 + p}, &net.UDPAddr{IP: net.ParseIP("10.9.0.1"), Port: 9})
				if err != nil {
					return fmt.Errorf("udp from %s:%d: %w", src, 31000+p, err)
				}
				_, err = c.Write([]byte("x"))
				c.Close()
				if err != nil {
					return fmt.Errorf("udp from %s:%d: write: %w", src, 31000+p, err)
				}
				sent++
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := make([]int, 2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		for i, r := range []*testbed.VM{r1, r2} {
			n, err := r.SNMPCounter("Udp", "NoPorts")
			if err != nil {
				t.Fatal(err)
			}
			got[i] = n - before[i]
		}
		if got[0]+got[1] >= sent || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.figure(t, fmt.Sprintf("ecmp-routes: of %d UDP flows (8 sources x 8 ports) nexthop vmr1 / vmr2 received", sent), fmt.Sprintf("%d / %d", got[0], got[1]))
	if got[0]+got[1] < sent*3/4 {
		t.Fatal(vme.Explain("10.9.0.1", fmt.Sprintf("only %d of %d UDP datagrams to the ECMP prefix reached a nexthop (vmr1 %d, vmr2 %d)", got[0]+got[1], sent, got[0], got[1])))
	}
	if got[0] == 0 || got[1] == 0 {
		hv1 := s.tb.Chassis("hv1")
		groups, _ := hv1.Groups()
		dp, _ := hv1.Appctl("dpctl/dump-flows")
		var hashFlows []string
		for _, l := range strings.Split(dp, "\n") {
			if strings.Contains(l, "hash") && strings.Contains(l, "10.9.0.1") || strings.Contains(l, "dp_hash(") {
				hashFlows = append(hashFlows, l)
			}
		}
		t.Fatalf("all %d flows took one nexthop (vmr1 %d, vmr2 %d): the ECMP route did not spread them; hv1's groups:\n%s\nhv1's datapath flows with a hash:\n%s", sent, got[0], got[1], groups, strings.Join(hashFlows, "\n"))
	}
}

// ---- ipv6-routed ----

const (
	v6Net1    = "2001:db8:61::"
	v6Net2    = "2001:db8:62::"
	v6RtrLL1  = "fe80::200:ff:fe00:f601"         // lr-v6-ls1's link-local address (EUI-64 of its MAC)
	v6SLAAC   = "2001:db8:61:0:800:ff:fe00:6111" // vmv1's SLAAC address (EUI-64 of 0a:00:00:00:61:11)
	v6Static2 = "2001:db8:62::12"
)

// testIPv6Routed: router lr-v6 joins ls-v1 (2001:db8:61::/64, router
// advertisements with address_mode=slaac) and ls-v2 (2001:db8:62::/64).
// vmv1 (hv1) configures its address and default route from the RA alone;
// vmv2 (hv2) is configured statically. They ping the router and each other
// across chassis.
func testIPv6Routed(t *testing.T, s *suite) {
	vmv1, vmv2 := ipv6Net(t, s)
	mustPing(t, vmv1, v6Net1+"1", 30*time.Second)
	mustPing(t, vmv1, v6Static2, 30*time.Second)
	mustPing(t, vmv2, v6SLAAC, 30*time.Second)
	serveTCP(t, 5801, vmv2)
	backend, seen := askTCPUntil(t, vmv1, net.JoinHostPort(v6Static2, "5801"), 20*time.Second)
	if backend != "vmv2" || seen != v6SLAAC {
		t.Fatalf("TCP over IPv6 vmv1 -> [%s]:5801 reached %s, which saw the client as %s; want vmv2 seeing %s", v6Static2, backend, seen, v6SLAAC)
	}
}

// ipv6Net builds lr-v6 with ls-v1 and ls-v2 and returns vmv1 once it has
// its SLAAC address and default route, and vmv2.
func ipv6Net(t *testing.T, s *suite) (vmv1, vmv2 *testbed.VM) {
	t.Helper()
	nbctl(t, s, "--may-exist", "lr-add", "lr-v6")
	routerPort(t, s, "lr-v6", "lr-v6-ls1", "00:00:00:00:f6:01", v6Net1+"1/64", "ls-v1")
	routerPort(t, s, "lr-v6", "lr-v6-ls2", "00:00:00:00:f6:02", v6Net2+"1/64", "ls-v2")
	nbctl(t, s, "set", "Logical_Router_Port", "lr-v6-ls1", "ipv6_ra_configs:address_mode=slaac",
		fmt.Sprintf("ipv6_ra_configs:mtu=%d", testbed.VMMTU))
	addPort(t, s, "ls-v1", "vmv1", "0a:00:00:00:61:11", v6SLAAC)
	addPort(t, s, "ls-v2", "vmv2", "0a:00:00:00:62:12", v6Static2)
	nbctl(t, s, "--wait=sb", "sync")
	fresh := s.tb.VM("vmv1") == nil
	vmv1 = vm(t, s, testbed.VMSpec{Name: "vmv1", Chassis: "hv1", MAC: "0a:00:00:00:61:11"})
	vmv2 = vm(t, s, testbed.VMSpec{Name: "vmv2", Chassis: "hv2", MAC: "0a:00:00:00:62:12"})
	exec := func(v *testbed.VM, args ...string) string {
		t.Helper()
		out, err := v.Exec(10*time.Second, args...)
		if err != nil {
			t.Fatalf("%s: %s: %v: %s", v.Spec.Name, strings.Join(args, " "), err, out)
		}
		return out
	}
	exec(vmv2, "ip", "-6", "addr", "replace", v6Static2+"/64", "dev", "eth0", "nodad")
	exec(vmv2, "ip", "-6", "route", "replace", "default", "via", v6Net2+"1")

	// The kernel solicits router advertisements when eth0 comes up: bounce
	// the link until an RA gave it the default route and the address.
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for {
		route := exec(vmv1, "ip", "-6", "route", "show", "default")
		addrs := exec(vmv1, "ip", "-6", "addr", "show", "dev", "eth0")
		if strings.Contains(route, "via "+v6RtrLL1) && strings.Contains(route, "proto ra") && strings.Contains(addrs, v6SLAAC) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(vmv1.Explain(v6RtrLL1, fmt.Sprintf("no router advertisement from lr-v6-ls1 within 60s (address_mode=slaac): default route %q, eth0:\n%s", route, addrs)))
		}
		exec(vmv1, "ip", "link", "set", "eth0", "down")
		exec(vmv1, "ip", "link", "set", "eth0", "up")
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if strings.Contains(exec(vmv1, "ip", "-6", "route", "show", "default"), "proto ra") {
				break
			}
		}
	}
	if fresh {
		s.figure(t, "ipv6-routed: SLAAC address and default route from the RA after", time.Since(start).Round(10*time.Millisecond))
	}
	return vmv1, vmv2
}

// ---- tcp-reject ----

// testTCPReject: with a to-lport reject ACL on vm2's port, a TCP connect
// from vm1 fails at once with a reset (not a timeout) and a UDP datagram
// draws ICMP port unreachable, although vm2 listens on both ports (so the
// answers come from the ACL, not vm2's kernel). Deleting the ACLs restores
// both.
func testTCPReject(t *testing.T, s *suite) {
	vm1, vm2 := tenantA(t, s)
	const tcpPort, udpPort = 5601, 5602
	serveTCP(t, tcpPort, vm2)
	var uc net.PacketConn
	if err := vm2.Do(func() error {
		var err error
		uc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", udpPort))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = uc.Close() })
	go func() { // echo, so vm1 can tell delivery from rejection
		buf := make([]byte, 1500)
		for {
			n, from, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = uc.WriteTo(buf[:n], from)
		}
	}()
	tcpDst := net.JoinHostPort(vm2.IP(), fmt.Sprint(tcpPort))
	udpDst := net.JoinHostPort(vm2.IP(), fmt.Sprint(udpPort))
	askTCPUntil(t, vm1, tcpDst, 30*time.Second)
	if err := udpAsk(vm1, udpDst, 3*time.Second); err != nil {
		t.Fatalf("before the ACL: UDP vm1 -> %s: %v (want the echo)", udpDst, err)
	}

	tcpACL := fmt.Sprintf(`outport == "vm2" && tcp.dst == %d`, tcpPort)
	udpACL := fmt.Sprintf(`outport == "vm2" && udp.dst == %d`, udpPort)
	nbctl(t, s, "--may-exist", "acl-add", "ls-a1", "to-lport", "1002", tcpACL, "reject")
	nbctl(t, s, "--may-exist", "acl-add", "ls-a1", "to-lport", "1002", udpACL, "reject")
	t.Cleanup(func() {
		_, _ = s.tb.NBCtl("acl-del", "ls-a1", "to-lport", "1002", tcpACL)
		_, _ = s.tb.NBCtl("acl-del", "ls-a1", "to-lport", "1002", udpACL)
	})

	// Wait for the ACL: connections are answered by vm2 until it applies.
	refused := func() (time.Duration, error) {
		start := time.Now()
		_, _, err := askTCP(vm1, "", tcpDst, 5*time.Second)
		return time.Since(start), err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := refused()
		if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(vm1.Explain(vm2.IP(), fmt.Sprintf("TCP to %s with a reject ACL: got %v, want connection refused (a TCP reset from the ACL) within 30s", tcpDst, err)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	var worst time.Duration
	for i := 0; i < 5; i++ {
		d, err := refused()
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("TCP attempt %d to %s with the reject ACL in force: %v after %s, want connection refused at once", i, tcpDst, err, d.Round(time.Millisecond))
		}
		worst = max(worst, d)
	}
	s.figure(t, "tcp-reject: connect refused after (worst of 5)", worst.Round(time.Millisecond))
	if worst > 900*time.Millisecond {
		t.Fatalf("a TCP connect to %s took %s to be refused: longer than the first SYN retransmission (1s), so the reset answered a retry, not the first SYN", tcpDst, worst)
	}

	deadline = time.Now().Add(20 * time.Second)
	for {
		err := udpAsk(vm1, udpDst, 2*time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(vm1.Explain(vm2.IP(), fmt.Sprintf("UDP to %s with a reject ACL: got %v, want connection refused (ICMP port unreachable from the ACL)", udpDst, err)))
		}
	}

	nbctl(t, s, "acl-del", "ls-a1", "to-lport", "1002", tcpACL)
	nbctl(t, s, "acl-del", "ls-a1", "to-lport", "1002", udpACL)
	askTCPUntil(t, vm1, tcpDst, 30*time.Second)
}

// udpAsk sends one datagram from vm to dst on a connected socket and waits
// for the echo; an ICMP error surfaces as the read's error (port
// unreachable: ECONNREFUSED).
func udpAsk(from *testbed.VM, dst string, timeout time.Duration) error {
	return from.Do(func() error {
		c, err := net.Dial("udp", dst)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		_, err = c.Read(buf)
		return err
	})
}

// ---- dns ----

const (
	dnsName = "vm1.tenant-a.example."
	dnsV4   = "10.0.1.11"
	dnsV6   = "2001:db8:a::11"
)

// testDNS: ls-a1 gets a DNS row; vm2's queries (to the router's address,
// which runs no DNS server) are answered by the chassis with the record's
// A and AAAA addresses.
func testDNS(t *testing.T, s *suite) {
	tenantARouter(t, s)
	vm2 := s.tb.VM("vm2")
	uuid := nbctl(t, s, "--bare", "--columns=_uuid", "find", "DNS", "external_ids:e2e=dns")
	if uuid == "" {
		uuid = nbctl(t, s, "create", "DNS", fmt.Sprintf(`records={"%s"="%s %s"}`, strings.TrimSuffix(dnsName, "."), dnsV4, dnsV6), "external_ids:e2e=dns")
	}
	nbctl(t, s, "add", "Logical_Switch", "ls-a1", "dns_records", uuid)
	server := net.JoinHostPort("10.0.1.1", "53")
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	var addrs []string
	var err error
	for {
		addrs, err = dnsQuery(vm2, server, dnsName, dnsmessage.TypeA, time.Second)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		sbDNS, _ := s.tb.SBCtl("list", "DNS")
		flows, _ := s.tb.SBCtl("lflow-list", "ls-a1")
		var dnsFlows []string
		for _, l := range strings.Split(flows, "\n") {
			if strings.Contains(l, "dns") {
				dnsFlows = append(dnsFlows, strings.TrimSpace(l))
			}
		}
		t.Fatal(vm2.Explain("10.0.1.1", fmt.Sprintf("DNS A query for %s not answered by the chassis within 30s: %v\nSB DNS rows:\n%s\nls-a1's logical flows mentioning dns:\n%s",
			dnsName, err, sbDNS, strings.Join(dnsFlows, "\n"))))
	}
	s.figure(t, "dns: first A answer after adding the record", time.Since(start).Round(10*time.Millisecond))
	if len(addrs) != 1 || addrs[0] != dnsV4 {
		t.Fatalf("A %s answered %v, want [%s]", dnsName, addrs, dnsV4)
	}
	addrs, err = dnsQuery(vm2, server, dnsName, dnsmessage.TypeAAAA, 3*time.Second)
	if err != nil {
		t.Fatalf("AAAA %s: %v", dnsName, err)
	}
	if len(addrs) != 1 || addrs[0] != dnsV6 {
		t.Fatalf("AAAA %s answered %v, want [%s]", dnsName, addrs, dnsV6)
	}
}

// dnsQuery sends one query from vm to server over UDP and returns the
// addresses of the answer's A or AAAA records.
func dnsQuery(from *testbed.VM, server, name string, typ dnsmessage.Type, timeout time.Duration) ([]string, error) {
	const id = 0x4e2e
	q := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := q.StartQuestions(); err != nil {
		return nil, err
	}
	if err := q.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	query, err := q.Finish()
	if err != nil {
		return nil, err
	}
	var reply []byte
	if err := from.Do(func() error {
		c, err := net.Dial("udp4", server)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write(query); err != nil {
			return err
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		reply = buf[:n]
		return nil
	}); err != nil {
		return nil, err
	}
	var p dnsmessage.Parser
	h, err := p.Start(reply)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	if h.ID != id || !h.Response || h.RCode != dnsmessage.RCodeSuccess {
		return nil, fmt.Errorf("reply header %+v: want a successful response to id %#x", h, id)
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, fmt.Errorf("reply questions: %w", err)
	}
	var out []string
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reply answers: %w", err)
		}
		switch rh.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil, err
			}
			out = append(out, netip.AddrFrom4(r.A).String())
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil, err
			}
			out = append(out, netip.AddrFrom16(r.AAAA).String())
		default:
			if err := p.SkipAnswer(); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reply has no %v answer", typ)
	}
	return out, nil
}

// ---- router-lb-dgp ----

const (
	dgpVIP  = "172.16.0.211"
	dgpPort = 5702
)

// testRouterLBDistributedGateway: a load balancer on lr-a, whose gateway
// port lr-a-ext is on gw1 (gw2 standby): the external host's connections to
// the VIP reach both backends (vm1 on hv1, vm2 on hv2) and each sees the
// client's own address.
func testRouterLBDistributedGateway(t *testing.T, s *suite) {
	tenantAGateway(t, s)
	vm1, vm2 := s.tb.VM("vm1"), s.tb.VM("vm2")
	nbctl(t, s, "--may-exist", "lb-add", "lb-a", fmt.Sprintf("%s:%d", dgpVIP, dgpPort),
		fmt.Sprintf("%s:%d,%s:%d", vm1.IP(), dgpPort, vm2.IP(), dgpPort), "tcp")
	nbctl(t, s, "--may-exist", "lr-lb-add", "lr-a", "lb-a")
	serveTCP(t, dgpPort, vm1, vm2)
	ext := s.tb.ExternalHost()
	vip := net.JoinHostPort(dgpVIP, fmt.Sprint(dgpPort))
	askTCPUntil(t, ext, vip, 60*time.Second)
	byBackend := map[string]int{}
	for i := 0; i < 16; i++ {
		backend, seen, err := askTCP(ext, "", vip, 5*time.Second)
		if err != nil {
			t.Fatal(ext.Explain(dgpVIP, fmt.Sprintf("connection %d to VIP %s: %v", i, vip, err)))
		}
		if seen != testbed.ExternalHostIP {
			t.Fatalf("backend %s saw the VIP client as %s, want the external host's own address %s (no SNAT for load-balanced traffic)", backend, seen, testbed.ExternalHostIP)
		}
		byBackend[backend]++
	}
	s.figure(t, "router-lb-dgp: connections per backend (varying source ports)", countsString(byBackend))
	if len(byBackend) < 2 {
		groups, _ := s.tb.Chassis("gw1").Groups()
		t.Fatalf("all connections to VIP %s went to one backend (%s); gw1's groups:\n%s", vip, countsString(byBackend), groups)
	}
}

// ---- ipv6-lb ----

const (
	v6VIP  = "2001:db8:62::100"
	v6Port = 5803
)

// testIPv6LB: a load balancer with an IPv6 VIP on ls-v1 (the client's
// switch): vmv1's connections to [VIP]:port reach vmv2 across the router,
// which sees vmv1's own address.
func testIPv6LB(t *testing.T, s *suite) {
	vmv1, vmv2 := ipv6Net(t, s)
	nbctl(t, s, "--may-exist", "lb-add", "lb-v6", net.JoinHostPort(v6VIP, fmt.Sprint(v6Port)),
		net.JoinHostPort(v6Static2, fmt.Sprint(v6Port)), "tcp")
	nbctl(t, s, "--may-exist", "ls-lb-add", "ls-v1", "lb-v6")
	serveTCP(t, v6Port, vmv2)
	vip := net.JoinHostPort(v6VIP, fmt.Sprint(v6Port))
	backend, seen := askTCPUntil(t, vmv1, vip, 30*time.Second)
	if backend != "vmv2" || seen != v6SLAAC {
		t.Fatalf("TCP vmv1 -> %s reached %s, which saw the client as %s; want vmv2 seeing vmv1's %s", vip, backend, seen, v6SLAAC)
	}
	for i := 0; i < 4; i++ {
		if _, _, err := askTCP(vmv1, "", vip, 5*time.Second); err != nil {
			t.Fatal(vmv1.Explain(v6VIP, fmt.Sprintf("connection %d to IPv6 VIP %s after the first succeeded: %v", i, vip, err)))
		}
	}
}

// ---- neighbor-buffer ----

// testNeighborBuffer: the first packet a router sends to a neighbour it
// has not resolved yet is held while it asks (ARP for IPv4, neighbour
// solicitation for IPv6) and delivered after the answer, not dropped: a
// single ping to a VM's secondary address (in no logical port's
// addresses, so only ARP/ND can resolve it) is answered. Three fresh
// addresses per family; at least one first ping must be answered (a
// router that drops the packet it resolves for answers none;
// ovn-controller 23.03 answers every IPv4 one and, on this testbed, about
// two in three IPv6 ones).
func testNeighborBuffer(t *testing.T, s *suite) {
	vm3 := tenantARouter(t, s)
	vm1 := s.tb.VM("vm1")
	addPort(t, s, "ls-a2", "vmb", "0a:00:00:00:02:31", "10.0.2.31")
	vmb := vm(t, s, testbed.VMSpec{Name: "vmb", Chassis: "hv1", MAC: "0a:00:00:00:02:31", CIDR: "10.0.2.31/24", Gateway: "10.0.2.1"})
	vmv1, vmv2 := ipv6Net(t, s)
	addPort(t, s, "ls-v2", "vmv3", "0a:00:00:00:62:13", v6Net2+"13")
	vmv3 := vm(t, s, testbed.VMSpec{Name: "vmv3", Chassis: "hv1", MAC: "0a:00:00:00:62:13"})
	if out, err := vmv3.Exec(10*time.Second, "sh", "-c", "ip -6 addr replace "+v6Net2+"13/64 dev eth0 nodad && ip -6 route replace default via "+v6Net2+"1"); err != nil {
		t.Fatalf("vmv3: %v: %s", err, out)
	}
	for _, p := range [][2]any{{vm1, vm3.IP()}, {vm1, vmb.IP()}, {vmv1, v6Static2}, {vmv1, v6Net2 + "13"}} {
		mustPing(t, p[0].(*testbed.VM), p[1].(string), 30*time.Second)
	}
	v6addrs := func(v *testbed.VM, first int) []string {
		var out []string
		for i := first; i < first+3; i++ {
			ip := fmt.Sprintf("%s%d", v6Net2, i)
			if o, err := v.Exec(10*time.Second, "ip", "-6", "addr", "replace", ip+"/64", "dev", "eth0", "nodad"); err != nil {
				t.Fatalf("%s: add %s: %v: %s", v.Spec.Name, ip, err, o)
			}
			t.Cleanup(func() { _, _ = v.Exec(10*time.Second, "ip", "-6", "addr", "del", ip+"/64", "dev", "eth0") })
			out = append(out, ip)
		}
		return out
	}
	failed := 0
	for _, c := range []struct {
		from  *testbed.VM
		dsts  []string
		how   string
		where string
	}{
		{vm1, addAddresses(t, vm3, "eth0", "10.0.2", 61, 3, 24), "ARP", "on another chassis (vm3, hv2)"},
		{vm1, addAddresses(t, vmb, "eth0", "10.0.2", 64, 3, 24), "ARP", "on the same chassis (vmb, hv1)"},
		{vmv1, v6addrs(vmv2, 61), "ND", "on another chassis (vmv2, hv2)"},
		{vmv1, v6addrs(vmv3, 64), "ND", "on the same chassis (vmv3, hv1)"},
	} {
		answered := 0
		var rtts, outs []string
		for _, dst := range c.dsts {
			out, _ := c.from.Exec(15*time.Second, "ping", "-n", "-c", "1", "-W", "3", dst)
			if st := testbed.ParsePing(out); st.Received == 1 {
				answered++
				rtts = append(rtts, st.AvgRTT.Round(100*time.Microsecond).String())
			} else {
				outs = append(outs, strings.TrimSpace(out))
			}
		}
		s.figure(t, fmt.Sprintf("neighbor-buffer: first pings from %s through an unresolved %s neighbour %s answered (RTTs)", c.from.Spec.Name, c.how, c.where),
			fmt.Sprintf("%d/%d (%s)", answered, len(c.dsts), strings.Join(rtts, ", ")))
		if answered == 0 {
			failed++
			t.Errorf("none of the first echo requests from %s to %v (addresses of a VM %s that the router resolves with %s) got a reply within 3s: the router dropped the packet instead of holding it until the %s answer; ping said:\n%s",
				c.from.Spec.Name, c.dsts, c.where, c.how, c.how, strings.Join(outs, "\n"))
			continue
		}
		if _, err := c.from.Ping(c.dsts[0], 10*time.Second); err != nil {
			t.Errorf("after resolution: %v", err)
		}
	}
	if failed > 0 {
		t.Log(vm1.Explain(vm3.IP(), "first packets to unresolved neighbours were lost (see above)"))
	}
}

// ---- dhcpv6 ----

const (
	dhcp6VM   = "vmd6"
	dhcp6MAC  = "0a:00:00:00:62:d6"
	dhcp6Addr = "2001:db8:62::d6"
)

// testDHCPv6: a port on ls-v2 with dhcpv6_options gets its address by
// DHCPv6 (a small client in the VM: Debian's busybox has no udhcpc6): the
// chassis's ADVERTISE carries the port's address in IA_NA and the server
// identifier, a REQUEST for it is confirmed by a REPLY, and the VM pings
// the router from the leased address.
func testDHCPv6(t *testing.T, s *suite) {
	nbctl(t, s, "--may-exist", "lr-add", "lr-v6")
	routerPort(t, s, "lr-v6", "lr-v6-ls2", "00:00:00:00:f6:02", v6Net2+"1/64", "ls-v2")
	uuid := nbctl(t, s, "--bare", "--columns=_uuid", "find", "DHCP_Options", `cidr="`+v6Net2+`/64"`)
	if uuid == "" {
		nbctl(t, s, "dhcp-options-create", v6Net2+"/64")
		uuid = nbctl(t, s, "--bare", "--columns=_uuid", "find", "DHCP_Options", `cidr="`+v6Net2+`/64"`)
	}
	nbctl(t, s, "dhcp-options-set-options", uuid, "server_id=00:00:00:00:f6:02")
	addPort(t, s, "ls-v2", dhcp6VM, dhcp6MAC, dhcp6Addr)
	nbctl(t, s, "lsp-set-dhcpv6-options", dhcp6VM, uuid)
	v := vm(t, s, testbed.VMSpec{Name: dhcp6VM, Chassis: "hv2", MAC: dhcp6MAC})
	mac, _ := net.ParseMAC(dhcp6MAC)
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	var lease dhcp6Lease
	var err error
	for {
		if lease, err = dhcpv6Exchange(v, mac, 1, nil, 2, 2*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(v.Explain("ff02::1:2", fmt.Sprintf("DHCPv6 SOLICIT not answered with an ADVERTISE within 30s: %v; check ovn-sbctl list DHCPv6_Options (ovn-controller needs those rows for put_dhcpv6_opts) and the ls_in_dhcp_options flows", err)))
	}
	s.figure(t, "dhcpv6: ADVERTISE received after", time.Since(start).Round(10*time.Millisecond))
	if lease.Addr != dhcp6Addr {
		t.Fatalf("ADVERTISE offers %q in IA_NA, want the port's address %s (lease %+v)", lease.Addr, dhcp6Addr, lease)
	}
	if !strings.EqualFold(lease.ServerMAC, "00:00:00:00:f6:02") {
		t.Fatalf("ADVERTISE server identifier's MAC %q, want server_id 00:00:00:00:f6:02 (lease %+v)", lease.ServerMAC, lease)
	}
	// REQUEST the offered address from that server; the REPLY confirms it.
	addr := netip.MustParseAddr(lease.Addr).As16()
	iaaddr := append(addr[:], 0, 0, 0, 0, 0, 0, 0, 0) // preferred and valid lifetimes 0
	ia := append([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, dhcp6Opt(nil, 5, iaaddr)...)
	reply, err := dhcpv6Exchange(v, mac, 3, dhcp6Opt(dhcp6Opt(nil, 2, lease.ServerID), 3, ia), 7, 3*time.Second)
	if err != nil {
		t.Fatal(v.Explain("ff02::1:2", fmt.Sprintf("DHCPv6 REQUEST for %s not answered with a REPLY: %v", lease.Addr, err)))
	}
	if reply.Addr != dhcp6Addr {
		t.Fatalf("REPLY confirms %q in IA_NA, want %s (reply %+v)", reply.Addr, dhcp6Addr, reply)
	}
	if out, err := v.Exec(10*time.Second, "sh", "-c", "ip -6 addr replace "+reply.Addr+"/64 dev eth0 nodad && ip -6 route replace default via "+v6Net2+"1"); err != nil {
		t.Fatalf("%s: apply the leased address: %v: %s", dhcp6VM, err, out)
	}
	mustPing(t, v, v6Net2+"1", 30*time.Second)
}

// dhcp6Opt appends one DHCPv6 option (code, length, data) to b.
func dhcp6Opt(b []byte, code uint16, data []byte) []byte {
	b = append(b, byte(code>>8), byte(code), byte(len(data)>>8), byte(len(data)))
	return append(b, data...)
}

// dhcp6Lease is what an ADVERTISE or REPLY carried.
type dhcp6Lease struct {
	Addr      string // IA_NA's first IAADDR
	ServerID  []byte // the server identifier option's DUID
	ServerMAC string // link-layer address of that DUID
}

// dhcpv6Exchange sends one message of type typ from the VM's eth0 (client
// DUID-LL of mac; opts, or one empty IA_NA when nil) to
// All_DHCP_Relay_Agents_and_Servers and returns the answer of type want
// with the same transaction id.
func dhcpv6Exchange(v *testbed.VM, mac net.HardwareAddr, typ byte, opts []byte, want byte, timeout time.Duration) (dhcp6Lease, error) {
	xid := [3]byte{0x65, 0x2e, typ}
	msg := []byte{typ, xid[0], xid[1], xid[2]}
	msg = dhcp6Opt(msg, 1, append([]byte{0, 3, 0, 1}, mac...)) // client id: DUID-LL, ethernet
	if opts == nil {
		opts = dhcp6Opt(nil, 3, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}) // IA_NA, IAID 1
	}
	msg = append(msg, opts...)
	msg = dhcp6Opt(msg, 8, []byte{0, 0}) // elapsed time
	var reply []byte
	if err := v.Do(func() error {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: 546})
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.WriteToUDP(msg, &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547, Zone: "eth0"}); err != nil {
			return fmt.Errorf("send message type %d: %w", typ, err)
		}
		buf := make([]byte, 1500)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return fmt.Errorf("no answer of type %d: %w", want, err)
			}
			if n >= 4 && buf[0] == want && [3]byte(buf[1:4]) == xid {
				reply = append([]byte(nil), buf[:n]...)
				return nil
			}
		}
	}); err != nil {
		return dhcp6Lease{}, err
	}
	var l dhcp6Lease
	var walk func(b []byte, fn func(code uint16, data []byte)) error
	walk = func(b []byte, fn func(code uint16, data []byte)) error {
		for len(b) > 0 {
			if len(b) < 4 {
				return fmt.Errorf("truncated option header % x", b)
			}
			code, n := uint16(b[0])<<8|uint16(b[1]), int(b[2])<<8|int(b[3])
			if len(b) < 4+n {
				return fmt.Errorf("option %d: length %d beyond the message", code, n)
			}
			fn(code, b[4:4+n])
			b = b[4+n:]
		}
		return nil
	}
	var inner error
	err := walk(reply[4:], func(code uint16, data []byte) {
		switch code {
		case 2: // server id: DUID-LLT (1) or DUID-LL (3), link-layer address last
			l.ServerID = append([]byte(nil), data...)
			if len(data) >= 10 {
				l.ServerMAC = net.HardwareAddr(data[len(data)-6:]).String()
			}
		case 3: // IA_NA: IAID, T1, T2, options
			if len(data) < 12 {
				inner = fmt.Errorf("IA_NA of %d bytes", len(data))
				return
			}
			inner = walk(data[12:], func(code uint16, data []byte) {
				if code == 5 && len(data) >= 24 && l.Addr == "" {
					l.Addr = netip.AddrFrom16([16]byte(data[:16])).String()
				}
			})
		}
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		return l, fmt.Errorf("answer % x: %w", reply, err)
	}
	return l, nil
}

// ---- distributed-fip ----

const (
	dfipVM  = "vmf"
	dfipIP  = "172.16.0.52"
	dfipMAC = "0a:00:00:00:aa:41"
)

// testDistributedFIP: a floating IP with logical_port and external_mac
// (distributed dnat_and_snat) for vmf, which runs on gw2 while lr-a's
// gateway port is active on gw1: the external host resolves the floating
// IP to the external MAC, reaches vmf through it and sees vmf's own
// connections come from the floating IP.
func testDistributedFIP(t *testing.T, s *suite) {
	tenantAGateway(t, s)
	addPort(t, s, "ls-a2", dfipVM, "0a:00:00:00:02:41", "10.0.2.41")
	v := vm(t, s, testbed.VMSpec{Name: dfipVM, Chassis: "gw2", MAC: "0a:00:00:00:02:41", CIDR: "10.0.2.41/24", Gateway: "10.0.2.1"})
	nbctl(t, s, "--may-exist", "lr-nat-add", "lr-a", "dnat_and_snat", dfipIP, v.IP(), dfipVM, dfipMAC)
	ext := s.tb.ExternalHost()
	deadline := time.Now().Add(60 * time.Second)
	var src string
	var err error
	for {
		if src, err = s.tb.TCP(ext, v, dfipIP, 5901, 3*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if src != testbed.ExternalHostIP {
		t.Fatalf("vmf saw the external host as %s, want %s (DNAT only)", src, testbed.ExternalHostIP)
	}
	mac, err := ext.Neighbor(dfipIP)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(mac, dfipMAC) {
		t.Fatalf("external host resolved the distributed floating IP %s to %s, want its external_mac %s (answered by vmf's chassis gw2, not the gateway port's)", dfipIP, mac, dfipMAC)
	}
	if src, err = s.tb.TCP(v, ext, testbed.ExternalHostIP, 5902, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if src != dfipIP {
		t.Fatalf("external host saw vmf's connection from %s, want its floating IP %s", src, dfipIP)
	}
}
