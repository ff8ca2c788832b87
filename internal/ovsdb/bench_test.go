package ovsdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"hcnet/schema"
)

// Benchmarks of the executor on OVN_Northbound. Each has an ovsdb-server
// twin (BenchmarkOVSDBServer*) that sends the same transactions to a real
// ovsdb-server over a unix socket, when one is installed, so the ratio can
// be read off one run:
//
//	go test ./internal/ovsdb -run XXX -bench . -benchmem

// processCPU returns the CPU time the process has used (all threads, the
// garbage collector's included).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric for the timed loop that follows: on a
// shared machine CPU time is steadier than wall time.
func reportCPU(b *testing.B) {
	start := processCPU()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}

func nbDatabase(b *testing.B) *Database {
	s, err := ParseSchema(schema.Northbound)
	if err != nil {
		b.Fatal(err)
	}
	return NewDatabase(s)
}

func mustExec(b *testing.B, db *Database, seed uint64, ops string) Result {
	var sd [16]byte
	for i := 0; i < 8; i++ {
		sd[i] = byte(seed >> (8 * i))
	}
	r := db.Execute(Txn{Ops: json.RawMessage(ops), Seed: sd})
	if r.Changes == nil && strings.Contains(string(r.Reply), `"error"`) {
		b.Fatalf("transaction failed: %s", r.Reply)
	}
	db.Commit(r.Changes)
	return r
}

// benchOps are the transactions the benchmarks run, shared with the
// ovsdb-server twins. %d is the iteration number.
var benchOps = struct {
	insertSwitch, insertBatch, setup1000, update, selectByName, selectByUUID string
}{
	insertSwitch: `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d","other_config":["map",[["subnet","10.0.0.0/24"]]]}}]`,
	setup1000:    `[{"op":"insert","table":"Logical_Switch","row":{"name":"big","ports":["set",[%s]]}}%s]`,
	update:       `[{"op":"update","table":"Logical_Switch_Port","where":[["_uuid","==",["uuid","%s"]]],"row":{"options":["map",[["requested-chassis","hv%d"]]],"up":true}}]`,
	selectByName: `[{"op":"select","table":"Logical_Switch_Port","where":[["name","==","lsp-%d"]],"columns":["name","addresses","options"]}]`,
	selectByUUID: `[{"op":"select","table":"Logical_Switch_Port","where":[["_uuid","==",["uuid","%s"]]]}]`,
}

