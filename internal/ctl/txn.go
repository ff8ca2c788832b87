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
	Schema *Schema
	DBName string
	Syms   *Symbols
	tables map[string]map[UUID]*Row
	sorted map[string][]*Row // cache of Rows, dropped on insert and delete
	// Reading on demand (Attach): the source, and what was read so far.
	src         DB
	ctx         context.Context
	err         error
	tableLoaded map[string]bool
	colLoaded   map[string]map[string]bool
	// Indexes on string columns, built on first use and kept current by
	// Set and Insert (deleted rows are filtered out on lookup).
	idx map[indexKey]map[string]map[*Row]struct{}
	// Before a column is read in full, FindByString asks the server for
	// the rows with one value (points: the UUIDs it answered) and adds the
	// rows whose value this transaction set (touched) or inserted.
	points     map[pointKey][]UUID
	pointCount map[indexKey]int
	touched    map[indexKey]map[*Row]struct{}
	inserts    []*Row
	extra      []ovsdb.Operation
	newUUID    func() UUID
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
func NewTxn(schema *Schema, newUUID func() UUID) *Txn {
	if newUUID == nil {
		newUUID = RandomUUID
	}
	t := &Txn{Schema: schema, DBName: schema.Name, tables: map[string]map[UUID]*Row{}, sorted: map[string][]*Row{}, newUUID: newUUID,
		tableLoaded: map[string]bool{}, colLoaded: map[string]map[string]bool{},
		idx: map[indexKey]map[string]map[*Row]struct{}{}, points: map[pointKey][]UUID{}, pointCount: map[indexKey]int{},
		touched: map[indexKey]map[*Row]struct{}{}}
	t.Syms = NewSymbols(newUUID)
	return t
}

// Attach makes the copy read rows and columns from db on first use:
// a command that looks up a switch by name reads the switches' names, not
// the whole database. Reads happen in ctx; a failed read is reported by Err.
func (t *Txn) Attach(ctx context.Context, db DB) {
	t.src, t.ctx = db, ctx
}

// Err returns the first error of a read made on demand.
func (t *Txn) Err() error {
	if t.err != nil {
		return t.err
	}
	return t.Schema.Err()
}

// tab returns table's rows, creating the map on first use.
func (t *Txn) tab(table string) map[UUID]*Row {
	m := t.tables[table]
	if m == nil {
		m = map[UUID]*Row{}
		t.tables[table] = m
	}
	return m
}

// Load reads every row and column of the given tables (all tables if none)
// in one transaction.
func (t *Txn) Load(ctx context.Context, db DB, tables ...string) error {
	if len(tables) == 0 {
		tables = t.Schema.TableNames()
	}
	req := map[string][]string{}
	for _, name := range tables {
		req[name] = nil
	}
	return t.read(ctx, db, req)
}

// Prefetch reads the given columns (all if none) of table now, in one
// round trip, unless they were read already.
func (t *Txn) Prefetch(table string, cols ...string) {
	t.PrefetchTables(map[string][]string{table: cols})
}

