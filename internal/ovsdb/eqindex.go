package ovsdb

import "fmt"

// Equality indexes: the schema's indexes cover few of the columns clients
// look rows up by (ovn-nbctl finds a Logical_Switch by name for every port
// it adds), and a scan of a large table costs a cache miss or more per
// row. Once a write transaction has scanned a table of at least
// eqIndexMinRows rows for equality on a single-valued string column, Commit
// builds an in-memory index of that column and keeps it up to date, and
// later scans read their candidates from it. It changes no result: the
// candidates go through the same clauses and are sorted by UUID as before.

// eqIndexMinRows is the table size from which a scan asks for an index.
const eqIndexMinRows = 256

// eqIndex maps a column's value to the rows that hold it.
type eqIndex map[Atom]eqRows

// eqRows is the set of rows holding one value; usually there is one.
type eqRows struct {
	one  UUID
	has  bool
	more map[UUID]struct{}
}

func (s *eqRows) add(u UUID) {
	if !s.has {
		s.one, s.has = u, true
		return
	}
	if s.more == nil {
		s.more = make(map[UUID]struct{}, 1)
	}
	s.more[u] = struct{}{}
}

// remove drops u and reports whether the set is empty.
func (s *eqRows) remove(u UUID) bool {
	switch {
	case s.has && s.one == u:
		s.has = false
		for v := range s.more {
			s.one, s.has = v, true
			delete(s.more, v)
			break
		}
	default:
		delete(s.more, u)
	}
	return !s.has && len(s.more) == 0
}

func (s *eqRows) each(fn func(UUID)) {
	if s.has {
		fn(s.one)
	}
	for u := range s.more {
		fn(u)
	}
}

// eqIndexable reports whether column c can have an equality index.
func eqIndexable(c *ColumnSchema) bool {
	return c != uuidColumn && c.Index > 0 && c.Type.Value == nil && c.Type.Min == 1 && c.Type.Max == 1 && c.Type.Key.Type == TypeString
}

// eqProbe returns the index and the value a where list pins, if any of its
// equality clauses is on an indexed column; else an indexable column that
// a large table could use, as want.
func eqProbe(t *table, where []clause, minRows int) (ix eqIndex, val Atom, want *ColumnSchema) {
	for i := range where {
		c := &where[i]
		if c.fn != fnEQ || c.col == nil || !eqIndexable(c.col) || len(c.arg.Keys) != 1 {
			continue
		}
		if ix := t.eq[c.col.Index]; ix != nil {
			return ix, c.arg.Keys[0], nil
		}
		if want == nil && len(t.rows) >= minRows {
			want = c.col
		}
	}
	return nil, nil, want
}

// buildEqIndex indexes column c of t.
func (t *table) buildEqIndex(c *ColumnSchema) {
	if t.eq[c.Index] != nil {
		return
	}
	ix := make(eqIndex, len(t.rows))
	for u, r := range t.rows {
		s := ix[r[c.Index].Keys[0]]
		s.add(u)
		ix[r[c.Index].Keys[0]] = s
	}
	if t.eq == nil {
		t.eq = make(map[int]eqIndex)
	}
	t.eq[c.Index] = ix
}

// updateEqIndexes follows one committed change of a row of t.
func (t *table) updateEqIndexes(u UUID, old, new Row) {
	for col, ix := range t.eq {
		if old != nil && new != nil && sameDatum(old[col], new[col]) {
			continue
		}
		if old != nil {
			k := old[col].Keys[0]
			s := ix[k]
			if s.remove(u) {
				delete(ix, k)
			} else {
				ix[k] = s
			}
		}
		if new != nil {
			k := new[col].Keys[0]
			s := ix[k]
			s.add(u)
			ix[k] = s
		}
	}
}

// checkEqIndexes verifies that every equality index matches the rows.
func (t *table) checkEqIndexes() {
	for col, ix := range t.eq {
		n := 0
		for k, s := range ix {
			s.each(func(u UUID) {
				n++
				r := t.rows[u]
				if r == nil || r[col].Keys[0] != k {
					panic(fmt.Sprintf("ovsdb: invariant: %s equality index of column %d has row %s under %v", t.schema.Name, col, u, k))
				}
			})
		}
		if n != len(t.rows) {
			panic(fmt.Sprintf("ovsdb: invariant: %s equality index of column %d has %d rows, table %d", t.schema.Name, col, n, len(t.rows)))
		}
	}
}
