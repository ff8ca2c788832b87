package chassis_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// These tests run our chassis daemon in place of ovn-controller on real
// Open vSwitch (hcnet/e2e/testbed), with OVN's ovsdb-server and
// ovn-northd: ovn-controller is the oracle the harness's own scenarios
// compare against. They need root and the OVS/OVN binaries and skip
// otherwise.

var ours = testbed.Combo{DB: testbed.OVN, Translator: testbed.OVN, Chassis: testbed.Ours}

// combo is ours unless HCNET_CHASSIS_COMBO names another (testbed.ParseCombos
// syntax, e.g. "hcnet" for our databases and northd too).
func combo(t *testing.T) testbed.Combo {
	t.Helper()
	if s := os.Getenv("HCNET_CHASSIS_COMBO"); s != "" {
		cs, err := testbed.ParseCombos(s)
		if err != nil || len(cs) != 1 {
			t.Fatalf("HCNET_CHASSIS_COMBO=%q: want one combo (%v)", s, err)
		}
		return cs[0]
	}
	return ours
}

func nbctl(t *testing.T, tb *testbed.Testbed, args ...string) {
	t.Helper()
	tb.MustNBCtl(t, args...)
}

func lsp(t *testing.T, tb *testbed.Testbed, ls, port, mac, ip string) {
	t.Helper()
	nbctl(t, tb, "--may-exist", "ls-add", ls)
	nbctl(t, tb, "--may-exist", "lsp-add", ls, port, "--", "lsp-set-addresses", port, mac+" "+ip)
}

func routerPort(t *testing.T, tb *testbed.Testbed, lr, lrp, mac, cidr, ls string) {
	t.Helper()
	nbctl(t, tb, "--may-exist", "lr-add", lr)
	nbctl(t, tb, "--may-exist", "lrp-add", lr, lrp, mac, cidr)
	nbctl(t, tb, "--may-exist", "ls-add", ls)
	p := ls + "-" + lr
	nbctl(t, tb, "--may-exist", "lsp-add", ls, p, "--", "lsp-set-type", p, "router",
		"--", "lsp-set-addresses", p, "router", "--", "lsp-set-options", p, "router-port="+lrp)
}

