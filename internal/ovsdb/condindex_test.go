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
func randomCond(rng *rand.Rand, dps []UUID, flows []UUID) string {
	var cl []string
	for n := rng.IntN(12); n >= 0; n-- {
		x := rng.IntN(16)
		if x >= 12 { // more sets of strings and integers
			x = 5 + x%2
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
		where := randomCond(rng, dps, flows)
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