// batchOps returns one transaction inserting a switch with n ports
// referenced from its ports column.
func batchOps(prefix string, n int) string {
	var refs, ins strings.Builder
	for j := 0; j < n; j++ {
		if j > 0 {
			refs.WriteByte(',')
		}
		fmt.Fprintf(&refs, `["named-uuid","p%d"]`, j)
		fmt.Fprintf(&ins, `,{"op":"insert","table":"Logical_Switch_Port","row":{"name":"%s-%d","addresses":["set",["00:00:00:00:%02x:%02x 10.0.%d.%d"]],"options":["map",[["requested-chassis","hv1"]]],"external_ids":["map",[["neutron:cidrs","10.0.%d.%d/24"]]]},"uuid-name":"p%d"}`,
			prefix, j, j/256, j%256, j/256, j%256, j/256, j%256, j)
	}
	return fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"%s","ports":["set",[%s]]}}%s]`, prefix, refs.String(), ins.String())
}

// bigNB returns a database with one switch of 1000 ports, and the ports'
// UUIDs by name index.
func bigNB(b *testing.B) (*Database, []UUID) {
	db := nbDatabase(b)
	mustExec(b, db, 1, strings.Replace(batchOps("lsp", 1000), `"name":"lsp"`, `"name":"big"`, 1))
	uuids := make([]UUID, 1000)
	db.Rows("Logical_Switch_Port", func(u UUID, r Row) bool {
		var i int
		c := db.Schema().Tables["Logical_Switch_Port"].Columns["name"]
		fmt.Sscanf(r.Get(c).Keys[0].(string), "lsp-%d", &i)
		uuids[i] = u
		return true
	})
	return db, uuids
}

func BenchmarkInsertSingle(b *testing.B) {
	db := nbDatabase(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, uint64(i), fmt.Sprintf(benchOps.insertSwitch, i))
	}
}

func BenchmarkInsertBatch100(b *testing.B) {
	db := nbDatabase(b)
	ops := make([]string, b.N)
	for i := range ops {
		ops[i] = batchOps(fmt.Sprintf("sw%d", i), 100)
	}
	b.ReportAllocs()
	reportCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, uint64(i), ops[i])
	}
}

func BenchmarkUpdate(b *testing.B) {
	db, uuids := bigNB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, uint64(i)+10, fmt.Sprintf(benchOps.update, uuids[i%1000], i))
	}
}

func BenchmarkSelectByUUID(b *testing.B) {
	db, uuids := bigNB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, 0, fmt.Sprintf(benchOps.selectByUUID, uuids[i%1000]))
	}
}

func BenchmarkSelectByName(b *testing.B) {
	db, _ := bigNB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, 0, fmt.Sprintf(benchOps.selectByName, i%1000))
	}
}

// --- the same against a real ovsdb-server ---

func refNB(b *testing.B) *refServer {
	s := startRefServer(b, schema.Northbound, schema.NorthboundName)
	if s == nil {
		b.Skip("ovsdb-server not installed")
	}
	return s
}

func refExec(b *testing.B, s *refServer, ops string) []json.RawMessage {
	raw := s.transact(b, json.RawMessage(ops))
	var res []json.RawMessage
	if err := json.Unmarshal(raw, &res); err != nil || strings.Contains(string(raw), `"error"`) {
		b.Fatalf("ovsdb-server transaction failed: %s", raw)
	}
	return res
}

func refBig(b *testing.B) (*refServer, []string) {
	s := refNB(b)
	refExec(b, s, strings.Replace(batchOps("lsp", 1000), `"name":"lsp"`, `"name":"big"`, 1))
	res := refExec(b, s, `[{"op":"select","table":"Logical_Switch_Port","where":[],"columns":["_uuid","name"]}]`)
	var sel struct {
		Rows []struct {
			UUID []string `json:"_uuid"`
			Name string   `json:"name"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res[0], &sel); err != nil {
		b.Fatal(err)
	}
	uuids := make([]string, 1000)
	for _, r := range sel.Rows {
		var i int
		fmt.Sscanf(r.Name, "lsp-%d", &i)
		uuids[i] = r.UUID[1]
	}
	return s, uuids
}

func BenchmarkOVSDBServerInsertSingle(b *testing.B) {
	s := refNB(b)
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(benchOps.insertSwitch, i))
	}
}

func BenchmarkOVSDBServerInsertBatch100(b *testing.B) {
	s := refNB(b)
	for i := 0; i < b.N; i++ {
		refExec(b, s, batchOps(fmt.Sprintf("sw%d", i), 100))
	}
}

func BenchmarkOVSDBServerUpdate(b *testing.B) {
	s, uuids := refBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(benchOps.update, uuids[i%1000], i))
	}
}

func BenchmarkOVSDBServerSelectByUUID(b *testing.B) {
	s, uuids := refBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(benchOps.selectByUUID, uuids[i%1000]))
	}
}

func BenchmarkOVSDBServerSelectByName(b *testing.B) {
	s, _ := refBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(benchOps.selectByName, i%1000))
	}
}

// addPortOps is what ovn-nbctl lsp-add sends: a new port and a mutate of
// the switch's ports.
const addPortOps = `[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"new-%d","addresses":"unknown"},"uuid-name":"p"},{"op":"mutate","table":"Logical_Switch","where":[["name","==","big"]],"mutations":[["ports","insert",["named-uuid","p"]]]}]`

func BenchmarkAddPortToBigSwitch(b *testing.B) {
	db, _ := bigNB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, uint64(i)+10, fmt.Sprintf(addPortOps, i))
	}
}

func BenchmarkOVSDBServerAddPortToBigSwitch(b *testing.B) {
	s, _ := refBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(addPortOps, i))
	}
}

