package ctl

import (
	"encoding/json"
	"fmt"

	"github.com/ovn-org/libovsdb/ovsdb"
)

type columnSchema = ovsdb.ColumnSchema

// relaxed returns a column schema like cs with its size limits lifted to
// [0, unlimited]: values given to add, remove and conditions are partial
// sets.
func relaxed(cs *columnSchema) *columnSchema {
	key, val, _, _ := colType(cs)
	return unlimitedColumn(key, val)
}

// setOf is an unlimited set column of base type b.
func setOf(b *ovsdb.BaseType) *columnSchema { return unlimitedColumn(b, nil) }

// unlimitedColumn builds a set (val nil) or map column with min 0 and no
// maximum. libovsdb keeps ColumnType's limits unexported, so the column is
// built through its JSON form.
func unlimitedColumn(key, val *ovsdb.BaseType) *columnSchema {
	t := map[string]any{"key": key, "min": 0, "max": "unlimited"}
	if val != nil {
		t["value"] = val
	}
	j, err := json.Marshal(map[string]any{"type": t})
	if err != nil {
		panic(fmt.Sprintf("ctl: marshal column type %v: %v", t, err))
	}
	var out columnSchema
	if err := out.UnmarshalJSON(j); err != nil {
		panic(fmt.Sprintf("ctl: build column schema %s: %v", j, err))
	}
	return &out
}
