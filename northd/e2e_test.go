package northd_test

import (
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestInteropWithOVNController_Root runs our northd with OVN's ovsdb-server
// and ovn-controller on two hypervisors and a gateway (TESTBED.md): VMs on
// one switch across chassis, across a distributed router, to the external
// host through the gateway with SNAT; a switch load balancer; an ACL drops
// what it should and no more; ovn-nbctl --wait=hv sync returns. Needs root and OVS/OVN; skips
// otherwise.
func TestInteropWithOVNController_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{
		Combo: testbed.Combo{DB: testbed.OVN, Translator: testbed.Ours, Chassis: testbed.OVN},
		Chassis: []testbed.ChassisSpec{
			{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}, {Name: "gw1", Site: 1, Gateway: true},
		},
	})
	nb := func(args ...string) string { return tb.MustNBCtl(t, args...) }
	port := func(ls, name, mac, ip string) {
		nb("--may-exist", "ls-add", ls)
		nb("lsp-add", ls, name, "--", "lsp-set-addresses", name, mac+" "+ip)
	}
	routerPort := func(lrp, mac, cidr, ls string) {
		nb("lrp-add", "lr0", lrp, mac, cidr)
		nb("--may-exist", "ls-add", ls)
		lsp := ls + "-lr0"
		nb("lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+lrp)
	}
	ping := func(from *testbed.VM, dst string, timeout time.Duration) {
		t.Helper()
		if _, err := from.Ping(dst, timeout); err != nil {
			t.Fatal(err)
		}
	}

	// One switch across chassis.
	port("ls1", "vm1", "0a:00:00:00:01:11", "10.0.1.11")
	port("ls1", "vm2", "0a:00:00:00:01:12", "10.0.1.12")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24", Gateway: "10.0.1.1"})
	ping(vm1, vm2.IP(), 45*time.Second)

	// --wait=hv returns: every chassis acknowledged the current nb_cfg.
	start := time.Now()
	nb("--wait=hv", "sync")
	t.Logf("ovn-nbctl --wait=hv sync took %v", time.Since(start).Round(time.Millisecond))

	// A distributed router to a second switch.
	nb("lr-add", "lr0")
	routerPort("lr0-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "ls1")
	routerPort("lr0-ls2", "00:00:00:00:ff:02", "10.0.2.1/24", "ls2")
	port("ls2", "vm3", "0a:00:00:00:02:13", "10.0.2.13")
	vm3 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm3", Chassis: "hv2", MAC: "0a:00:00:00:02:13", CIDR: "10.0.2.13/24", Gateway: "10.0.2.1"})
	ping(vm1, "10.0.1.1", 30*time.Second)
	ping(vm1, vm3.IP(), 30*time.Second)

	// The external network through gw1, with SNAT.
	nb("ls-add", "ext")
	nb("lsp-add", "ext", "ext-ln", "--", "lsp-set-type", "ext-ln", "localnet", "--", "lsp-set-addresses", "ext-ln", "unknown",
		"--", "lsp-set-options", "ext-ln", "network_name="+testbed.PhysicalNetwork)
	routerPort("lr0-ext", "00:00:00:00:ff:03", "172.16.0.1/24", "ext")
	nb("lrp-set-gateway-chassis", "lr0-ext", "gw1", "10")
	nb("lr-nat-add", "lr0", "snat", "172.16.0.1", "10.0.0.0/16")
	ping(vm1, testbed.ExternalHostIP, 60*time.Second)
	src, err := tb.TCP(vm3, tb.ExternalHost(), testbed.ExternalHostIP, 5401, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if src != "172.16.0.1" {
		t.Fatalf("external host saw vm3 as %s, want the SNAT address 172.16.0.1", src)
	}

	// A load balancer on ls1: a VIP behind the router, backed by vm2.
	nb("lb-add", "lb0", "10.0.9.100:5403", "10.0.1.12:5403", "tcp")
	nb("--wait=hv", "ls-lb-add", "ls1", "lb0")
	if src, err := tb.TCP(vm1, vm2, "10.0.9.100", 5403, 10*time.Second); err != nil {
		t.Fatalf("TCP to the VIP: %v", err)
	} else if src != vm1.IP() {
		t.Fatalf("backend saw the VIP client as %s, want %s", src, vm1.IP())
	}

	// An ACL drops ICMP to vm2 and nothing else.
	nb("--wait=hv", "acl-add", "ls1", "to-lport", "1001", `outport == "vm2" && icmp4`, "drop")
	if err := vm1.ExpectNoReply(vm2.IP(), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.TCP(vm1, vm2, vm2.IP(), 5402, 10*time.Second); err != nil {
		t.Fatalf("TCP to vm2 blocked by an ICMP-only ACL: %v", err)
	}
	ping(vm1, vm3.IP(), 10*time.Second)
	nb("--wait=hv", "acl-del", "ls1")
	ping(vm1, vm2.IP(), 30*time.Second)
}
