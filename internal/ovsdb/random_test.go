package ovsdb

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	randomSeed = flag.Int64("random.seed", 1, "seed for TestRandomDifferential (0: time-based)")
	randomTxns = flag.Int("random.txns", 300, "transactions per TestRandomDifferential run")
	randomOps  = flag.Int("random.ops", 4, "most operations per random transaction")
)

// txnGen generates random transactions on the test schema. Operations that
// touch several rows use mutations whose outcome does not depend on the
// order rows are visited in, since ovsdb-server visits them in hash order.
type txnGen struct {
	r     *rand.Rand
	names []string
	uuids []string
	n     int
}

func (g *txnGen) name() string {
	if len(g.names) > 0 && g.r.Intn(3) > 0 {
		return g.names[g.r.Intn(len(g.names))]
	}
	g.n++
	s := fmt.Sprintf("n%d", g.n)
	g.names = append(g.names, s)
	return s
}

func (g *txnGen) uuid() string {
	if len(g.uuids) > 0 && g.r.Intn(4) > 0 {
		return g.uuids[g.r.Intn(len(g.uuids))]
	}
	s := fmt.Sprintf("00000000-0000-0000-0000-%012x", g.r.Intn(1<<20))
	g.uuids = append(g.uuids, s)
	return s
}

func (g *txnGen) pick(l ...string) string { return l[g.r.Intn(len(l))] }

func (g *txnGen) intSet(max int) string {
	n := g.r.Intn(max + 1)
	var parts []string
	seen := map[int]bool{}
	for len(parts) < n {
		v := g.r.Intn(10)
		if seen[v] {
			continue
		}
		seen[v] = true
		parts = append(parts, fmt.Sprint(v))
	}
	return `["set",[` + strings.Join(parts, ",") + `]]`
}

func (g *txnGen) tags() string {
	n := g.r.Intn(3)
	var parts []string
	seen := map[string]bool{}
	for len(parts) < n {
		k := g.pick("a", "b", "c")
		if seen[k] {
			continue
		}
		seen[k] = true
		parts = append(parts, fmt.Sprintf(`[%q,%q]`, k, g.pick("1", "2")))
	}
	return `["map",[` + strings.Join(parts, ",") + `]]`
}

func (g *txnGen) ref(named []string) string {
	if len(named) > 0 && g.r.Intn(2) == 0 {
		return fmt.Sprintf(`["named-uuid",%q]`, named[g.r.Intn(len(named))])
	}
	return fmt.Sprintf(`["uuid",%q]`, g.uuid())
}

func (g *txnGen) parentRow(named []string) string {
	cols := []string{fmt.Sprintf(`"name":%q`, g.name())}
	if g.r.Intn(2) == 0 {
		cols = append(cols, fmt.Sprintf(`"num":%d`, g.r.Intn(110)))
	}
	if g.r.Intn(3) == 0 {
		cols = append(cols, `"nums":`+g.intSet(3))
	}
	if g.r.Intn(3) == 0 {
		cols = append(cols, `"tags":`+g.tags())
	}
	if g.r.Intn(4) == 0 {
		cols = append(cols, fmt.Sprintf(`"color":%q`, g.pick("red", "blue", "pink")))
	}
	if g.r.Intn(3) == 0 {
		cols = append(cols, `"children":["set",[`+g.ref(named)+`]]`)
	}
	if g.r.Intn(3) == 0 {
		cols = append(cols, `"peers":["set",[`+g.ref(named)+`]]`)
	}
	if g.r.Intn(4) == 0 {
		cols = append(cols, `"favorite":["set",[`+g.ref(named)+`]]`)
	}
	return "{" + strings.Join(cols, ",") + "}"
}

func (g *txnGen) where() string {
	switch g.r.Intn(5) {
	case 0:
		return fmt.Sprintf(`[["_uuid","==",["uuid",%q]]]`, g.uuid())
	case 1:
		return `[]`
	default:
		return fmt.Sprintf(`[["name","==",%q]]`, g.name())
	}
}

