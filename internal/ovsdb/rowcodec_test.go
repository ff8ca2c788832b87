package ovsdb

import (
	"encoding/json"
	"math/rand"
	"testing"

	"hcnet/schema"
)

// checkStoredRows requires every row of db to survive AppendStoredRowJSON
// and ParseRow unchanged, _version included, in no more bytes than RowJSON.
func checkStoredRows(t *testing.T, db *Database) {
	t.Helper()
	for _, ts := range db.Schema().tableList {
		db.Rows(ts.Name, func(u UUID, r Row) bool {
			stored := AppendStoredRowJSON(nil, ts, r)
			back, err := ParseRow(ts, stored)
			if err != nil {
				t.Fatalf("%s row %s: ParseRow(%s): %v", ts.Name, u, stored, err)
			}
			if back.Version() != r.Version() || !rowsEqual(back, r) {
				t.Fatalf("%s row %s changed in storage:\nrow    %s\nstored %s\nback   %s", ts.Name, u, RowJSON(ts, u, r, nil), stored, RowJSON(ts, u, back, nil))
			}
			if full := RowJSON(ts, u, r, nil); len(stored) > len(full) {
				t.Fatalf("%s row %s: stored form %d bytes, RowJSON %d", ts.Name, u, len(stored), len(full))
			}
			return true
		})
	}
}

func TestStoredRowRoundTrip(t *testing.T) {
	t.Run("random test schema", func(t *testing.T) {
		db := testDB(t)
		g := &txnGen{r: rand.New(rand.NewSource(7))}
		for i := 0; i < 200; i++ {
			var sd [16]byte
			sd[0], sd[1] = byte(i), byte(i>>8)
			db.Commit(db.Execute(Txn{Ops: json.RawMessage(g.txn()), Seed: sd}).Changes)
			if i%20 == 19 {
				checkStoredRows(t, db)
			}
		}
	})
	t.Run("northbound", func(t *testing.T) {
		s, err := ParseSchema(schema.Northbound)
		if err != nil {
			t.Fatal(err)
		}
		db := NewDatabase(s)
		for _, ops := range []string{batchOps("sw", 20), workloadOps("sw", 1), `[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"","tag_request":0,"enabled":false,"up":true,"type":"router","options":["map",[["k",""]]]},"uuid-name":"p"},` +
			`{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw"]],"mutations":[["ports","insert",["named-uuid","p"]]]},` +
			`{"op":"insert","table":"ACL","row":{"priority":0,"direction":"from-lport","match":"","action":"drop","severity":"alert"}},` +
			`{"op":"insert","table":"Load_Balancer","row":{"name":"lb","vips":["map",[["10.0.0.1:80","10.0.0.2:80"]]],"protocol":"tcp"}}]`} {
			if r := run(t, db, ops); r.Changes == nil {
				t.Fatalf("transaction failed: %s", r.Reply)
			}
		}
		if n := db.Len("Logical_Switch_Port"); n != 121 {
			t.Fatalf("%d ports, want 121", n)
		}
		checkStoredRows(t, db)
	})
}
