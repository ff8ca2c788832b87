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
//
// Monitors ask too (Database.RowsMatching): a chassis's conditions name
// its datapaths (Port_Binding.datapath, Logical_Flow.logical_datapath and
// logical_dp_group, all optional or single UUIDs), and an initial reply or
// a condition change that reads its rows from the index visits those rows
// only, not every flow of every datapath. Columns with at most one value
// (string or UUID) are indexable; a row without a value is not indexed,
// since no "==" with one atom matches it.

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
	return c != uuidColumn && c.Index > 0 && c.Type.Value == nil && c.Type.Max == 1 &&
		(c.Type.Key.Type == TypeString || c.Type.Key.Type == TypeUUID)
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
		if len(r[c.Index].Keys) == 0 {
			continue
		}
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
		if old != nil && len(old[col].Keys) > 0 {
			k := old[col].Keys[0]
			s := ix[k]
			if s.remove(u) {
				delete(ix, k)
			} else {
				ix[k] = s
			}
		}
		if new != nil && len(new[col].Keys) > 0 {
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
		valued := 0
		for _, r := range t.rows {
			if len(r[col].Keys) > 0 {
				valued++
			}
		}
		if n != valued {
			panic(fmt.Sprintf("ovsdb: invariant: %s equality index of column %d has %d rows, table %d with a value", t.schema.Name, col, n, valued))
		}
	}
}

// RowsMatching calls fn, in ascending UUID order, for each row of table
// that any of conds matches (a nil or empty Conditions matches every row),
// until fn returns false. When every clause of every condition is false or
// an "==" of one atom on an indexed column, it visits only the rows the
// indexes give for those atoms; otherwise it scans the table, and if an
// index of the columns it lacks would have spared the scan of a table of
// at least eqIndexMinRows rows, the next Commit builds it.
func (d *Database) RowsMatching(table string, fn func(uuid UUID, r Row) bool, conds ...*Conditions) {
	t, ok := d.tables[table]
	if !ok {
		return
	}
	matchAny := func(u UUID, r Row) bool {
		for _, c := range conds {
			if c == nil || c.Match(u, r) {
				return true
			}
		}
		return false
	}
	var cand []UUID
	var want []*ColumnSchema
	covered := true
	for _, c := range conds {
		if c == nil || !c.set {
			covered, want = false, nil
			break
		}
		for i := range c.clauses {
			cl := &c.clauses[i]
			if cl.fn == fnFalse {
				continue
			}
			if cl.fn != fnEQ || !eqIndexable(cl.col) || len(cl.arg.Keys) != 1 {
				covered, want = false, nil
				break
			}
			ix := t.eq[cl.col.Index]
			if ix == nil {
				covered = false
				if len(t.rows) >= d.eqMinRows {
					want = append(want, cl.col)
				}
				continue
			}
			if covered {
				s := ix[cl.arg.Keys[0]]
				s.each(func(u UUID) { cand = append(cand, u) })
			}
		}
		if !covered && want == nil {
			break
		}
	}
	if !covered {
		for _, col := range want {
			d.wantIndex(t.schema, col)
		}
		d.RowsWhere(table, matchAny, fn)
		return
	}
	sortUUIDs(cand)
	for i, u := range cand {
		if i > 0 && cand[i-1] == u {
			continue
		}
		if r := t.rows[u]; matchAny(u, r) {
			if !fn(u, r) {
				return
			}
		}
	}
}

// wantIndex asks the next Commit to index column col of table ts (readers
// may call it concurrently).
func (d *Database) wantIndex(ts *TableSchema, col *ColumnSchema) {
	d.wantMu.Lock()
	defer d.wantMu.Unlock()
	for _, w := range d.wanted {
		if w.t == ts && w.col == col {
			return
		}
	}
	d.wanted = append(d.wanted, eqWant{ts, col})
	d.hasWanted.Store(true)
}

// buildWanted builds the indexes readers asked for; Commit calls it.
func (d *Database) buildWanted() {
	if !d.hasWanted.Load() {
		return
	}
	d.wantMu.Lock()
	w := d.wanted
	d.wanted = nil
	d.hasWanted.Store(false)
	d.wantMu.Unlock()
	for _, x := range w {
		d.tables[x.t.Name].buildEqIndex(x.col)
	}
}
