package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// bfdNB creates a router with two ports, a static route tied to a BFD
// session to its nexthop, a session no route uses (with its own timers)
// and a session on a port that does not exist.
func bfdNB(t *testing.T, nb string) {
	t.Helper()
	nbctl(t, nb, "lr-add", "lr0", "--", "lrp-add", "lr0", "lr0-a", "00:00:00:00:ff:01", "10.0.0.1/24",
		"--", "lrp-add", "lr0", "lr0-b", "00:00:00:00:ff:02", "10.0.1.1/24")
	b1 := nbctl(t, nb, "create", "BFD", "logical_port=lr0-a", "dst_ip=10.0.0.5")
	nbctl(t, nb, "create", "BFD", "logical_port=lr0-b", "dst_ip=10.0.1.5", "min_tx=300", "min_rx=400", "detect_mult=3", "options:foo=bar")
	nbctl(t, nb, "create", "BFD", "logical_port=nope", "dst_ip=10.0.1.6")
	nbctl(t, nb, "lr-route-add", "lr0", "192.168.0.0/24", "10.0.0.5")
	r := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Logical_Router_Static_Route", "nexthop=10.0.0.5")
	nbctl(t, nb, "set", "Logical_Router_Static_Route", r, "bfd="+b1)
}

// bfdRows lists SB BFD rows without src_port and disc, sorted.
func bfdRows(t *testing.T, sb string) []string {
	t.Helper()
	out := sbctl(t, sb, "--bare", "--format=csv", "--no-headings", "--columns=logical_port,dst_ip,min_tx,min_rx,detect_mult,options,status", "list", "BFD")
	lines := strings.Split(out, "\n")
	if out == "" {
		lines = nil
	}
	slices.Sort(lines)
	return lines
}

// TestDaemonBFD: every NB BFD row gets an SB BFD row (src_port from 49152,
// a non-zero disc, ovn-northd's default timers), NB status starts
// admin_down, a session a route uses goes down (and SB follows), the
// chassis's up and down come back to NB and take the route in and out,
// and a session nobody uses any more is admin_down on both sides.
func TestDaemonBFD(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	bfdNB(t, nb)
	nbStatus := func(dst string) string {
		return nbctl(t, nb, "--bare", "--columns=status", "find", "BFD", "dst_ip="+dst)
	}
	sbStatus := func(dst string) string {
		return sbctl(t, sb, "--bare", "--columns=status", "find", "BFD", "dst_ip="+dst)
	}
	waitFor(t, "the used session down on both sides", 20*time.Second, func() bool {
		return nbStatus("10.0.0.5") == "down" && sbStatus("10.0.0.5") == "down"
	})
	nbctl(t, nb, "--wait=sb", "sync")
	want := []string{
		"lr0-a,10.0.0.5,1000,1000,5,,down",
		"lr0-b,10.0.1.5,300,400,3,,admin_down",
		"nope,10.0.1.6,1000,1000,5,,admin_down",
	}
	if got := bfdRows(t, sb); !slices.Equal(got, want) {
		t.Errorf("SB BFD rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ports := strings.Fields(sbctl(t, sb, "--bare", "--columns=src_port", "list", "BFD"))
	slices.Sort(ports)
	if !slices.Equal(ports, []string{"49152", "49153", "49154"}) {
		t.Errorf("src_ports %v, want 49152..49154", ports)
	}
	for _, d := range strings.Fields(sbctl(t, sb, "--bare", "--columns=disc", "list", "BFD")) {
		if d == "0" {
			t.Errorf("disc 0")
		}
	}
	for _, dst := range []string{"10.0.1.5", "10.0.1.6"} {
		if got := nbStatus(dst); got != "admin_down" {
			t.Errorf("NB status of unused session %s: %q, want admin_down", dst, got)
		}
	}
	route := func() bool {
		return strings.Contains(sbctl(t, sb, "lflow-list", "lr0"), "ip4.dst == 192.168.0.0/24")
	}
	if route() {
		t.Errorf("route through a down session is in lr_in_ip_routing")
	}

	// The chassis reports the session up, then down.
	u := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "BFD", "dst_ip=10.0.0.5")
	sbctl(t, sb, "set", "BFD", u, "status=up")
	waitFor(t, "NB status up and the route in", 20*time.Second, func() bool { return nbStatus("10.0.0.5") == "up" && route() })
	sbctl(t, sb, "set", "BFD", u, "status=down")
	waitFor(t, "NB status down and the route out", 20*time.Second, func() bool { return nbStatus("10.0.0.5") == "down" && !route() })

	// Timers follow NB; a session nobody uses goes admin_down.
	nbctl(t, nb, "--wait=sb", "set", "BFD", nbctl(t, nb, "--bare", "--columns=_uuid", "find", "BFD", "dst_ip=10.0.1.5"), "min_tx=222")
	if got := sbctl(t, sb, "--bare", "--columns=min_tx", "find", "BFD", "dst_ip=10.0.1.5"); got != "222" {
		t.Errorf("SB min_tx %q, want 222", got)
	}
	r := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Logical_Router_Static_Route", "nexthop=10.0.0.5")
	nbctl(t, nb, "clear", "Logical_Router_Static_Route", r, "bfd")
	waitFor(t, "the unused session admin_down on both sides", 20*time.Second, func() bool {
		return nbStatus("10.0.0.5") == "admin_down" && sbStatus("10.0.0.5") == "admin_down"
	})
	nbctl(t, nb, "--wait=sb", "destroy", "BFD", nbctl(t, nb, "--bare", "--columns=_uuid", "find", "BFD", "dst_ip=10.0.1.6"))
	if got := len(bfdRows(t, sb)); got != 2 {
		t.Errorf("%d SB BFD rows after an NB row went, want 2", got)
	}
}

// TestBFDMatchesOVN runs ovn-northd and our northd on the same NB, each
// writing its own SB, and compares the SB BFD rows (but src_port and disc).
func TestBFDMatchesOVN(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	bfdNB(t, nb)
	var a, b []string
	waitFor(t, "the same SB BFD rows", 20*time.Second, func() bool {
		a, b = bfdRows(t, sbOVN), bfdRows(t, sbOurs)
		return len(a) == 3 && slices.Equal(a, b)
	})
	t.Logf("SB BFD rows agree:\n%s", strings.Join(a, "\n"))
}