func (g *txnGen) op(named *[]string) string {
	switch g.r.Intn(21) {
	case 18:
		return fmt.Sprintf(`{"op":"insert","table":"Link","row":{"byname":["map",[["a",%s],["b",%s]]],"owned":["map",[[%s,1]]],"pick":["map",[[%s,%s]]]},"uuid":%q}`,
			g.ref(*named), g.ref(*named), g.ref(*named), g.ref(*named), g.ref(*named), g.uuid())
	case 19:
		return fmt.Sprintf(`{"op":"mutate","table":"Link","where":[],"mutations":[[%q,%q,%s]]}`, g.pick("byname", "owned", "pick"), g.pick("insert", "delete"),
			g.pick(fmt.Sprintf(`["map",[["c",%s]]]`, g.ref(*named)), fmt.Sprintf(`["set",[%s]]`, g.ref(*named)), fmt.Sprintf(`["map",[[%s,2]]]`, g.ref(*named)), fmt.Sprintf(`["map",[[%s,%s]]]`, g.ref(*named), g.ref(*named))))
	case 20:
		return fmt.Sprintf(`{"op":"update","table":"Link","where":[],"row":{"owned":["map",[[%s,3]]]}}`, g.ref(*named))
	case 17:
		return fmt.Sprintf(`{"op":"mutate","table":"Parent","where":%s,"mutations":[[%q,%q,%s]]}`, g.where(), g.pick("created", "_uuid", "_version", "num", "tags"), g.pick("insert", "delete", "+=", "%="), g.pick(`"x"`, `1`, `["set",[]]`, `["uuid","00000000-0000-0000-0000-000000000001"]`, `["map",[["a","1"]]]`))
	case 12:
		return fmt.Sprintf(`{"op":"update","table":"Parent","where":%s,"row":{"children":["set",[%s]],"favorite":["set",[%s]]}}`, g.where(), g.ref(*named), g.ref(*named))
	case 13:
		return fmt.Sprintf(`{"op":"update","table":"Child","where":[["key","==",%q]],"row":{"owner":%s}}`, g.pick("k1", "k2"), g.ref(*named))
	case 14:
		return fmt.Sprintf(`{"op":"delete","table":"Parent","where":[["num",%q,%d]]}`, g.pick("<", ">=", "=="), g.r.Intn(100))
	case 15:
		return fmt.Sprintf(`{"op":"mutate","table":"Parent","where":%s,"mutations":[["tags","delete",%s],["peers","delete",["set",[%s]]]]}`, g.where(), g.tags(), g.ref(*named))
	case 16:
		return fmt.Sprintf(`{"op":"update","table":"Parent","where":%s,"row":{%q:%s}}`, g.where(), g.pick("created", "label", "nums", "flag"), g.pick(`"x"`, `""`, `["set",[1,2,3,4]]`, `true`))
	case 0, 1, 2:
		extra := ""
		if g.r.Intn(2) == 0 {
			extra = fmt.Sprintf(`,"uuid":%q`, g.uuid())
		}
		nm := fmt.Sprintf("r%d", len(*named))
		*named = append(*named, nm)
		return fmt.Sprintf(`{"op":"insert","table":"Parent","row":%s,"uuid-name":%q%s}`, g.parentRow(*named), nm, extra)
	case 3, 4:
		extra := ""
		if g.r.Intn(2) == 0 {
			extra = fmt.Sprintf(`,"uuid":%q`, g.uuid())
		}
		nm := fmt.Sprintf("r%d", len(*named))
		*named = append(*named, nm)
		return fmt.Sprintf(`{"op":"insert","table":"Child","row":{"key":%q,"value":%d,"owner":%s},"uuid-name":%q%s}`,
			g.pick("k1", "k2"), g.r.Intn(2), g.ref(*named), nm, extra)
	case 5:
		return fmt.Sprintf(`{"op":"update","table":"Parent","where":[["name","==",%q]],"row":{"num":%d,"color":["set",[]]}}`, g.name(), g.r.Intn(105))
	case 6:
		muts := []string{
			fmt.Sprintf(`["nums","insert",%s]`, g.intSet(2)),
			fmt.Sprintf(`["nums","delete",%s]`, g.intSet(3)),
			fmt.Sprintf(`["tags","insert",%s]`, g.tags()),
			fmt.Sprintf(`["tags","delete",["set",[%q]]]`, g.pick("a", "b")),
			fmt.Sprintf(`["children","delete",["set",[%s]]]`, g.ref(nil)),
			fmt.Sprintf(`["peers","insert",["set",[%s]]]`, g.ref(*named)),
			`["num","*=",1]`,
		}
		return fmt.Sprintf(`{"op":"mutate","table":"Parent","where":%s,"mutations":[%s]}`, g.where(), muts[g.r.Intn(len(muts))])
	case 7:
		return fmt.Sprintf(`{"op":"mutate","table":"Parent","where":[["name","==",%q]],"mutations":[["num",%q,%d]]}`,
			g.name(), g.pick("+=", "-=", "*=", "/=", "%="), g.r.Intn(5)-1)
	case 8:
		return fmt.Sprintf(`{"op":"delete","table":%q,"where":%s}`, g.pick("Parent", "Parent", "Child", "Limited"), g.where())
	case 9:
		return fmt.Sprintf(`{"op":"insert","table":"Limited","row":{"n":%d}}`, g.r.Intn(3))
	case 10:
		return fmt.Sprintf(`{"op":"wait","table":"Parent","where":[["name","==",%q]],"columns":["num"],"until":%q,"rows":[{"num":%d}],"timeout":0}`,
			g.name(), g.pick("==", "!="), g.r.Intn(3))
	default:
		return fmt.Sprintf(`{"op":"select","table":%q,"where":%s}`, g.pick("Parent", "Child", "Limited"), g.where())
	}
}

