package e2e

import (
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

func TestSmokeL2_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{})
	tb.MustNBCtl(t, "ls-add", "ls1")
	tb.MustNBCtl(t, "lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 10.0.1.11")
	tb.MustNBCtl(t, "lsp-add", "ls1", "vm2", "--", "lsp-set-addresses", "vm2", "0a:00:00:00:01:12 10.0.1.12")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24"})
	tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24"})
	d, err := vm1.Ping("10.0.1.12", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first reply after %s", d)
}
