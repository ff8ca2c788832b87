package chassis_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// BenchmarkChassis200Ports_Root runs ovn-controller and our chassis side
// by side on the same logical content and the same kind of OVS (each on
// its own testbed, OVN's ovsdb-server and ovn-northd): 20 logical
// switches with 10 ports each, all 200 plugged into hv1's br-int, plus a
// VM pair on hv1/hv2. It reports, per implementation: the time from a
// port's binding (lsp-add with its VM already plugged) to its first
// answered ping, the time until all 200 ports are up, hv1's flow count,
// the daemon's CPU time and RSS. Needs root; run with -benchtime 1x.
// HCNET_BENCH_LOGDIR keeps the daemons' logs, HCNET_BENCH_PROFILEDIR
// (a directory) our daemons' CPU and heap profiles.
func BenchmarkChassis200Ports_Root(b *testing.B) {
	type result struct {
		bindToPing, allUp time.Duration
		flows             int
		cpu               time.Duration
		rssKB             int
	}
	results := map[string]result{}
	impls := []testbed.Impl{testbed.OVN, testbed.Ours}
	if os.Getenv("HCNET_BENCH_OURS_ONLY") != "" {
		impls = impls[1:]
	}
	for _, impl := range impls {
		name := map[testbed.Impl]string{testbed.OVN: "ovn-controller", testbed.Ours: "hcnet-chassis"}[impl]
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := runScale(b, testbed.Combo{DB: testbed.OVN, Translator: testbed.OVN, Chassis: impl})
				results[name] = r
				b.ReportMetric(float64(r.bindToPing.Milliseconds()), "bind-to-ping-ms")
				b.ReportMetric(float64(r.allUp.Milliseconds()), "200-up-ms")
				b.ReportMetric(float64(r.flows), "flows")
				b.ReportMetric(float64(r.cpu.Milliseconds()), "cpu-ms")
				b.ReportMetric(float64(r.rssKB)/1024, "rss-MB")
			}
		})
	}
	o, h := results["ovn-controller"], results["hcnet-chassis"]
	if o.flows > 0 && h.flows > 0 {
		b.Run("ratio-hcnet-over-ovn", func(b *testing.B) {
			b.ReportMetric(ratio(h.bindToPing, o.bindToPing), "bind-to-ping-x")
			b.ReportMetric(ratio(h.allUp, o.allUp), "200-up-x")
			b.ReportMetric(float64(h.flows)/float64(o.flows), "flows-x")
			b.ReportMetric(ratio(h.cpu, o.cpu), "cpu-x")
			b.ReportMetric(float64(h.rssKB)/float64(o.rssKB), "rss-x")
		})
	}
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func runScale(b *testing.B, combo testbed.Combo) (r struct {
	bindToPing, allUp time.Duration
	flows             int
	cpu               time.Duration
	rssKB             int
}) {
	b.Helper()
	b.StopTimer()
	cfg := testbed.Config{Combo: combo, Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}}}
	if dir := os.Getenv("HCNET_BENCH_PROFILEDIR"); dir != "" {
		// One CPU and one heap profile per daemon of ours, written
		// when it exits.
		cfg.ChassisArgs = []string{"--cpu-profile", filepath.Join(dir, "chassis-cpu-%d.pprof"),
			"--mem-profile", filepath.Join(dir, "chassis-heap-%d.pprof")}
	}
	tb := testbed.Start(b, cfg)
	hv1 := tb.Chassis("hv1")
	// 20 switches x 10 ports, all on hv1 as internal ports.
	var vs []string
	for s := 0; s < 20; s++ {
		ls := fmt.Sprintf("bls%d", s)
		args := []string{"ls-add", ls}
		for p := 0; p < 10; p++ {
			port := fmt.Sprintf("bp%d-%d", s, p)
			args = append(args, "--", "lsp-add", ls, port, "--", "lsp-set-addresses", port,
				fmt.Sprintf("0a:00:00:%02x:%02x:01 10.%d.%d.10", s, p, 100+s, p))
			vs = append(vs, "--", "add-port", "br-int", port, "--", "set", "Interface", port, "type=internal",
				"external_ids:iface-id="+port)
		}
		tb.MustNBCtl(b, args...)
	}
	start := time.Now()
	cpu0 := cpuTime(b, hv1.Daemon.PID())
	if _, err := hv1.Vsctl(vs...); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		out, _ := tb.SBCtl("--bare", "--columns=logical_port", "find", "Port_Binding", "up=true")
		if n := len(strings.Fields(out)); n >= 200 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not all 200 ports up after 120s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.allUp = time.Since(start)
	// Wait for the flow count to settle.
	last, stable := -1, time.Now()
	for time.Since(stable) < 2*time.Second {
		n, err := hv1.FlowCount()
		if err != nil {
			b.Fatal(err)
		}
		if n != last {
			last, stable = n, time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.flows = last

	// Bind-to-ping: the VM pair is plugged first, then the ports are
	// created; the clock starts at the lsp-add of vm2.
	tb.MustNBCtl(b, "lsp-add", "bls0", "bvm1", "--", "lsp-set-addresses", "bvm1", "0a:00:00:00:aa:01 10.100.0.101")
	vm1 := tb.MustAddVM(b, testbed.VMSpec{Name: "bvm1", Chassis: "hv1", MAC: "0a:00:00:00:aa:01", CIDR: "10.100.0.101/16"})
	vm2 := tb.MustAddVM(b, testbed.VMSpec{Name: "bvm2", Chassis: "hv2", MAC: "0a:00:00:00:aa:02", CIDR: "10.100.0.102/16"})
	if _, err := vm1.Ping(vm2.IP(), 100*time.Millisecond); err == nil {
		b.Fatal("vm2 answers before its port exists")
	}
	// Static neighbours take ARP out of the measurement.
	if err := vm1.SetNeighbor(vm2.IP(), "0a:00:00:00:aa:02"); err != nil {
		b.Fatal(err)
	}
	if err := vm2.SetNeighbor(vm1.IP(), "0a:00:00:00:aa:01"); err != nil {
		b.Fatal(err)
	}
	ping0 := time.Now()
	tb.MustNBCtl(b, "lsp-add", "bls0", "bvm2", "--", "lsp-set-addresses", "bvm2", "0a:00:00:00:aa:02 10.100.0.102")
	for !vm1.PingOnce(vm2.IP(), 10*time.Millisecond) {
		if time.Since(ping0) > 60*time.Second {
			b.Fatal("bvm2 not pingable 60s after lsp-add")
		}
	}
	r.bindToPing = time.Since(ping0)
	r.cpu = cpuTime(b, hv1.Daemon.PID()) - cpu0
	r.rssKB = rssKB(b, hv1.Daemon.PID())
	if dir := os.Getenv("HCNET_BENCH_LOGDIR"); dir != "" {
		// Keep the daemons' logs for a closer look.
		for _, c := range tb.AllChassis() {
			for _, f := range []string{"chassis.log", "ovn-controller.log"} {
				if data, err := os.ReadFile(filepath.Join(c.Dir, f)); err == nil {
					_ = os.WriteFile(filepath.Join(dir, c.Name+"-"+f), data, 0o644)
				}
			}
		}
	}
	return r
}

// cpuTime is user+system CPU time of a process (/proc/PID/stat, 100 Hz).
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func rssKB(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
