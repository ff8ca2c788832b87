package chassis_test

import (
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestWaitingInterface_Root: a VM plugged under an iface-id that no
// logical port has yet gets a table 0 flow sending its packets to the
// controller through meter 65000 (ovn-controller leaves them to the
// table-miss drop, which the switch caches). Once the logical port
// exists the port binds, a ping that ran all along gets through, and the
// flow is gone; packets punted after the flows landed went back through
// the table (the reinjector), so nothing waited for the datapath cache.
func TestWaitingInterface_Root(t *testing.T) {
	c := combo(t)
	if c.Chassis != testbed.Ours {
		t.Skipf("combo %s: the waiting-interface flows are our chassis's", c)
	}
	tb := testbed.Start(t, testbed.Config{Combo: c, Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}}})
	lsp(t, tb, "ls1", "peer", "0a:00:00:00:05:01", "10.0.5.1")
	peer := tb.MustAddVM(t, testbed.VMSpec{Name: "peer", Chassis: "hv1", MAC: "0a:00:00:00:05:01", CIDR: "10.0.5.1/24"})
	late := tb.MustAddVM(t, testbed.VMSpec{Name: "late", Chassis: "hv1", MAC: "0a:00:00:00:05:02", CIDR: "10.0.5.2/24"})
	hv1 := tb.Chassis("hv1")
	out, err := hv1.Vsctl("get", "Interface", late.OVSPort, "ofport")
	if err != nil {
		t.Fatal(err)
	}
	ofport := strings.TrimSpace(out)
	punt := func() string {
		out, _ := hv1.Ofctl("dump-flows", "--no-stats", "table=0,in_port="+ofport)
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "priority=50") {
				return l
			}
		}
		return ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := punt()
		if strings.Contains(l, "controller(") && strings.Contains(l, "meter_id=65000") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no table 0 flow sending in_port=%s to the controller through meter 65000 after 30s: %q", ofport, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := hv1.Ofctl("dump-meters"); err != nil || !strings.Contains(out, "meter=65000") {
		t.Fatalf("meter 65000 on br-int: %v\n%s", err, out)
	}
	probe := late.StartPings(peer.IP(), 10*time.Millisecond, 8*time.Second)
	lsp(t, tb, "ls1", "late", "0a:00:00:00:05:02", "10.0.5.2")
	ping(t, late, peer.IP(), 30*time.Second)
	deadline = time.Now().Add(15 * time.Second)
	for punt() != "" {
		if time.Now().After(deadline) {
			t.Fatalf("in_port=%s still sent to the controller after its port was bound: %q", ofport, punt())
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := probe.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe every 10 ms for 8 s from before the bind: %d sent, %d answered", st.Transmitted, st.Received)
	if st.Received == 0 {
		t.Fatalf("the probe running across the bind got no reply (%d sent)", st.Transmitted)
	}
}