func ping(t *testing.T, from *testbed.VM, dst string, timeout time.Duration) time.Duration {
	t.Helper()
	d, err := from.Ping(dst, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPingAcrossChassis_Root: L2 and L3 (distributed router) ping between
// VMs on two chassis running our daemon, then a daemon restart during a
// ping that must lose at most one second of it.
func TestPingAcrossChassis_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{Combo: combo(t), Chassis: []testbed.ChassisSpec{
		{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1},
	}})
	lsp(t, tb, "ls1", "vm1", "0a:00:00:00:01:11", "10.0.1.11")
	lsp(t, tb, "ls1", "vm2", "0a:00:00:00:01:12", "10.0.1.12")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24", Gateway: "10.0.1.1"})

	t.Run("l2", func(t *testing.T) {
		d := ping(t, vm1, vm2.IP(), 45*time.Second)
		t.Logf("MEASURED L2 first reply after %v", d)
		ping(t, vm2, vm1.IP(), 15*time.Second)
	})
	t.Run("l3", func(t *testing.T) {
		routerPort(t, tb, "lr1", "lr1-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "ls1")
		routerPort(t, tb, "lr1", "lr1-ls2", "00:00:00:00:ff:02", "10.0.2.1/24", "ls2")
		lsp(t, tb, "ls2", "vm3", "0a:00:00:00:02:13", "10.0.2.13")
		vm3 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm3", Chassis: "hv2", MAC: "0a:00:00:00:02:13", CIDR: "10.0.2.13/24", Gateway: "10.0.2.1"})
		ping(t, vm1, "10.0.1.1", 30*time.Second)
		d := ping(t, vm1, vm3.IP(), 30*time.Second)
		t.Logf("MEASURED L3 first reply after %v", d)
		ping(t, vm3, vm1.IP(), 15*time.Second)
	})
	t.Run("tenants-same-subnet", func(t *testing.T) {
		// Tenant B reuses 10.0.1.0/24 on its own switch; its vmb1 (hv2)
		// must reach its vmb2 (hv1) and never tenant A's vm1 (same IP).
		lsp(t, tb, "lsb", "vmb1", "0a:00:00:00:0b:11", "10.0.1.11")
		lsp(t, tb, "lsb", "vmb2", "0a:00:00:00:0b:12", "10.0.1.12")
		vmb1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vmb1", Chassis: "hv2", MAC: "0a:00:00:00:0b:11", CIDR: "10.0.1.11/24"})
		tb.MustAddVM(t, testbed.VMSpec{Name: "vmb2", Chassis: "hv1", MAC: "0a:00:00:00:0b:12", CIDR: "10.0.1.12/24"})
		before, err := vm2.EchoRequestsReceived()
		if err != nil {
			t.Fatal(err)
		}
		ping(t, vmb1, "10.0.1.12", 30*time.Second)
		if mac, err := vmb1.Neighbor("10.0.1.12"); err != nil || mac != "0a:00:00:00:0b:12" {
			t.Fatalf("tenant B resolved 10.0.1.12 to %q (%v), want vmb2's MAC", mac, err)
		}
		if after, _ := vm2.EchoRequestsReceived(); after != before {
			t.Fatalf("tenant A's vm2 got %d echo requests meant for tenant B", after-before)
		}
	})
	t.Run("acl-drops-icmp-allows-tcp", func(t *testing.T) {
		ping(t, vm1, vm2.IP(), 15*time.Second)
		nbctl(t, tb, "acl-add", "ls1", "to-lport", "1001", `outport == "vm2" && icmp4`, "drop")
		nbctl(t, tb, "acl-add", "ls1", "to-lport", "1000", `outport == "vm2" && tcp`, "allow-related")
		t.Cleanup(func() { _, _ = tb.NBCtl("acl-del", "ls1") })
		deadline := time.Now().Add(30 * time.Second)
		for vm1.PingOnce(vm2.IP(), 300*time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("ICMP still passes 30s after the drop ACL")
			}
		}
		if err := vm1.ExpectNoReply(vm2.IP(), 3); err != nil {
			t.Fatal(err)
		}
		src, err := tb.TCP(vm1, vm2, vm2.IP(), 5201, 10*time.Second)
		if err != nil {
			t.Fatalf("TCP vm1 -> vm2 blocked by an ACL that only drops ICMP: %v", err)
		}
		if src != vm1.IP() {
			t.Fatalf("vm2 saw the connection from %s, want %s", src, vm1.IP())
		}
		nbctl(t, tb, "acl-del", "ls1")
		ping(t, vm1, vm2.IP(), 30*time.Second)
	})
	t.Run("dhcp-lease", func(t *testing.T) {
		nbctl(t, tb, "dhcp-options-create", "10.0.1.0/24")
		uuid := strings.TrimSpace(tb.MustNBCtl(t, "--bare", "--columns=_uuid", "find", "DHCP_Options", `cidr="10.0.1.0/24"`))
		nbctl(t, tb, "dhcp-options-set-options", uuid, "lease_time=3600", "router=10.0.1.1",
			"server_id=10.0.1.1", "server_mac=00:00:00:00:ff:01", "mtu=1400")
		lsp(t, tb, "ls1", "vmd", "0a:00:00:00:01:21", "10.0.1.21")
		nbctl(t, tb, "lsp-set-dhcpv4-options", "vmd", uuid)
		vmd := tb.MustAddVM(t, testbed.VMSpec{Name: "vmd", Chassis: "hv2", MAC: "0a:00:00:00:01:21"})
		lease, err := vmd.DHCP(30 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if lease.IP != "10.0.1.21" || lease.Router != "10.0.1.1" || lease.Prefix != 24 || lease.MTU != "1400" {
			t.Fatalf("lease %+v, want 10.0.1.21/24 router 10.0.1.1 mtu 1400", lease)
		}
		if err := vmd.ApplyLease(lease); err != nil {
			t.Fatal(err)
		}
		ping(t, vmd, vm1.IP(), 30*time.Second)
	})
	t.Run("qos-meter", func(t *testing.T) {
		// A QoS rate limit on vm1's traffic becomes an OpenFlow meter on
		// hv1 and caps vm1 -> vm2 TCP goodput.
		nbctl(t, tb, "qos-add", "ls1", "from-lport", "100", `inport == "vm1"`, "rate=2000", "burst=200")
		t.Cleanup(func() { _, _ = tb.NBCtl("qos-del", "ls1") })
		hv1 := tb.Chassis("hv1")
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, _ := hv1.Ofctl("dump-meters")
			if strings.Contains(out, "rate=2000") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no 2000 kbps meter on hv1 20s after qos-add:\n%s", out)
			}
			time.Sleep(100 * time.Millisecond)
		}
		bps, err := tb.Throughput(vm1, vm2, vm2.IP(), 5211, 1<<20, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("MEASURED goodput under a 2000 kbps QoS meter: %.2f Mbit/s", bps/1e6)
		if bps > 4e6 {
			t.Fatalf("goodput %.1f Mbit/s above the 2 Mbit/s limit", bps/1e6)
		}
		nbctl(t, tb, "qos-del", "ls1")
	})
	t.Run("restart-during-ping", func(t *testing.T) {
		ping(t, vm1, vm2.IP(), 15*time.Second)
		const interval = 20 * time.Millisecond
		run := vm1.StartPings(vm2.IP(), interval, 6*time.Second)
		time.Sleep(time.Second)
		hv1 := tb.Chassis("hv1")
		if err := hv1.StopDaemon(); err != nil {
			t.Fatal(err)
		}
		if err := hv1.StartDaemon(); err != nil {
			t.Fatal(err)
		}
		st, err := run.Wait()
		if err != nil {
			t.Fatal(err)
		}
		gap := st.LossWindow(interval)
		t.Logf("MEASURED chassis restart during ping: loss window %v (%d/%d answered)", gap, st.Received, st.Transmitted)
		if gap > time.Second {
			t.Fatalf("restart lost %v of pings (max 1s)", gap)
		}
	})
}

