package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"hcnet/internal/jsonrpc"
)

// The southbound conditional fan-out workload (HCNET_BENCH_ONLY_CONDFANOUT=1
// runs it alone): the OVN_Southbound schema with condDatapaths datapaths,
// each with condFlowsPerDP logical flows and condPortsPerDP port bindings,
// one Logical_DP_Group of all datapaths with condGroupFlows flows, and
// condSessions chassis sessions. Each session monitors Port_Binding and
// Logical_Flow the way a chassis does (monitor_cond_since, update3, all
// columns) with conditions naming its own condDPsPerSession datapaths
// (datapath / logical_datapath ==) and the group (logical_dp_group ==);
// session i has datapaths i..i+4, so each datapath interests five sessions.
//
// The sessions' monitor_cond_since requests (with no last transaction
// id: each gets its rows in full) are timed from request to reply, with
// the server's CPU time per request: what a reconnecting chassis costs.
//
// Local commits change one flow of one datapath, or of three (alternately);
// group commits change one flow of the group, which every session sees.
// Each is timed from sending it to the last interested session reading its
// notification (or the writer its reply, if later), armed as in fanout.
const (
	condDatapaths     = 100
	condSessions      = 100
	condDPsPerSession = 5
	condFlowsPerDP    = 20
	condPortsPerDP    = 5
	condGroupFlows    = 50
	condLocalCommits  = 200
	condGroupCommits  = 100
)

type condResult struct {
	monP50, monP99     time.Duration // monitor_cond_since request to its reply
	monCPU             time.Duration // server CPU per monitor_cond_since
	localP50, localP99 time.Duration
	groupP50, groupP99 time.Duration
	localCPU, groupCPU time.Duration // server CPU per commit
}

