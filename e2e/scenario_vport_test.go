package e2e

import (
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// Virtual ports (ovn-nb(5) Logical_Switch_Port type virtual, ovn-sb(5)
// Port_Binding virtual_parent): a virtual IP moves between its parents;
// the parent that announces it (gratuitous ARP) gets the virtual port
// bound to its chassis, and traffic to the IP follows.

func init() {
	extraScenarios = append(extraScenarios, scenario{"virtual-port", testVirtualPort})
}

const vportIP = "10.0.7.50"

// bindingOf returns the Port_Binding's chassis name and virtual_parent.
func bindingOf(t *testing.T, s *suite, port string) (chassis, parent string) {
	t.Helper()
	col := func(c string) string {
		out, err := s.tb.SBCtl("--bare", "--columns="+c, "find", "Port_Binding", "logical_port="+port)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	parent = col("virtual_parent")
	if u := col("chassis"); u != "" {
		name, err := s.tb.SBCtl("--bare", "--columns=name", "list", "Chassis", u)
		if err != nil {
			t.Fatal(err)
		}
		chassis = strings.TrimSpace(name)
	}
	return chassis, parent
}

// claimVIP gives v the virtual IP and announces it until the virtual
// port is bound to v's chassis with v as its parent.
func claimVIP(t *testing.T, s *suite, v *testbed.VM) {
	t.Helper()
	if out, err := v.Exec(10*time.Second, "ip", "addr", "replace", vportIP+"/24", "dev", "eth0"); err != nil {
		t.Fatalf("%s: add %s: %v: %s", v.Spec.Name, vportIP, err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _ = v.Exec(5*time.Second, "busybox", "arping", "-U", "-c", "1", "-I", "eth0", vportIP)
		ch, parent := bindingOf(t, s, "vip-h")
		if ch == v.Chassis.Name && parent == v.Spec.Name {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s announced %s, but virtual port vip-h is bound to %q with virtual_parent %q, want %s and %s",
				v.Spec.Name, vportIP, ch, parent, v.Chassis.Name, v.Spec.Name)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// testVirtualPort: vip-h (10.0.7.50) on ls-h with parents vmh1 (hv1) and
// vmh2 (hv2). vmh1 announces it: bound to hv1 with parent vmh1, and
// vmhc's pings reach it; then vmh2 takes it over: bound to hv2 with
// parent vmh2, and pings still answered.
func testVirtualPort(t *testing.T, s *suite) {
	b1, b2, client := healthNet(t, s)
	nbctl(t, s, "--may-exist", "lsp-add", "ls-h", "vip-h", "--", "lsp-set-type", "vip-h", "virtual",
		"--", "lsp-set-addresses", "vip-h", "00:00:00:00:07:50 "+vportIP,
		"--", "lsp-set-options", "vip-h", "virtual-ip="+vportIP, "virtual-parents=vmh1,vmh2")
	t.Cleanup(func() {
		_, _ = s.tb.NBCtl("--if-exists", "lsp-del", "vip-h")
		for _, v := range []*testbed.VM{b1, b2} {
			_, _ = v.Exec(10*time.Second, "ip", "addr", "del", vportIP+"/24", "dev", "eth0")
		}
	})
	nbctl(t, s, "--wait=hv", "sync")
	claimVIP(t, s, b1)
	mustPing(t, client, vportIP, 30*time.Second)
	if out, err := b1.Exec(10*time.Second, "ip", "addr", "del", vportIP+"/24", "dev", "eth0"); err != nil {
		t.Fatalf("vmh1: remove %s: %v: %s", vportIP, err, out)
	}
	claimVIP(t, s, b2)
	mustPing(t, client, vportIP, 30*time.Second)
}
