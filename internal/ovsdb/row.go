package ovsdb

import (
	"encoding/json"
	"fmt"
)

// Row holds one row's column values, indexed by ColumnSchema.Index.
// Element 0 is _version (a one-UUID datum); the row's _uuid is not stored
// in it but is the key it is stored under. A Row stored in a Database, a
// ChangeSet or returned by Get is shared and must not be modified.
type Row []Datum

// Get returns the value of column c.
func (r Row) Get(c *ColumnSchema) Datum { return r[c.Index] }

// Version returns the row's _version.
func (r Row) Version() UUID {
	if len(r) == 0 || len(r[0].Keys) != 1 {
		return UUID{}
	}
	return r[0].Keys[0].(UUID)
}

// clone returns a shallow copy that may have columns replaced.
func (r Row) clone() Row {
	c := make(Row, len(r))
	copy(c, r)
	return c
}

// newDefaultRow returns a row with every column at its default value.
func newDefaultRow(t *TableSchema) Row {
	r := make(Row, len(t.defaults))
	copy(r, t.defaults)
	return r
}

// RowJSON encodes a row as an RFC 7047 <row> object. columns selects the
// columns (they may include _uuid and _version); nil means all of them,
// including _uuid and _version.
func RowJSON(t *TableSchema, uuid UUID, r Row, columns []string) json.RawMessage {
	return appendRowJSON(nil, t, uuid, r, columns)
}

func appendRowJSON(b []byte, t *TableSchema, uuid UUID, r Row, columns []string) []byte {
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	if columns == nil {
		sep()
		b = append(b, `"_uuid":["uuid",`...)
		b = appendUUIDString(b, uuid)
		b = append(b, "],"...)
		b = append(b, `"_version":["uuid",`...)
		b = appendUUIDString(b, r.Version())
		b = append(b, ']')
		for _, c := range t.ordered[1:] {
			b = append(b, ',')
			b = appendColumnName(b, c)
			b = append(b, ':')
			b = appendDatumJSON(b, &c.Type, r[c.Index])
		}
		return append(b, '}')
	}
	for _, name := range columns {
		sep()
		b = appendJSONString(b, name)
		b = append(b, ':')
		if name == "_uuid" {
			b = append(b, `["uuid",`...)
			b = appendUUIDString(b, uuid)
			b = append(b, ']')
			continue
		}
		c, ok := t.Column(name)
		if !ok {
			panic(fmt.Sprintf("ovsdb: RowJSON: table %s has no column %q", t.Name, name))
		}
		b = appendDatumJSON(b, &c.Type, r[c.Index])
	}
	return append(b, '}')
}

// AppendStoredRowJSON appends row r of table t in the form to keep in
// storage: a <row> object with _version and only the columns whose value
// differs from the column's default (ParseRow restores the others), so a
// typical row costs a fraction of RowJSON's bytes and time. _uuid is left
// out: storage keys rows by it.
func AppendStoredRowJSON(b []byte, t *TableSchema, r Row) []byte {
	b = append(b, `{"_version":["uuid",`...)
	b = appendUUIDString(b, r.Version())
	b = append(b, ']')
	for _, c := range t.ordered[1:] {
		d := r[c.Index]
		if isDefault(c, d) {
			continue
		}
		b = append(b, ',')
		b = appendColumnName(b, c)
		b = append(b, ':')
		b = appendDatumJSON(b, &c.Type, d)
	}
	return append(b, '}')
}

func appendColumnName(b []byte, c *ColumnSchema) []byte {
	if c.jsonName != nil {
		return append(b, c.jsonName...)
	}
	return appendJSONString(b, c.Name)
}

// isDefault reports whether d is column c's default value.
func isDefault(c *ColumnSchema, d Datum) bool {
	if c.Type.Min == 0 {
		return len(d.Keys) == 0
	}
	return sameDatum(d, c.def) || d.Equal(c.def)
}

// ParseRow decodes a <row> object (as RowJSON writes it) into a full row:
// columns it omits take their default values, _uuid is ignored and
// _version is kept when present. It is meant for trusted input such as
// storage recovery, but still validates types and constraints.
func ParseRow(t *TableSchema, data json.RawMessage) (Row, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s row: %w", t.Name, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse %s row: not a JSON object", t.Name)
	}
	r := newDefaultRow(t)
	r[0] = Datum{Keys: []Atom{UUID{}}}
	for _, name := range sortedKeys(obj) {
		cv := obj[name]
		if name == "_uuid" {
			continue
		}
		c, ok := t.Column(name)
		if !ok {
			return nil, fmt.Errorf("parse %s row: unknown column %q", t.Name, name)
		}
		d, perr := parseDatumJSON(cv, &c.Type, nil)
		if perr != nil {
			return nil, fmt.Errorf("parse %s row: column %s: %w", t.Name, name, perr)
		}
		r[c.Index] = d
	}
	return r, nil
}
