package e2e

import (
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestBrokenChassisExplains_Root breaks one chassis on purpose (its daemon
// manages br-broken instead of br-int, so br-int gets no flows) and checks
// that the failing ping says what an operator should check next: which
// ping, which VMs, which chassis, its empty flow table, and where the logs
// are.
func TestBrokenChassisExplains_Root(t *testing.T) {
	combo := testbed.Combo{DB: testbed.OVN, Translator: testbed.OVN, Chassis: testbed.OVN}
	tb := testbed.Start(t, testbed.Config{
		Combo:         combo,
		Chassis:       []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}},
		BrokenChassis: "hv2",
	})
	tb.MustNBCtl(t, "ls-add", "ls1")
	tb.MustNBCtl(t, "lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 10.0.1.11")
	tb.MustNBCtl(t, "lsp-add", "ls1", "vm2", "--", "lsp-set-addresses", "vm2", "0a:00:00:00:01:12 10.0.1.12")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24"})
	tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24"})
	_, err := vm1.Ping("10.0.1.12", 8*time.Second)
	if err == nil {
		t.Fatal("ping vm1 -> vm2 succeeded although hv2's daemon programs the wrong bridge")
	}
	msg := err.Error()
	t.Logf("the operator sees:\n%s", msg)
	for _, want := range []string{
		"vm1 (netns " + tb.Prefix + "-vm-vm1",   // which VM pinged
		"-> 10.0.1.12: no echo reply",           // which ping
		"destination: vm2",                      // which VM should have answered
		"chassis hv2 (netns " + tb.Prefix,       // which chassis
		"br-int flows 0 (NONE",                  // what is wrong there
		"dump-flows unix:" + tb.RunDir + "/hv2", // how to look
		"ofproto/trace br-int",                  // how to trace
		tb.RunDir + "/hv2/ovn-controller.log",   // where the logs are
		"ovn-sbctl --db=unix:",                  // port bindings
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnosis lacks %q", want)
		}
	}
}
