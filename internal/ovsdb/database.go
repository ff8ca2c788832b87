package ovsdb

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Database is the in-memory state of one database. Its owner serialises
// access: Execute, Get, Rows and Len only read, so they may run
// concurrently with each other, but never with Commit or Load.
type Database struct {
	schema *Schema
	tables map[string]*table
	// eqMinRows is the table size from which scans ask for equality
	// indexes (eqIndexMinRows; tests lower it).
	eqMinRows int
	// eager makes Execute decode the operations in full, as a plain tree,
	// so tests can check the lazy decoding against it.
	eager bool
	// wanted lists the equality indexes readers asked for (RowsMatching)
	// that the next Commit builds; hasWanted says whether it is empty.
	wantMu    sync.Mutex
	wanted    []eqWant
	hasWanted atomic.Bool
}

// table holds one table's rows and the derived indexes.
type table struct {
	schema *TableSchema
	rows   map[UUID]Row
	// indexes[i] maps the encoded key of schema.indexes[i] to its row.
	indexes []map[string]UUID
	// inRefs maps a row of this table to the rows (of any table) that
	// reference it, with the number of references from each.
	inRefs map[UUID]inRefSet
	// eq holds the equality indexes built so far, by column index (see
	// eqindex.go).
	eq map[int]eqIndex
}

// inRefSet counts the references to one row by referrer. Most rows have
// a single referrer, which it holds without a map of its own.
type inRefSet struct {
	one  rowKey
	n    int32            // references from one; 0 when one is unset
	more map[rowKey]int32 // any other referrers
}

// add changes the count of references from src by delta and reports
// whether none remain from anyone.
func (s *inRefSet) add(src rowKey, delta int32) (empty bool) {
	switch {
	case s.n > 0 && s.one == src:
		s.n += delta
		if s.n <= 0 {
			s.n, s.one = 0, rowKey{}
		}
	case s.n == 0 && delta > 0 && s.more[src] == 0:
		s.one, s.n = src, delta
	default:
		if s.more == nil {
			s.more = make(map[rowKey]int32, 1)
		}
		if s.more[src] += delta; s.more[src] <= 0 {
			delete(s.more, src)
		}
	}
	return s.n == 0 && len(s.more) == 0
}

// get returns the number of references from src.
func (s *inRefSet) get(src rowKey) int32 {
	if s.n > 0 && s.one == src {
		return s.n
	}
	return s.more[src]
}

// each calls fn for every referrer.
func (s *inRefSet) each(fn func(src rowKey)) {
	if s.n > 0 {
		fn(s.one)
	}
	for src := range s.more {
		fn(src)
	}
}

// len returns the number of referrers.
func (s *inRefSet) len() int {
	n := len(s.more)
	if s.n > 0 {
		n++
	}
	return n
}

// rowKey names a row of a given table.
type rowKey struct {
	t    *TableSchema
	uuid UUID
}

// NewDatabase returns an empty database for schema s.
func NewDatabase(s *Schema) *Database {
	d := &Database{schema: s, tables: make(map[string]*table, len(s.Tables)), eqMinRows: eqIndexMinRows}
	for name, ts := range s.Tables {
		t := &table{schema: ts, rows: make(map[UUID]Row), inRefs: make(map[UUID]inRefSet)}
		for range ts.indexes {
			t.indexes = append(t.indexes, make(map[string]UUID))
		}
		d.tables[name] = t
	}
	return d
}

// Schema returns the database's schema.
func (d *Database) Schema() *Schema { return d.schema }

// Get returns a row. The row is shared: do not modify it.
func (d *Database) Get(table string, uuid UUID) (Row, bool) {
	t, ok := d.tables[table]
	if !ok {
		return nil, false
	}
	r, ok := t.rows[uuid]
	return r, ok
}

// Rows calls fn for each row of table in ascending UUID order until fn
// returns false.
func (d *Database) Rows(table string, fn func(uuid UUID, r Row) bool) {
	t, ok := d.tables[table]
	if !ok {
		return
	}
	for _, u := range sortedUUIDs(t.rows) {
		if !fn(u, t.rows[u]) {
			return
		}
	}
}

// RowsWhere calls fn, in ascending UUID order, for each row of table that
// match accepts, until fn returns false. It is Rows with a filter, but
// sorts only the rows that pass it.
func (d *Database) RowsWhere(table string, match func(uuid UUID, r Row) bool, fn func(uuid UUID, r Row) bool) {
	t, ok := d.tables[table]
	if !ok {
		return
	}
	var l []UUID
	for u, r := range t.rows {
		if match(u, r) {
			l = append(l, u)
		}
	}
	sortUUIDs(l)
	for _, u := range l {
		if !fn(u, t.rows[u]) {
			return
		}
	}
}

