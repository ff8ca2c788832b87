package engine_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/northd/engine"
	"hcnet/northd/nbscript"
	"hcnet/northd/translate"
)

const base = `
ls s0
ls s1
ls pub
lr r0
lrp r0 r0-s0 00:00:00:00:ff:01 10.0.0.1/24
lrp r0 r0-s1 00:00:00:00:ff:02 10.0.1.1/24
lrp r0 r0-pub 00:00:00:00:ff:03 172.16.0.1/24
link s0 r0-s0
link s1 r0-s1
link pub r0-pub
lsp pub ln type=localnet addresses=unknown opt:network_name=physnet
lsp s0 a addresses="00:00:00:00:00:01 10.0.0.11"
lsp s1 b addresses="00:00:00:00:01:01 10.0.1.11"
`

// randomCommand returns one random nbscript command over a small namespace,
// so that commands often touch the same rows.
func randomCommand(r *rand.Rand) string {
	sw := []string{"s0", "s1", "s2", "pub"}[r.IntN(4)]
	port := "p" + strconv.Itoa(r.IntN(12))
	mac := fmt.Sprintf("00:00:00:00:%02x:%02x", r.IntN(4), r.IntN(256))
	ip := fmt.Sprintf("10.0.%d.%d", r.IntN(3), 2+r.IntN(250))
	switch r.IntN(17) {
	case 0:
		return "ls " + sw
	case 1, 2, 3:
		extra := ""
		if r.IntN(4) == 0 {
			extra = " dhcp=d0"
		}
		if r.IntN(6) == 0 {
			extra += " enabled=false"
		}
		return fmt.Sprintf("lsp %s %s addresses=\"%s %s\"%s", sw, port, mac, ip, extra)
	case 4:
		return "del lsp " + port
	case 5:
		return fmt.Sprintf("acl %s %s %d \"ip4.dst == %s\" %s", sw, []string{"from-lport", "to-lport"}[r.IntN(2)],
			1000+r.IntN(5), ip, []string{"allow", "allow-related", "drop", "reject"}[r.IntN(4)])
	case 6:
		return fmt.Sprintf("pg pg%d p%d p%d", r.IntN(2), r.IntN(12), r.IntN(12))
	case 7:
		return fmt.Sprintf("acl @pg%d to-lport 1001 \"outport == @pg%d && ip4\" allow-related", r.IntN(2), r.IntN(2))
	case 8:
		return fmt.Sprintf("as as%d %s %s", r.IntN(2), ip, ip)
	case 9:
		return fmt.Sprintf("route r%d 10.%d.0.0/16 172.16.0.%d", r.IntN(2), r.IntN(3), 2+r.IntN(3))
	case 10:
		return fmt.Sprintf("nat r0 %s 172.16.0.%d 10.0.%d.0/24", []string{"snat", "dnat_and_snat"}[r.IntN(2)], 100+r.IntN(3), r.IntN(2))
	case 11:
		return fmt.Sprintf("gw r0-pub gw%d %d", r.IntN(2), r.IntN(20))
	case 12:
		return "lr r1"
	case 13:
		return fmt.Sprintf("lrp r1 r1-%s 00:00:00:01:ff:%02x 10.%d.%d.1/24", sw, r.IntN(256), 1+r.IntN(3), r.IntN(3))
	case 14:
		return fmt.Sprintf("link %s r1-%s", sw, []string{"s0", "s1", "s2", "pub"}[r.IntN(4)])
	case 15:
		if r.IntN(2) == 0 {
			return fmt.Sprintf("lb lb%d %s %s:80 %s:8080", r.IntN(2), sw, ip, ip)
		}
		return fmt.Sprintf("nbcfg %d", r.IntN(100))
	default:
		return []string{"del ls s2", "del lr r1", "del lrp r1-s0", "del pg pg0", "del as as1", "del lb lb0",
			"dhcp d0 10.0.0.0/24 lease_time=3600 router=10.0.0.1 server_id=10.0.0.1 server_mac=c0:ff:ee:00:00:01"}[r.IntN(7)]
	}
}

