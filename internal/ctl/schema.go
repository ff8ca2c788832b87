package ctl

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/ovn-org/libovsdb/ovsdb"
)

type columnSchema = ovsdb.ColumnSchema

// relaxColumn returns a copy of a column schema with its size limits
// lifted to [0, unlimited]: values given to add, remove and conditions are
// partial sets.
func relaxColumn(cs any) *columnSchema {
	c := cs.(*columnSchema)
	key, val, _, _ := colType(c)
	return makeColumn(key, val, 0, math.MaxInt)
}

// setOf is an unlimited set column of base type b.
func setOf(b *ovsdb.BaseType) *columnSchema { return makeColumn(b, nil, 0, math.MaxInt) }

func makeColumn(key, val *ovsdb.BaseType, min, max int) *columnSchema {
	ct := &ovsdb.ColumnType{Key: key, Value: val}
	// ColumnType keeps min and max unexported; build it through JSON.
	j := `{"type":{"key":` + mustJSON(key) + `,"min":` + itoa(min) + `,"max":"unlimited"`
	if val != nil {
		j += `,"value":` + mustJSON(val)
	}
	j += `}}`
	_ = max
	var out columnSchema
	if err := out.UnmarshalJSON([]byte(j)); err != nil {
		panic("ctl: build column schema: " + err.Error())
	}
	_ = ct
	return &out
}

func mustJSON(v any) string {
	b, err := jsonMarshal(v)
	if err != nil {
		panic("ctl: marshal base type: " + err.Error())
	}
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
