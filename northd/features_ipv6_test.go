package northd_test

import (
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestIPv6RouterWithOVNController_Root runs our northd with OVN's
// ovsdb-server and ovn-controller (TESTBED.md) on an IPv6-only tenant
// network: a VM learns its default route and a SLAAC address from the
// router advertisements ovn-controller sends for ipv6_ra_configs
// (put_nd_ra_opts), resolves and pings the router's IPv6 address (neighbor
// advertisement, echo reply), and pings a VM on another switch through the
// router (IPv6 routing and neighbor resolution), across chassis. Needs root
// and OVS/OVN; skips otherwise.
func TestIPv6RouterWithOVNController_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{
		Combo:   testbed.Combo{DB: testbed.OVN, Translator: testbed.Ours, Chassis: testbed.OVN},
		Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}},
	})
	nb := func(args ...string) string { return tb.MustNBCtl(t, args...) }
	nb("lr-add", "lr0")
	for _, s := range []struct{ ls, lrp, mac, v4, v6 string }{
		{"ls1", "lr0-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "2001:db8:1::1/64"},
		{"ls2", "lr0-ls2", "00:00:00:00:ff:02", "10.0.2.1/24", "2001:db8:2::1/64"},
	} {
		nb("ls-add", s.ls)
		nb("lrp-add", "lr0", s.lrp, s.mac, s.v4, s.v6)
		lsp := s.ls + "-lr0"
		nb("lsp-add", s.ls, lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+s.lrp)
	}
	nb("set", "Logical_Router_Port", "lr0-ls1", "ipv6_ra_configs:address_mode=slaac", "ipv6_ra_configs:mtu=1400")
	// vm1's SLAAC address is the EUI-64 one of its MAC.
	nb("lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 2001:db8:1:0:800:ff:fe00:111")
	nb("lsp-add", "ls2", "vm2", "--", "lsp-set-addresses", "vm2", "0a:00:00:00:02:12 2001:db8:2::12")
	nb("--wait=sb", "sync")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:02:12"})
	exec := func(vm *testbed.VM, args ...string) string {
		t.Helper()
		out, err := vm.Exec(10*time.Second, args...)
		if err != nil {
			t.Fatalf("%s: %s: %v: %s", vm.Spec.Name, strings.Join(args, " "), err, out)
		}
		return out
	}
	exec(vm2, "ip", "-6", "addr", "add", "2001:db8:2::12/64", "dev", "eth0", "nodad")
	exec(vm2, "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
	nb("--wait=hv", "sync")

	// Router advertisement: solicit one (link down/up) until the kernel
	// has a default route and an address from it.
	const slaac = "2001:db8:1:0:800:ff:fe00:111"
	deadline := time.Now().Add(60 * time.Second)
	for {
		route := exec(vm1, "ip", "-6", "route", "show", "default")
		addrs := exec(vm1, "ip", "-6", "addr", "show", "dev", "eth0")
		if strings.Contains(route, "via fe80::200:ff:fe00:ff01") && strings.Contains(route, "proto ra") && strings.Contains(addrs, slaac) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vm1 got no router advertisement from lr0-ls1 within 60s: default route %q, addresses:\n%s", route, addrs)
		}
		exec(vm1, "ip", "link", "set", "eth0", "down")
		exec(vm1, "ip", "link", "set", "eth0", "up")
		for end := time.Now().Add(6 * time.Second); time.Now().Before(end); {
			if r := exec(vm1, "ip", "-6", "route", "show", "default"); strings.Contains(r, "proto ra") {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if _, err := vm1.Ping("2001:db8:1::1", 30*time.Second); err != nil {
		t.Fatalf("vm1 to the router's IPv6 address: %v", err)
	}
	if _, err := vm1.Ping("2001:db8:2::12", 30*time.Second); err != nil {
		t.Fatalf("vm1 to vm2 through the router over IPv6: %v", err)
	}
	if _, err := vm2.Ping(slaac, 30*time.Second); err != nil {
		t.Fatalf("vm2 to vm1's SLAAC address: %v", err)
	}
}
