package ovsdb

import "encoding/json"

// monitorColumns resolves a monitor's column list. nil means what
// ovsdb-server monitors when a request names no columns: every schema
// column and _version (not _uuid, which is the row's key).
func monitorColumns(t *TableSchema, columns []string) []*ColumnSchema {
	if columns == nil {
		return t.ordered
	}
	out := make([]*ColumnSchema, 0, len(columns))
	for _, n := range columns {
		if c, ok := t.Column(n); ok && c != uuidColumn {
			out = append(out, c)
		}
	}
	return out
}

// ColumnsChanged returns the names of the columns (of columns; nil means
// all schema columns and _version) whose values differ between old and new.
func ColumnsChanged(t *TableSchema, old, new Row, columns []string) []string {
	var out []string
	for _, c := range monitorColumns(t, columns) {
		if !old[c.Index].Equal(new[c.Index]) {
			out = append(out, c.Name)
		}
	}
	return out
}

// Update2Modify returns the "modify" <row> of an update2 notification
// (ovsdb-server(7) §4.1.14): only the changed columns among columns (nil =
// all schema columns and _version), a column of at most one value as its
// new value, a set as the symmetric
// difference, a map as the pairs added, removed or changed (with the new
// value). It returns false when none of those columns changed.
func Update2Modify(t *TableSchema, old, new Row, columns []string) (json.RawMessage, bool) {
	var b []byte
	n := 0
	for _, c := range monitorColumns(t, columns) {
		o, nw := old[c.Index], new[c.Index]
		if o.Equal(nw) {
			continue
		}
		if n == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, c.Name)
		b = append(b, ':')
		if c.Type.Value == nil && c.Type.Max == 1 {
			// At most one value (scalar or optional): the new value, as
			// ovsdb-server sends it.
			b = appendDatumJSON(b, &c.Type, nw)
			continue
		}
		b = appendDatumJSON(b, &c.Type, datumDiff(o, nw))
	}
	if n == 0 {
		return nil, false
	}
	return append(b, '}'), true
}

// datumDiff is the update2 difference of two sets or maps.
func datumDiff(a, b Datum) Datum {
	isMap := a.Values != nil || b.Values != nil
	out := Datum{}
	if isMap {
		out.Values = []Atom{}
	}
	i, j := 0, 0
	for i < len(a.Keys) || j < len(b.Keys) {
		var c int
		switch {
		case i == len(a.Keys):
			c = 1
		case j == len(b.Keys):
			c = -1
		default:
			c = compareAtoms(a.Keys[i], b.Keys[j])
		}
		switch {
		case c < 0:
			out.Keys = append(out.Keys, a.Keys[i])
			if isMap {
				out.Values = append(out.Values, a.Values[i])
			}
			i++
		case c > 0:
			out.Keys = append(out.Keys, b.Keys[j])
			if isMap {
				out.Values = append(out.Values, b.Values[j])
			}
			j++
		default:
			if isMap && !atomsEqual(a.Values[i], b.Values[j]) {
				out.Keys = append(out.Keys, b.Keys[j])
				out.Values = append(out.Values, b.Values[j])
			}
			i++
			j++
		}
	}
	return out
}

// ApplyUpdate2Diff applies a datumDiff-style difference to d, as a client
// does; it is the inverse of the "modify" encoding and is exported for
// tests of monitor implementations.
func ApplyUpdate2Diff(c *ColumnSchema, d, diff Datum) Datum {
	if c.Type.Value == nil && c.Type.Max == 1 {
		return diff
	}
	out := Datum{}
	isMap := c.Type.Value != nil
	if isMap {
		out.Values = []Atom{}
	}
	i, j := 0, 0
	for i < len(d.Keys) || j < len(diff.Keys) {
		var cmp int
		switch {
		case i == len(d.Keys):
			cmp = 1
		case j == len(diff.Keys):
			cmp = -1
		default:
			cmp = compareAtoms(d.Keys[i], diff.Keys[j])
		}
		switch {
		case cmp < 0:
			out.Keys = append(out.Keys, d.Keys[i])
			if isMap {
				out.Values = append(out.Values, d.Values[i])
			}
			i++
		case cmp > 0:
			out.Keys = append(out.Keys, diff.Keys[j])
			if isMap {
				out.Values = append(out.Values, diff.Values[j])
			}
			j++
		default:
			if isMap && !atomsEqual(d.Values[i], diff.Values[j]) {
				out.Keys = append(out.Keys, diff.Keys[j])
				out.Values = append(out.Values, diff.Values[j])
			}
			i++
			j++
		}
	}
	return out
}

// InsertRowJSON encodes the <row> of an update2 "initial" or "insert"
// (and of an update "new" row when omitDefaults is false): the selected
// columns (nil = all schema columns and _version), without _uuid, and, when
// omitDefaults, without columns at their default value.
func InsertRowJSON(t *TableSchema, r Row, columns []string, omitDefaults bool) json.RawMessage {
	b := []byte{'{'}
	n := 0
	for _, c := range monitorColumns(t, columns) {
		d := r[c.Index]
		if omitDefaults && c.Index != 0 && d.Equal(c.def) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, c.Name)
		b = append(b, ':')
		b = appendDatumJSON(b, &c.Type, d)
	}
	return append(b, '}')
}
