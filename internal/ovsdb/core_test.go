package ovsdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func testDB(t *testing.T) *Database {
	t.Helper()
	return NewDatabase(loadSchema(t, "test"))
}

func run(t *testing.T, db *Database, ops string) Result {
	t.Helper()
	r := db.Execute(Txn{Ops: json.RawMessage(ops), Seed: [16]byte{byte(len(ops))}})
	db.Commit(r.Changes)
	return r
}

func TestUUIDRoundTrip(t *testing.T) {
	for _, s := range []string{"00000000-0000-0000-0000-000000000000", "0123abcd-4567-89ef-0123-456789abcdef"} {
		u, err := ParseUUID(s)
		if err != nil {
			t.Fatalf("ParseUUID(%q): %v", s, err)
		}
		if u.String() != s {
			t.Errorf("ParseUUID(%q).String() = %q", s, u.String())
		}
	}
	for _, bad := range []string{"", "0123abcd-4567-89ef-0123-456789abcde", "0123abcd_4567-89ef-0123-456789abcdef", "0123abcd-4567-89ef-0123-456789abcdeg"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", bad)
		}
	}
	g := uuidGen{seed: [16]byte{1}}
	a, b := g.next(), g.next()
	g2 := uuidGen{seed: [16]byte{1}}
	if a == b || g2.next() != a {
		t.Errorf("uuidGen is not deterministic and distinct: %s %s", a, b)
	}
	if a[6]>>4 != 4 || a[8]>>6 != 2 {
		t.Errorf("generated UUID %s is not version 4", a)
	}
}

func TestParseSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ name, schema, want string }{
		{"not object", `[]`, "not a JSON object"},
		{"bad table name", `{"name":"x","tables":{"_t":{"columns":{"c":{"type":"integer"}}}}}`, `table name "_t"`},
		{"no columns", `{"name":"x","tables":{"T":{"columns":{}}}}`, "at least one column"},
		{"reserved column", `{"name":"x","tables":{"T":{"columns":{"_c":{"type":"integer"}}}}}`, `column name "_c"`},
		{"bad atomic type", `{"name":"x","tables":{"T":{"columns":{"c":{"type":"int"}}}}}`, `table T: column c: unknown atomic type "int"`},
		{"bad min", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":"integer","min":2}}}}}}`, "min 2 must be 0 or 1"},
		{"bad max", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":"integer","max":"lots"}}}}}}`, `max "lots"`},
		{"min > max range", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"integer","minInteger":3,"maxInteger":1}}}}}}}`, "minInteger 3 exceeds maxInteger 1"},
		{"constraint on wrong type", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"string","minInteger":3}}}}}}}`, "minInteger is not allowed for type string"},
		{"undefined refTable", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","refTable":"U"}}}}}}}`, `table T column c refers to undefined table "U"`},
		{"bad refType", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","refTable":"T","refType":"soft"}}}}}}}`, `refType "soft"`},
		{"bad enum", `{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"integer","enum":["set",["a"]]}}}}}}}`, "enum"},
		{"index unknown column", `{"name":"x","tables":{"T":{"columns":{"c":{"type":"integer"}},"indexes":[["d"]]}}}`, `unknown column "d"`},
		{"index ephemeral", `{"name":"x","tables":{"T":{"columns":{"c":{"type":"integer","ephemeral":true}},"indexes":[["c"]]}}}`, "ephemeral column c"},
		{"bad version", `{"name":"x","version":"1.0","tables":{"T":{"columns":{"c":{"type":"integer"}}}}}`, `version "1.0"`},
		{"bad maxRows", `{"name":"x","tables":{"T":{"columns":{"c":{"type":"integer"}},"maxRows":0}}}`, "maxRows"},
		{"unknown member", `{"name":"x","tables":{"T":{"columns":{"c":{"type":"integer","frob":1}}}}}`, `unknown member "frob"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSchema([]byte(tc.schema))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSchema error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseSchemaOVN(t *testing.T) {
	for _, name := range []string{"nb", "sb", "test"} {
		s := loadSchema(t, name)
		var a, b any
		if err := json.Unmarshal(s.JSON(), &a); err != nil {
			t.Fatalf("%s: JSON(): %v", name, err)
		}
		raw := mustReadSchema(t, name)
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if marshalPlain(a) != marshalPlain(b) {
			t.Errorf("%s: JSON() is not semantically equal to the input", name)
		}
	}
	s := loadSchema(t, "nb")
	lsp := s.Tables["Logical_Switch_Port"]
	if lsp.IsRoot || !s.Tables["Logical_Switch"].IsRoot {
		t.Errorf("isRoot not parsed")
	}
	if got := lsp.Columns["tag_request"].Type; got.Min != 0 || got.Max != 1 || got.Key.MaxInteger != 4095 {
		t.Errorf("tag_request type = %+v", got)
	}
	if got := s.Tables["NB_Global"].MaxRows; got != 1 {
		t.Errorf("NB_Global maxRows = %d", got)
	}
	// A schema without any root table makes every table a root.
	s2, err := ParseSchema([]byte(`{"name":"x","tables":{"T":{"columns":{"c":{"type":"integer"}}}}}`))
	if err != nil || !s2.Tables["T"].IsRoot {
		t.Errorf("schema without roots: err=%v root=%v", err, s2 != nil && s2.Tables["T"].IsRoot)
	}
}

func mustReadSchema(t *testing.T, name string) []byte {
	switch name {
	case "nb", "sb":
		return loadSchemaBytes(name)
	}
	return mustRead(t, "testdata/"+name+".ovsschema")
}

func TestRowJSONParseRowRoundTrip(t *testing.T) {
	db := testDB(t)
	r := run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"a \"quoted\"\n","num":3,"real":-2.25,"flag":true,"color":"red","nums":["set",[3,1]],"tags":["map",[["k","v"],["é","ü"]]],"peers":["named-uuid","me"]},"uuid-name":"me"}]`)
	if r.Changes.Empty() {
		t.Fatalf("insert failed: %s", r.Reply)
	}
	ts := db.Schema().Tables["Parent"]
	db.Rows("Parent", func(u UUID, row Row) bool {
		data := RowJSON(ts, u, row, nil)
		back, err := ParseRow(ts, data)
		if err != nil {
			t.Fatalf("ParseRow(%s): %v", data, err)
		}
		if !rowsEqual(back, row) || back.Version() != row.Version() {
			t.Errorf("round trip changed the row:\n%s\n%s", data, RowJSON(ts, u, back, nil))
		}
		sub := RowJSON(ts, u, row, []string{"name", "_uuid"})
		var m map[string]any
		if err := json.Unmarshal(sub, &m); err != nil || len(m) != 2 {
			t.Errorf("RowJSON with columns = %s", sub)
		}
		return true
	})
	if _, err := ParseRow(ts, json.RawMessage(`{"nope":1}`)); err == nil {
		t.Errorf("ParseRow accepted an unknown column")
	}
	if _, err := ParseRow(ts, json.RawMessage(`{"num":1000}`)); err == nil {
		t.Errorf("ParseRow accepted an out-of-range value")
	}
}

func TestExecuteDoesNotModify(t *testing.T) {
	db := testDB(t)
	run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"a","num":1},"uuid":"00000000-0000-0000-0000-000000000001"}]`)
	ts := db.Schema().Tables["Parent"]
	u, _ := ParseUUID("00000000-0000-0000-0000-000000000001")
	before, _ := db.Get("Parent", u)
	beforeJSON := string(RowJSON(ts, u, before, nil))
	r := db.Execute(Txn{Ops: json.RawMessage(`[{"op":"update","table":"Parent","where":[],"row":{"num":2}},{"op":"mutate","table":"Parent","where":[],"mutations":[["nums","insert",5]]},{"op":"insert","table":"Parent","row":{"name":"b"}},{"op":"delete","table":"Parent","where":[["name","==","a"]]}]`)})
	if r.Changes.Len() != 2 {
		t.Fatalf("changes = %d, reply %s", r.Changes.Len(), r.Reply)
	}
	after, _ := db.Get("Parent", u)
	if got := string(RowJSON(ts, u, after, nil)); got != beforeJSON || db.Len("Parent") != 1 {
		t.Fatalf("Execute modified the database:\n%s\n%s", beforeJSON, got)
	}
	db.Commit(r.Changes)
	if _, ok := db.Get("Parent", u); ok || db.Len("Parent") != 1 {
		t.Fatalf("Commit did not apply the change set")
	}
}

func TestCommitMismatchPanics(t *testing.T) {
	db := testDB(t)
	r := db.Execute(Txn{Ops: json.RawMessage(`[{"op":"insert","table":"Parent","row":{"name":"a"}}]`)})
	db.Commit(r.Changes)
	defer func() {
		if recover() == nil {
			t.Errorf("committing the same insert twice did not panic")
		}
	}()
	db.Commit(r.Changes)
}

func TestWaitBlocksAndExpires(t *testing.T) {
	db := testDB(t)
	ops := `[{"op":"wait","table":"Parent","where":[],"columns":["name"],"until":"==","rows":[{"name":"x"}],"timeout":1000},{"op":"insert","table":"Parent","row":{"name":"y"}}]`
	r := db.Execute(Txn{Ops: json.RawMessage(ops)})
	if !r.Blocked || r.Changes != nil || r.Reply != nil {
		t.Fatalf("wait did not block: %+v", r)
	}
	r = db.Execute(Txn{Ops: json.RawMessage(ops), WaitExpired: true})
	if r.Blocked || !strings.Contains(string(r.Reply), `"timed out"`) || r.Changes != nil {
		t.Fatalf("expired wait: %+v %s", r, r.Reply)
	}
	run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"x"}}]`)
	r = db.Execute(Txn{Ops: json.RawMessage(ops)})
	if r.Blocked || r.Changes.Len() != 1 {
		t.Fatalf("satisfied wait: %+v %s", r, r.Reply)
	}
}

