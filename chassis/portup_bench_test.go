package chassis_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/e2e/testbed"
	"hcnet/internal/client"
)

// BenchmarkPortUp_Root measures port-up latency: the time from binding a
// port (setting external_ids:iface-id on an Interface already plugged
// into hv1's br-int, its logical switch port already in the northbound)
// to the first echo reply the port's VM receives. The bind is one
// Open_vSwitch transaction on a connection opened beforehand (ovs-vsctl's
// start-up took 10-370 ms under load, inside the measurement), sent once
// both chassis are done with the new logical port and VM (a flow for its
// MAC, flow count steady for 100 ms). Two testbeds run
// at once, one with ovn-controller and one with our chassis (OVN's
// databases and ovn-northd in both), on the same content: 200 background
// ports on hv1 (20 switches x 10) and, on switch bls0, a peer VM on hv1
// and one on hv2. Ports are bound alternately on the two testbeds, so
// both see the same machine load. From the new VM, two probe series run
// at once (raw ICMP socket, one echo request every millisecond): to the
// local peer (hv1's own flows) and to the remote peer (also hv2's
// reaction to the claim). The result is the send time of the first
// ...  reported as median and
// p90 per implementation and their ratio ours/OVN. Static neighbours
// keep ARP out. Needs root; run with -benchtime 1x.
//
// HCNET_BENCH_PORTUP_N sets the number of ports bound per
// implementation (default 8); HCNET_BENCH_TRACE=1 runs our chassis with
// --trace-port-up and logs each port's breakdown (interface update seen,
// flows planned, claim sent/acknowledged, flows sent/acknowledged).
// HCNET_BENCH_DIAG=DIR keeps both testbeds' files in DIR/<impl>, turns
// on hv1's ovs-vswitchd and ovsdb-server debug logs (OpenFlow messages,
// datapath flow operations, OVSDB transactions), profiles our chassis (CPU
// and heap: DIR/chassis-PID.prof, .heap) and
// writes DIR/<impl>/diag.txt (portUpDiag); HCNET_BENCH_HOLD=FILE keeps
// the testbeds up until FILE is removed.
func BenchmarkPortUp_Root(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (network namespaces, Open vSwitch)")
	}
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		b.Skip("HCNET_SKIP_OVS=1")
	}
	n := 8
	if v, err := strconv.Atoi(os.Getenv("HCNET_BENCH_PORTUP_N")); err == nil && v > 0 {
		n = v
	}
	trace := os.Getenv("HCNET_BENCH_TRACE") != ""
	diag := os.Getenv("HCNET_BENCH_DIAG")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		impls := []testbed.Impl{testbed.OVN, testbed.Ours}
		names := map[testbed.Impl]string{testbed.OVN: "ovn-controller", testbed.Ours: "hcnet-chassis"}
		beds := map[testbed.Impl]*portUpBed{}
		for _, impl := range impls {
			beds[impl] = newPortUpBed(b, impl, trace, diag)
		}
		for _, impl := range impls {
			beds[impl].cpu0 = cpuTime(b, beds[impl].tb.Chassis("hv1").Daemon.PID())
		}
		for p := 0; p < n; p++ {
			order := impls
			if p%2 == 1 {
				order = []testbed.Impl{testbed.Ours, testbed.OVN}
			}
			for _, impl := range order {
				beds[impl].bindOne(b, p)
			}
		}
		res := map[testbed.Impl]portUpResult{}
		for _, impl := range impls {
			bed := beds[impl]
			hv1 := bed.tb.Chassis("hv1")
			r := portUpResult{local: bed.local, remote: bed.remote,
				cpu: cpuTime(b, hv1.Daemon.PID()) - bed.cpu0, rssKB: rssKB(b, hv1.Daemon.PID())}
			if n, err := hv1.FlowCount(); err == nil {
				r.flows = n
			}
			res[impl] = r
			b.Logf("%s: local ms %v; remote ms %v", names[impl], msList(r.local), msList(r.remote))
			if trace {
				// What ovs-vswitchd revalidates after each install.
				out, _ := hv1.Appctl("dpctl/dump-flows")
				up, _ := hv1.Appctl("upcall/show")
				b.Logf("%s: hv1 datapath flows %d; upcall/show:\n%s", names[impl], len(strings.Split(strings.TrimSpace(out), "\n")), up)
			}
			if trace && impl == testbed.Ours {
				bed.logTraces(b)
			}
		}
		bedsHold(b, beds)
		o, h := res[testbed.OVN], res[testbed.Ours]
		for _, impl := range impls {
			r := res[impl]
			b.Run(names[impl], func(b *testing.B) {
				b.ReportMetric(ms(quantile(r.local, 0.5)), "local-median-ms")
				b.ReportMetric(ms(quantile(r.local, 0.9)), "local-p90-ms")
				b.ReportMetric(ms(quantile(r.remote, 0.5)), "remote-median-ms")
				b.ReportMetric(ms(quantile(r.remote, 0.9)), "remote-p90-ms")
				b.ReportMetric(float64(r.cpu.Milliseconds()), "cpu-ms")
				b.ReportMetric(float64(r.rssKB)/1024, "rss-MB")
				b.ReportMetric(float64(r.flows), "flows")
			})
		}
		b.Run("ratio-hcnet-over-ovn", func(b *testing.B) {
			b.ReportMetric(ratio(quantile(h.local, 0.5), quantile(o.local, 0.5)), "local-median-x")
			b.ReportMetric(ratio(quantile(h.local, 0.9), quantile(o.local, 0.9)), "local-p90-x")
			b.ReportMetric(ratio(quantile(h.remote, 0.5), quantile(o.remote, 0.5)), "remote-median-x")
			b.ReportMetric(ratio(quantile(h.remote, 0.9), quantile(o.remote, 0.9)), "remote-p90-x")
			b.ReportMetric(ratio(h.cpu, o.cpu), "cpu-x")
			b.ReportMetric(float64(h.rssKB)/float64(o.rssKB), "rss-x")
			if o.flows > 0 {
				b.ReportMetric(float64(h.flows)/float64(o.flows), "flows-x")
			}
		})
	}
}

