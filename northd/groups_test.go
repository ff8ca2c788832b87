package northd_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/internal/ovstest"
	"hcnet/northd"
)

// sbFlows is the Logical_Flow content of an SB, read in one transaction.
type sbFlows struct {
	// rows: one per Logical_Flow row, its content and datapath names.
	rows map[string]flowRow
	// groups maps Logical_DP_Group UUID to its datapath names, sorted.
	groups map[string][]string
}

type flowRow struct {
	content string // pipeline, table, priority, match, actions
	dp      string // logical_datapath's name, or ""
	group   string // logical_dp_group, or ""
}

func readSBFlows(t *testing.T, c *client.Client) sbFlows {
	t.Helper()
	res, err := c.Transact(context.Background(), "OVN_Southbound",
		ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Datapath_Binding", Where: []ovsdb.Condition{}},
		ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Logical_DP_Group", Where: []ovsdb.Condition{}},
		ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Logical_Flow", Where: []ovsdb.Condition{}})
	if err != nil || len(res) != 3 {
		t.Fatalf("read SB flows: %v %v", res, err)
	}
	names := map[string]string{}
	for _, r := range res[0].Rows {
		ext := r["external_ids"].(ovsdb.OvsMap).GoMap
		names[r["_uuid"].(ovsdb.UUID).GoUUID], _ = ext["name"].(string)
	}
	uuids := func(v any) []string {
		var out []string
		switch s := v.(type) {
		case ovsdb.UUID:
			out = append(out, s.GoUUID)
		case ovsdb.OvsSet:
			for _, e := range s.GoSet {
				out = append(out, e.(ovsdb.UUID).GoUUID)
			}
		}
		return out
	}
	out := sbFlows{rows: map[string]flowRow{}, groups: map[string][]string{}}
	for _, r := range res[1].Rows {
		var dps []string
		for _, u := range uuids(r["datapaths"]) {
			dps = append(dps, names[u])
		}
		slices.Sort(dps)
		out.groups[r["_uuid"].(ovsdb.UUID).GoUUID] = dps
	}
	for _, r := range res[2].Rows {
		stage, _ := r["external_ids"].(ovsdb.OvsMap).GoMap["stage-name"].(string)
		f := flowRow{content: fmt.Sprintf("%s %v %s %v %s %s", r["pipeline"], r["table_id"], stage, r["priority"], r["match"], r["actions"])}
		if dp := uuids(r["logical_datapath"]); len(dp) == 1 {
			f.dp = names[dp[0]]
		}
		if g := uuids(r["logical_dp_group"]); len(g) == 1 {
			f.group = g[0]
		}
		out.rows[r["_uuid"].(ovsdb.UUID).GoUUID] = f
	}
	return out
}

// expanded lists every (datapath, content) pair the flows apply to, sorted.
func (s sbFlows) expanded() []string {
	var out []string
	for _, f := range s.rows {
		if f.dp != "" {
			out = append(out, f.dp+": "+f.content)
		}
		for _, dp := range s.groups[f.group] {
			out = append(out, dp+": "+f.content)
		}
	}
	sort.Strings(out)
	return out
}

// checkShape asserts ovn-northd's layout: each content is one row; a row on
// one datapath names it in logical_datapath, a row on several a group of
// exactly those; rows with the same datapath set share one group.
func (s sbFlows) checkShape(t *testing.T) {
	t.Helper()
	seen := map[string]string{}
	bySet := map[string]string{}
	for u, f := range s.rows {
		if prev, dup := seen[f.content]; dup {
			t.Errorf("content %q in rows %s and %s", f.content, prev, u)
		}
		seen[f.content] = u
		switch {
		case f.dp != "" && f.group != "":
			t.Errorf("row %s has both a datapath and a group", u)
		case f.group != "":
			dps := s.groups[f.group]
			if len(dps) < 2 {
				t.Errorf("row %s %q on group %s of %d datapaths", u, f.content, f.group, len(dps))
			}
			k := strings.Join(dps, ",")
			if g, ok := bySet[k]; ok && g != f.group {
				t.Errorf("groups %s and %s both hold %s", g, f.group, k)
			}
			bySet[k] = f.group
		case f.dp == "":
			t.Errorf("row %s %q has no datapath", u, f.content)
		}
	}
}

// sbCounter counts SB row changes per table and kind, and follows
// SB_Global.nb_cfg.
type sbCounter struct {
	mu     sync.Mutex
	counts map[string]int // "table kind"
	cfg    int
}

func countSB(t *testing.T, sb string) *sbCounter {
	t.Helper()
	c, err := client.Dial(context.Background(), sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc := &sbCounter{counts: map[string]int{}}
	reqs := map[string]client.MonitorRequest{"SB_Global": {Columns: []string{"nb_cfg"}}}
	for _, table := range []string{"Logical_Flow", "Logical_DP_Group", "Datapath_Binding", "Port_Binding", "Multicast_Group"} {
		reqs[table] = client.MonitorRequest{}
	}
	if _, err := c.Monitor(context.Background(), "OVN_Southbound", reqs, func(u client.TableUpdates) {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		for table, rows := range u {
			for _, r := range rows {
				if table == "SB_Global" {
					if v, ok := r.Row["nb_cfg"].(float64); ok {
						sc.cfg = int(v)
					}
					continue
				}
				if r.Kind != client.Initial {
					sc.counts[table+" "+r.Kind]++
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return sc
}

// take waits until the monitor has shown SB_Global.nb_cfg reach nb's (northd
// writes it last) and returns the counts since the last take.
func (c *sbCounter) take(t *testing.T, nb string) map[string]int {
	t.Helper()
	cfg, err := strconv.Atoi(nbctl(t, nb, "get", "NB_Global", ".", "nb_cfg"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("SB monitor at nb_cfg %d", cfg), 10*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cfg >= cfg
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// TestDaemonDatapathGroups checks that flows several datapaths share are
// written once on a Logical_DP_Group, and that adding and removing a
// datapath mutates that group instead of rewriting the flows.
func TestDaemonDatapathGroups(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	for i := 0; i < 4; i++ {
		nbctl(t, nb, "ls-add", fmt.Sprintf("sw%d", i), "--", "lsp-add", fmt.Sprintf("sw%d", i), fmt.Sprintf("vm%d", i),
			"--", "lsp-set-addresses", fmt.Sprintf("vm%d", i), fmt.Sprintf("0a:00:00:00:00:0%d 10.0.0.1%d", i, i))
	}
	nbctl(t, nb, "--wait=sb", "sync")
	c, err := client.Dial(context.Background(), sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := readSBFlows(t, c)
	s.checkShape(t)
	if len(s.groups) == 0 {
		t.Fatalf("no Logical_DP_Group for the flows four switches share")
	}
	shared := 0
	for _, f := range s.rows {
		if f.group != "" {
			shared++
		}
	}
	t.Logf("%d flow rows, %d on groups, %d groups", len(s.rows), shared, len(s.groups))
	// ovn-sbctl expands groups: every switch shows the shared flows.
	for i := 0; i < 4; i++ {
		flows := sbctl(t, sb, "lflow-list", fmt.Sprintf("sw%d", i))
		if !strings.Contains(flows, fmt.Sprintf(`match=(eth.dst == 0a:00:00:00:00:0%d), action=(outport = "vm%d"; output;)`, i, i)) ||
			!strings.Contains(flows, "ls_in_l2_lkup") {
			t.Errorf("lflow-list sw%d lacks its own or the shared flows:\n%s", i, flows)
		}
	}

	counter := countSB(t, sb)
	step := func(what string, args ...string) map[string]int {
		t.Helper()
		counter.take(t, nb)
		nbctl(t, nb, append([]string{"--wait=sb"}, args...)...)
		got := counter.take(t, nb)
		after := readSBFlows(t, c)
		after.checkShape(t)
		t.Logf("%s: %v", what, got)
		return got
	}
	got := step("add sw4", "ls-add", "sw4", "--", "lsp-add", "sw4", "vm4", "--", "lsp-set-addresses", "vm4", "0a:00:00:00:00:04 10.0.0.14")
	if got["Logical_Flow modify"] != 0 || got["Logical_DP_Group modify"] == 0 || got["Logical_DP_Group insert"] != 0 {
		t.Errorf("adding a switch: want its groups mutated and no flow rewritten, got %v", got)
	}
	// The new switch's own flows are inserted; the shared ones are not.
	if got["Logical_Flow insert"] >= shared {
		t.Errorf("adding a switch inserted %d flows; %d are shared", got["Logical_Flow insert"], shared)
	}
	got = step("delete sw1", "ls-del", "sw1")
	if got["Logical_Flow modify"] != 0 || got["Logical_DP_Group insert"] != 0 {
		t.Errorf("deleting a switch: want no flow rewritten and no group inserted, got %v", got)
	}
	// Down to one switch: shared flows move onto its datapath.
	step("delete sw2..sw4", "ls-del", "sw2", "--", "ls-del", "sw3", "--", "ls-del", "sw4")
	s = readSBFlows(t, c)
	for u, f := range s.rows {
		if f.group != "" {
			t.Errorf("flow %s %q still on a group with one switch left", u, f.content)
		}
	}
	if got := s.expanded(); len(got) == 0 || !strings.HasPrefix(got[0], "sw0: ") {
		t.Errorf("flows left: %v", got)
	}
}

// TestDaemonRestartWritesNothing: a northd started on an SB that another of
// ours wrote (groups included) adopts every row: its first full
// reconciliation writes no flow or group.
func TestDaemonRestartWritesNothing(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- northd.Run(ctx, northd.Config{NBRemotes: nb, SBRemotes: sb, Logger: testLogger(t)}) }()
	for i := 0; i < 3; i++ {
		nbctl(t, nb, "ls-add", fmt.Sprintf("sw%d", i), "--", "lsp-add", fmt.Sprintf("sw%d", i), fmt.Sprintf("vm%d", i))
	}
	nbctl(t, nb, "lr-add", "lr0", "--", "lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24",
		"--", "lrp-add", "lr0", "lr0-sw1", "00:00:00:00:ff:02", "10.0.1.1/24")
	nbctl(t, nb, "--wait=sb", "sync")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(context.Background(), sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := readSBFlows(t, c)
	if len(before.groups) == 0 {
		t.Fatal("no groups written")
	}

	counter := countSB(t, sb)
	d, err := northd.Start(context.Background(), northd.Config{NBRemotes: nb, SBRemotes: sb, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- d.Loop(ctx2) }()
	defer func() { cancel2(); <-done2 }()
	nbctl(t, nb, "--wait=sb", "set", "NB_Global", ".", "nb_cfg=77")
	after := readSBFlows(t, c)
	if len(after.rows) != len(before.rows) || len(after.groups) != len(before.groups) {
		t.Errorf("restart changed SB: %d flows, %d groups before; %d, %d after",
			len(before.rows), len(before.groups), len(after.rows), len(after.groups))
	}
	for u := range before.rows {
		if _, ok := after.rows[u]; !ok {
			t.Errorf("flow %s rewritten after restart", u)
			break
		}
	}
	if got := counter.take(t, nb); len(got) != 0 {
		t.Errorf("restart wrote %v, want nothing", got)
	}
}

// TestDaemonTakesOverOVNGroups: SB written by ovn-northd, datapath groups
// included, is taken over: afterwards it holds exactly the flows our
// northd writes from scratch for the same NB, in the same shape, and the
// rows of ovn-northd's that agree with ours are kept, not rewritten.
func TestDaemonTakesOverOVNGroups(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sb := dbs(t)
	sbFresh := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	stopOVN := startOVNNorthd(t, nb, sb)
	for i := 0; i < 3; i++ {
		nbctl(t, nb, "ls-add", fmt.Sprintf("sw%d", i), "--", "lsp-add", fmt.Sprintf("sw%d", i), fmt.Sprintf("vm%d", i),
			"--", "lsp-set-addresses", fmt.Sprintf("vm%d", i), fmt.Sprintf("0a:00:00:00:00:0%d 10.0.%d.11", i, i))
	}
	nbctl(t, nb, "lr-add", "lr0", "--", "lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24",
		"--", "lsp-add", "sw0", "sw0-lr0", "--", "lsp-set-type", "sw0-lr0", "router", "--",
		"lsp-set-addresses", "sw0-lr0", "router", "--", "lsp-set-options", "sw0-lr0", "router-port=lr0-sw0")
	nbctl(t, nb, "--wait=sb", "sync")
	c, err := client.Dial(context.Background(), sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	theirs := readSBFlows(t, c)
	if len(theirs.groups) == 0 {
		t.Fatal("ovn-northd wrote no Logical_DP_Group")
	}
	stopOVN()

	startInProcess(t, nb, sb)
	startInProcess(t, nb, sbFresh)
	nbctl(t, nb, "--wait=sb", "sync")
	cf, err := client.Dial(context.Background(), sbFresh, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	cfg := nbctl(t, nb, "get", "NB_Global", ".", "nb_cfg")
	waitFor(t, "fresh SB at nb_cfg "+cfg, 20*time.Second, func() bool {
		return sbctl(t, sbFresh, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg
	})
	ours, fresh := readSBFlows(t, c), readSBFlows(t, cf)
	ours.checkShape(t)
	if a, b := ours.expanded(), fresh.expanded(); !slices.Equal(a, b) {
		t.Errorf("taken-over SB differs from a fresh one: %d vs %d flows", len(a), len(b))
	}
	// Rows whose content and datapaths agree are adopted.
	theirKeys := map[string]string{}
	for u, f := range theirs.rows {
		theirKeys[u] = f.content + "@" + f.dp + strings.Join(theirs.groups[f.group], ",")
	}
	agree, kept := 0, 0
	for _, f := range ours.rows {
		k := f.content + "@" + f.dp + strings.Join(ours.groups[f.group], ",")
		for u, tk := range theirKeys {
			if tk == k {
				agree++
				if _, ok := ours.rows[u]; ok {
					kept++
				}
				break
			}
		}
	}
	t.Logf("%d of ovn-northd's %d rows agree with ours; %d kept", agree, len(theirs.rows), kept)
	if agree == 0 || kept != agree {
		t.Errorf("%d rows agree with ours, %d kept", agree, kept)
	}
}

// TestDaemonLoadBalancerAndDNSRows: SB Load_Balancer and DNS rows follow
// the switches that use them (one row per NB row, listing those datapaths,
// as ovn-northd writes them), and DHCPv6_Options holds the option codes.
func TestDaemonLoadBalancerAndDNSRows(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	nbctl(t, nb, "ls-add", "sw0", "--", "ls-add", "sw1", "--", "lsp-add", "sw0", "vm1", "--",
		"lsp-set-addresses", "vm1", "0a:00:00:00:00:01 10.0.0.11")
	nbctl(t, nb, "lb-add", "lb0", "10.0.0.100:80", "10.0.0.11:8080", "tcp")
	nbctl(t, nb, "ls-lb-add", "sw0", "lb0")
	dnsUUID := nbctl(t, nb, "create", "DNS", `records={vm1="10.0.0.11"}`)
	nbctl(t, nb, "add", "Logical_Switch", "sw0", "dns_records", dnsUUID)
	nbctl(t, nb, "--wait=sb", "sync")
	dpName := func(u string) string {
		return strings.Trim(sbctl(t, sb, "get", "Datapath_Binding", u, "external_ids:name"), `"`)
	}
	datapaths := func(table, id string) []string {
		t.Helper()
		out := sbctl(t, sb, "--bare", "--columns=datapaths", "find", table, "external_ids:"+id)
		var names []string
		for _, u := range strings.Fields(out) {
			names = append(names, dpName(u))
		}
		slices.Sort(names)
		return names
	}
	lbID := nbctl(t, nb, "get", "Load_Balancer", "lb0", "_uuid")
	if got := datapaths("Load_Balancer", "lb_id="+lbID); !slices.Equal(got, []string{"sw0"}) {
		t.Errorf("Load_Balancer lb0 on %v, want [sw0]", got)
	}
	if got := sbctl(t, sb, "--bare", "--columns=vips", "find", "Load_Balancer", "external_ids:lb_id="+lbID); !strings.Contains(got, `10.0.0.100:80=10.0.0.11:8080`) {
		t.Errorf("Load_Balancer vips %q", got)
	}
	if got := datapaths("DNS", "dns_id="+dnsUUID); !slices.Equal(got, []string{"sw0"}) {
		t.Errorf("DNS on %v, want [sw0]", got)
	}
	if got := sbctl(t, sb, "--bare", "--columns=name", "list", "DHCPv6_Options"); got == "" {
		t.Errorf("no DHCPv6_Options rows")
	}

	nbctl(t, nb, "--wait=sb", "ls-lb-add", "sw1", "lb0", "--", "add", "Logical_Switch", "sw1", "dns_records", dnsUUID)
	if got := datapaths("Load_Balancer", "lb_id="+lbID); !slices.Equal(got, []string{"sw0", "sw1"}) {
		t.Errorf("Load_Balancer lb0 on %v, want [sw0 sw1]", got)
	}
	if got := datapaths("DNS", "dns_id="+dnsUUID); !slices.Equal(got, []string{"sw0", "sw1"}) {
		t.Errorf("DNS on %v, want [sw0 sw1]", got)
	}
	// A datapath that goes away leaves the rows; the last one takes them.
	nbctl(t, nb, "--wait=sb", "ls-del", "sw0")
	if got := datapaths("Load_Balancer", "lb_id="+lbID); !slices.Equal(got, []string{"sw1"}) {
		t.Errorf("Load_Balancer lb0 on %v, want [sw1]", got)
	}
	nbctl(t, nb, "--wait=sb", "ls-del", "sw1")
	for _, table := range []string{"Load_Balancer", "DNS"} {
		if got := sbctl(t, sb, "--bare", "--columns=_uuid", "list", table); got != "" {
			t.Errorf("%s rows left without switches: %q", table, got)
		}
	}
}

// TestDaemonIncrementalSBEqualsFresh drives a northd through random NB
// changes (switches, ports and routers appearing and going, so flows move
// between datapaths, groups and back); after them, its SB holds exactly
// the flows a northd writes from scratch on an empty SB, in the same
// shape. Rerun a failure with NORTHD_SEED=<seed>.
func TestDaemonIncrementalSBEqualsFresh(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NORTHD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with NORTHD_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed))
	switches := map[string]bool{}
	ports := 0
	for step := 0; step < 80; step++ {
		sw := fmt.Sprintf("sw%d", r.IntN(5))
		var args []string
		switch k := r.IntN(6); {
		case k <= 1 && !switches[sw]:
			args = []string{"ls-add", sw}
			switches[sw] = true
		case k == 2 && switches[sw]:
			args = []string{"ls-del", sw}
			delete(switches, sw)
		case k <= 3 && switches[sw]:
			ports++
			p := fmt.Sprintf("p%d", ports)
			args = []string{"lsp-add", sw, p, "--", "lsp-set-addresses", p, fmt.Sprintf("0a:00:00:00:%02x:%02x 10.0.%d.%d", ports/256, ports%256, r.IntN(4), 10+ports)}
		case k == 4 && switches[sw]:
			args = []string{"--may-exist", "acl-add", sw, "to-lport", "1000", fmt.Sprintf("ip4.src == 10.9.0.%d", r.IntN(3)), "drop"}
		case k == 5 && switches[sw]:
			lrp := fmt.Sprintf("lr0-%s", sw)
			if nbctl(t, nb, "--bare", "--columns=name", "find", "Logical_Router_Port", "name="+lrp) != "" {
				continue
			}
			n := len(lrp) % 200
			args = []string{"--may-exist", "lr-add", "lr0", "--", "lrp-add", "lr0", lrp, fmt.Sprintf("0a:ff:00:00:00:%02x", n+step),
				fmt.Sprintf("10.%d.%d.1/24", 100+step, n), "--", "lsp-add", sw, sw + "-lr0", "--", "lsp-set-type", sw + "-lr0", "router",
				"--", "lsp-set-addresses", sw + "-lr0", "router", "--", "lsp-set-options", sw + "-lr0", "router-port=" + lrp}
		default:
			continue
		}
		nbctl(t, nb, append([]string{"--wait=sb"}, args...)...)
	}
	fresh := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	startInProcess(t, nb, fresh)
	cfg := nbctl(t, nb, "get", "NB_Global", ".", "nb_cfg")
	waitFor(t, "fresh SB at nb_cfg "+cfg, 20*time.Second, func() bool {
		return sbctl(t, fresh, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg
	})
	c, err := client.Dial(context.Background(), sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cf, err := client.Dial(context.Background(), fresh, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	inc, full := readSBFlows(t, c), readSBFlows(t, cf)
	inc.checkShape(t)
	full.checkShape(t)
	a, b := inc.expanded(), full.expanded()
	if !slices.Equal(a, b) {
		only := func(x, y []string) []string {
			var out []string
			for _, s := range x {
				if _, found := slices.BinarySearch(y, s); !found {
					out = append(out, s)
				}
			}
			return out
		}
		t.Errorf("seed %d: incremental SB differs from a fresh one:\nonly incremental: %v\nonly fresh: %v", seed, only(a, b), only(b, a))
	}
	if len(inc.groups) != len(full.groups) {
		t.Errorf("seed %d: %d groups incrementally, %d fresh", seed, len(inc.groups), len(full.groups))
	}
}
