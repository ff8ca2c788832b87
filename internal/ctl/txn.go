package ctl

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// Row is one row of the in-memory copy. Its columns hold the value the
// commands see, including their own edits.
type Row struct {
	UUID    UUID
	Table   string
	cols    map[string]Datum
	orig    map[string]Datum // nil for rows this transaction inserted
	deleted bool
}

// IsNew reports whether the row was inserted by this transaction.
func (r *Row) IsNew() bool { return r.orig == nil }

// Txn is an in-memory copy of a database plus the edits of the commands run
// so far; Ops turns the edits into one OVSDB transaction.
type Txn struct {
	Schema  *ovsdb.DatabaseSchema
	DBName  string
	Syms    *Symbols
	tables  map[string]map[UUID]*Row
	inserts []*Row
	extra   []ovsdb.Operation
	newUUID func() UUID
	// ClientUUIDs sends each inserted row's placeholder as its UUID (the
	// "uuid" member of insert, an ovsdb-server extension), so that tests
	// see predictable UUIDs.
	ClientUUIDs bool
}

// RandomUUID returns a random version 4 UUID.
func RandomUUID() UUID {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("ctl: random: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return UUID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// NewTxn returns an empty copy of the database described by schema.
func NewTxn(schema *ovsdb.DatabaseSchema, newUUID func() UUID) *Txn {
	if newUUID == nil {
		newUUID = RandomUUID
	}
	t := &Txn{Schema: schema, DBName: schema.Name, tables: map[string]map[UUID]*Row{}, newUUID: newUUID}
	t.Syms = NewSymbols(newUUID)
	for name := range schema.Tables {
		t.tables[name] = map[UUID]*Row{}
	}
	return t
}

// Load reads every row of the given tables (all tables if none) in one
// transaction of selects.
func (t *Txn) Load(ctx context.Context, db DB, tables ...string) error {
	if len(tables) == 0 {
		for name := range t.Schema.Tables {
			tables = append(tables, name)
		}
		sort.Strings(tables)
	}
	ops := make([]ovsdb.Operation, 0, len(tables))
	for _, name := range tables {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: name, Where: []ovsdb.Condition{}})
	}
	res, err := db.Transact(ctx, t.DBName, ops...)
	if err != nil && len(res) == 0 {
		return fmt.Errorf("read %s: %w", t.DBName, err)
	}
	if err := resultError(res, ops); err != nil {
		return fmt.Errorf("read %s: %w", t.DBName, err)
	}
	for i, name := range tables {
		ts := t.Schema.Tables[name]
		for _, wr := range res[i].Rows {
			r := &Row{Table: name, cols: map[string]Datum{}, orig: map[string]Datum{}}
			for col, v := range wr {
				if col == "_uuid" {
					if u, ok := v.(ovsdb.UUID); ok {
						r.UUID = UUID(u.GoUUID)
					}
					continue
				}
				cs := ts.Column(col)
				if cs == nil || col == "_version" {
					continue
				}
				d, err := DatumFromWire(cs, v)
				if err != nil {
					return fmt.Errorf("read %s row column %s: %w", name, col, err)
				}
				r.cols[col] = d
				r.orig[col] = d
			}
			t.tables[name][r.UUID] = r
		}
	}
	return nil
}

// resultError returns the first error in a transaction reply.
func resultError(res []ovsdb.OperationResult, ops []ovsdb.Operation) error {
	for _, r := range res {
		if r.Error != "" {
			b, _ := json.Marshal(struct {
				Details string `json:"details,omitempty"`
				Error   string `json:"error"`
			}{r.Details, r.Error})
			return fmt.Errorf("transaction error: %s", b)
		}
	}
	if len(res) < len(ops) {
		return fmt.Errorf("transaction error: %d results for %d operations", len(res), len(ops))
	}
	return nil
}

// TableSchema returns the schema of table.
func (t *Txn) TableSchema(table string) *ovsdb.TableSchema {
	ts, ok := t.Schema.Tables[table]
	if !ok {
		panic(fmt.Sprintf("ctl: no table %q in schema %s", table, t.Schema.Name))
	}
	return &ts
}

// Column returns the schema of table.column; it panics if there is none,
// since command code names columns statically.
func (t *Txn) Column(table, col string) *ovsdb.ColumnSchema {
	c := t.TableSchema(table).Column(col)
	if c == nil {
		panic(fmt.Sprintf("ctl: no column %s.%s in schema %s", table, col, t.Schema.Name))
	}
	return c
}