type portUpResult struct {
	local, remote []time.Duration
	cpu           time.Duration
	rssKB         int
	flows         int // hv1's OpenFlow flows at the end
}

// portUpBed is one testbed of BenchmarkPortUp_Root.
type portUpBed struct {
	tb            *testbed.Testbed
	impl          testbed.Impl
	peer1, peer2  *testbed.VM
	local, remote []time.Duration
	binds         map[string]time.Time // port -> bind time
	cpu0          time.Duration
	diag          *portUpDiag
	ovs           *client.Client // hv1's Open_vSwitch database, for the binds
}

const portUpProbe = 3 * time.Second // a port not answering by then counts as this

func newPortUpBed(b *testing.B, impl testbed.Impl, trace bool, diag string) *portUpBed {
	b.Helper()
	cfg := testbed.Config{Combo: testbed.Combo{DB: testbed.OVN, Translator: testbed.OVN, Chassis: impl},
		Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}}}
	if diag != "" {
		cfg.RunDir = filepath.Join(diag, string(impl))
		if impl == testbed.Ours {
			cfg.ChassisArgs = append(cfg.ChassisArgs, "--cpu-profile="+filepath.Join(diag, "chassis-%d.prof"),
				"--mem-profile="+filepath.Join(diag, "chassis-%d.heap"))
		}
	}
	if trace && impl == testbed.Ours {
		cfg.ChassisArgs = append(cfg.ChassisArgs, "--trace-port-up")
	}
	tb := testbed.Start(b, cfg)
	hv1 := tb.Chassis("hv1")
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
	if _, err := hv1.Vsctl(vs...); err != nil {
		b.Fatal(err)
	}
	tb.MustNBCtl(b, "lsp-add", "bls0", "peer1", "--", "lsp-set-addresses", "peer1", "0a:00:00:00:bb:01 10.100.0.201",
		"--", "lsp-add", "bls0", "peer2", "--", "lsp-set-addresses", "peer2", "0a:00:00:00:bb:02 10.100.0.202")
	bed := &portUpBed{tb: tb, impl: impl, binds: map[string]time.Time{},
		peer1: tb.MustAddVM(b, testbed.VMSpec{Name: "peer1", Chassis: "hv1", MAC: "0a:00:00:00:bb:01", CIDR: "10.100.0.201/16"}),
		peer2: tb.MustAddVM(b, testbed.VMSpec{Name: "peer2", Chassis: "hv2", MAC: "0a:00:00:00:bb:02", CIDR: "10.100.0.202/16"}),
	}
	if _, err := bed.peer1.Ping(bed.peer2.IP(), 60*time.Second); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		out, _ := tb.SBCtl("--bare", "--columns=logical_port", "find", "Port_Binding", "up=true")
		if len(strings.Fields(out)) >= 202 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: not all 202 ports up after 120s", impl)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if diag != "" {
		bed.diag = startPortUpDiag(b, hv1, cfg.RunDir)
	}
	c, err := client.Dial(context.Background(), hv1.DBRemote(), client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bed.ovs = c
	return bed
}