// PrefetchTables is Prefetch for several tables in one round trip.
func (t *Txn) PrefetchTables(req map[string][]string) {
	if t.src == nil || t.err != nil {
		return
	}
	need := map[string][]string{}
	for table, cols := range req {
		ts := t.Schema.Table(table)
		if ts == nil {
			continue
		}
		if len(cols) == 0 {
			cols = sortedKeys(ts.Columns)
		}
		var missing []string
		for _, c := range cols {
			if !t.colLoaded[table][c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 || !t.tableLoaded[table] {
			need[table] = missing
			if len(missing) == 0 {
				need[table] = []string{}
			}
		}
	}
	if len(need) == 0 {
		return
	}
	if err := t.read(t.ctx, t.src, need); err != nil {
		t.err = err
	}
}

// read selects the given columns (nil: all) of tables and merges them into
// the copy. Values the commands already changed are kept.
func (t *Txn) read(ctx context.Context, db DB, req map[string][]string) error {
	tables := sortedKeys(req)
	ops := make([]ovsdb.Operation, 0, len(tables))
	for _, name := range tables {
		op := ovsdb.Operation{Op: ovsdb.OperationSelect, Table: name, Where: []ovsdb.Condition{}}
		if cols := req[name]; cols != nil {
			op.Columns = append([]string{"_uuid"}, cols...)
		}
		ops = append(ops, op)
	}
	res, err := db.Transact(ctx, t.DBName, ops...)
	if err != nil && len(res) == 0 {
		return fmt.Errorf("read %s: %w", t.DBName, err)
	}
	if err := resultError(res, ops); err != nil {
		return fmt.Errorf("read %s: %w", t.DBName, err)
	}
	for i, name := range tables {
		ts := t.Schema.Table(name)
		if ts == nil {
			return fmt.Errorf("read %s: no table %q in the schema", t.DBName, name)
		}
		cols := req[name]
		if cols == nil {
			cols = sortedKeys(ts.Columns)
		}
		for _, wr := range res[i].Rows {
			u, _ := wr["_uuid"].(ovsdb.UUID)
			r := t.tables[name][UUID(u.GoUUID)]
			if r == nil {
				r = &Row{UUID: UUID(u.GoUUID), Table: name, cols: map[string]Datum{}, orig: map[string]Datum{}}
				t.tab(name)[r.UUID] = r
				delete(t.sorted, name)
			}
			for col, v := range wr {
				cs := ts.Column(col)
				if cs == nil || col == "_uuid" || col == "_version" {
					continue
				}
				d, err := DatumFromWire(cs, v)
				if err != nil {
					return fmt.Errorf("read %s row column %s: %w", name, col, err)
				}
				if _, changed := r.cols[col]; !changed || r.orig == nil {
					r.cols[col] = d
				}
				if r.orig != nil {
					r.orig[col] = d
				}
			}
		}
		t.tableLoaded[name] = true
		if t.colLoaded[name] == nil {
			t.colLoaded[name] = map[string]bool{}
		}
		for _, c := range cols {
			t.colLoaded[name][c] = true
		}
	}
	return nil
}

func (t *Txn) ensureTable(table string) {
	if !t.tableLoaded[table] {
		t.PrefetchTables(map[string][]string{table: {}})
	}
}

func (t *Txn) ensureColumn(table, col string) {
	if !t.colLoaded[table][col] {
		t.Prefetch(table, col)
	}
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
	ts := t.Schema.Table(table)
	if ts == nil {
		panic(fmt.Sprintf("ctl: no table %q in schema %s", table, t.Schema.Name))
	}
	return ts
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

// Rows returns the live rows of table ordered by UUID. The slice is the
// caller's to reorder.
func (t *Txn) Rows(table string) []*Row {
	t.ensureTable(table)
	rows, ok := t.sorted[table]
	if !ok {
		m := t.tables[table]
		rows = make([]*Row, 0, len(m))
		for _, r := range m {
			if !r.deleted {
				rows = append(rows, r)
			}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].UUID < rows[j].UUID })
		t.sorted[table] = rows
	}
	return append([]*Row(nil), rows...)
}

// Each calls f for every live row of table, in no particular order, until
// f returns false.
func (t *Txn) Each(table string, f func(*Row) bool) {
	t.ensureTable(table)
	for _, r := range t.tables[table] {
		if !r.deleted && !f(r) {
			return
		}
	}
}

// Row returns the live row of table with the given UUID, or nil.
func (t *Txn) Row(table string, u UUID) *Row {
	t.ensureTable(table)
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
	if r.orig != nil && !t.colLoaded[r.Table][col] {
		t.ensureColumn(r.Table, col)
		if d, ok := r.cols[col]; ok {
			return d
		}
	}
	return DefaultDatum(t.Column(r.Table, col))
}

// Str returns a string column's value ("" if empty).
func (t *Txn) Str(r *Row, col string) string { return t.Get(r, col).Str() }

// Set replaces a column's value.
func (t *Txn) Set(r *Row, col string, d Datum) {
	t.Column(r.Table, col)
	if _, known := r.orig[col]; r.orig != nil && !known && !t.colLoaded[r.Table][col] {
		t.ensureColumn(r.Table, col) // to know whether the value changes
	}
	k := indexKey{r.Table, col}
	if ix := t.idx[k]; ix != nil {
		delete(ix[t.Get(r, col).Str()], r)
		indexAdd(ix, d.normalize().Str(), r)
	}
	if t.touched[k] == nil {
		t.touched[k] = map[*Row]struct{}{}
	}
	t.touched[k][r] = struct{}{}
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
	t.tab(table)[u] = r
	delete(t.sorted, table)
	for k, ix := range t.idx {
		if k.table == table {
			indexAdd(ix, "", r)
		}
	}
	t.inserts = append(t.inserts, r)
	return r
}

// Delete removes a row.
func (t *Txn) Delete(r *Row) {
	r.deleted = true
	delete(t.sorted, r.Table)
}

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
			var muts []ovsdb.Mutation
			for _, col := range sortedKeys(r.cols) {
				d := r.cols[col]
				cs := t.Column(table, col)
				o, ok := r.orig[col]
				if !ok && t.colLoaded[table][col] {
					o, ok = DefaultDatum(cs), true
				}
				switch {
				case ok && d.Equal(o):
				case ok && isCollection(cs):
					// Sets and maps change by difference, so that
					// concurrent additions by other clients survive.
					muts = append(muts, diffMutations(col, o, d, named)...)
				default:
					row[col] = DatumToWire(cs, d, named)
				}
			}
			if len(row) > 0 {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: table, Row: row, Where: where})
			}
			if len(muts) > 0 {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: table, Mutations: muts, Where: where})
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

type indexKey struct{ table, col string }

func indexAdd(ix map[string]map[*Row]struct{}, v string, r *Row) {
	m := ix[v]
	if m == nil {
		m = map[*Row]struct{}{}
		ix[v] = m
	}
	m[r] = struct{}{}
}