// Rows returns the live rows of table ordered by UUID.
func (t *Txn) Rows(table string) []*Row {
	m := t.tables[table]
	out := make([]*Row, 0, len(m))
	for _, r := range m {
		if !r.deleted {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

// Row returns the live row of table with the given UUID, or nil.
func (t *Txn) Row(table string, u UUID) *Row {
	r := t.tables[table][u]
	if r == nil || r.deleted {
		return nil
	}
	return r
}

// Get returns a column's value.
func (t *Txn) Get(r *Row, col string) Datum {
	if col == "_uuid" {
		return Datum{Keys: []Atom{r.UUID}}
	}
	if d, ok := r.cols[col]; ok {
		return d
	}
	return DefaultDatum(t.Column(r.Table, col))
}

// Str returns a string column's value ("" if empty).
func (t *Txn) Str(r *Row, col string) string { return t.Get(r, col).Str() }

// Set replaces a column's value.
func (t *Txn) Set(r *Row, col string, d Datum) {
	t.Column(r.Table, col)
	r.cols[col] = d.normalize()
}

// SetStr sets a string column.
func (t *Txn) SetStr(r *Row, col, s string) { t.Set(r, col, StrSet(s)) }

// AddTo adds elements to a set or map column (ovs "add" semantics).
func (t *Txn) AddTo(r *Row, col string, d Datum) { t.Set(r, col, t.Get(r, col).Union(d)) }

// RemoveFrom removes elements from a set or map column.
func (t *Txn) RemoveFrom(r *Row, col string, d Datum) { t.Set(r, col, t.Get(r, col).Subtract(d)) }

// SetMapKey sets one key of a string map column.
func (t *Txn) SetMapKey(r *Row, col, key, val string) {
	d := t.Get(r, col).Subtract(Datum{Keys: []Atom{key}})
	d.Keys = append(d.Keys, key)
	d.Vals = append(d.Vals, val)
	t.Set(r, col, d)
}

// Insert adds a new row to table. A zero u gets a fresh placeholder.
func (t *Txn) Insert(table string, u UUID) *Row {
	t.TableSchema(table)
	if u == "" {
		u = t.newUUID()
	}
	r := &Row{UUID: u, Table: table, cols: map[string]Datum{}}
	t.tables[table][u] = r
	t.inserts = append(t.inserts, r)
	return r
}

// Delete removes a row.
func (t *Txn) Delete(r *Row) { r.deleted = true }

// AddOp appends an operation that runs after the generated ones.
func (t *Txn) AddOp(op ovsdb.Operation) int {
	t.extra = append(t.extra, op)
	return len(t.extra) - 1
}

// Ops returns the transaction's operations, the uuid-name of every inserted
// row, and the index of the first extra operation.
func (t *Txn) Ops() ([]ovsdb.Operation, map[UUID]string, int) {
	named := map[UUID]string{}
	for _, r := range t.inserts {
		if !r.deleted && !t.ClientUUIDs {
			named[r.UUID] = "row" + strings.ReplaceAll(string(r.UUID), "-", "_")
		}
	}
	var ops []ovsdb.Operation
	for _, r := range t.inserts {
		if r.deleted {
			continue
		}
		row := ovsdb.Row{}
		for _, col := range sortedKeys(r.cols) {
			row[col] = DatumToWire(t.Column(r.Table, col), r.cols[col], named)
		}
		if len(row) == 0 {
			// An empty "row" member would be dropped from the JSON, and
			// servers require it: spell out one column's default.
			cols := sortedKeys(t.TableSchema(r.Table).Columns)
			cs := t.Column(r.Table, cols[0])
			row[cols[0]] = DatumToWire(cs, DefaultDatum(cs), named)
		}
		op := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: r.Table, Row: row, UUIDName: named[r.UUID]}
		if t.ClientUUIDs {
			op.UUID = string(r.UUID)
		}
		ops = append(ops, op)
	}
	tables := sortedKeys(t.tables)
	for _, table := range tables {
		for _, r := range t.sortedRows(table) {
			if r.orig == nil {
				continue
			}
			where := []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: string(r.UUID)}}}
			if r.deleted {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: table, Where: where})
				continue
			}
			row := ovsdb.Row{}
			for _, col := range sortedKeys(r.cols) {
				d := r.cols[col]
				o, ok := r.orig[col]
				if !ok {
					o = DefaultDatum(t.Column(table, col))
				}
				if !d.Equal(o) {
					row[col] = DatumToWire(t.Column(table, col), d, named)
				}
			}
			if len(row) > 0 {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: table, Row: row, Where: where})
			}
		}
	}
	first := len(ops)
	ops = append(ops, t.extra...)
	return ops, named, first
}

func (t *Txn) sortedRows(table string) []*Row {
	m := t.tables[table]
	out := make([]*Row, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

// Commit sends the edits as one transaction. It returns the real UUID of
// every inserted row keyed by its placeholder, and the results of the extra
// operations.
func (t *Txn) Commit(ctx context.Context, db DB) (map[UUID]UUID, []ovsdb.OperationResult, error) {
	ops, named, first := t.Ops()
	if len(ops) == 0 {
		return map[UUID]UUID{}, nil, nil
	}
	res, err := db.Transact(ctx, t.DBName, ops...)
	if err != nil && len(res) == 0 {
		return nil, nil, err
	}
	if err := resultError(res, ops); err != nil {
		return nil, nil, err
	}
	real := map[UUID]UUID{}
	i := 0
	for _, r := range t.inserts {
		if r.deleted {
			continue
		}
		if _, ok := named[r.UUID]; ok {
			real[r.UUID] = UUID(res[i].UUID.GoUUID)
		}
		if t.ClientUUIDs {
			real[r.UUID] = r.UUID
		}
		i++
	}
	return real, res[first:len(ops)], nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