// flowOps inserts n Logical_Flows in one transaction, all in one datapath
// group of two datapaths, as ovn-northd does for shared flows.
func flowOps(iter, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[{"op":"insert","table":"Logical_DP_Group","row":{"datapaths":["set",[["uuid","00000000-0000-0000-0000-0000000000d1"],["uuid","00000000-0000-0000-0000-0000000000d2"]]]},"uuid-name":"g"}`)
	for j := 0; j < n; j++ {
		fmt.Fprintf(&b, `,{"op":"insert","table":"Logical_Flow","row":{"logical_dp_group":["named-uuid","g"],"pipeline":"ingress","table_id":%d,"priority":%d,"match":"inport == \"lp%d\" && ip4.dst == 10.%d.%d.0/24","actions":"next;","external_ids":["map",[["source","northd.c:%d"],["stage-name","ls_in_acl"]]]}}`,
			j%30, j%65535, j, iter%256, j%256, j)
	}
	b.WriteByte(']')
	return b.String()
}

// BenchmarkSBFlows1000 inserts 1000 logical flows sharing a datapath
// group, then deletes them all, which garbage-collects the group.
func BenchmarkSBFlows1000(b *testing.B) {
	s, err := ParseSchema(schema.Southbound)
	if err != nil {
		b.Fatal(err)
	}
	db := NewDatabase(s)
	mustExec(b, db, 1, `[{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":1},"uuid":"00000000-0000-0000-0000-0000000000d1"},{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":2},"uuid":"00000000-0000-0000-0000-0000000000d2"}]`)
	ops := make([]string, b.N)
	for i := range ops {
		ops[i] = flowOps(i, 1000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := mustExec(b, db, uint64(i)+2, ops[i])
		if r.Changes.Len() != 1001 {
			b.Fatalf("insert: %d changes", r.Changes.Len())
		}
		r = mustExec(b, db, uint64(i)+3, `[{"op":"delete","table":"Logical_Flow","where":[]}]`)
		if r.Changes.Len() != 1001 {
			b.Fatalf("delete: %d changes", r.Changes.Len())
		}
	}
}

func BenchmarkOVSDBServerSBFlows1000(b *testing.B) {
	s := startRefServer(b, schema.Southbound, schema.SouthboundName)
	if s == nil {
		b.Skip("ovsdb-server not installed")
	}
	refExec(b, s, `[{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":1},"uuid":"00000000-0000-0000-0000-0000000000d1"},{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":2},"uuid":"00000000-0000-0000-0000-0000000000d2"}]`)
	ops := make([]string, b.N)
	for i := range ops {
		ops[i] = flowOps(i, 1000)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, ops[i])
		refExec(b, s, `[{"op":"delete","table":"Logical_Flow","where":[]}]`)
	}
}

// BenchmarkMonitorHelpers measures what a monitor does per changed row:
// a condition match, the update2 modify diff and an insert row.
func BenchmarkMonitorHelpers(b *testing.B) {
	db, uuids := bigNB(b)
	ts := db.Schema().Tables["Logical_Switch_Port"]
	r := mustExec(b, db, 5, fmt.Sprintf(`[{"op":"update","table":"Logical_Switch_Port","where":[["_uuid","==",["uuid","%s"]]],"row":{"options":["map",[["requested-chassis","hv2"]]],"up":true}}]`, uuids[7]))
	var old, new Row
	var u UUID
	r.Changes.Each(func(_ string, id UUID, o, n Row) { u, old, new = id, o, n })
	cond, err := ParseConditions(ts, json.RawMessage(`[["options","includes",["map",[["requested-chassis","hv2"]]]],["name","==","x"]]`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !cond.Match(u, new) {
			b.Fatal("no match")
		}
		if _, ok := Update2Modify(ts, old, new, nil); !ok {
			b.Fatal("no diff")
		}
		_ = InsertRowJSON(ts, new, nil, true)
	}
}

// BenchmarkOVSDBServerRoundTrip is the cost of a transaction that does
// nothing: subtract it from the other BenchmarkOVSDBServer* figures to
// compare executors without the socket and JSON-RPC round trip.
func BenchmarkOVSDBServerRoundTrip(b *testing.B) {
	s := refNB(b)
	for i := 0; i < b.N; i++ {
		refExec(b, s, `[{"op":"comment","comment":"x"}]`)
	}
}

// scanOps selects by a column no index covers, so every row is examined.
const scanOps = `[{"op":"select","table":"Logical_Switch_Port","where":[["external_ids","includes",["map",[["neutron:cidrs","10.0.%d.%d/24"]]]]],"columns":["name"]}]`

func BenchmarkSelectScan1000(b *testing.B) {
	db, _ := bigNB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, db, 0, fmt.Sprintf(scanOps, (i%1000)/256, i%256))
	}
}

func BenchmarkOVSDBServerSelectScan1000(b *testing.B) {
	s, _ := refBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refExec(b, s, fmt.Sprintf(scanOps, (i%1000)/256, i%256))
	}
}

// workloadOps is one transaction of the side-by-side benchmark's batched
// insert workload (internal/ovsdb/bench): 100 Logical_Switch_Ports, each
// added to the switch's ports by the closing mutate.
func workloadOps(sw string, txn int) string {
	var ops, refs strings.Builder
	for r := 0; r < 100; r++ {
		name := fmt.Sprintf("lsp%d_%d", txn, r)
		fmt.Fprintf(&ops, `{"op":"insert","table":"Logical_Switch_Port","uuid-name":"%s","row":{"name":"%s","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]]}},`, name, name)
		if r > 0 {
			refs.WriteByte(',')
		}
		fmt.Fprintf(&refs, `["named-uuid","%s"]`, name)
	}
	return fmt.Sprintf(`[%s{"op":"mutate","table":"Logical_Switch","where":[["name","==","%s"]],"mutations":[["ports","insert",["set",[%s]]]]}]`, ops.String(), sw, refs.String())
}

