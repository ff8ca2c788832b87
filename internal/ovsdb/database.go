package ovsdb

import (
	"bytes"
	"fmt"
	"sort"
)

// Database is the in-memory state of one database. It is not safe for
// concurrent use: its owner serialises access.
type Database struct {
	schema *Schema
	tables map[string]*table
}

// table holds one table's rows and the derived indexes.
type table struct {
	schema *TableSchema
	rows   map[UUID]Row
	// indexes[i] maps the encoded key of schema.indexes[i] to its row.
	indexes []map[string]UUID
	// inRefs maps a row of this table to the rows (of any table) that
	// reference it, with the number of references from each.
	inRefs map[UUID]map[rowKey]int32
}

// rowKey names a row of a given table.
type rowKey struct {
	t    *TableSchema
	uuid UUID
}

// NewDatabase returns an empty database for schema s.
func NewDatabase(s *Schema) *Database {
	d := &Database{schema: s, tables: make(map[string]*table, len(s.Tables))}
	for name, ts := range s.Tables {
		t := &table{schema: ts, rows: make(map[UUID]Row), inRefs: make(map[UUID]map[rowKey]int32)}
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
	if cs == nil {
		return
	}
	for i := range cs.changes {
		c := &cs.changes[i]
		t := d.tables[c.table.Name]
		cur, exists := t.rows[c.uuid]
		if (c.old == nil) == exists || (exists && c.old.Version() != cur.Version()) {
			panic(fmt.Sprintf("ovsdb: commit: change to %s row %s does not fit the current state", c.table.Name, c.uuid))
		}
		if c.old != nil {
			for i, ix := range c.table.indexes {
				k := indexKey(ix, c.uuid, c.old)
				if t.indexes[i][k] == c.uuid {
					delete(t.indexes[i], k)
				}
			}
			d.forEachRef(c.table, c.old, func(target *table, u UUID, _ RefType) {
				src := rowKey{c.table, c.uuid}
				m := target.inRefs[u]
				if m[src]--; m[src] <= 0 {
					delete(m, src)
					if len(m) == 0 {
						delete(target.inRefs, u)
					}
				}
			})
		}
		if c.new == nil {
			delete(t.rows, c.uuid)
			continue
		}
		t.rows[c.uuid] = c.new
		for i, ix := range c.table.indexes {
			t.indexes[i][indexKey(ix, c.uuid, c.new)] = c.uuid
		}
		d.forEachRef(c.table, c.new, func(target *table, u UUID, _ RefType) {
			m := target.inRefs[u]
			if m == nil {
				m = make(map[rowKey]int32, 1)
				target.inRefs[u] = m
			}
			m[rowKey{c.table, c.uuid}]++
		})
	}
}

// forEachRef calls fn for every reference held by row r of table ts.
func (d *Database) forEachRef(ts *TableSchema, r Row, fn func(target *table, u UUID, kind RefType)) {
	for _, c := range ts.refCols {
		dt := r[c.Index]
		if b := &c.Type.Key; b.refTable != nil {
			target := d.tables[b.RefTable]
			for _, k := range dt.Keys {
				fn(target, k.(UUID), b.RefType)
			}
		}
		if b := c.Type.Value; b != nil && b.refTable != nil {
			target := d.tables[b.RefTable]
			for _, v := range dt.Values {
				fn(target, v.(UUID), b.RefType)
			}
		}
	}
}

// indexKey encodes the values of an index's columns for row r.
func indexKey(cols []*ColumnSchema, uuid UUID, r Row) string {
	var b []byte
	for _, c := range cols {
		if c == uuidColumn {
			b = append(b, uuid[:]...)
			continue
		}
		b = appendDatumJSON(b, &c.Type, r[c.Index])
		b = append(b, 0)
	}
	return string(b)
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
	d.Commit(&ChangeSet{changes: []change{{table: t.schema, uuid: uuid, new: r}}})
	return nil
}