// TestIncrementalEqualsRecompute applies random NB changes in small batches;
// after each batch the engine's SB must equal a full recompute. Rerun a
// failure with NORTHD_SEED=<seed>.
func TestIncrementalEqualsRecompute(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NORTHD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with NORTHD_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed))
	n := translate.NewNB()
	if err := nbscript.Run(n, base); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	// Every other seed takes the bulk path of the flow index on every batch.
	bulk := seed%2 == 0
	if bulk {
		engine.SetBulk(e, 1)
	}
	t.Logf("bulk flow index: %v", bulk)
	prevSets := engine.NewFlowSets(translate.Translate(translate.CloneNB(n), e.Keys()))
	steps := 400
	if testing.Short() {
		steps = 100
	}
	var history []string
	for step := 0; step < steps; step++ {
		next := translate.CloneNB(n)
		batch := 1 + r.IntN(3)
		for i := 0; i < batch; i++ {
			cmd := randomCommand(r)
			if err := nbscript.Apply(next, cmd); err == nil {
				history = append(history, cmd)
			}
		}
		changes := engine.Changes(n, next)
		n = next
		delta, err := e.Apply(changes)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		full := translate.Translate(translate.CloneNB(n), e.Keys())
		want := full.Text()
		got := e.SB().Text()
		if got != want {
			t.Fatalf("seed %d step %d: incremental differs from recompute after:\n%s\n%s",
				seed, step, joinLast(history, 10), lineDiff(got, want))
		}
		// The flow index equals a recompute's, and the delta names every
		// content whose datapaths changed.
		sets := engine.NewFlowSets(full)
		if !e.Flows().Equal(sets) {
			t.Fatalf("seed %d step %d: flow index differs from recompute after:\n%s", seed, step, joinLast(history, 10))
		}
		for _, pair := range [][2]*engine.FlowSets{{prevSets, sets}, {sets, prevSets}} {
			for c, dps := range pair[0].All() {
				if !slices.Equal(dps, pair[1].Datapaths(c)) && !delta.Flows[c] {
					t.Fatalf("seed %d step %d: flow %v moved from %v to %v, not in the delta, after:\n%s",
						seed, step, c, prevSets.Datapaths(c), sets.Datapaths(c), joinLast(history, 10))
				}
			}
		}
		prevSets = sets
	}
}

func joinLast(h []string, n int) string {
	if len(h) > n {
		h = h[len(h)-n:]
	}
	out := ""
	for _, s := range h {
		out += "  " + s + "\n"
	}
	return out
}

