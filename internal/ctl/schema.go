package ctl

import (
	"encoding/json"
	"fmt"
	"sort"

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

// Schema is a database schema whose tables are decoded on first use: a
// command that touches two tables does not pay for decoding forty.
type Schema struct {
	Name   string
	names  []string
	raw    map[string]json.RawMessage
	parsed map[string]*ovsdb.TableSchema
	err    error
}

// ParseSchema reads a schema in the JSON form of RFC 7047 (as get_schema
// returns it).
func ParseSchema(b []byte) (*Schema, error) {
	var top struct {
		Name   string                     `json:"name"`
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	if top.Name == "" || len(top.Tables) == 0 {
		return nil, fmt.Errorf("parse schema: no name or no tables")
	}
	s := &Schema{Name: top.Name, raw: top.Tables, parsed: map[string]*ovsdb.TableSchema{}}
	for n := range top.Tables {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
	return s, nil
}

// TableNames returns the tables' names, sorted.
func (s *Schema) TableNames() []string { return s.names }

// Table returns a table's schema, or nil if there is no such table. A table
// that does not decode is reported by Err and looks empty.
func (s *Schema) Table(name string) *ovsdb.TableSchema {
	if ts, ok := s.parsed[name]; ok {
		return ts
	}
	raw, ok := s.raw[name]
	if !ok {
		return nil
	}
	ts := &ovsdb.TableSchema{}
	if err := json.Unmarshal(raw, ts); err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("schema %s: table %s: %w", s.Name, name, err)
		}
		ts = &ovsdb.TableSchema{Columns: map[string]*ovsdb.ColumnSchema{}}
	}
	s.parsed[name] = ts
	return ts
}

// Err returns the first table that failed to decode.
func (s *Schema) Err() error { return s.err }
