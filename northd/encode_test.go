package northd

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// TestEncodeOpsMatchesLibovsdb: the hand-written encoder yields the same
// JSON values as libovsdb's marshalling for every kind of operation and
// value the writer produces.
func TestEncodeOpsMatchesLibovsdb(t *testing.T) {
	lock := "ovn_northd"
	u := "6a1c4d4e-0f0e-4b8e-9a52-2f9f3f3b1a10"
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationAssert, Lock: &lock},
		{Op: ovsdb.OperationInsert, Table: "Logical_Flow", UUIDName: "lf1", Row: ovsdb.Row{
			"logical_datapath": optRef("dp1"), "logical_dp_group": optRef(""),
			"pipeline": "ingress", "table_id": 3, "priority": 100,
			"match":        `inport == "a\"b" && eth.src == {00:00:00:00:00:01} && ip4.dst == 10.0.0.1 && tab\there <&> é \x01`,
			"actions":      "next;",
			"external_ids": omap(map[string]string{"stage-name": "ls_in_acl", "b": "2", "a": "1"}),
		}},
		{Op: ovsdb.OperationInsert, Table: "Logical_DP_Group", UUIDName: "g", Row: ovsdb.Row{
			"datapaths": set([]ovsdb.UUID{uuidRef(u), uuidRef("dp2")})}},
		{Op: ovsdb.OperationUpdate, Table: "Port_Binding", Where: byUUID(u), Row: ovsdb.Row{
			"tag": optInt(0), "parent_port": optStr("p"), "mac": set([]string{"a", "b"}), "up": true}},
		{Op: ovsdb.OperationMutate, Table: "Logical_DP_Group", Where: byUUID(u), Mutations: []ovsdb.Mutation{
			{Column: "datapaths", Mutator: ovsdb.MutateOperationInsert, Value: set([]ovsdb.UUID{uuidRef("dp3")})},
			{Column: "datapaths", Mutator: ovsdb.MutateOperationDelete, Value: set([]ovsdb.UUID{uuidRef(u), uuidRef(u)})}}},
		{Op: ovsdb.OperationDelete, Table: "DNS", Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionNotEqual, Value: uuidRef(u)}}},
	}
	raw, err := encodeOps(ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range ops {
		want, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(raw[i], &a); err != nil {
			t.Fatalf("op %d: our JSON %s: %v", i, raw[i], err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		// libovsdb leaves maps in Go's random order; compare as values
		// with map pairs sorted.
		if !reflect.DeepEqual(normalize(a), normalize(b)) {
			t.Errorf("op %d:\nours     %s\nlibovsdb %s", i, raw[i], want)
		}
	}
}

// normalize sorts the pairs of ["map", ...] values.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		if len(x) == 2 && x[0] == "map" {
			pairs, _ := x[1].([]any)
			m := map[string]any{}
			for _, p := range pairs {
				kv := p.([]any)
				m[kv[0].(string)] = kv[1]
			}
			return []any{"map", m}
		}
	}
	return v
}

// TestDecodeResults reads inserts' UUIDs, counts, errors and the nulls of
// operations not executed.
func TestDecodeResults(t *testing.T) {
	u := "6a1c4d4e-0f0e-4b8e-9a52-2f9f3f3b1a10"
	got, err := decodeResults(json.RawMessage(`[{},{"uuid":["uuid","` + u + `"]},{"count":3},{"error":"constraint violation","details":"x"},null]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []ovsdb.OperationResult{{}, {UUID: ovsdb.UUID{GoUUID: u}}, {Count: 3}, {Error: "constraint violation", Details: "x"}, {}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