func TestDurableAndAssert(t *testing.T) {
	db := testDB(t)
	r := db.Execute(Txn{Ops: json.RawMessage(`[{"op":"commit","durable":true},{"op":"assert","lock":"l"}]`), Locks: map[string]bool{"l": true}})
	if !r.Durable || string(r.Reply) != `[{},{}]` {
		t.Fatalf("durable/assert: %+v %s", r, r.Reply)
	}
	r = db.Execute(Txn{Ops: json.RawMessage(`[{"op":"assert","lock":"l"}]`)})
	if !strings.Contains(string(r.Reply), `"not owner"`) {
		t.Fatalf("assert without lock: %s", r.Reply)
	}
	for _, bad := range []string{`{}`, `[1]`, `nope`, `[{"op":"commit"}]`} {
		r := db.Execute(Txn{Ops: json.RawMessage(bad)})
		if !strings.Contains(string(r.Reply), `"syntax error"`) {
			t.Errorf("Execute(%s) = %s, want a syntax error", bad, r.Reply)
		}
	}
}

func TestChangeSetOrderAndVersions(t *testing.T) {
	db := testDB(t)
	r := run(t, db, `[{"op":"insert","table":"Limited","row":{"n":1}},{"op":"insert","table":"Parent","row":{"name":"b"}},{"op":"insert","table":"Parent","row":{"name":"a"}}]`)
	var last string
	versions := map[UUID]bool{}
	r.Changes.Each(func(table string, u UUID, old, new Row) {
		key := table + " " + u.String()
		if key < last {
			t.Errorf("change set out of order: %s after %s", key, last)
		}
		last = key
		if old != nil || new == nil || new.Version().IsZero() || versions[new.Version()] {
			t.Errorf("bad insert change for %s", key)
		}
		versions[new.Version()] = true
	})
	// An update that changes nothing keeps the version and yields no change.
	r = run(t, db, `[{"op":"update","table":"Limited","where":[],"row":{"n":1}}]`)
	if r.Changes != nil || string(r.Reply) != `[{"count":1}]` {
		t.Fatalf("no-op update: %s %v", r.Reply, r.Changes)
	}
	// One that does changes _version.
	var before UUID
	db.Rows("Limited", func(_ UUID, row Row) bool { before = row.Version(); return true })
	r = run(t, db, `[{"op":"update","table":"Limited","where":[],"row":{"n":2}}]`)
	r.Changes.Each(func(_ string, _ UUID, old, new Row) {
		if old.Version() != before || new.Version() == before {
			t.Errorf("_version did not change on modify")
		}
	})
}

