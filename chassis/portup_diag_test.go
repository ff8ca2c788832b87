package chassis_test

import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// portUpDiag collects, with HCNET_BENCH_DIAG=DIR, what hv1's
// ovs-vswitchd and ovsdb-server did around each bind of
// BenchmarkPortUp_Root: their debug logs (OVSDB messages, OpenFlow
// messages, datapath flow operations, upcalls) stay in DIR/<impl>/hv1,
// and DIR/<impl>/diag.txt gets each bind's time, the first reply, the
// OpenFlow flow count before and after, and the coverage counters that
// moved.
type portUpDiag struct {
	hv1   *testbed.Chassis
	out   *os.File
	cov0  map[string]int64
	flows int
}

func startPortUpDiag(b *testing.B, hv1 *testbed.Chassis, dir string) *portUpDiag {
	b.Helper()
	f, err := os.Create(filepath.Join(dir, "diag.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	for _, m := range []string{"dpif:file:dbg", "vconn:file:dbg", "dpif_netdev:file:dbg", "ofproto_dpif_upcall:file:dbg", "bridge:file:dbg"} {
		if _, err := hv1.Appctl("vlog/set", m); err != nil {
			b.Fatal(err)
		}
	}
	ctl := filepath.Join(hv1.Dir, "ovsdb-server.ctl")
	if out, err := osexec.Command("ovs-appctl", "-t", ctl, "vlog/set", "jsonrpc:file:dbg").CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	return &portUpDiag{hv1: hv1, out: f}
}

func (d *portUpDiag) before(b *testing.B) {
	if d == nil {
		return
	}
	d.cov0 = d.coverage(b)
	n, err := d.hv1.FlowCount()
	if err != nil {
		b.Fatal(err)
	}
	d.flows = n
}

// after waits until the chassis marks the interface ovn-installed (the
// end of its port-up work), then records the deltas.
func (d *portUpDiag) after(b *testing.B, port, ovsPort string, t0 time.Time, first time.Duration) {
	if d == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := d.hv1.Vsctl("--if-exists", "get", "Interface", ovsPort, "external_ids:ovn-installed")
		if strings.Contains(out, "true") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let the revalidators settle.
	time.Sleep(300 * time.Millisecond)
	cov := d.coverage(b)
	n, err := d.hv1.FlowCount()
	if err != nil {
		b.Fatal(err)
	}
	var keys []string
	for k, v := range cov {
		if v != d.cov0[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fmt.Fprintf(d.out, "bind %s ovsport=%s t0=%s first_ms=%.1f flows %d -> %d\n", port, ovsPort,
		t0.UTC().Format("15:04:05.000000"), float64(first.Microseconds())/1000, d.flows, n)
	for _, k := range keys {
		fmt.Fprintf(d.out, "  %s %d\n", k, cov[k]-d.cov0[k])
	}
}

func (d *portUpDiag) coverage(b *testing.B) map[string]int64 {
	out, err := d.hv1.Appctl("coverage/show")
	if err != nil {
		b.Fatal(err)
	}
	m := map[string]int64{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[len(f)-2] == "total:" {
			v, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			m[f[0]] = v
		}
	}
	return m
}

// bedsHold keeps the testbeds up, with HCNET_BENCH_HOLD=FILE, until FILE
// is removed (for looking at them by hand).
func bedsHold(b *testing.B, beds map[testbed.Impl]*portUpBed) {
	f := os.Getenv("HCNET_BENCH_HOLD")
	if f == "" {
		return
	}
	for impl, bed := range beds {
		b.Logf("%s: hv1 dir %s ns %s", impl, bed.tb.Chassis("hv1").Dir, bed.tb.Chassis("hv1").NS)
	}
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := os.Stat(f); err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