// Len returns the number of rows in table.
func (d *Database) Len(table string) int {
	t, ok := d.tables[table]
	if !ok {
		return 0
	}
	return len(t.rows)
}

func sortedUUIDs(m map[UUID]Row) []UUID {
	l := make([]UUID, 0, len(m))
	for u := range m {
		l = append(l, u)
	}
	sortUUIDs(l)
	return l
}

func sortUUIDs(l []UUID) {
	sort.Slice(l, func(i, j int) bool { return bytes.Compare(l[i][:], l[j][:]) < 0 })
}

// Commit applies a change set that Execute produced against the current
// state. It panics if the change set does not fit the state, since that
// means replicas diverged.
func (d *Database) Commit(cs *ChangeSet) {
	d.apply(cs)
	if invariants {
		d.checkInvariants()
	}
}

// apply is Commit without the invariant checks (Load adds rows one at a
// time, so the database is only consistent once all are loaded).
func (d *Database) apply(cs *ChangeSet) {
	if cs == nil {
		return
	}
	for _, w := range cs.wantEq {
		d.tables[w.t.Name].buildEqIndex(w.col)
	}
	d.buildWanted()
	for i := range cs.changes {
		c := &cs.changes[i]
		t := d.tables[c.table.Name]
		cur, exists := t.rows[c.uuid]
		if (c.old == nil) == exists || (exists && c.old.Version() != cur.Version()) {
			panic(fmt.Sprintf("ovsdb: commit: change to %s row %s does not fit the current state", c.table.Name, c.uuid))
		}
		if c.old != nil {
			var buf [128]byte
			for i, ix := range c.table.indexes {
				k := appendIndexKey(buf[:0], ix, c.uuid, c.old)
				if t.indexes[i][string(k)] == c.uuid {
					delete(t.indexes[i], string(k))
				}
			}
		}
		src := rowKey{c.table, c.uuid}
		d.forEachRefChange(c.table, c.uuid, c.old, c.new, c.deltas, func(target *table, u UUID, _ RefType, delta int) {
			set := target.inRefs[u]
			if set.add(src, int32(delta)) {
				delete(target.inRefs, u)
			} else {
				target.inRefs[u] = set
			}
		})
		if t.eq != nil {
			t.updateEqIndexes(c.uuid, c.old, c.new)
		}
		if c.new == nil {
			delete(t.rows, c.uuid)
			continue
		}
		t.rows[c.uuid] = c.new
		for i, ix := range c.table.indexes {
			if i < len(c.indexKeys) {
				t.indexes[i][c.indexKeys[i]] = c.uuid
			} else {
				t.indexes[i][indexKey(ix, c.uuid, c.new)] = c.uuid
			}
		}
	}
}

// isSelfRef reports whether a reference is one that ovsdb-server ignores:
// a strong reference to any row with the source row's own UUID (whatever
// its table), or a weak reference to the source row itself.
func isSelfRef(ts *TableSchema, self UUID, target *table, u UUID, kind RefType) bool {
	return u == self && (kind == RefStrong || target.schema == ts)
}

// forEachRef calls fn for every reference held by row r of table ts.
// Self-references (see isSelfRef) are skipped.
func (d *Database) forEachRef(ts *TableSchema, self UUID, r Row, fn func(target *table, u UUID, kind RefType)) {
	for _, c := range ts.refCols {
		dt := r[c.Index]
		if b := &c.Type.Key; b.refTable != nil {
			target := d.tables[b.RefTable]
			for _, k := range dt.Keys {
				if u := k.(UUID); !isSelfRef(ts, self, target, u, b.RefType) {
					fn(target, u, b.RefType)
				}
			}
		}
		if b := c.Type.Value; b != nil && b.refTable != nil {
			target := d.tables[b.RefTable]
			for _, v := range dt.Values {
				if u := v.(UUID); !isSelfRef(ts, self, target, u, b.RefType) {
					fn(target, u, b.RefType)
				}
			}
		}
	}
}

// indexKey encodes the values of an index's columns for row r.
func indexKey(cols []*ColumnSchema, uuid UUID, r Row) string {
	var buf [128]byte
	return string(appendIndexKey(buf[:0], cols, uuid, r))
}

