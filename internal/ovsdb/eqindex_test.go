package ovsdb

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"hcnet/schema"
)

// TestEqIndex runs the same random transactions against a database that
// indexes Logical_Switch.name from the first scan and one that never does,
// and requires identical replies and contents (the index must not change
// a result, only how candidates are found). Names repeat, rows are renamed
// and deleted, so values gain and lose rows.
func TestEqIndex(t *testing.T) {
	s, err := ParseSchema(schema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	indexed, plain := NewDatabase(s), NewDatabase(s)
	indexed.eqMinRows, plain.eqMinRows = 1, 1<<62
	seed := int64(3)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	changed := 0
	name := func() string { return fmt.Sprintf("sw%d", r.Intn(12)) }
	for i := 0; i < 600; i++ {
		var ops string
		switch r.Intn(6) {
		case 0, 1:
			ops = fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":%q}}]`, name())
		case 2:
			ops = fmt.Sprintf(`[{"op":"update","table":"Logical_Switch","where":[["name","==",%q]],"row":{"name":%q}}]`, name(), name())
		case 3:
			ops = fmt.Sprintf(`[{"op":"delete","table":"Logical_Switch","where":[["name","==",%q]]}]`, name())
		case 4:
			ops = fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p%d"},"uuid-name":"p"},`+
				`{"op":"mutate","table":"Logical_Switch","where":[["name","==",%q]],"mutations":[["ports","insert",["named-uuid","p"]]]},`+
				`{"op":"select","table":"Logical_Switch","where":[["name","==",%q]],"columns":["_uuid","name","ports"]}]`, i, name(), name())
		case 5:
			// Touched rows and the index together: rename, then look up
			// both names in the same transaction.
			a, b := name(), name()
			ops = fmt.Sprintf(`[{"op":"update","table":"Logical_Switch","where":[["name","==",%q]],"row":{"name":%q}},`+
				`{"op":"select","table":"Logical_Switch","where":[["name","==",%q]],"columns":["_uuid"]},`+
				`{"op":"select","table":"Logical_Switch","where":[["name","==",%q]],"columns":["_uuid"]},`+
				`{"op":"insert","table":"Logical_Switch","row":{"name":%q}},`+
				`{"op":"select","table":"Logical_Switch","where":[["name","==",%q],["name","!=",""]]}]`, a, b, a, b, a, a)
		}
		var sd [16]byte
		sd[0], sd[1] = byte(i), byte(i>>8)
		ri := indexed.Execute(Txn{Ops: json.RawMessage(ops), Seed: sd})
		rp := plain.Execute(Txn{Ops: json.RawMessage(ops), Seed: sd})
		if ri.Changes != nil {
			changed++
		}
		if string(ri.Reply) != string(rp.Reply) {
			t.Fatalf("transaction %d: %s\nindexed: %s\nplain:   %s", i, ops, ri.Reply, rp.Reply)
		}
		indexed.Commit(ri.Changes)
		plain.Commit(rp.Changes)
	}
	if indexed.tables["Logical_Switch"].eq == nil {
		t.Fatal("no equality index was built")
	}
	if changed < 300 {
		t.Fatalf("only %d of 600 transactions changed anything", changed)
	}
	if n := indexed.Len("Logical_Switch"); n < 20 {
		t.Fatalf("only %d switches left: the test exercises too little", n)
	}
	indexed.tables["Logical_Switch"].checkEqIndexes()
	dump := `[{"op":"select","table":"Logical_Switch","where":[]},{"op":"select","table":"Logical_Switch_Port","where":[]}]`
	if a, b := indexed.Execute(Txn{Ops: json.RawMessage(dump)}).Reply, plain.Execute(Txn{Ops: json.RawMessage(dump)}).Reply; string(a) != string(b) {
		t.Fatalf("contents differ\nindexed: %s\nplain:   %s", a, b)
	}
}
