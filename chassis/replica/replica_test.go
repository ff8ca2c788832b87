package replica

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/schema"
)

func sbSchema(t *testing.T) *ovsdb.DatabaseSchema {
	t.Helper()
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func updates(t *testing.T, js string) ovsdb.TableUpdates2 {
	t.Helper()
	var u ovsdb.TableUpdates2
	if err := json.Unmarshal([]byte(js), &u); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return u
}

func TestApplyInsertModifyDelete(t *testing.T) {
	db := New(sbSchema(t))
	const pb = "11111111-1111-1111-1111-111111111111"
	const ch1 = "22222222-2222-2222-2222-222222222222"
	const ch2 = "33333333-3333-3333-3333-333333333333"
	steps := []struct {
		name   string
		update string
		check  func(t *testing.T, r ovsdb.Row)
	}{
		{"initial", `{"Port_Binding":{"` + pb + `":{"initial":{"logical_port":"vm1","tunnel_key":3,
			"options":["map",[["a","1"],["b","2"]]],"mac":["set",["00:00:00:00:00:01 10.0.0.1"]],"chassis":["set",[]]}}}}`,
			func(t *testing.T, r ovsdb.Row) {
				if Str(r, "logical_port") != "vm1" || Int(r, "tunnel_key") != 3 || Ref(r, "chassis") != "" || UUID(r) != pb {
					t.Fatalf("row %v", r)
				}
			}},
		{"claim: optional ref set from empty, map update/add/remove", `{"Port_Binding":{"` + pb + `":{"modify":{
			"chassis":["uuid","` + ch1 + `"],"options":["map",[["a","9"],["b","2"],["c","3"]]],"tunnel_key":4}}}}`,
			func(t *testing.T, r ovsdb.Row) {
				if Ref(r, "chassis") != ch1 || Int(r, "tunnel_key") != 4 {
					t.Fatalf("row %v", r)
				}
				if got, want := Map(r, "options"), map[string]string{"a": "9", "c": "3"}; !reflect.DeepEqual(got, want) {
					t.Fatalf("options %v want %v", got, want)
				}
			}},
		{"move to another chassis: optional column, the difference is the new value", `{"Port_Binding":{"` + pb + `":{"modify":{
			"chassis":["uuid","` + ch2 + `"],"up":true}}}}`,
			func(t *testing.T, r ovsdb.Row) {
				if up, _ := Bool(r, "up"); Ref(r, "chassis") != ch2 || !up {
					t.Fatalf("row %v", r)
				}
			}},
		{"release", `{"Port_Binding":{"` + pb + `":{"modify":{"chassis":["set",[]],"up":false,
			"mac":["set",["00:00:00:00:00:01 10.0.0.1","x"]]}}}}`,
			func(t *testing.T, r ovsdb.Row) {
				if up, set := Bool(r, "up"); up || !set || Ref(r, "chassis") != "" || !reflect.DeepEqual(Strs(r, "mac"), []string{"x"}) {
					t.Fatalf("row %v", r)
				}
			}},
		{"delete", `{"Port_Binding":{"` + pb + `":{"delete":null}}}`,
			func(t *testing.T, r ovsdb.Row) {
				if r != nil {
					t.Fatalf("row %v after delete", r)
				}
			}},
	}
	for _, s := range steps {
		if err := db.Apply(updates(t, s.update)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Run(s.name, func(t *testing.T) { s.check(t, db.Row("Port_Binding", pb)) })
	}
	if err := db.Apply(updates(t, `{"Nope":{}}`)); err == nil {
		t.Fatal("unknown table accepted")
	}
}

func TestTakeChanged(t *testing.T) {
	db := New(sbSchema(t))
	if db.TakeChanged() != nil {
		t.Fatal("changes recorded before TrackChanges")
	}
	db.TrackChanges()
	for _, u := range []struct{ uuid, kind string }{{"c1", "insert"}, {"c2", "insert"}, {"c1", "delete"}} {
		if err := db.ApplyRow("Chassis", u.uuid, u.kind, ovsdb.Row{"name": u.uuid}); err != nil {
			t.Fatal(err)
		}
	}
	got := db.TakeChanged()
	if len(got) != 1 || len(got["Chassis"]) != 2 {
		t.Fatalf("changed %v, want Chassis c1 and c2", got)
	}
	if got := db.TakeChanged(); len(got) != 0 {
		t.Fatalf("second take %v, want nothing", got)
	}
}