// sbColumns returns the column names of a table of the southbound schema
// file, sorted.
func sbColumns(tb testing.TB, table string) []string {
	b, err := os.ReadFile(schemaFile(tb, "ovn-sb.ovsschema"))
	if err != nil {
		tb.Fatal(err)
	}
	var s struct {
		Tables map[string]struct {
			Columns map[string]json.RawMessage `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		tb.Fatal(err)
	}
	var cols []string
	for c := range s.Tables[table].Columns {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols
}

// insertedUUIDs returns the uuids of a transact result's inserts, in order.
func insertedUUIDs(tb testing.TB, res json.RawMessage) []string {
	var rs []struct {
		UUID []string `json:"uuid"`
	}
	if err := json.Unmarshal(res, &rs); err != nil {
		tb.Fatalf("transact result %.200s: %v", res, err)
	}
	var out []string
	for _, r := range rs {
		if len(r.UUID) == 2 {
			out = append(out, r.UUID[1])
		}
	}
	return out
}

// condFanout runs the workload once on t (a fresh set of rows per round).
func condFanout(tb testing.TB, t target, round int) condResult {
	const db = "OVN_Southbound"
	w := dial(tb, t)
	defer w.close()
	dps := make([]string, condDatapaths)
	dpFlows := make([][]string, condDatapaths) // flow uuids by datapath
	for i := range dps {
		ops := []any{map[string]any{"op": "insert", "table": "Datapath_Binding", "uuid-name": "dp",
			"row": map[string]any{"tunnel_key": round*condDatapaths + i + 1,
				"external_ids": []any{"map", []any{[]any{"name", fmt.Sprintf("ls%d-%d", round, i)}}}}}}
		for f := 0; f < condFlowsPerDP; f++ {
			ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Flow", "row": map[string]any{
				"logical_datapath": []any{"named-uuid", "dp"}, "pipeline": "ingress", "table_id": f % 30, "priority": 100 + f,
				"match":   fmt.Sprintf("inport == \"lp%d-%d-%d\" && ip4.dst == 10.%d.%d.0/24", round, i, f, i%250, f),
				"actions": "next;", "external_ids": []any{"map", []any{[]any{"source", "northd.c:1234"}, []any{"stage-name", "ls_in_l2_lkup"}}}}})
		}
		for p := 0; p < condPortsPerDP; p++ {
			ops = append(ops, map[string]any{"op": "insert", "table": "Port_Binding", "row": map[string]any{
				"logical_port": fmt.Sprintf("lp%d-%d-%d", round, i, p), "datapath": []any{"named-uuid", "dp"}, "tunnel_key": p + 1,
				"mac": []any{"set", []any{fmt.Sprintf("00:00:00:%02x:%02x:%02x 10.%d.0.%d", round, i, p, i%250, p+2)}}}})
		}
		res, err := w.call("transact", append([]any{db}, ops...)...)
		if err != nil {
			tb.Fatal(err)
		}
		u := insertedUUIDs(tb, res)
		dps[i], dpFlows[i] = u[0], u[1:1+condFlowsPerDP]
	}
	refs := make([]any, len(dps))
	for i, d := range dps {
		refs[i] = []any{"uuid", d}
	}
	ops := []any{map[string]any{"op": "insert", "table": "Logical_DP_Group", "uuid-name": "g",
		"row": map[string]any{"datapaths": []any{"set", refs}}}}
	for f := 0; f < condGroupFlows; f++ {
		ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Flow", "row": map[string]any{
			"logical_dp_group": []any{"named-uuid", "g"}, "pipeline": "egress", "table_id": f % 10, "priority": f,
			"match": fmt.Sprintf("eth.dst == 00:00:00:00:%02x:%02x", round, f), "actions": "output;"}})
	}
	gres, err := w.call("transact", append([]any{db}, ops...)...)
	if err != nil {
		tb.Fatal(err)
	}
	u := insertedUUIDs(tb, gres)
	group, groupFlows := u[0], u[1:]

	lfCols, pbCols := sbColumns(tb, "Logical_Flow"), sbColumns(tb, "Port_Binding")
	interested := make([][]int, condDatapaths) // sessions by datapath
	var mons []*client
	var monLat []time.Duration
	monCPU0 := cpuTime(t.pid)
	for s := 0; s < condSessions; s++ {
		var pbWhere, lfWhere []any
		for k := 0; k < condDPsPerSession; k++ {
			d := (s + k) % condDatapaths
			interested[d] = append(interested[d], s)
			pbWhere = append(pbWhere, []any{"datapath", "==", []any{"uuid", dps[d]}})
			lfWhere = append(lfWhere, []any{"logical_datapath", "==", []any{"uuid", dps[d]}})
		}
		lfWhere = append(lfWhere, []any{"logical_dp_group", "==", []any{"uuid", group}})
		c := dial(tb, t)
		defer c.close()
		req, err := jsonrpc.NewRequest(0, "monitor_cond_since", db, []any{"monid", db}, map[string]any{
			"Port_Binding": []any{map[string]any{"columns": pbCols, "where": pbWhere}},
			"Logical_Flow": []any{map[string]any{"columns": lfCols, "where": lfWhere}},
		}, "00000000-0000-0000-0000-000000000000")
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := c.encode(req)
		if err != nil {
			tb.Fatal(err)
		}
		start := time.Now()
		if _, err := c.sendRaw("monitor_cond_since", enc); err != nil {
			tb.Fatal(err)
		}
		monLat = append(monLat, time.Since(start))
		mons = append(mons, c)
	}
	monCPU := (cpuTime(t.pid) - monCPU0) / condSessions
	all := make([]int, condSessions)
	for s := range all {
		all[s] = s
	}
	// commit changes the flows and times the notifications of who.
	commit := func(n int, flows []string, who []int) time.Duration {
		var ops []any
		for _, f := range flows {
			ops = append(ops, map[string]any{"op": "update", "table": "Logical_Flow",
				"where": []any{[]any{"_uuid", "==", []any{"uuid", f}}},
				"row":   map[string]any{"actions": fmt.Sprintf("reg0 = %d; next;", n)}})
		}
		req, err := jsonrpc.NewRequest(0, "transact", append([]any{db}, ops...)...)
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := w.encode(req)
		if err != nil {
			tb.Fatal(err)
		}
		r := &fanRound{at: make([]time.Time, len(who)), done: make(chan struct{})}
		r.left.Store(int32(len(who)))
		for i, s := range who {
			mons[s].armed.Store(&armedNote{r, i})
		}
		start := time.Now()
		if _, err := w.sendRaw("transact", enc); err != nil {
			tb.Fatal(err)
		}
		replied := time.Now()
		select {
		case <-r.done:
		case <-time.After(requestTimeout):
			tb.Fatalf("%s: commit %d: %d sessions without a notification", t.name, n, r.left.Load())
		}
		end := replied
		for _, a := range r.at {
			if a.After(end) {
				end = a
			}
		}
		return end.Sub(start)
	}
	res := condResult{monP50: percentile(monLat, 0.5), monP99: percentile(monLat, 0.99), monCPU: monCPU}
	var local []time.Duration
	cpu0 := cpuTime(t.pid)
	for n := 0; n < condLocalCommits; n++ {
		ndp := 1
		if n%2 == 1 {
			ndp = 3
		}
		var flows []string
		seen := map[int]bool{}
		var who []int
		for k := 0; k < ndp; k++ {
			d := (n*7 + k*31) % condDatapaths
			flows = append(flows, dpFlows[d][n%condFlowsPerDP])
			for _, s := range interested[d] {
				if !seen[s] {
					seen[s] = true
					who = append(who, s)
				}
			}
		}
		local = append(local, commit(n, flows, who))
	}
	cpu1 := cpuTime(t.pid)
	var grp []time.Duration
	for n := 0; n < condGroupCommits; n++ {
		grp = append(grp, commit(condLocalCommits+n, []string{groupFlows[n%len(groupFlows)]}, all))
	}
	cpu2 := cpuTime(t.pid)
	res.localP50, res.localP99 = percentile(local, 0.5), percentile(local, 0.99)
	res.groupP50, res.groupP99 = percentile(grp, 0.5), percentile(grp, 0.99)
	res.localCPU = (cpu1 - cpu0) / condLocalCommits
	res.groupCPU = (cpu2 - cpu1) / condGroupCommits
	return res
}

// condFanoutSideBySide runs condFanout on sbdb and the two ovsdb-servers,
// interleaved rounds, and prints medians and ratios.
func condFanoutSideBySide(b *testing.B) {
	starters := []func(testing.TB) (target, bool){
		func(tb testing.TB) (target, bool) { return startOursDB(tb, true), true },
		func(tb testing.TB) (target, bool) {
			return startOVSDBWith(tb, true, "ovn-sb.ovsschema", "OVN_Southbound")
		},
		func(tb testing.TB) (target, bool) {
			return startOVSDBWith(tb, false, "ovn-sb.ovsschema", "OVN_Southbound")
		},
	}
	if os.Getenv("HCNET_BENCH_ONLY_OURS") != "" {
		starters = starters[:1]
	}
	var targets []target
	for _, s := range starters {
		if tgt, ok := s(b); ok {
			targets = append(targets, tgt)
		}
	}
	rounds := benchRounds()
	all := make([][]condResult, len(targets))
	for r := 0; r < rounds; r++ {
		for k, tgt := range targets {
			all[k] = append(all[k], condFanout(b, tgt, r))
		}
	}
	med := func(rs []condResult, get func(condResult) time.Duration) time.Duration {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	getters := []func(condResult) time.Duration{
		func(r condResult) time.Duration { return r.localP50 }, func(r condResult) time.Duration { return r.localP99 },
		func(r condResult) time.Duration { return r.localCPU }, func(r condResult) time.Duration { return r.groupP50 },
		func(r condResult) time.Duration { return r.groupP99 }, func(r condResult) time.Duration { return r.groupCPU },
		func(r condResult) time.Duration { return r.monP50 }, func(r condResult) time.Duration { return r.monP99 },
		func(r condResult) time.Duration { return r.monCPU },
	}
	meds := make([][]time.Duration, len(targets))
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nsouthbound conditional fan-out: %d sessions x %d datapaths, medians of %d interleaved rounds (load average %s)\n%-18s %11s %11s %11s %11s %11s %11s %11s %11s %11s\n",
		condSessions, condDPsPerSession, rounds, loadAvg(), "server", "local p50", "local p99", "CPU/local", "group p50", "group p99", "CPU/group",
		"monitor p50", "monitor p99", "CPU/monitor")
	for k, tgt := range targets {
		for _, g := range getters {
			meds[k] = append(meds[k], med(all[k], g))
		}
		fmt.Fprintf(&sb, "%-18s", tgt.name)
		for _, d := range meds[k] {
			fmt.Fprintf(&sb, " %11v", d.Round(time.Microsecond))
		}
		sb.WriteByte('\n')
	}
	for k := 1; k < len(targets); k++ {
		o, t := meds[0], meds[k]
		fmt.Fprintf(&sb, "sbdb vs %-16s local p50 %.2fx p99 %.2fx CPU %.2fx, group p50 %.2fx p99 %.2fx CPU %.2fx, monitor p50 %.2fx p99 %.2fx CPU %.2fx (lower is better)\n", targets[k].name,
			ratio(o[0], t[0]), ratio(o[1], t[1]), ratio(o[2], t[2]), ratio(o[3], t[3]), ratio(o[4], t[4]), ratio(o[5], t[5]), ratio(o[6], t[6]), ratio(o[7], t[7]), ratio(o[8], t[8]))
	}
	b.ReportMetric(float64(meds[0][1].Microseconds()), "condfan-local-p99-µs")
	b.ReportMetric(float64(meds[0][4].Microseconds()), "condfan-group-p99-µs")
	fmt.Print(sb.String())
}