// TestRecomputesOnlyReaders pins the fast paths: a change recomputes the
// datapaths that read it and no others.
func TestRecomputesOnlyReaders(t *testing.T) {
	n := translate.NewNB()
	if err := nbscript.Run(n, base+"ls lonely\nlsp lonely z addresses=\"00:00:00:00:09:09 10.9.0.9\"\n"); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	names := func(uuids []string) []string {
		var out []string
		for _, u := range uuids {
			for _, d := range e.SB().Datapaths {
				if d.Datapath.Key == u {
					out = append(out, d.Datapath.Name)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name, cmd string
		want      []string
	}{
		{"port on lonely switch", `lsp lonely y addresses="00:00:00:00:09:0a 10.9.0.10"`, []string{"lonely"}},
		{"port on routed switch", `lsp s0 c addresses="00:00:00:00:00:0c 10.0.0.12"`, []string{"r0", "s0"}},
		{"acl", `acl s1 from-lport 1000 "ip4" drop`, []string{"s1"}},
		{"address set", `as as9 10.1.1.1`, nil},
		{"route", `route r0 8.8.8.0/24 172.16.0.254`, []string{"r0"}},
		{"router port", `lrp r0 r0-s1 00:00:00:00:ff:09 10.0.1.1/24`, []string{"r0", "s1"}},
		{"nb_cfg", `nbcfg 5`, nil},
	} {
		next := translate.CloneNB(n)
		if err := nbscript.Apply(next, tc.cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Apply(engine.Changes(n, next)); err != nil {
			t.Fatal(err)
		}
		n = next
		if got := names(e.Stats().Recomputed); !slices.Equal(got, tc.want) {
			t.Errorf("%s: recomputed %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSinglePortDiff pins the minimal SB diff of adding one port.
func TestSinglePortDiff(t *testing.T) {
	n := translate.NewNB()
	if err := nbscript.Run(n, base); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	next := translate.CloneNB(n)
	if err := nbscript.Apply(next, `lsp s1 c addresses="00:00:00:00:01:0c 10.0.1.12"`); err != nil {
		t.Fatal(err)
	}
	d, err := e.Apply(engine.Changes(n, next))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, dd := range d.Datapaths {
		diff := engine.Diff(dd.Old, dd.New)
		rows += diff.Rows()
		if len(diff.DelFlows) != 0 {
			t.Errorf("adding a port deleted flows: %v", diff.DelFlows)
		}
	}
	// Port_Binding, _MC_flood, 2 ARP responder flows, 1 L2 lookup flow
	// on s1, 1 ARP resolution flow on r0.
	if rows != 6 {
		t.Errorf("adding one port wrote %d rows, want 6", rows)
	}
}

// lineDiff lists the lines only one of two texts has.
func lineDiff(got, want string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	for l, c := range count {
		switch {
		case c > 0:
			fmt.Fprintf(&b, "only in recompute: %s\n", l)
		case c < 0:
			fmt.Fprintf(&b, "only in incremental: %s\n", l)
		}
	}
	return b.String()
}

// TestUpColumnRecomputesNothing: northd writes Logical_Switch_Port.up
// itself; the echo of that write must not recompute datapaths.
func TestUpColumnRecomputesNothing(t *testing.T) {
	n := translate.NewNB()
	if err := nbscript.Run(n, base); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	next := translate.CloneNB(n)
	for u, p := range next.SwitchPorts {
		c := *p
		up := true
		c.Up = &up
		next.SwitchPorts[u] = &c
	}
	d, err := e.Apply(engine.Changes(n, next))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Stats().Recomputed; len(got) != 0 || !d.Empty() {
		t.Errorf("up-only changes recomputed %v (delta empty: %v)", got, d.Empty())
	}
	// The engine answers with the new rows although it kept its index.
	for _, p := range next.SwitchPorts {
		got, ok := e.SwitchPort(p.Name)
		if !ok || got.Up == nil || !*got.Up {
			t.Errorf("SwitchPort(%s) = %+v after up changed", p.Name, got)
		}
	}
	if got, want := e.SB().Text(), translate.Translate(translate.CloneNB(next), e.Keys()).Text(); got != want {
		t.Errorf("after up-only changes:\n%s", lineDiff(got, want))
	}
}

// TestHealthCheckRecomputesOnlyReaders pins the health-check fast paths: a
// Service_Monitor status change recomputes only the datapaths whose VIPs
// name the backend, a port going up none, and the output always equals a
// full recompute.
func TestHealthCheckRecomputesOnlyReaders(t *testing.T) {
	n := translate.NewNB()
	if err := nbscript.Run(n, base+`
svcmac 0a:00:00:00:fe:fe
ls lonely
lsp lonely z addresses="00:00:00:00:09:09 10.9.0.9"
lb web s1 10.0.1.100:80 10.0.0.11:8080,10.0.1.11:8080
hc web 10.0.1.100:80
ipmap web 10.0.0.11=a:10.0.0.2 10.0.1.11=b:10.0.1.2
`); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	names := func(uuids []string) []string {
		var out []string
		for _, u := range uuids {
			if d := e.SB().Datapaths[u]; d != nil {
				out = append(out, d.Datapath.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	lbAction := func() string {
		for _, d := range e.SB().Datapaths {
			for _, f := range d.Flows {
				if f.Stage == "ls_in_lb" && strings.Contains(f.Match, "10.0.1.100") {
					return f.Actions
				}
			}
		}
		return ""
	}
	for _, tc := range []struct {
		name, cmd string
		want      []string
		action    string
		monitors  bool
	}{
		{"backend offline", "svcmon tcp 10.0.0.11 8080 a offline", []string{"s1"}, "ct_lb_mark(backends=10.0.1.11:8080)", false},
		{"other backend offline", "svcmon tcp 10.0.1.11 8080 b offline", []string{"s1"}, "drop;", false},
		{"backend online", "svcmon tcp 10.0.0.11 8080 a online", []string{"s1"}, "ct_lb_mark(backends=10.0.0.11:8080)", false},
		{"unrelated status", "svcmon tcp 10.9.9.9 80 z offline", nil, "ct_lb_mark(backends=10.0.0.11:8080)", false},
		{"port up", "up a", nil, "ct_lb_mark(backends=10.0.0.11:8080)", true},
		{"health check options", "hc web 10.0.1.100:80 opt:interval=3", []string{"s0", "s1"}, "ct_lb_mark(backends=10.0.0.11:8080)", true},
		{"svc_monitor_mac", "svcmac 0a:00:00:00:fe:01", []string{"lonely", "pub", "s0", "s1"}, "ct_lb_mark(backends=10.0.0.11:8080)", true},
		{"port disabled", `lsp s0 a addresses="00:00:00:00:00:01 10.0.0.11" up=true enabled=false`, []string{"r0", "s0", "s1"}, "drop;", true},
	} {
		next := translate.CloneNB(n)
		if name, ok := strings.CutPrefix(tc.cmd, "up "); ok {
			// Only the up column, as northd itself writes it (nbscript's
			// lsp would rewrite the switch too).
			u := nbscript.UUID("lsp", name)
			p := *next.SwitchPorts[u]
			up := true
			p.Up = &up
			next.SwitchPorts[u] = &p
		} else if err := nbscript.Apply(next, tc.cmd); err != nil {
			t.Fatal(err)
		}
		d, err := e.Apply(engine.Changes(n, next))
		if err != nil {
			t.Fatal(err)
		}
		n = next
		if got := names(e.Stats().Recomputed); !slices.Equal(got, tc.want) {
			t.Errorf("%s: recomputed %v, want %v", tc.name, got, tc.want)
		}
		if got := lbAction(); !strings.Contains(got, tc.action) {
			t.Errorf("%s: VIP action %q, want %q in it", tc.name, got, tc.action)
		}
		if d.ServiceMonitors != tc.monitors {
			t.Errorf("%s: Delta.ServiceMonitors %v, want %v", tc.name, d.ServiceMonitors, tc.monitors)
		}
		if got, want := e.SB().Text(), translate.Translate(translate.CloneNB(n), e.Keys()).Text(); got != want {
			t.Fatalf("%s: incremental differs from recompute", tc.name)
		}
	}
}

// TestIGMPGroupRecomputesOnlyItsSwitch: a group the chassis report
// recomputes its switch only, and the output equals a full recompute.
func TestIGMPGroupRecomputesOnlyItsSwitch(t *testing.T) {
	n := translate.NewNB()
	if err := nbscript.Run(n, base+"otherconfig s0 mcast_snoop=true\n"); err != nil {
		t.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"igmp s0 239.1.1.1 a", []string{"s0"}},
		{"igmp s1 239.1.1.1 b", []string{"s1"}},
		{"igmp s0 239.1.1.1", []string{"s0"}},
	} {
		next := translate.CloneNB(n)
		if err := nbscript.Apply(next, tc.cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Apply(engine.Changes(n, next)); err != nil {
			t.Fatal(err)
		}
		n = next
		var got []string
		for _, u := range e.Stats().Recomputed {
			got = append(got, e.SB().Datapaths[u].Datapath.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: recomputed %v, want %v", tc.cmd, got, tc.want)
		}
		if e.Stats().Full {
			t.Errorf("%s: full recompute", tc.cmd)
		}
		if got, want := e.SB().Text(), translate.Translate(translate.CloneNB(n), e.Keys()).Text(); got != want {
			t.Fatalf("%s: incremental differs from recompute", tc.cmd)
		}
	}
}
