package ovsdb

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"hcnet/schema"
)

// condDB returns a southbound database with dps datapaths and flows
// logical flows spread over them (some on none), and the datapaths' UUIDs.
func condDB(tb testing.TB, rng *rand.Rand, dps, flows int) (*Database, []UUID) {
	s, err := ParseSchema(schema.Southbound)
	if err != nil {
		tb.Fatal(err)
	}
	db := NewDatabase(s)
	exec := func(seed uint64, ops string) Result {
		var sd [16]byte
		sd[0], sd[1] = byte(seed), byte(seed>>8)
		r := db.Execute(Txn{Ops: json.RawMessage(ops), Seed: sd})
		if r.Changes == nil || strings.Contains(string(r.Reply), `"error"`) {
			tb.Fatalf("transaction failed: %s", r.Reply)
		}
		db.Commit(r.Changes)
		return r
	}
	var ops []string
	for i := 0; i < dps; i++ {
		ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":%d}}`, i+1))
	}
	exec(1, "["+strings.Join(ops, ",")+"]")
	var uuids []UUID
	db.Rows("Datapath_Binding", func(u UUID, _ Row) bool { uuids = append(uuids, u); return true })
	ops = ops[:0]
	for i := 0; i < flows; i++ {
		dp := `["set",[]]`
		if k := rng.IntN(dps + 1); k < dps {
			dp = fmt.Sprintf(`["uuid","%s"]`, uuids[k])
		}
		ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":%s,"pipeline":"%s","table_id":%d,"priority":%d,"match":"m%d","actions":"next;","tags":["map",[["k","%d"]]]}}`,
			dp, []string{"ingress", "egress"}[rng.IntN(2)], rng.IntN(4), rng.IntN(6), rng.IntN(5), rng.IntN(3)))
	}
	exec(2, "["+strings.Join(ops, ",")+"]")
	return db, uuids
}

// randomCond returns a where list for Logical_Flow mixing "==" clauses
// that Conditions folds into sets with others it evaluates in turn.
// With eqOnly, every clause is false or an "==" of one atom on a column
// that can have an equality index.
func randomCond(rng *rand.Rand, dps []UUID, flows []UUID, eqOnly bool) string {
	var cl []string
	for n := rng.IntN(12); n >= 0; n-- {
		x := rng.IntN(16)
		if x >= 12 { // more sets of strings and integers
			x = 5 + x%2
		}
		if eqOnly {
			x = []int{0, 1, 2, 4, 6, 11}[rng.IntN(6)]
		}
		switch x {
		case 0, 1, 2, 3:
			if rng.IntN(8) == 0 {
				cl = append(cl, `["logical_datapath","==",["set",[]]]`)
			} else {
				cl = append(cl, fmt.Sprintf(`["logical_datapath","==",["uuid","%s"]]`, dps[rng.IntN(len(dps))]))
			}
		case 4:
			cl = append(cl, fmt.Sprintf(`["logical_dp_group","==",["uuid","%s"]]`, dps[rng.IntN(len(dps))]))
		case 5:
			cl = append(cl, fmt.Sprintf(`["priority","==",%d]`, rng.IntN(6)))
		case 6:
			cl = append(cl, fmt.Sprintf(`["match","==","m%d"]`, rng.IntN(5)))
		case 7:
			cl = append(cl, fmt.Sprintf(`["pipeline","==","%s"]`, []string{"ingress", "egress"}[rng.IntN(2)]))
		case 8:
			cl = append(cl, fmt.Sprintf(`["table_id",%q,%d]`, []string{"<", "<=", "!=", ">", ">="}[rng.IntN(5)], rng.IntN(4)))
		case 9:
			cl = append(cl, fmt.Sprintf(`["tags",%q,["map",[["k","%d"]]]]`, []string{"==", "includes", "excludes"}[rng.IntN(3)], rng.IntN(3)))
		case 10:
			cl = append(cl, fmt.Sprintf(`["_uuid","==",["uuid","%s"]]`, flows[rng.IntN(len(flows))]))
		default:
			if eqOnly {
				cl = append(cl, "false")
				break
			}
			cl = append(cl, []string{"true", "false"}[rng.IntN(2)])
		}
	}
	rng.Shuffle(len(cl), func(i, j int) { cl[i], cl[j] = cl[j], cl[i] })
	return "[" + strings.Join(cl, ",") + "]"
}