// bindOne creates logical port pu<i> and a VM for it plugged into hv1
// under another iface-id, then binds it and probes both peers.
func (bed *portUpBed) bindOne(b *testing.B, i int) {
	b.Helper()
	tb := bed.tb
	port := fmt.Sprintf("pu%d", i)
	mac := fmt.Sprintf("0a:00:00:00:cc:%02x", i+1)
	ip := fmt.Sprintf("10.100.200.%d", i+1)
	tb.MustNBCtl(b, "lsp-add", "bls0", port, "--", "lsp-set-addresses", port, mac+" "+ip)
	vm := tb.MustAddVM(b, testbed.VMSpec{Name: port, Port: "unbound-" + port, Chassis: "hv1", MAC: mac, CIDR: ip + "/16"})
	for _, nb := range []struct {
		vm      *testbed.VM
		ip, mac string
	}{{vm, bed.peer1.IP(), bed.peer1.Spec.MAC}, {vm, bed.peer2.IP(), bed.peer2.Spec.MAC},
		{bed.peer1, ip, mac}, {bed.peer2, ip, mac}} {
		if err := nb.vm.SetNeighbor(nb.ip, nb.mac); err != nil {
			b.Fatal(err)
		}
	}
	// The port binding must be in the southbound, and both chassis done
	// with the new logical port and the new VM's interface, before the
	// bind, as for a VM plugged into an existing port.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := tb.SBCtl("--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port="+port)
		if strings.TrimSpace(out) == port {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: port binding %s not in the southbound after 30s", bed.impl, port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, hv := range []string{"hv1", "hv2"} {
		waitQuiet(b, tb.Chassis(hv), mac)
	}
	local, err := startPinger(vm, bed.peer1.IP())
	if err != nil {
		b.Fatal(err)
	}
	remote, err := startPinger(vm, bed.peer2.IP())
	if err != nil {
		b.Fatal(err)
	}
	bed.diag.before(b)
	t0 := time.Now()
	local.start(t0)
	remote.start(t0)
	// The bind is one transaction on a connection made beforehand (no
	// ovs-vsctl start-up, 10-300 ms under load, inside the measurement).
	if err := bed.bind(vm.OVSPort, port); err != nil {
		b.Fatal(err)
	}
	bed.binds[port] = t0
	bed.local = append(bed.local, local.wait().Sub(t0))
	bed.remote = append(bed.remote, remote.wait().Sub(t0))
	bed.diag.after(b, port, vm.OVSPort, t0, bed.local[len(bed.local)-1])
}

// bind sets external_ids:iface-id=port on Interface ovsPort.
func (bed *portUpBed) bind(ovsPort, port string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := bed.ovs.Transact(ctx, "Open_vSwitch", ovsdb.Operation{
		Op: ovsdb.OperationMutate, Table: "Interface",
		Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: ovsPort}},
		Mutations: []ovsdb.Mutation{
			{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{"iface-id"}}},
			{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: map[any]any{"iface-id": port}}},
		},
	})
	if err != nil {
		return fmt.Errorf("bind %s to %s: %w", ovsPort, port, err)
	}
	return nil
}