// BenchmarkWorkloadBatch100 is Execute and Commit of the side-by-side
// benchmark's batched insert transaction, on a database holding 1000 other
// switches; every switch receives 15 such transactions, as in the workload.
func BenchmarkWorkloadBatch100(b *testing.B) {
	db := nbDatabase(b)
	for i := 0; i < 1000; i++ {
		mustExec(b, db, uint64(i)+1<<32, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"lat-%d"}}]`, i))
	}
	ops := make([]string, b.N)
	for i := range ops {
		sw := fmt.Sprintf("batch-%d", i/15)
		if i%15 == 0 {
			mustExec(b, db, uint64(i)+1<<33, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"%s"}}]`, sw))
		}
		ops[i] = workloadOps(sw, i)
	}
	b.ReportAllocs()
	reportCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := mustExec(b, db, uint64(i)+1<<34, ops[i])
		if r.Changes.Len() != 101 {
			b.Fatalf("%d changes: %s", r.Changes.Len(), r.Reply)
		}
	}
}

// BenchmarkStoredRow encodes one of the workload's Logical_Switch_Ports
// for storage: RowJSON with every column named (what replica wrote) and
// AppendStoredRowJSON (defaults left out).
func BenchmarkStoredRow(b *testing.B) {
	db := nbDatabase(b)
	mustExec(b, db, 1, `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw"}}]`)
	mustExec(b, db, 2, workloadOps("sw", 0))
	ts := db.Schema().Tables["Logical_Switch_Port"]
	var u UUID
	var r Row
	db.Rows(ts.Name, func(id UUID, row Row) bool { u, r = id, row; return false })
	cols := []string{"_version"}
	for _, c := range ts.ColumnList() {
		cols = append(cols, c.Name)
	}
	b.Run("RowJSON", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.SetBytes(int64(len(RowJSON(ts, u, r, cols))))
		}
	})
	b.Run("AppendStoredRowJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf = AppendStoredRowJSON(buf[:0], ts, r)
			b.SetBytes(int64(len(buf)))
		}
	})
}