func TestConditions(t *testing.T) {
	db := testDB(t)
	run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"a","num":1,"tags":["map",[["k","v"]]]},"uuid":"00000000-0000-0000-0000-000000000001"},
		{"op":"insert","table":"Parent","row":{"name":"b","num":2,"nums":["set",[1,2]]},"uuid":"00000000-0000-0000-0000-000000000002"}]`)
	ts := db.Schema().Tables["Parent"]
	match := func(conds string) string {
		c, err := ParseConditions(ts, json.RawMessage(conds))
		if err != nil {
			t.Fatalf("ParseConditions(%s): %v", conds, err)
		}
		var names []string
		db.Rows("Parent", func(u UUID, r Row) bool {
			if c.Match(u, r) {
				names = append(names, r.Get(ts.Columns["name"]).Keys[0].(string))
			}
			return true
		})
		return strings.Join(names, ",")
	}
	for _, tc := range []struct{ conds, want string }{
		{``, "a,b"},
		{`null`, "a,b"},
		{`[]`, "a,b"},
		{`[false]`, ""},
		{`[true]`, "a,b"},
		{`[["name","==","a"]]`, "a"},
		{`[["name","==","a"],["num",">=",2]]`, "a,b"}, // clauses are ORed
		{`[["num","<",2]]`, "a"},
		{`[["num","!=",1]]`, "b"},
		{`[["nums","includes",2]]`, "b"},
		{`[["nums","excludes",["set",[1]]]]`, "a"},
		{`[["tags","includes",["map",[["k","v"]]]]]`, "a"},
		{`[["tags","excludes",["map",[["k","w"]]]]]`, "a,b"},
		{`[["_uuid","==",["uuid","00000000-0000-0000-0000-000000000002"]]]`, "b"},
		{`[false,["name","==","b"]]`, "b"},
	} {
		if got := match(tc.conds); got != tc.want {
			t.Errorf("conditions %s matched %q, want %q", tc.conds, got, tc.want)
		}
	}
	for _, bad := range []string{`[["nope","==",1]]`, `[["num","~",1]]`, `[["nums","<",1]]`, `{}`, `[["num","==","x"]]`} {
		if _, err := ParseConditions(ts, json.RawMessage(bad)); err == nil {
			t.Errorf("ParseConditions(%s) succeeded", bad)
		}
	}
}

func TestUpdate2Modify(t *testing.T) {
	db := testDB(t)
	run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"a","num":1,"nums":["set",[1,2]],"tags":["map",[["k","v"],["x","y"]]],"color":"red"}}]`)
	ts := db.Schema().Tables["Parent"]
	r := run(t, db, `[{"op":"update","table":"Parent","where":[],"row":{"num":2,"nums":["set",[2,3]],"tags":["map",[["k","w"],["z","1"]]],"color":["set",[]]}}]`)
	var got string
	var changed []string
	var old, new Row
	r.Changes.Each(func(_ string, _ UUID, o, n Row) {
		old, new = o, n
		m, ok := Update2Modify(ts, o, n, userColumns(ts))
		if !ok {
			t.Fatalf("Update2Modify reported no change")
		}
		got = string(m)
		changed = ColumnsChanged(ts, o, n, userColumns(ts))
	})
	want := `{"color":["set",[]],"num":2,"nums":["set",[1,3]],"tags":["map",[["k","w"],["x","y"],["z","1"]]]}`
	if got != want {
		t.Errorf("Update2Modify = %s\nwant %s", got, want)
	}
	if strings.Join(changed, ",") != "color,num,nums,tags" {
		t.Errorf("ColumnsChanged = %v", changed)
	}
	if _, ok := Update2Modify(ts, old, new, []string{"name", "flag"}); ok {
		t.Errorf("Update2Modify reported a change in unchanged columns")
	}
	if m, _ := Update2Modify(ts, old, new, nil); !strings.Contains(string(m), `"_version"`) {
		t.Errorf("Update2Modify with all columns lacks _version: %s", m)
	}
	// Applying each column's diff to the old value gives the new value.
	for _, c := range ts.ColumnList() {
		if c.Type.Value == nil && c.Type.Max == 1 {
			continue
		}
		d := datumDiff(old.Get(c), new.Get(c))
		if got := ApplyUpdate2Diff(c, old.Get(c), d); !got.Equal(new.Get(c)) {
			t.Errorf("column %s: applying the diff does not give the new value", c.Name)
		}
	}
	ins := string(InsertRowJSON(ts, new, userColumns(ts), true))
	if ins != `{"name":"a","num":2,"nums":["set",[2,3]],"tags":["map",[["k","w"],["z","1"]]]}` {
		t.Errorf("InsertRowJSON = %s", ins)
	}
}