// FindByString returns the live rows of table whose string column col
// equals v, ordered by UUID, through an index built on first use.
func (t *Txn) FindByString(table, col, v string) []*Row {
	k := indexKey{table, col}
	ix := t.idx[k]
	if ix == nil && t.src != nil && !t.colLoaded[table][col] && t.pointCount[k] < maxPointLookups {
		return t.pointLookup(table, col, v)
	}
	if ix == nil {
		t.Column(table, col)
		t.Prefetch(table, col)
		ix = map[string]map[*Row]struct{}{}
		for _, r := range t.tables[table] {
			indexAdd(ix, t.Get(r, col).Str(), r)
		}
		t.idx[k] = ix
	}
	var out []*Row
	for r := range ix[v] {
		if !r.deleted {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

type pointKey struct{ table, col, v string }

// maxPointLookups is how many values of one column FindByString asks the
// server for one by one before it reads the whole column instead: a few
// commands stay cheap on a big database, a long batch reads names once.
const maxPointLookups = 16

// pointLookup answers FindByString without reading the whole column: the
// server's rows with value v, plus rows this transaction inserted or gave
// a value, filtered by their current value.
func (t *Txn) pointLookup(table, col, v string) []*Row {
	pk := pointKey{table, col, v}
	if _, ok := t.points[pk]; !ok && t.err == nil {
		op := ovsdb.Operation{Op: ovsdb.OperationSelect, Table: table, Columns: []string{"_uuid", col},
			Where: []ovsdb.Condition{{Column: col, Function: ovsdb.ConditionEqual, Value: v}}}
		res, err := t.src.Transact(t.ctx, t.DBName, op)
		if err == nil || len(res) > 0 {
			err = resultError(res, []ovsdb.Operation{op})
		}
		if err != nil {
			t.err = fmt.Errorf("read %s: %w", t.DBName, err)
			return nil
		}
		cs := t.Column(table, col)
		us := []UUID{}
		for _, wr := range res[0].Rows {
			u, _ := wr["_uuid"].(ovsdb.UUID)
			d, err := DatumFromWire(cs, wr[col])
			if err != nil {
				t.err = fmt.Errorf("read %s row column %s: %w", table, col, err)
				return nil
			}
			r := t.tables[table][UUID(u.GoUUID)]
			if r == nil {
				r = &Row{UUID: UUID(u.GoUUID), Table: table, cols: map[string]Datum{}, orig: map[string]Datum{}}
				t.tab(table)[r.UUID] = r
				delete(t.sorted, table)
			}
			if _, known := r.orig[col]; !known && r.orig != nil {
				r.orig[col] = d
				if _, set := r.cols[col]; !set {
					r.cols[col] = d
				}
			}
			us = append(us, r.UUID)
		}
		t.points[pk] = us
		t.pointCount[indexKey{table, col}]++
	}
	seen := map[*Row]bool{}
	var out []*Row
	consider := func(r *Row) {
		if r == nil || seen[r] || r.deleted {
			return
		}
		seen[r] = true
		if t.Get(r, col).Str() == v {
			out = append(out, r)
		}
	}
	for _, u := range t.points[pk] {
		consider(t.tables[table][u])
	}
	for r := range t.touched[indexKey{table, col}] {
		consider(r)
	}
	for _, r := range t.inserts {
		if r.Table == table {
			consider(r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out
}

// isCollection reports whether a column holds a set or map (not a single
// required atom).
func isCollection(cs *ovsdb.ColumnSchema) bool {
	_, val, min, max := colType(cs)
	return val != nil || min != 1 || max != 1
}

// diffMutations turns a column's change from o to d into "delete" and
// "insert" mutations (delete first: a map entry whose value changes is
// deleted by key, then inserted).
func diffMutations(col string, o, d Datum, named map[UUID]string) []ovsdb.Mutation {
	var del, ins []any
	if d.Vals == nil {
		for _, k := range o.Subtract(d).Keys {
			del = append(del, atomToWire(k, named))
		}
		for _, k := range d.Subtract(o).Keys {
			ins = append(ins, atomToWire(k, named))
		}
	} else {
		for i, k := range o.Keys {
			if v, ok := d.MapGet(k); !ok || compareAtoms(v, o.Vals[i]) != 0 {
				del = append(del, atomToWire(k, named))
			}
		}
		for i, k := range d.Keys {
			if v, ok := o.MapGet(k); !ok || compareAtoms(v, d.Vals[i]) != 0 {
				ins = append(ins, []any{atomToWire(k, named), atomToWire(d.Vals[i], named)})
			}
		}
	}
	var muts []ovsdb.Mutation
	if len(del) > 0 {
		muts = append(muts, ovsdb.Mutation{Column: col, Mutator: ovsdb.MutateOperationDelete, Value: []any{"set", del}})
	}
	if len(ins) > 0 {
		kind := "set"
		if d.Vals != nil {
			kind = "map"
		}
		muts = append(muts, ovsdb.Mutation{Column: col, Mutator: ovsdb.MutateOperationInsert, Value: []any{kind, ins}})
	}
	return muts
}