func (g *txnGen) txn() string {
	var named []string
	n := 1 + g.r.Intn(*randomOps)
	ops := make([]string, n)
	for i := range ops {
		ops[i] = g.op(&named)
	}
	return "[" + strings.Join(ops, ",") + "]"
}

const dumpOps = `[{"op":"select","table":"Parent","where":[]},{"op":"select","table":"Child","where":[]},{"op":"select","table":"Limited","where":[]},{"op":"select","table":"Link","where":[]}]`

// TestRandomDifferential sends random transactions (seed printed; rerun
// with -random.seed) to this package and to a real ovsdb-server and
// requires the same replies, error kinds included, and the same database
// contents after every transaction.
func TestRandomDifferential(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -random.seed=%d)", seed, seed)
	s := loadSchema(t, "test")
	ref := startRefServer(t, mustRead(t, "testdata/test.ovsschema"), s.Name)
	if ref == nil {
		t.Skip("ovsdb-server not installed (or HCNET_SKIP_OVS=1)")
	}
	// Monitor every table on the server, to compare its update2
	// notifications with what Update2Modify and InsertRowJSON make of our
	// change sets.
	dbJSON, _ := json.Marshal(s.Name)
	if _, rpcErr := ref.call(t, "monitor_cond", []json.RawMessage{dbJSON, json.RawMessage(`"m"`),
		json.RawMessage(`{"Parent":[{}],"Child":[{}],"Limited":[{}],"Link":[{}]}`)}); rpcErr != nil {
		t.Fatalf("monitor_cond: %s", rpcErr)
	}
	db := NewDatabase(s)
	db.eqMinRows = 1 // equality indexes from the start (see eqindex.go)
	g := &txnGen{r: rand.New(rand.NewSource(seed))}
	var ours, theirs normalizer
	for i := 0; i < *randomTxns; i++ {
		ops := g.txn()
		var sd [16]byte
		sd[0], sd[1] = byte(i), byte(i>>8)
		res := db.Execute(Txn{Ops: json.RawMessage(ops), Seed: sd})
		db.Commit(res.Changes)
		got := ours.reply(res.Reply, true)
		want := theirs.reply(ref.transact(t, json.RawMessage(ops)), true)
		if got != want {
			t.Fatalf("transaction %d differs from ovsdb-server\nops: %s\nhcnet:\n%sovsdb-server:\n%s", i, ops, got, want)
		}
		gotDump := ours.reply(db.Execute(Txn{Ops: json.RawMessage(dumpOps)}).Reply, true)
		wantDump := theirs.reply(ref.transact(t, json.RawMessage(dumpOps)), true)
		if gotDump != wantDump {
			t.Fatalf("after transaction %d the contents differ\nops: %s\nonly in hcnet:\n%s\nonly in ovsdb-server:\n%s", i, ops, onlyIn(gotDump, wantDump), onlyIn(wantDump, gotDump))
		}
		ref.sync(t)
		gotUpd := ours.tableUpdates(update2(s, res.Changes))
		var wantUpd string
		for _, u := range ref.updates {
			wantUpd += theirs.tableUpdates(u)
		}
		ref.updates = nil
		if gotUpd != wantUpd {
			t.Fatalf("transaction %d: update2 differs from ovsdb-server's\nops: %s\nhcnet:\n%sovsdb-server:\n%s", i, ops, gotUpd, wantUpd)
		}
		if i%10 == 9 {
			checkConditions(t, g, db, ref, &ours, &theirs, i)
			ref.updates = nil
		}
	}
}