// TestGatewaySNATFailover_Root: a distributed gateway port on two gateway
// chassis (gw1 priority 20, gw2 10) with SNAT to the external network;
// vm1 on hv1 pings the external host through the active gateway, which
// sees the SNAT address; killing gw1 (switch and daemon) moves traffic to
// gw2 (BFD), and the loss window is measured.
func TestGatewaySNATFailover_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{Combo: combo(t), Chassis: []testbed.ChassisSpec{
		{Name: "hv1", Site: 1}, {Name: "gw1", Site: 1, Gateway: true}, {Name: "gw2", Site: 1, Gateway: true},
	}})
	lsp(t, tb, "ls1", "vm1", "0a:00:00:00:01:11", "10.0.1.11")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"})
	routerPort(t, tb, "lr1", "lr1-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "ls1")
	nbctl(t, tb, "--may-exist", "ls-add", "ls-ext")
	nbctl(t, tb, "--may-exist", "lsp-add", "ls-ext", "ext-localnet", "--", "lsp-set-type", "ext-localnet", "localnet",
		"--", "lsp-set-addresses", "ext-localnet", "unknown",
		"--", "lsp-set-options", "ext-localnet", "network_name="+testbed.PhysicalNetwork)
	const snatIP = "172.16.0.1"
	routerPort(t, tb, "lr1", "lr1-ext", "00:00:00:00:ff:03", snatIP+"/24", "ls-ext")
	nbctl(t, tb, "lsp-set-options", "ls-ext-lr1", "router-port=lr1-ext", "nat-addresses=router")
	nbctl(t, tb, "lrp-set-gateway-chassis", "lr1-ext", "gw1", "20")
	nbctl(t, tb, "lrp-set-gateway-chassis", "lr1-ext", "gw2", "10")
	nbctl(t, tb, "--may-exist", "lr-nat-add", "lr1", "snat", snatIP, "10.0.0.0/16")

	t.Run("snat", func(t *testing.T) {
		d := ping(t, vm1, testbed.ExternalHostIP, 60*time.Second)
		t.Logf("MEASURED SNAT first reply after %v", d)
		src, err := tb.TCP(vm1, tb.ExternalHost(), testbed.ExternalHostIP, 5301, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if src != snatIP {
			t.Fatalf("external host saw vm1 as %s, want the SNAT address %s", src, snatIP)
		}
	})
	t.Run("failover", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, _ := tb.SBCtl("--bare", "--columns=chassis", "find", "Port_Binding", "logical_port=cr-lr1-ext")
			ch := ""
			if u := strings.TrimSpace(out); u != "" {
				ch, _ = tb.SBCtl("--bare", "--columns=name", "list", "Chassis", u)
			}
			if strings.TrimSpace(ch) == "gw1" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cr-lr1-ext bound to %q, want gw1 (priority 20)", strings.TrimSpace(ch))
			}
			time.Sleep(200 * time.Millisecond)
		}
		ping(t, vm1, testbed.ExternalHostIP, 30*time.Second)
		const interval = 20 * time.Millisecond
		run := vm1.StartPings(testbed.ExternalHostIP, interval, 10*time.Second)
		time.Sleep(2 * time.Second)
		gw1 := tb.Chassis("gw1")
		if err := gw1.KillSwitch(); err != nil {
			t.Fatal(err)
		}
		if err := gw1.KillDaemon(); err != nil {
			t.Fatal(err)
		}
		st, err := run.Wait()
		if err != nil {
			t.Fatal(err)
		}
		gap := st.LossWindow(interval)
		t.Logf("MEASURED gateway failover (BFD 100 ms x3): loss window %v (%d/%d answered)", gap, st.Received, st.Transmitted)
		if st.Received == 0 || st.Seqs[len(st.Seqs)-1] < st.Transmitted-10 {
			t.Fatal(tb.Explain(vm1, testbed.ExternalHostIP, "traffic did not come back after killing gw1"))
		}
	})
}

// TestVXLANPing_Root: L2 ping across two chassis over VXLAN tunnels (the
// VNI carries the datapath and egress port keys).
func TestVXLANPing_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{Combo: combo(t), EncapType: "vxlan", Chassis: []testbed.ChassisSpec{
		{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1},
	}})
	lsp(t, tb, "ls1", "vm1", "0a:00:00:00:01:11", "10.0.1.11")
	lsp(t, tb, "ls1", "vm2", "0a:00:00:00:01:12", "10.0.1.12")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24"})
	ping(t, vm1, vm2.IP(), 45*time.Second)
	ping(t, vm2, vm1.IP(), 15*time.Second)
	out, err := tb.Chassis("hv1").Vsctl("--bare", "--columns=type", "list", "Interface", "ovn-hv2-0")
	if err != nil || strings.TrimSpace(out) != "vxlan" {
		t.Fatalf("tunnel to hv2 has type %q (%v), want vxlan", strings.TrimSpace(out), err)
	}
}
