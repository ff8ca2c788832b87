package replica

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// DB is a copy of some tables of one database: table name -> row UUID ->
// row. Rows always carry their "_uuid" column.
type DB struct {
	schema *ovsdb.DatabaseSchema
	tables map[string]map[string]ovsdb.Row
	// changed holds, per table, the rows inserted, modified or deleted
	// since the last TakeChanged; nil when not tracking.
	changed map[string]map[string]struct{}
}

// New returns an empty replica of a database with the given schema.
func New(schema *ovsdb.DatabaseSchema) *DB {
	return &DB{schema: schema, tables: map[string]map[string]ovsdb.Row{}}
}

// TrackChanges makes the replica record which rows change, for
// TakeChanged. Whoever turns it on must take the record regularly.
func (db *DB) TrackChanges() {
	if db.changed == nil {
		db.changed = map[string]map[string]struct{}{}
	}
}

// TakeChanged returns the rows (table -> UUIDs) that changed since the
// previous call (or since TrackChanges), and starts a new record. A row
// in it may since have been deleted. It returns nil when not tracking.
func (db *DB) TakeChanged() map[string]map[string]struct{} {
	c := db.changed
	if c != nil {
		db.changed = map[string]map[string]struct{}{}
	}
	return c
}

func (db *DB) noteChanged(table, uuid string) {
	if db.changed == nil {
		return
	}
	c := db.changed[table]
	if c == nil {
		c = map[string]struct{}{}
		db.changed[table] = c
	}
	c[uuid] = struct{}{}
}

// Table returns the rows of a table, keyed by UUID. Callers must not
// modify it.
func (db *DB) Table(name string) map[string]ovsdb.Row { return db.tables[name] }

// Row returns one row, or nil.
func (db *DB) Row(table, uuid string) ovsdb.Row { return db.tables[table][uuid] }

// Sorted returns a table's rows in UUID order, for deterministic output.
func (db *DB) Sorted(table string) []ovsdb.Row {
	t := db.tables[table]
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([]ovsdb.Row, len(keys))
	for i, k := range keys {
		rows[i] = t[k]
	}
	return rows
}

// Clear forgets every row of a table (before a monitor's fresh initial
// state).
func (db *DB) Clear(table string) {
	for u := range db.tables[table] {
		db.noteChanged(table, u)
	}
	delete(db.tables, table)
}

// Apply applies one update notification.
func (db *DB) Apply(u ovsdb.TableUpdates2) error {
	for table, rows := range u {
		if _, ok := db.schema.Tables[table]; !ok {
			return fmt.Errorf("replica: update for unknown table %q", table)
		}
		for uuid, ru := range rows {
			if err := db.applyRow(table, uuid, ru); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyRow applies one row's update.
func (db *DB) applyRow(table, uuid string, ru *ovsdb.RowUpdate2) error {
	ts, ok := db.schema.Tables[table]
	if !ok {
		return fmt.Errorf("replica: update for unknown table %q", table)
	}
	t := db.tables[table]
	if t == nil {
		t = map[string]ovsdb.Row{}
		db.tables[table] = t
	}
	db.noteChanged(table, uuid)
	switch {
	case ru.Initial != nil:
		t[uuid] = withUUID(*ru.Initial, uuid)
	case ru.Insert != nil:
		t[uuid] = withUUID(*ru.Insert, uuid)
	case ru.Delete != nil:
		delete(t, uuid)
	case ru.Modify != nil:
		old, ok := t[uuid]
		if !ok {
			return fmt.Errorf("replica: modify of unknown row %s in %s", uuid, table)
		}
		nr, err := applyModify(&ts, old, *ru.Modify)
		if err != nil {
			return fmt.Errorf("replica: modify %s in %s: %w", uuid, table, err)
		}
		t[uuid] = nr
	default:
		// An empty update (monitor_cond with an empty delete object)
		// removes the row.
		delete(t, uuid)
	}
	return nil
}

func withUUID(r ovsdb.Row, uuid string) ovsdb.Row {
	n := make(ovsdb.Row, len(r)+1)
	for k, v := range r {
		n[k] = v
	}
	n["_uuid"] = ovsdb.UUID{GoUUID: uuid}
	return n
}

func applyModify(ts *ovsdb.TableSchema, old, diff ovsdb.Row) (ovsdb.Row, error) {
	n := make(ovsdb.Row, len(old))
	for k, v := range old {
		n[k] = v
	}
	for col, dv := range diff {
		cs, ok := ts.Columns[col]
		if !ok {
			if strings.HasPrefix(col, "_") { // _version and the like
				n[col] = dv
				continue
			}
			return nil, fmt.Errorf("unknown column %q", col)
		}
		switch {
		case cs.Type == ovsdb.TypeSet && cs.TypeObj != nil && cs.TypeObj.Max() == 1:
			// ovsdb-server(7): for a column holding at most one value
			// the difference is the new value.
			n[col] = dv
		case cs.Type == ovsdb.TypeSet:
			n[col] = toggleSet(atoms(n[col]), atoms(dv))
		case cs.Type == ovsdb.TypeMap:
			n[col] = toggleMap(mapOf(n[col]), mapOf(dv))
		default:
			n[col] = dv
		}
	}
	return n, nil
}

func atoms(v any) []any {
	switch s := v.(type) {
	case nil:
		return nil
	case ovsdb.OvsSet:
		return s.GoSet
	case *ovsdb.OvsSet:
		return s.GoSet
	default:
		return []any{v}
	}
}

func mapOf(v any) map[any]any {
	switch m := v.(type) {
	case ovsdb.OvsMap:
		return m.GoMap
	case *ovsdb.OvsMap:
		return m.GoMap
	}
	return nil
}

// toggleSet implements the set difference of a modify: elements in the
// difference are removed if present and added if absent.
func toggleSet(old, diff []any) ovsdb.OvsSet {
	out := make([]any, 0, len(old)+len(diff))
	drop := map[any]bool{}
	for _, d := range diff {
		drop[key(d)] = true
	}
	seen := map[any]bool{}
	for _, o := range old {
		k := key(o)
		seen[k] = true
		if !drop[k] {
			out = append(out, o)
		}
	}
	for _, d := range diff {
		if !seen[key(d)] {
			out = append(out, d)
		}
	}
	return ovsdb.OvsSet{GoSet: out}
}

// toggleMap implements a map difference: a key with the same value is
// removed, a new key added, a key with another value updated.
func toggleMap(old, diff map[any]any) ovsdb.OvsMap {
	out := make(map[any]any, len(old)+len(diff))
	for k, v := range old {
		out[key(k)] = v
	}
	for k, v := range diff {
		k = key(k)
		if ov, ok := out[k]; ok && key(ov) == key(v) {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return ovsdb.OvsMap{GoMap: out}
}

// key makes atoms comparable as map keys (UUIDs by value).
func key(a any) any {
	if u, ok := a.(ovsdb.UUID); ok {
		return u
	}
	return a
}

// ApplyRow applies one row update given as a kind ("initial", "insert",
// "modify", "delete") and a row (the full row, the update2 difference, or
// nothing).
func (db *DB) ApplyRow(table, uuid, kind string, row ovsdb.Row) error {
	ru := &ovsdb.RowUpdate2{}
	switch kind {
	case "initial":
		ru.Initial = &row
	case "insert":
		ru.Insert = &row
	case "modify":
		ru.Modify = &row
	case "delete":
		ru.Delete = &row
	default:
		return fmt.Errorf("replica: unknown update kind %q for %s in %s", kind, uuid, table)
	}
	return db.applyRow(table, uuid, ru)
}