// waitQuiet waits until the chassis has a flow for the MAC of a new
// logical port and its flow count stays the same for 100 ms: the
// chassis daemon is done with the changes made before the bind.
func waitQuiet(b *testing.B, hv *testbed.Chassis, mac string) {
	b.Helper()
	count := func() (int, bool) {
		out, err := hv.Ofctl("dump-aggregate")
		if err != nil {
			return -1, false
		}
		i := strings.Index(out, "flow_count=")
		if i < 0 {
			return -1, false
		}
		n, _ := strconv.Atoi(strings.Fields(out[i+len("flow_count="):])[0])
		has, _ := hv.Ofctl("dump-flows", "--no-stats", "dl_dst="+mac)
		return n, strings.Contains(has, "actions=")
	}
	deadline := time.Now().Add(20 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		n, ok := count()
		if ok && n == last {
			return
		}
		last = n
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("chassis %s: flows for %s not installed, or still changing, after 20s", hv.Name, mac)
}

// pinger sends an ICMP echo request every millisecond from a VM (a raw
// socket in its namespace) until the first reply arrives, and keeps the
// reply's arrival time: when the port first worked, whatever queue a
// request waited in.
type pinger struct {
	conn  *net.IPConn
	dst   *net.IPAddr
	id    uint16
	first chan time.Time
}

func startPinger(vm *testbed.VM, dst string) (*pinger, error) {
	p := &pinger{dst: &net.IPAddr{IP: net.ParseIP(dst)}, id: uint16(rand.Uint32()), first: make(chan time.Time, 1)}
	if err := vm.Do(func() error {
		c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			return err
		}
		p.conn = c.(*net.IPConn)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pinger from %s: %w", vm.Spec.Name, err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := p.conn.ReadFrom(buf)
			at := time.Now()
			if err != nil {
				return
			}
			m := buf[:n]
			if len(m) >= 20 && m[0]>>4 == 4 {
				m = m[int(m[0]&0x0f)*4:]
			}
			if len(m) >= 8 && m[0] == 0 && binary.BigEndian.Uint16(m[4:]) == p.id {
				p.first <- at
				return
			}
		}
	}()
	return p, nil
}

// start sends requests from now on until a reply came or portUpProbe
// passed since t0.
func (p *pinger) start(t0 time.Time) {
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for seq := uint16(1); time.Since(t0) < portUpProbe; seq++ {
			if len(p.first) > 0 {
				return
			}
			_, _ = p.conn.WriteTo(echo(p.id, seq), p.dst)
			<-tick.C
		}
	}()
}

// wait returns when the first reply arrived, or t0+portUpProbe.
func (p *pinger) wait() time.Time {
	defer p.conn.Close()
	select {
	case at := <-p.first:
		p.first <- at // for start's check
		return at
	case <-time.After(portUpProbe + 100*time.Millisecond):
		return time.Now()
	}
}

func echo(id, seq uint16) []byte {
	m := make([]byte, 8+56)
	m[0] = 8
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	var sum uint32
	for i := 0; i+1 < len(m); i += 2 {
		sum += uint32(m[i])<<8 | uint32(m[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(m[2:], ^uint16(sum))
	return m
}

// logTraces logs our chassis's --trace-port-up lines for the bound
// ports, relative to the bind.
func (bed *portUpBed) logTraces(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(bed.tb.Chassis("hv1").Dir, "chassis.log"))
	if err != nil {
		b.Logf("trace: %v", err)
		return
	}
	b.Logf("trace (ms after the bind): ovsdb update seen, flows planned, claim sent, claim acked, flows sent, flows acked")
	for _, l := range strings.Split(string(data), "\n") {
		if i := strings.Index(l, "stages="); i >= 0 && strings.Contains(l, "port-up round") {
			b.Logf("round %s", l[i:])
			continue
		}
		if !strings.Contains(l, "port-up trace") {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(l) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		t0, ok := bed.binds[kv["port"]]
		if !ok {
			continue
		}
		seenUS, _ := strconv.ParseInt(kv["seen_unix_us"], 10, 64)
		seen := float64(time.UnixMicro(seenUS).Sub(t0).Microseconds()) / 1000
		at := func(k string) float64 {
			v, _ := strconv.ParseFloat(kv[k], 64)
			return seen + v/1000
		}
		b.Logf("trace %s: seen %.1f planned %.1f claim %.1f/%.1f flows %.1f/%.1f", kv["port"], seen,
			at("decided_us"), at("claim_sent_us"), at("claim_acked_us"), at("flows_sent_us"), at("flows_acked_us"))
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s)) + 0.5)
	if q == 0.5 {
		i = len(s) / 2
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func msList(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, strconv.FormatFloat(ms(d), 'f', 1, 64))
	}
	return strings.Join(parts, " ")
}
