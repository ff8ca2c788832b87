package northd_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestECMPRouteWithOVNController_Root runs our northd with OVN's
// ovsdb-server and ovn-controller (TESTBED.md) and checks that an ECMP
// static route (one prefix, two nexthops: select() in lr_in_ip_routing and
// lr_in_ip_routing_ecmp) spreads flows over both nexthops: two VMs own the
// same address 10.9.0.1 behind the router, and UDP datagrams from eight
// source addresses reach both. Needs root and OVS/OVN; skips otherwise.
func TestECMPRouteWithOVNController_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{
		Combo:   testbed.Combo{DB: testbed.OVN, Translator: testbed.Ours, Chassis: testbed.OVN},
		Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}},
	})
	nb := func(args ...string) string { return tb.MustNBCtl(t, args...) }
	nb("lr-add", "lr0")
	for _, s := range [][4]string{{"ls1", "lr0-ls1", "00:00:00:00:ff:01", "10.0.1.1/24"}, {"ls2", "lr0-ls2", "00:00:00:00:ff:02", "10.0.2.1/24"}} {
		nb("ls-add", s[0])
		nb("lrp-add", "lr0", s[1], s[2], s[3])
		lsp := s[0] + "-lr0"
		nb("lsp-add", s[0], lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+s[1])
	}
	nb("lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 10.0.1.11")
	nb("lsp-add", "ls2", "r1", "--", "lsp-set-addresses", "r1", "0a:00:00:00:02:21 10.0.2.21")
	nb("lsp-add", "ls2", "r2", "--", "lsp-set-addresses", "r2", "0a:00:00:00:02:22 10.0.2.22")
	nb("lr-route-add", "lr0", "10.9.0.0/24", "10.0.2.21")
	nb("--ecmp", "lr-route-add", "lr0", "10.9.0.0/24", "10.0.2.22")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"})
	r1 := tb.MustAddVM(t, testbed.VMSpec{Name: "r1", Chassis: "hv2", MAC: "0a:00:00:00:02:21", CIDR: "10.0.2.21/24", Gateway: "10.0.2.1"})
	r2 := tb.MustAddVM(t, testbed.VMSpec{Name: "r2", Chassis: "hv1", MAC: "0a:00:00:00:02:22", CIDR: "10.0.2.22/24", Gateway: "10.0.2.1"})
	for _, r := range []*testbed.VM{r1, r2} {
		if out, err := r.Exec(10*time.Second, "ip", "addr", "add", "10.9.0.1/32", "dev", "lo"); err != nil {
			t.Fatalf("%s: add 10.9.0.1: %v: %s", r.Spec.Name, err, out)
		}
	}
	nb("--wait=hv", "sync")
	if _, err := vm1.Ping("10.9.0.1", 45*time.Second); err != nil {
		t.Fatalf("vm1 to the ECMP prefix: %v", err)
	}

	// UDP to a closed port: each nexthop counts what it got in Udp NoPorts.
	// The flows differ in source address: the userspace datapath's hash
	// for select groups (dp_hash) does not vary with the L4 ports here,
	// with ovn-northd's flows as with ours.
	for i := 0; i < 8; i++ {
		if out, err := vm1.Exec(10*time.Second, "ip", "addr", "add", fmt.Sprintf("10.0.1.%d/24", 50+i), "dev", "eth0"); err != nil {
			t.Fatalf("vm1: add a source address: %v: %s", err, out)
		}
	}
	before := []int{udpNoPorts(t, r1), udpNoPorts(t, r2)}
	const n = 64
	script := fmt.Sprintf("for p in $(seq 30000 %d); do echo x | nc -u -w0 -s 10.0.1.$((50 + p %% 8)) -p $p 10.9.0.1 9; done", 30000+n-1)
	if out, err := vm1.Exec(60*time.Second, "sh", "-c", script); err != nil {
		t.Fatalf("vm1: send UDP: %v: %s", err, out)
	}
	var got []int
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = []int{udpNoPorts(t, r1) - before[0], udpNoPorts(t, r2) - before[1]}
		if got[0]+got[1] >= n*3/4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("of %d UDP flows, nexthop r1 received %d and r2 %d", n, got[0], got[1])
	if got[0]+got[1] < n/2 {
		t.Fatalf("only %d of %d datagrams reached a nexthop", got[0]+got[1], n)
	}
	if got[0] == 0 || got[1] == 0 {
		groups, _ := tb.Chassis("hv1").Ofctl("dump-groups")
		t.Fatalf("all flows took one nexthop (r1 %d, r2 %d): ECMP did not spread them; hv1 groups:\n%s", got[0], got[1], groups)
	}
}

// udpNoPorts reads the Udp NoPorts counter of a VM's namespace.
func udpNoPorts(t *testing.T, vm *testbed.VM) int {
	t.Helper()
	out, err := vm.Exec(10*time.Second, "cat", "/proc/net/snmp")
	if err != nil {
		t.Fatalf("%s: read /proc/net/snmp: %v", vm.Spec.Name, err)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "NoPorts" && i < len(f) {
				v, err := strconv.Atoi(f[i])
				if err != nil {
					t.Fatalf("%s: Udp NoPorts %q: %v", vm.Spec.Name, f[i], err)
				}
				return v
			}
		}
	}
	t.Fatalf("%s: no Udp NoPorts in /proc/net/snmp", vm.Spec.Name)
	return 0
}