// appendIndexKey is indexKey into b.
func appendIndexKey(b []byte, cols []*ColumnSchema, uuid UUID, r Row) []byte {
	for _, c := range cols {
		if c == uuidColumn {
			b = append(b, uuid[:]...)
			continue
		}
		b = appendDatumJSON(b, &c.Type, r[c.Index])
		b = append(b, 0)
	}
	return b
}

// Load adds a committed row as it is, for recovery from storage: no
// transaction checks run, so the caller must load a consistent set of rows
// (as a snapshot of a Database holds). The row keeps its _version; use
// ParseRow to decode stored rows. Load is much cheaper than replaying the
// rows through Execute and keeps their versions.
func (d *Database) Load(table string, uuid UUID, r Row) error {
	t, ok := d.tables[table]
	if !ok {
		return fmt.Errorf("load row %s: unknown table %q", uuid, table)
	}
	if len(r) != len(t.schema.ordered) {
		return fmt.Errorf("load %s row %s: row has %d columns, schema %d", table, uuid, len(r), len(t.schema.ordered))
	}
	if _, exists := t.rows[uuid]; exists {
		return fmt.Errorf("load %s row %s: row already exists", table, uuid)
	}
	d.apply(&ChangeSet{changes: []change{{table: t.schema, uuid: uuid, new: r}}})
	return nil
}

// sameDatum reports whether two datums share their storage (the common
// case for columns a transaction did not touch).
func sameDatum(a, b Datum) bool {
	if len(a.Keys) != len(b.Keys) || len(a.Values) != len(b.Values) {
		return false
	}
	if len(a.Keys) > 0 && &a.Keys[0] != &b.Keys[0] {
		return false
	}
	return len(a.Values) == 0 || &a.Values[0] == &b.Values[0]
}

// forEachRefChange calls fn for every reference that differs between the
// old and new versions of a row (either may be nil), with delta -1 for a
// reference removed and +1 for one added. Unchanged columns cost nothing,
// so adding one port to a switch with a thousand does not walk them all.
// deltas, when it has a non-nil entry for a set column, gives that
// column's difference directly.
func (d *Database) forEachRefChange(ts *TableSchema, self UUID, old, new Row, deltas map[int]*colDelta, fn func(target *table, u UUID, kind RefType, delta int)) {
	emit := func(target *table, u UUID, kind RefType, delta int) {
		if !isSelfRef(ts, self, target, u, kind) {
			fn(target, u, kind, delta)
		}
	}
	for _, c := range ts.refCols {
		var o, n Datum
		if old != nil {
			o = old[c.Index]
		}
		if new != nil {
			n = new[c.Index]
		}
		if old != nil && new != nil && sameDatum(o, n) {
			continue
		}
		if cd := deltas[c.Index]; cd != nil && old != nil && new != nil {
			b := &c.Type.Key
			target := d.tables[b.RefTable]
			for _, k := range cd.removed {
				emit(target, k.(UUID), b.RefType, -1)
			}
			for _, k := range cd.added {
				emit(target, k.(UUID), b.RefType, +1)
			}
			continue
		}
		if b := &c.Type.Key; b.refTable != nil {
			target := d.tables[b.RefTable]
			i, j := 0, 0
			for i < len(o.Keys) || j < len(n.Keys) {
				var cmp int
				switch {
				case i == len(o.Keys):
					cmp = 1
				case j == len(n.Keys):
					cmp = -1
				case o.Keys[i] == n.Keys[j]:
					cmp = 0 // the common case: an unchanged element
				default:
					ou, nu := o.Keys[i].(UUID), n.Keys[j].(UUID)
					cmp = bytes.Compare(ou[:], nu[:])
				}
				switch {
				case cmp < 0:
					emit(target, o.Keys[i].(UUID), b.RefType, -1)
					i++
				case cmp > 0:
					emit(target, n.Keys[j].(UUID), b.RefType, +1)
					j++
				default:
					i++
					j++
				}
			}
		}
		if b := c.Type.Value; b != nil && b.refTable != nil {
			target := d.tables[b.RefTable]
			counts := make(map[UUID]int, len(o.Values)+len(n.Values))
			var order []UUID
			for _, v := range o.Values {
				u := v.(UUID)
				if _, ok := counts[u]; !ok {
					order = append(order, u)
				}
				counts[u]--
			}
			for _, v := range n.Values {
				u := v.(UUID)
				if _, ok := counts[u]; !ok {
					order = append(order, u)
				}
				counts[u]++
			}
			for _, u := range order {
				for k := counts[u]; k < 0; k++ {
					emit(target, u, b.RefType, -1)
				}
				for k := counts[u]; k > 0; k-- {
					emit(target, u, b.RefType, +1)
				}
			}
		}
	}
}
