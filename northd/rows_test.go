package northd

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

func column(t *testing.T, js string) *ovsdb.ColumnSchema {
	t.Helper()
	var cs ovsdb.ColumnSchema
	if err := json.Unmarshal([]byte(js), &cs); err != nil {
		t.Fatal(err)
	}
	return &cs
}

// TestApplyDiff pins how update2 "modify" diffs are applied, as a real
// ovsdb-server sends them: a column holding at most one value carries its
// new value (Logical_Switch_Port.up flipping from true to false arrives as
// false, not as the set {true, false}); larger sets carry the symmetric
// difference; maps carry changed pairs.
func TestApplyDiff(t *testing.T) {
	optional := column(t, `{"type":{"key":"boolean","min":0,"max":1}}`)
	set := column(t, `{"type":{"key":"string","min":0,"max":"unlimited"}}`)
	strmap := column(t, `{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}}`)
	empty := ovsdb.OvsSet{GoSet: []any{}}
	cases := []struct {
		name             string
		cs               *ovsdb.ColumnSchema
		old, diff, wants any
	}{
		{"optional true to false", optional, true, false, false},
		{"optional false to empty", optional, false, empty, empty},
		{"optional empty to true", optional, empty, true, true},
		{"set gains and loses", set, ovsdb.OvsSet{GoSet: []any{"a", "b"}}, ovsdb.OvsSet{GoSet: []any{"b", "c"}}, ovsdb.OvsSet{GoSet: []any{"a", "c"}}},
		{"map changes, adds and removes", strmap,
			ovsdb.OvsMap{GoMap: map[any]any{"k": "v", "gone": "x"}},
			ovsdb.OvsMap{GoMap: map[any]any{"k": "w", "gone": "x", "new": "n"}},
			ovsdb.OvsMap{GoMap: map[any]any{"k": "w", "new": "n"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := applyDiff(c.cs, c.old, c.diff)
			if !reflect.DeepEqual(got, c.wants) {
				t.Fatalf("applyDiff(%v, %v) = %#v, want %#v", c.old, c.diff, got, c.wants)
			}
		})
	}
}