// TestConditionSetsMatchEachClause: random conditions select the same rows
// with the "==" clauses folded into sets (Match) as clause by clause, and
// RowsWhere visits the rows Rows does that pass, in the same order.
func TestConditionSetsMatchEachClause(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	db, dps := condDB(t, rng, 12, 400)
	ts := db.Schema().Tables["Logical_Flow"]
	var flows []UUID
	db.Rows("Logical_Flow", func(u UUID, _ Row) bool { flows = append(flows, u); return true })
	folded, generic := 0, 0
	for k := 0; k < 400; k++ {
		where := randomCond(rng, dps, flows, false)
		c, err := ParseConditions(ts, json.RawMessage(where))
		if err != nil {
			t.Fatalf("ParseConditions(%s): %v", where, err)
		}
		if len(c.eqSets) > 0 {
			folded++
		}
		for _, e := range c.eqSets {
			if e.atoms != nil {
				generic++
			}
		}
		var want, got []UUID
		db.Rows("Logical_Flow", func(u UUID, r Row) bool {
			if c.matchEach(u, r) {
				want = append(want, u)
			}
			return true
		})
		db.RowsWhere("Logical_Flow", c.Match, func(u UUID, r Row) bool {
			got = append(got, u)
			return true
		})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("conditions %s: Match selects %d rows, clause by clause %d:\n%v\n%v", where, len(got), len(want), got, want)
		}
	}
	if folded < 50 || generic < 10 {
		t.Fatalf("only %d of 400 conditions had a set of == clauses, %d of them not of UUIDs", folded, generic)
	}
}

