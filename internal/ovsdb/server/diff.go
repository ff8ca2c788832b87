package server

import (
	"hcnet/internal/ovsdb"
)

// Row diffs for monitor updates, built on the executor's exported row and
// datum types.

// columnsChanged returns the columns (of cols) whose values differ.
func columnsChanged(t *ovsdb.TableSchema, old, new ovsdb.Row, cols []string) []string {
	var out []string
	for _, name := range cols {
		c, ok := t.Columns[name]
		if !ok {
			continue // _uuid and _version are not compared
		}
		if !old.Get(c).Equal(new.Get(c)) {
			out = append(out, name)
		}
	}
	return out
}

// datumDiff is the update2 <diff> of one column: the new value for a column
// that holds at most one atom, the symmetric difference for a set, and for a
// map the removed pairs (with the old value) and the added or changed pairs
// (with the new value).
func datumDiff(c *ovsdb.ColumnSchema, old, new ovsdb.Datum) ovsdb.Datum {
	if c.Type.Value == nil && c.Type.Max == 1 {
		return new
	}
	var d ovsdb.Datum
	if c.Type.Value != nil {
		d.Values = []ovsdb.Atom{}
		newVal := func(k ovsdb.Atom) (ovsdb.Atom, bool) {
			for i, x := range new.Keys {
				if (ovsdb.Datum{Keys: []ovsdb.Atom{x}}).Equal(ovsdb.Datum{Keys: []ovsdb.Atom{k}}) {
					return new.Values[i], true
				}
			}
			return nil, false
		}
		for i, k := range old.Keys {
			nv, ok := newVal(k)
			switch {
			case !ok:
				d.Keys = append(d.Keys, k)
				d.Values = append(d.Values, old.Values[i])
			case !(ovsdb.Datum{Keys: []ovsdb.Atom{nv}}).Equal(ovsdb.Datum{Keys: []ovsdb.Atom{old.Values[i]}}):
				d.Keys = append(d.Keys, k)
				d.Values = append(d.Values, nv)
			}
		}
		for i, k := range new.Keys {
			if !old.Contains(k) {
				d.Keys = append(d.Keys, k)
				d.Values = append(d.Values, new.Values[i])
			}
		}
		return d
	}
	for _, k := range old.Keys {
		if !new.Contains(k) {
			d.Keys = append(d.Keys, k)
		}
	}
	for _, k := range new.Keys {
		if !old.Contains(k) {
			d.Keys = append(d.Keys, k)
		}
	}
	return d
}

// update2Modify returns the <row> of diffs for the changed columns of cols,
// and false when none changed.
func update2Modify(t *ovsdb.TableSchema, id ovsdb.UUID, old, new ovsdb.Row, cols []string) ([]byte, bool) {
	changed := columnsChanged(t, old, new, cols)
	if len(changed) == 0 {
		return nil, false
	}
	synth := make(ovsdb.Row, len(new))
	copy(synth, new)
	for _, name := range changed {
		c := t.Columns[name]
		synth[c.Index] = datumDiff(c, old.Get(c), new.Get(c))
	}
	return ovsdb.RowJSON(t, id, synth, changed), true
}