// onlyIn lists the rows of dump a that dump b lacks.
func onlyIn(a, b string) string {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, p := range strings.Split(s, "},{") {
			m[p] = true
		}
		return m
	}
	am, bm := split(a), split(b)
	var out []string
	for p := range am {
		if !bm[p] {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

// conds returns a random monitor_cond "where" for Parent.
func (g *txnGen) conds() string {
	var cl []string
	for i := g.r.Intn(4); i > 0; i-- {
		switch g.r.Intn(9) {
		case 0:
			cl = append(cl, fmt.Sprintf(`["name","==",%q]`, g.name()))
		case 1:
			cl = append(cl, fmt.Sprintf(`["num",%q,%d]`, g.pick("<", "<=", ">", ">=", "==", "!="), g.r.Intn(100)))
		case 2:
			cl = append(cl, fmt.Sprintf(`["nums",%q,%s]`, g.pick("includes", "excludes", "==", "!="), g.intSet(2)))
		case 3:
			cl = append(cl, fmt.Sprintf(`["tags",%q,%s]`, g.pick("includes", "excludes", "==", "!="), g.tags()))
		case 4:
			cl = append(cl, fmt.Sprintf(`["color",%q,["set",[%s]]]`, g.pick("includes", "excludes", "==", "!="), g.pick(`"red"`, `"blue"`, ``)))
		case 5:
			cl = append(cl, fmt.Sprintf(`["_uuid",%q,["uuid",%q]]`, g.pick("==", "!=", "includes", "excludes"), g.uuid()))
		case 6:
			cl = append(cl, fmt.Sprintf(`["peers",%q,["set",[%s]]]`, g.pick("includes", "excludes"), g.ref(nil)))
		case 7:
			cl = append(cl, g.pick("true", "false"))
		default:
			cl = append(cl, fmt.Sprintf(`["real",%q,%d]`, g.pick("<", ">"), g.r.Intn(3)))
		}
	}
	return "[" + strings.Join(cl, ",") + "]"
}

// checkConditions compares the rows a monitor_cond with random
// conditions returns initially with what Conditions.Match selects.
func checkConditions(t *testing.T, g *txnGen, db *Database, ref *refServer, ours, theirs *normalizer, k int) {
	ts := db.Schema().Tables["Parent"]
	where := g.conds()
	dbJSON, _ := json.Marshal(db.Schema().Name)
	id, _ := json.Marshal(fmt.Sprintf("c%d", k))
	res, rpcErr := ref.call(t, "monitor_cond", []json.RawMessage{dbJSON, id,
		json.RawMessage(`{"Parent":[{"columns":["name"],"where":` + where + `}]}`)})
	if rpcErr == nil {
		defer func() {
			if _, err := ref.call(t, "monitor_cancel", []json.RawMessage{id}); err != nil {
				t.Fatalf("monitor_cancel: %s", err)
			}
		}()
	}
	c, err := ParseConditions(ts, json.RawMessage(where))
	if (rpcErr != nil) != (err != nil) {
		t.Fatalf("conditions %s: ovsdb-server error %s, ours %v", where, rpcErr, err)
	}
	if err != nil {
		return
	}
	var want []string
	var tu map[string]map[string]any
	if err := json.Unmarshal(res, &tu); err != nil {
		t.Fatalf("monitor_cond reply %s: %v", res, err)
	}
	for u := range tu["Parent"] {
		want = append(want, theirs.name(u))
	}
	var got []string
	db.Rows("Parent", func(u UUID, r Row) bool {
		if c.Match(u, r) {
			got = append(got, ours.name(u.String()))
		}
		return true
	})
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("conditions %s match %v, ovsdb-server %v", where, got, want)
	}
}

// update2 renders a change set as the <table-updates2> a monitor of every
// column of every table receives.
func update2(s *Schema, cs *ChangeSet) json.RawMessage {
	if cs.Empty() {
		return nil
	}
	tables := map[string]map[string]json.RawMessage{}
	cs.Each(func(table string, u UUID, old, new Row) {
		ts := s.Tables[table]
		var ru string
		switch {
		case old == nil:
			ru = `{"insert":` + string(InsertRowJSON(ts, new, nil, true)) + `}`
		case new == nil:
			ru = `{"delete":null}`
		default:
			m, ok := Update2Modify(ts, old, new, nil)
			if !ok {
				return
			}
			ru = `{"modify":` + string(m) + `}`
		}
		if tables[table] == nil {
			tables[table] = map[string]json.RawMessage{}
		}
		tables[table][u.String()] = json.RawMessage(ru)
	})
	if len(tables) == 0 {
		return nil
	}
	b, _ := json.Marshal(tables)
	return b
}

// tableUpdates normalises a <table-updates2> into sorted lines.
func (n *normalizer) tableUpdates(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	var tu map[string]map[string]any
	if err := json.Unmarshal(raw, &tu); err != nil {
		return "unparsable update: " + string(raw) + "\n"
	}
	var lines []string
	// Only UUIDs already named (by the replies and dumps compared before)
	// are used, so that map order here cannot change the numbering.
	n.frozen = true
	defer func() { n.frozen = false }()
	for table, rows := range tu {
		for u, ru := range rows {
			lines = append(lines, table+" "+n.name(u)+" "+marshalPlain(n.walk(ru)))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