// TestRowsMatchingIndexes runs the same random commits (flows inserted,
// deleted and moved between datapaths) on a database that indexes the
// columns conditions name from the first request and on one that never
// does, and after each compares what RowsMatching visits on both, for
// random conditions (mostly ones the indexes cover, and pairs of them as
// monitor_cond_change asks), with a scan clause by clause.
func TestRowsMatchingIndexes(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	indexed, dps := condDB(t, rand.New(rand.NewPCG(seed, 1)), 10, 300)
	plain, _ := condDB(t, rand.New(rand.NewPCG(seed, 1)), 10, 300)
	indexed.eqMinRows, plain.eqMinRows = 1, 1<<62
	ts := indexed.Schema().Tables["Logical_Flow"]
	flowsOf := func(db *Database) []UUID {
		var l []UUID
		db.Rows("Logical_Flow", func(u UUID, _ Row) bool { l = append(l, u); return true })
		return l
	}
	dp := func() string {
		if rng.IntN(6) == 0 {
			return `["set",[]]`
		}
		return fmt.Sprintf(`["uuid","%s"]`, dps[rng.IntN(len(dps))])
	}
	covered := 0
	for i := 0; i < 300; i++ {
		flows := flowsOf(indexed)
		var ops []string
		for n := rng.IntN(4); n >= 0; n-- {
			f := flows[rng.IntN(len(flows))]
			switch rng.IntN(4) {
			case 0:
				ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":%s,"pipeline":"ingress","table_id":1,"priority":1,"match":"m%d","actions":"next;"}}`, dp(), rng.IntN(5)))
			case 1:
				ops = append(ops, fmt.Sprintf(`{"op":"delete","table":"Logical_Flow","where":[["_uuid","==",["uuid","%s"]]]}`, f))
			default:
				ops = append(ops, fmt.Sprintf(`{"op":"update","table":"Logical_Flow","where":[["_uuid","==",["uuid","%s"]]],"row":{"logical_datapath":%s,"match":"m%d"}}`, f, dp(), rng.IntN(5)))
			}
		}
		txn := "[" + strings.Join(ops, ",") + "]"
		var sd [16]byte
		sd[0], sd[1], sd[2] = byte(i), byte(i>>8), 0xc0
		ri := indexed.Execute(Txn{Ops: json.RawMessage(txn), Seed: sd})
		rp := plain.Execute(Txn{Ops: json.RawMessage(txn), Seed: sd})
		if string(ri.Reply) != string(rp.Reply) {
			t.Fatalf("transaction %d: %s\nindexed: %s\nplain:   %s", i, txn, ri.Reply, rp.Reply)
		}
		indexed.Commit(ri.Changes)
		plain.Commit(rp.Changes)
		flows = flowsOf(indexed)
		for k := 0; k < 4; k++ {
			var conds []*Conditions
			var wheres []string
			for n := 1 + rng.IntN(2); n > 0; n-- {
				where := randomCond(rng, dps, flows, rng.IntN(5) > 0)
				c, err := ParseConditions(ts, json.RawMessage(where))
				if err != nil {
					t.Fatalf("ParseConditions(%s): %v", where, err)
				}
				conds, wheres = append(conds, &c), append(wheres, where)
			}
			var want, got, gotPlain []UUID
			indexed.Rows("Logical_Flow", func(u UUID, r Row) bool {
				for _, c := range conds {
					if c.matchEach(u, r) {
						want = append(want, u)
						break
					}
				}
				return true
			})
			collect := func(l *[]UUID) func(UUID, Row) bool {
				return func(u UUID, _ Row) bool { *l = append(*l, u); return true }
			}
			indexed.RowsMatching("Logical_Flow", collect(&got), conds...)
			plain.RowsMatching("Logical_Flow", collect(&gotPlain), conds...)
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotPlain) != fmt.Sprint(want) {
				t.Fatalf("after transaction %d, conditions %v: indexed visits %d rows, plain %d, clause by clause %d", i, wheres, len(got), len(gotPlain), len(want))
			}
		}
		if len(indexed.tables["Logical_Flow"].eq) > 0 {
			covered++
		}
	}
	if covered == 0 || len(plain.tables["Logical_Flow"].eq) != 0 {
		t.Fatalf("indexes: indexed database had them after %d of 300 commits, plain has %d", covered, len(plain.tables["Logical_Flow"].eq))
	}
	indexed.checkInvariants()
}

// BenchmarkChassisConditions: a chassis's Logical_Flow condition (its
// datapaths and a group) against every flow, as Match does it and clause
// by clause.
func BenchmarkChassisConditions(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	db, dps := condDB(b, rng, 100, 2000)
	ts := db.Schema().Tables["Logical_Flow"]
	var cl []string
	for i := 0; i < 5; i++ {
		cl = append(cl, fmt.Sprintf(`["logical_datapath","==",["uuid","%s"]]`, dps[i*7]))
	}
	cl = append(cl, fmt.Sprintf(`["logical_dp_group","==",["uuid","%s"]]`, dps[1]))
	c, err := ParseConditions(ts, json.RawMessage("["+strings.Join(cl, ",")+"]"))
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name  string
		match func(UUID, Row) bool
	}{{"sets", c.Match}, {"each", c.matchEach}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n := 0
				db.RowsWhere("Logical_Flow", v.match, func(UUID, Row) bool { n++; return true })
				if n == 0 {
					b.Fatal("no rows")
				}
			}
		})
	}
	b.Run("rows-each", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n := 0
			db.Rows("Logical_Flow", func(u UUID, r Row) bool {
				if c.matchEach(u, r) {
					n++
				}
				return true
			})
			if n == 0 {
				b.Fatal("no rows")
			}
		}
	})
}