func TestLoad(t *testing.T) {
	src := testDB(t)
	run(t, src, `[{"op":"insert","table":"Parent","row":{"name":"p","children":["named-uuid","c"]},"uuid-name":"p"},{"op":"insert","table":"Child","row":{"key":"k","owner":["named-uuid","p"]},"uuid-name":"c"}]`)
	dst := testDB(t)
	for _, ts := range src.Schema().TableList() {
		src.Rows(ts.Name, func(u UUID, r Row) bool {
			back, err := ParseRow(ts, RowJSON(ts, u, r, nil))
			if err != nil {
				t.Fatal(err)
			}
			if err := dst.Load(ts.Name, u, back); err != nil {
				t.Fatal(err)
			}
			if err := dst.Load(ts.Name, u, back); err == nil {
				t.Fatalf("loading %s twice succeeded", u)
			}
			return true
		})
	}
	// Loaded state enforces indexes and references like the original.
	for _, ops := range []string{
		`[{"op":"insert","table":"Parent","row":{"name":"p"}}]`,
		`[{"op":"delete","table":"Child","where":[]}]`,
	} {
		a, b := src.Execute(Txn{Ops: json.RawMessage(ops)}), dst.Execute(Txn{Ops: json.RawMessage(ops)})
		if string(a.Reply) != string(b.Reply) || a.Changes != nil || b.Changes != nil {
			t.Errorf("%s: original %s, loaded %s", ops, a.Reply, b.Reply)
		}
	}
	r := dst.Execute(Txn{Ops: json.RawMessage(`[{"op":"delete","table":"Parent","where":[]}]`)})
	if r.Changes.Len() != 2 {
		t.Errorf("deleting the loaded parent: %s, %d changes (want the child collected too)", r.Reply, r.Changes.Len())
	}
	if err := dst.Load("Nope", UUID{}, nil); err == nil {
		t.Errorf("Load into an unknown table succeeded")
	}
}

func TestUnionDatum(t *testing.T) {
	var big Datum
	for i := 0; i < 100; i += 2 {
		big.Keys = append(big.Keys, int64(i))
	}
	for _, add := range [][]int64{{-1}, {0}, {3, 50, 98, 99}, {101}, {1, 3, 5, 7}} {
		var b Datum
		for _, k := range add {
			b.Keys = append(b.Keys, k)
		}
		got := unionDatum(big, b)
		// Reference: the general merge.
		want := Datum{}
		seen := map[int64]bool{}
		for _, k := range append(append([]Atom{}, big.Keys...), b.Keys...) {
			seen[k.(int64)] = true
		}
		for i := int64(-1); i <= 101; i++ {
			if seen[i] {
				want.Keys = append(want.Keys, i)
			}
		}
		if !got.Equal(want) {
			t.Errorf("union with %v = %v", add, got.Keys)
		}
	}
}

func TestJSONIntern(t *testing.T) {
	s := loadSchema(t, "nb")
	for _, in := range []string{
		`[{"op":"insert","table":"Logical_Switch","row":{"name":"x","other_config":["map",[["subnet",""]]]}}]`,
		`{"op":"op","\u006fp":"table","a\"b":"named-uuid","":""}`,
		`["set","se","sett","Logical_Switch_Port","to-lport","é"]`,
	} {
		a, errA := parseJSON([]byte(in))
		b, errB := parseJSONIntern([]byte(in), s.intern)
		if (errA == nil) != (errB == nil) || string(appendJSONValue(nil, a)) != string(appendJSONValue(nil, b)) {
			t.Errorf("interned parse of %s differs: %v %v", in, a, b)
		}
	}
}

