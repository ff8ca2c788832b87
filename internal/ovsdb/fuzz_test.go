package ovsdb

import (
	"encoding/json"
	"testing"
)

// FuzzParseSchema: ParseSchema never panics, and what it accepts it
// returns as valid JSON that parses to an equivalent schema.
func FuzzParseSchema(f *testing.F) {
	// The OVN schemas are parsed by the conformance tests; seeds stay
	// small so that the fuzzer's mutations stay fast.
	f.Add([]byte(`{"name":"x","version":"1.0.0","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","refTable":"T","refType":"weak"},"min":0,"max":"unlimited"}}},"indexes":[["c"]],"maxRows":3}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchema(data)
		if err != nil {
			return
		}
		if !json.Valid(s.JSON()) {
			t.Fatalf("JSON() of accepted schema is not valid JSON: %s", s.JSON())
		}
		s2, err := ParseSchema(s.JSON())
		if err != nil {
			t.Fatalf("re-parse of JSON(): %v", err)
		}
		if len(s2.Tables) != len(s.Tables) || s2.Name != s.Name {
			t.Fatalf("re-parsed schema differs")
		}
	})
}

// FuzzExecute: Execute never panics on arbitrary operations, its reply is
// a valid JSON array, Commit accepts what it produced, and a failed or
// read-only transaction changes nothing.
func FuzzExecute(f *testing.F) {
	f.Add([]byte(`[{"op":"insert","table":"Parent","row":{"name":"a","children":["named-uuid","c"]}},{"op":"insert","table":"Child","row":{"key":"k"},"uuid-name":"c"}]`))
	f.Add([]byte(`[{"op":"mutate","table":"Parent","where":[],"mutations":[["num","+=",1],["tags","insert",["map",[["a","b"]]]],["nums","delete",1]]}]`))
	f.Add([]byte(`[{"op":"wait","table":"Parent","where":[],"columns":["name"],"until":"!=","rows":[{"name":"a"}],"timeout":1}]`))
	f.Add([]byte(`[{"op":"delete","table":"Child","where":[["owner","includes",["uuid","00000000-0000-0000-0000-000000000001"]]]}]`))
	s, err := ParseSchema(mustRead(f, "testdata/test.ovsschema"))
	if err != nil {
		f.Fatal(err)
	}
	base := NewDatabase(s)
	res := base.Execute(Txn{Ops: json.RawMessage(`[
		{"op":"insert","table":"Parent","row":{"name":"p","num":3,"nums":["set",[1,2]],"tags":["map",[["a","b"]]],"children":["named-uuid","c"],"peers":["named-uuid","p"]},"uuid-name":"p"},
		{"op":"insert","table":"Child","row":{"key":"k","owner":["named-uuid","p"]},"uuid-name":"c"},
		{"op":"insert","table":"Limited","row":{"n":1}}]`)})
	if res.Changes == nil {
		f.Fatalf("setup failed: %s", res.Reply)
	}
	base.Commit(res.Changes)
	f.Fuzz(func(t *testing.T, ops []byte) {
		db := NewDatabase(s)
		db.Commit(res.Changes)
		r := db.Execute(Txn{Ops: ops, Locks: map[string]bool{"l": true}})
		// The lazy decoding must not change a reply, errors included.
		eager := NewDatabase(s)
		eager.eager = true
		eager.Commit(res.Changes)
		if re := eager.Execute(Txn{Ops: ops, Locks: map[string]bool{"l": true}}); string(re.Reply) != string(r.Reply) || re.Blocked != r.Blocked {
			t.Fatalf("ops %s:\nlazy decoding: %s\nfull decoding: %s", ops, r.Reply, re.Reply)
		}
		if r.Blocked {
			return
		}
		var reply []json.RawMessage
		if err := json.Unmarshal(r.Reply, &reply); err != nil {
			t.Fatalf("reply %q is not a JSON array: %v", r.Reply, err)
		}
		before := db.Len("Parent") + db.Len("Child") + db.Len("Limited")
		if before != 3 {
			t.Fatalf("Execute modified the database")
		}
		db.Commit(r.Changes)
		// A second transaction on the new state must still work.
		r2 := db.Execute(Txn{Ops: json.RawMessage(`[{"op":"select","table":"Parent","where":[]},{"op":"delete","table":"Parent","where":[]}]`)})
		db.Commit(r2.Changes)
	})
}

// FuzzRandomTransactions drives the schema-driven generator from fuzzed
// seeds: every transaction must leave a consistent database (indexes,
// reverse references, garbage collection), and replaying the same
// transactions on a fresh database must give the same replies.
func FuzzRandomTransactions(f *testing.F) {
	f.Add(int64(1), uint8(20), false)
	f.Add(int64(7), uint8(40), true)
	schemas := map[bool]*Schema{false: loadSchema(f, "nb"), true: loadSchema(f, "sb")}
	f.Fuzz(func(t *testing.T, seed int64, n uint8, sb bool) {
		s := schemas[sb]
		run := func(eager bool) []string {
			db := NewDatabase(s)
			db.eager = eager
			g := newSchemaGen(s, seed)
			var replies []string
			for i := 0; i < int(n%64); i++ {
				r := db.Execute(Txn{Ops: json.RawMessage(g.txn()), Seed: [16]byte{byte(i)}})
				db.Commit(r.Changes)
				db.checkInvariants()
				replies = append(replies, string(r.Reply))
			}
			return replies
		}
		a, b, c := run(false), run(false), run(true)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("transaction %d is not deterministic:\n%s\n%s", i, a[i], b[i])
			}
			if a[i] != c[i] {
				t.Fatalf("transaction %d: the lazy decoding changed the reply:\n%s\nfull decoding:\n%s", i, a[i], c[i])
			}
		}
	})
}