// Execute only reads the database, so several may run at once (between
// Commits); run with -race to check.
func TestConcurrentExecute(t *testing.T) {
	db := testDB(t)
	if r := run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"p","nums":["set",[1,2]],"children":["named-uuid","c"]},"uuid-name":"p"},{"op":"insert","table":"Child","row":{"key":"k","owner":["named-uuid","p"]},"uuid-name":"c"}]`); r.Changes.Len() != 2 {
		t.Fatalf("setup: %s", r.Reply)
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				r := db.Execute(Txn{Ops: json.RawMessage(`[{"op":"select","table":"Parent","where":[]},{"op":"mutate","table":"Parent","where":[],"mutations":[["nums","insert",3]]},{"op":"delete","table":"Parent","where":[]}]`)})
				if r.Changes.Len() != 2 {
					t.Errorf("concurrent execute: %s", r.Reply)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestReusedSeed(t *testing.T) {
	db := testDB(t)
	ops := json.RawMessage(`[{"op":"insert","table":"Parent","row":{"name":"a"},"uuid-name":"a"},{"op":"insert","table":"Limited","row":{"n":1}}]`)
	r1 := db.Execute(Txn{Ops: ops})
	db.Commit(r1.Changes)
	ops2 := json.RawMessage(strings.ReplaceAll(string(ops), `"a"}`, `"b"}`))
	r2 := db.Execute(Txn{Ops: ops2})
	if r2.Changes.Len() != 2 || string(r1.Reply) == string(r2.Reply) {
		t.Fatalf("same seed twice: %s then %s", r1.Reply, r2.Reply)
	}
}

// TestMutationDeltas exercises the delta bookkeeping of reference sets:
// several insert/delete mutations of one column in one transaction, mixed
// with an update, must leave the reverse references exactly right.
func TestMutationDeltas(t *testing.T) {
	db := testDB(t)
	child := func(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-0000000000c%d", n) }
	ops := `[{"op":"insert","table":"Parent","row":{"name":"p","children":["set",[["uuid","` + child(1) + `"],["uuid","` + child(2) + `"]]]},"uuid":"00000000-0000-0000-0000-0000000000a1"}`
	for i := 1; i <= 5; i++ {
		ops += `,{"op":"insert","table":"Child","row":{"key":"k` + fmt.Sprint(i) + `","owner":["uuid","00000000-0000-0000-0000-0000000000a1"]},"uuid":"` + child(i) + `"}`
	}
	ops += `,{"op":"insert","table":"Parent","row":{"name":"keep","children":["set",[["uuid","` + child(3) + `"],["uuid","` + child(4) + `"],["uuid","` + child(5) + `"]]]}}]`
	if r := run(t, db, ops); r.Changes.Len() != 7 {
		t.Fatalf("setup: %s", r.Reply)
	}
	mut := func(op, c string) string {
		return `{"op":"mutate","table":"Parent","where":[["name","==","p"]],"mutations":[["children","` + op + `",["uuid","` + c + `"]]]}`
	}
	for _, tc := range []string{
		"[" + mut("insert", child(3)) + "," + mut("delete", child(3)) + "," + mut("insert", child(4)) + "," + mut("delete", child(1)) + "]",
		"[" + mut("delete", child(2)) + "," + mut("insert", child(2)) + "," + mut("insert", child(5)) + "]",
		"[" + mut("insert", child(1)) + `,{"op":"update","table":"Parent","where":[["name","==","p"]],"row":{"children":["set",[["uuid","` + child(3) + `"]]]}},` + mut("insert", child(4)) + "]",
		"[" + mut("delete", child(3)) + "," + mut("delete", child(4)) + "]",
	} {
		r := run(t, db, tc)
		if strings.Contains(string(r.Reply), "error") {
			t.Fatalf("%s: %s", tc, r.Reply)
		}
		db.checkInvariants()
	}
}

// TestIndexedScan checks that selecting by an indexed column sees the
// transaction's own changes like a full scan does.
func TestIndexedScan(t *testing.T) {
	db := testDB(t)
	run(t, db, `[{"op":"insert","table":"Parent","row":{"name":"a"}},{"op":"insert","table":"Parent","row":{"name":"c"}}]`)
	r := db.Execute(Txn{Ops: json.RawMessage(`[
		{"op":"update","table":"Parent","where":[["name","==","a"]],"row":{"name":"b"}},
		{"op":"insert","table":"Parent","row":{"name":"z"}},
		{"op":"delete","table":"Parent","where":[["name","==","c"]]},
		{"op":"select","table":"Parent","where":[["name","==","a"]],"columns":["name"]},
		{"op":"select","table":"Parent","where":[["name","==","b"]],"columns":["name"]},
		{"op":"select","table":"Parent","where":[["name","==","z"]],"columns":["name"]},
		{"op":"select","table":"Parent","where":[["name","==","c"]],"columns":["name"]},
		{"op":"select","table":"Parent","where":[["name","==","b"],["num","==",1]],"columns":["name"]}]`)})
	want := `{"rows":[]},{"rows":[{"name":"b"}]},{"rows":[{"name":"z"}]},{"rows":[]},{"rows":[]}]`
	if !strings.HasSuffix(string(r.Reply), want) {
		t.Fatalf("reply %s, want it to end with %s", r.Reply, want)
	}
}
