package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Txn is a transaction with everything Execute needs to be deterministic
// on every replica.
type Txn struct {
	// Ops is the transact params after the database name: a JSON array of
	// operations (RFC 7047 §5.2).
	Ops json.RawMessage
	// Seed determines the UUIDs of new rows and the new _version of changed
	// rows. An insert's "uuid" member (ovsdb-server extension) overrides.
	Seed [16]byte
	// WaitExpired makes a "wait" that does not hold fail with "timed out";
	// otherwise a wait with a non-zero timeout blocks the transaction.
	WaitExpired bool
	// Locks holds the names of the locks the session owns (for "assert").
	Locks map[string]bool
}

// Result is the outcome of Execute.
type Result struct {
	// Reply is the transact result array as sent to the client: one element
	// per operation (an error object in place of the failing one and null
	// after it), plus a trailing error object for commit-time failures.
	Reply json.RawMessage
	// Changes is nil when nothing changes.
	Changes *ChangeSet
	// Blocked is set when a "wait" does not hold yet; Reply is then nil and
	// the caller retries later (or with WaitExpired once it times out).
	Blocked bool
	// Durable is set when a "commit" operation asked for durability.
	Durable bool
}

type txRow struct {
	t        *table
	uuid     UUID
	old, new Row  // old nil: inserted by this transaction; new nil: deleted
	owned    bool // new is private to the transaction and may be edited
	// changed marks the rows the operations changed (see finalize).
	changed bool
	// indexKeys caches new's index keys, computed by finalize's index check.
	indexKeys []string
	// deltas records, for reference set columns changed only by insert
	// and delete mutations, the keys added and removed relative to old, so
	// that reference bookkeeping need not compare whole sets. A nil entry
	// means the column changed in some other way.
	deltas map[int]*colDelta
}

// colDelta is how a set column differs from its committed value.
type colDelta struct {
	added, removed []Atom
}

// forget drops the delta of column idx after a change it cannot describe.
func (tr *txRow) forget(idx int) {
	if tr.deltas != nil {
		if _, ok := tr.deltas[idx]; ok {
			tr.deltas[idx] = nil
			return
		}
	}
	if tr.old != nil {
		if tr.deltas == nil {
			tr.deltas = make(map[int]*colDelta)
		}
		tr.deltas[idx] = nil
	}
}

// noteMutation updates column c's delta for an insert or delete mutation
// that turned cur into next.
func (tr *txRow) noteMutation(c *ColumnSchema, op mutator, arg, cur Datum) {
	if tr.old == nil {
		return
	}
	d, ok := tr.deltas[c.Index]
	if !ok {
		if !sameDatum(tr.old[c.Index], cur) {
			tr.forget(c.Index)
			return
		}
		d = &colDelta{}
		if tr.deltas == nil {
			tr.deltas = make(map[int]*colDelta)
		}
		tr.deltas[c.Index] = d
	}
	if d == nil {
		return
	}
	remove := func(l []Atom, k Atom) ([]Atom, bool) {
		for i, e := range l {
			if e == k {
				return append(l[:i:i], l[i+1:]...), true
			}
		}
		return l, false
	}
	for _, k := range arg.Keys {
		var found bool
		switch {
		case op == mutInsert && !cur.Contains(k):
			if d.removed, found = remove(d.removed, k); !found {
				d.added = append(d.added, k)
			}
		case op == mutDelete && cur.Contains(k):
			if d.added, found = remove(d.added, k); !found {
				d.removed = append(d.removed, k)
			}
		}
	}
}

type symbol struct {
	uuid    UUID
	created bool
}

// slabSize is the length of a slab: the first of its kind holds one
// element per operation (a small transaction allocates little), later
// ones 64.
func (x *txState) slabSize(first bool) int {
	if first {
		return max(x.slab, 1)
	}
	return 64
}

// newVersion returns a _version datum with the next UUID. The one-atom
// key slices come from a slab that the transaction's rows share.
func (x *txState) newVersion() Datum {
	if len(x.atomSlab) == 0 {
		x.atomSlab = make([]Atom, x.slabSize(x.atomSlab == nil))
	}
	k := x.atomSlab[:1:1]
	x.atomSlab = x.atomSlab[1:]
	k[0] = x.gen.next()
	return Datum{Keys: k}
}

// newSymbol returns a copy of s from a slab.
func (x *txState) newSymbol(s symbol) *symbol {
	if len(x.symSlab) == 0 {
		x.symSlab = make([]symbol, x.slabSize(x.symSlab == nil))
	}
	p := &x.symSlab[0]
	x.symSlab = x.symSlab[1:]
	*p = s
	return p
}

// newTxRow returns a zero txRow, from a slab: a transaction has many.
func (x *txState) newTxRow() *txRow {
	if len(x.txRowSlab) == 0 {
		x.txRowSlab = make([]txRow, x.slabSize(x.txRowSlab == nil))
	}
	tr := &x.txRowSlab[0]
	x.txRowSlab = x.txRowSlab[1:]
	return tr
}

// noteWantEq asks Commit for an equality index (see eqindex.go).
func (x *txState) noteWantEq(t *TableSchema, c *ColumnSchema) {
	for _, w := range x.wantEq {
		if w.t == t && w.col == c {
			return
		}
	}
	x.wantEq = append(x.wantEq, eqWant{t, c})
}

type txState struct {
	wantEq    []eqWant
	txRowSlab []txRow
	symSlab   []symbol
	atomSlab  []Atom
	slab      int // see slabSize
	db        *Database
	gen       uuidGen
	syms      map[string]*symbol
	rows      map[rowKey]*txRow
	byTable   map[*table][]*txRow
	locks     map[string]bool
	expired   bool
	durable   bool
	blocked   bool
}

// freshUUID returns the next generated UUID that no row of t has, so that
// a seed reused by mistake cannot make an insert fail (every replica skips
// the same values, since they share the state).
func (x *txState) freshUUID(t *table) UUID {
	for {
		u := x.gen.next()
		if t.rows[u] == nil && x.rows[rowKey{t.schema, u}] == nil {
			return u
		}
	}
}

func (x *txState) resolveBytes(name []byte) UUID {
	if s, ok := x.syms[string(name)]; ok {
		return s.uuid
	}
	return x.resolve(string(name))
}

func (x *txState) resolve(name string) UUID {
	if s, ok := x.syms[name]; ok {
		return s.uuid
	}
	s := x.newSymbol(symbol{uuid: x.gen.next()})
	if x.syms == nil {
		x.syms = make(map[string]*symbol)
	}
	x.syms[name] = s
	return s.uuid
}

// Execute runs a transaction against d without modifying it.
func (d *Database) Execute(t Txn) Result {
	x := &txState{db: d, gen: uuidGen{seed: t.Seed}, byTable: make(map[*table][]*txRow), locks: t.Locks, expired: t.WaitExpired}
	// Operations decode as objects with their member values left raw:
	// rows, sets and conditions are read straight from the bytes.
	v, err := parseJSONLazy(t.Ops, d.schema.intern, 2)
	if d.eager {
		v, err = parseJSONIntern(t.Ops, d.schema.intern)
	}
	if err != nil {
		return Result{Reply: errorReply(newErr(ErrSyntax, "%v", err))}
	}
	ops, ok := asArray(v)
	if !ok {
		return Result{Reply: errorReply(syntaxErr(ErrSyntax, v, "transaction operations must be a JSON array"))}
	}
	// Most operations touch a row or two.
	x.rows = make(map[rowKey]*txRow, len(ops))
	x.slab = min(max(len(ops), 1), 64)
	reply := make([]byte, 0, 64*len(ops)+2)
	reply = append(reply, '[')
	for i, op := range ops {
		if i > 0 {
			reply = append(reply, ',')
		}
		n := len(reply)
		var oerr *Error
		reply, oerr = x.execOp(reply, op, i, len(ops))
		if x.blocked {
			return Result{Blocked: true}
		}
		if oerr != nil {
			reply = oerr.AppendJSON(reply[:n])
			for j := i + 1; j < len(ops); j++ {
				reply = append(reply, ",null"...)
			}
			reply = append(reply, ']')
			return Result{Reply: reply, Durable: x.durable}
		}
	}
	cs, cerr := x.finalize()
	if cerr != nil {
		if len(ops) > 0 {
			reply = append(reply, ',')
		}
		reply = cerr.AppendJSON(reply)
		reply = append(reply, ']')
		return Result{Reply: reply, Durable: x.durable}
	}
	reply = append(reply, ']')
	return Result{Reply: reply, Changes: cs, Durable: x.durable}
}

func errorReply(e *Error) json.RawMessage {
	b := append([]byte{'['}, e.AppendJSON(nil)...)
	return append(b, ']')
}

// --- row access through the transaction ---

func (x *txState) get(t *table, u UUID) Row {
	if tr, ok := x.rows[rowKey{t.schema, u}]; ok {
		return tr.new
	}
	return t.rows[u]
}

// touch returns the transaction row for a committed or inserted row.
func (x *txState) touch(t *table, u UUID) *txRow {
	k := rowKey{t.schema, u}
	if tr, ok := x.rows[k]; ok {
		return tr
	}
	base := t.rows[u]
	tr := x.newTxRow()
	*tr = txRow{t: t, uuid: u, old: base, new: base}
	x.rows[k] = tr
	x.byTable[t] = append(x.byTable[t], tr)
	return tr
}

// writable returns the row's new value as a private copy.
func (tr *txRow) writable() Row {
	if !tr.owned {
		tr.new = tr.new.clone()
		tr.owned = true
	}
	return tr.new
}

// scan calls fn for each row of t matching where, in ascending UUID order.
func (x *txState) scan(t *table, where []clause, fn func(u UUID, r Row) *Error) *Error {
	// Fast path: a _uuid equality pins the row.
	for i := range where {
		c := &where[i]
		if c.col == uuidColumn && c.fn == fnEQ {
			if len(c.arg.Keys) != 1 {
				return nil
			}
			u := c.arg.Keys[0].(UUID)
			r := x.get(t, u)
			if r != nil && matchAll(where, u, r) {
				return fn(u, r)
			}
			return nil
		}
	}
	var match []UUID
	touchedAny := len(x.byTable[t]) > 0
	if i, key, ok := indexProbe(t.schema, where); ok {
		// Equality on every column of an index: the committed row with
		// those values, if the transaction left it alone, and any row the
		// transaction touched are the only candidates.
		if u, ok := t.indexes[i][key]; ok {
			if _, touched := x.rows[rowKey{t.schema, u}]; !touched && matchAll(where, u, t.rows[u]) {
				match = append(match, u)
			}
		}
	} else if ix, val, want := eqProbe(t, where, x.db.eqMinRows); ix != nil {
		// Equality on an indexed column: the same candidates as below,
		// without visiting every row.
		s := ix[val]
		s.each(func(u UUID) {
			if touchedAny {
				if _, touched := x.rows[rowKey{t.schema, u}]; touched {
					return
				}
			}
			if matchAll(where, u, t.rows[u]) {
				match = append(match, u)
			}
		})
	} else {
		if want != nil {
			x.noteWantEq(t.schema, want)
		}
		for u, r := range t.rows {
			if touchedAny {
				if _, touched := x.rows[rowKey{t.schema, u}]; touched {
					continue
				}
			}
			if matchAll(where, u, r) {
				match = append(match, u)
			}
		}
	}
	for _, tr := range x.byTable[t] {
		if tr.new != nil && matchAll(where, tr.uuid, tr.new) {
			match = append(match, tr.uuid)
		}
	}
	sortUUIDs(match)
	for _, u := range match {
		if err := fn(u, x.get(t, u)); err != nil {
			return err
		}
	}
	return nil
}

// indexProbe returns the index, and its key, that where pins with an
// equality on each of its columns.
func indexProbe(ts *TableSchema, where []clause) (int, string, bool) {
	if len(ts.indexes) == 0 {
		return 0, "", false
	}
next:
	for i, ix := range ts.indexes {
		var key []byte
		for _, c := range ix {
			if c == uuidColumn {
				continue next
			}
			found := false
			for j := range where {
				if cl := &where[j]; cl.col == c && cl.fn == fnEQ {
					key = appendDatumJSON(key, &c.Type, cl.arg)
					key = append(key, 0)
					found = true
					break
				}
			}
			if !found {
				continue next
			}
		}
		return i, string(key), true
	}
	return 0, "", false
}

// --- operations ---

type opArgs struct {
	obj  *jsonObject
	i, n int
	name string
	raw  any
}

func (a *opArgs) perr(format string, args ...any) *Error {
	return syntaxErr(ErrSyntax, a.raw, "Parsing ovsdb operation %d of %d failed: %s", a.i+1, a.n, fmt.Sprintf(format, args...))
}

// check reports a member that the operation does not allow (the first by
// name, so that every replica reports the same one).
func (a *opArgs) check(allowed ...string) *Error {
	bad, found := "", false
	for _, m := range a.obj.members {
		k := m.key
		if k == "op" {
			continue
		}
		ok := false
		for _, x := range allowed {
			if x == k {
				ok = true
				break
			}
		}
		if !ok && (!found || k < bad) {
			bad, found = k, true
		}
	}
	if found {
		return a.perr("Member '%s' is present but not allowed here.", bad)
	}
	return nil
}

// val returns member k, or nil when it is missing.
func (a *opArgs) val(k string) any {
	v, _ := a.obj.get(k)
	return v
}

func (a *opArgs) required(k string) (any, *Error) {
	v, ok := a.obj.get(k)
	if !ok {
		return nil, a.perr("Required '%s' member is missing.", k)
	}
	return v, nil
}

func (a *opArgs) str(k string, required bool) (string, bool, *Error) {
	v, ok := a.obj.get(k)
	if !ok {
		if required {
			return "", false, a.perr("Required '%s' member is missing.", k)
		}
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, a.perr("Type mismatch for member '%s'.", k)
	}
	return s, true, nil
}

func (x *txState) table(a *opArgs) (*table, *Error) {
	name, _, err := a.str("table", true)
	if err != nil {
		return nil, err
	}
	t, ok := x.db.tables[name]
	if !ok {
		return nil, a.perr("No table named %s.", name)
	}
	return t, nil
}

func (x *txState) where(a *opArgs, t *table) ([]clause, *Error) {
	v, err := a.required("where")
	if err != nil {
		return nil, err
	}
	if _, ok := asArray(v); !ok {
		return nil, a.perr("Type mismatch for member 'where'.")
	}
	return parseClauses(t.schema, v, x, false)
}

func (x *txState) execOp(b []byte, v any, i, n int) ([]byte, *Error) {
	obj, ok := asObject(v)
	if !ok {
		return b, syntaxErr(ErrSyntax, v, "Parsing ovsdb operation %d of %d failed: Object expected.", i+1, n)
	}
	a := &opArgs{obj: obj, i: i, n: n, raw: v}
	name, _, err := a.str("op", true)
	if err != nil {
		return b, err
	}
	a.name = name
	switch name {
	case "insert":
		return x.opInsert(b, a)
	case "select":
		return x.opSelect(b, a)
	case "update":
		return x.opUpdate(b, a)
	case "mutate":
		return x.opMutate(b, a)
	case "delete":
		return x.opDelete(b, a)
	case "wait":
		return x.opWait(b, a)
	case "commit":
		if err := a.check("durable"); err != nil {
			return b, err
		}
		dv, err := a.required("durable")
		if err != nil {
			return b, err
		}
		d, ok := dv.(bool)
		if !ok {
			return b, a.perr("Type mismatch for member 'durable'.")
		}
		x.durable = x.durable || d
		return append(b, "{}"...), nil
	case "abort":
		if err := a.check(); err != nil {
			return b, err
		}
		return b, newErr(ErrAborted, "aborted by request")
	case "comment":
		if err := a.check("comment"); err != nil {
			return b, err
		}
		if _, _, err := a.str("comment", true); err != nil {
			return b, err
		}
		return append(b, "{}"...), nil
	case "assert":
		if err := a.check("lock"); err != nil {
			return b, err
		}
		lock, _, err := a.str("lock", true)
		if err != nil {
			return b, err
		}
		if !x.locks[lock] {
			return b, newErr(ErrNotOwner, "Asserted lock %s not held.", lock)
		}
		return append(b, "{}"...), nil
	}
	return b, syntaxErr(ErrSyntax, v, "Parsing ovsdb operation %d of %d failed: No operation \"%s\"", i+1, n, name)
}

func (x *txState) opInsert(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "row", "uuid-name", "uuid"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	name, hasName, err := a.str("uuid-name", false)
	if err != nil {
		return b, err
	}
	if hasName && !isIdentifier(name) {
		return b, syntaxErr(ErrSyntax, a.val("uuid-name"), "Parsing ovsdb operation %d of %d failed: Type mismatch for member 'uuid-name'.", a.i+1, a.n)
	}
	us, hasUUID, err := a.str("uuid", false)
	if err != nil {
		return b, err
	}
	var u UUID
	switch {
	case hasUUID:
		pu, perr := ParseUUID(us)
		if perr != nil {
			return b, syntaxErr(ErrSyntax, a.val("uuid"), "bad uuid")
		}
		u = pu
		if t.rows[u] != nil || x.get(t, u) != nil {
			return b, syntaxErr(ErrDuplicateUUID, a.val("uuid"), "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.")
		}
		if hasName {
			if s, ok := x.syms[name]; ok && s.created {
				return b, syntaxErr(ErrDuplicateUUIDName, name, "This \"uuid-name\" appeared on an earlier \"insert\" operation.")
			}
			if x.syms == nil {
				x.syms = make(map[string]*symbol)
			}
			if s, ok := x.syms[name]; ok {
				s.uuid, s.created = u, true
			} else {
				x.syms[name] = x.newSymbol(symbol{uuid: u, created: true})
			}
		}
	case hasName:
		if s, ok := x.syms[name]; ok && s.created {
			return b, syntaxErr(ErrDuplicateUUIDName, name, "This \"uuid-name\" appeared on an earlier \"insert\" operation.")
		}
		if _, ok := x.syms[name]; !ok {
			if x.syms == nil {
				x.syms = make(map[string]*symbol)
			}
			x.syms[name] = x.newSymbol(symbol{uuid: x.freshUUID(t)})
		}
		u = x.syms[name].uuid
		x.syms[name].created = true
	default:
		u = x.freshUUID(t)
	}
	row := newDefaultRow(t.schema)
	var setBuf [64]bool
	set := setBuf[:0]
	if len(row) <= len(setBuf) {
		set = setBuf[:len(row)]
	} else {
		set = make([]bool, len(row))
	}
	rv, err := a.required("row")
	if err != nil {
		return b, err
	}
	{
		obj, ok := asObject(rv)
		if !ok {
			return b, a.perr("Type mismatch for member 'row'.")
		}
		var buf [24]jsonMember
		for _, m := range obj.sorted(buf[:0]) {
			cn, cv := m.key, m.val
			c, ok := t.schema.Column(cn)
			if !ok {
				return b, syntaxErr(ErrUnknownColumn, rv, "No column %s in table %s.", cn, t.schema.Name)
			}
			d, err := parseDatumJSON(cv, &c.Type, x)
			if err != nil {
				return b, err
			}
			if c == uuidColumn || c.Index == 0 {
				continue // accepted and ignored, as ovsdb-server does
			}
			row[c.Index] = d
			set[c.Index] = true
		}
	}
	for _, c := range t.schema.ordered[1:] {
		if !set[c.Index] && c.defErr != nil {
			// The default does not satisfy the column's constraints (an
			// enum without "", say): each insert gets its own copy.
			e := *c.defErr
			return b, &e
		}
	}
	// The UUID must be new to the table and to the transaction (one
	// lookup of each map: they are large).
	prev := x.rows[rowKey{t.schema, u}]
	if t.rows[u] != nil || (prev != nil && prev.new != nil) {
		return b, syntaxErr(ErrDuplicateUUID, a.val("uuid"), "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.")
	}
	// A new row has its _version from the start (a select in the same
	// transaction shows it); modified rows get a new one at commit.
	row[0] = x.newVersion()
	if tr := prev; tr != nil {
		// Inserted and deleted earlier in this transaction: it comes back.
		tr.new, tr.owned = row, true
	} else {
		tr := x.newTxRow()
		*tr = txRow{t: t, uuid: u, new: row, owned: true}
		x.rows[rowKey{t.schema, u}] = tr
		x.byTable[t] = append(x.byTable[t], tr)
	}
	b = append(b, `{"uuid":["uuid",`...)
	b = appendUUIDString(b, u)
	return append(b, "]}"...), nil
}

// columnList parses a "columns" member.
func columnList(a *opArgs, t *table, v any) ([]string, *Error) {
	l, ok := asArray(v)
	if !ok {
		return nil, a.perr("Type mismatch for member 'columns'.")
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, a.perr("Type mismatch for member 'columns'.")
		}
		if _, ok := t.schema.Column(s); !ok {
			return nil, syntaxErr(ErrSyntax, v, "%s is not a valid column name", s)
		}
		for _, o := range out {
			if o == s {
				return nil, syntaxErr(ErrSyntax, v, "array of distinct column names expected")
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (x *txState) opSelect(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "where", "columns"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	where, err := x.where(a, t)
	if err != nil {
		return b, err
	}
	var cols []string
	if cv, ok := a.obj.get("columns"); ok {
		if cols, err = columnList(a, t, cv); err != nil {
			return b, err
		}
	}
	b = append(b, `{"rows":[`...)
	first := true
	// Like ovsdb-server, rows that are identical in the selected columns
	// are reported once.
	var seen map[string]bool
	if cols != nil {
		seen = make(map[string]bool)
	}
	err = x.scan(t, where, func(u UUID, r Row) *Error {
		n := len(b)
		if !first {
			b = append(b, ',')
		}
		b = appendRowJSON(b, t.schema, u, r, cols)
		if seen != nil {
			start := n
			if !first {
				start++
			}
			k := string(b[start:])
			if seen[k] {
				b = b[:n]
				return nil
			}
			seen[k] = true
		}
		first = false
		return nil
	})
	if err != nil {
		return b, err
	}
	return append(b, "]}"...), nil
}

// parseUpdateRow parses an update's "row": only mutable columns.
func (x *txState) parseUpdateRow(a *opArgs, t *table) ([]*ColumnSchema, []Datum, *Error) {
	rv, err := a.required("row")
	if err != nil {
		return nil, nil, err
	}
	obj, ok := asObject(rv)
	if !ok {
		return nil, nil, a.perr("Type mismatch for member 'row'.")
	}
	var buf [24]jsonMember
	members := obj.sorted(buf[:0])
	cols := make([]*ColumnSchema, 0, len(members))
	vals := make([]Datum, 0, len(members))
	for _, m := range members {
		cn := m.key
		c, ok := t.schema.Column(cn)
		if !ok {
			return nil, nil, syntaxErr(ErrUnknownColumn, rv, "No column %s in table %s.", cn, t.schema.Name)
		}
		d, perr := parseDatumJSON(m.val, &c.Type, x)
		if perr != nil {
			return nil, nil, perr
		}
		if c == uuidColumn || c.Index == 0 || !c.Mutable {
			return nil, nil, syntaxErr(ErrConstraint, a.raw, "Cannot update immutable column %s in table %s.", cn, t.schema.Name)
		}
		cols = append(cols, c)
		vals = append(vals, d)
	}
	return cols, vals, nil
}

func (x *txState) opUpdate(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "where", "row"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	cols, vals, err := x.parseUpdateRow(a, t)
	if err != nil {
		return b, err
	}
	where, err := x.where(a, t)
	if err != nil {
		return b, err
	}
	count := 0
	err = x.scan(t, where, func(u UUID, _ Row) *Error {
		count++
		tr := x.touch(t, u)
		r := tr.writable()
		for i, c := range cols {
			r[c.Index] = vals[i]
			tr.forget(c.Index)
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	return appendCount(b, count), nil
}

func appendCount(b []byte, n int) []byte {
	b = append(b, `{"count":`...)
	b = appendJSONValue(b, int64(n))
	return append(b, '}')
}

func (x *txState) opDelete(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "where"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	where, err := x.where(a, t)
	if err != nil {
		return b, err
	}
	count := 0
	err = x.scan(t, where, func(u UUID, _ Row) *Error {
		count++
		tr := x.touch(t, u)
		tr.new, tr.owned = nil, false
		return nil
	})
	if err != nil {
		return b, err
	}
	return appendCount(b, count), nil
}

func (x *txState) opWait(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "where", "columns", "until", "rows", "timeout"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	var timeout int64 = -1
	if tv, ok := a.obj.get("timeout"); ok {
		switch n := tv.(type) {
		case int64:
			timeout = n
		default:
			return b, a.perr("Type mismatch for member 'timeout'.")
		}
		if timeout < 0 {
			return b, syntaxErr(ErrSyntax, a.val("timeout"), "timeout must be nonnegative")
		}
	}
	where, err := x.where(a, t)
	if err != nil {
		return b, err
	}
	cv, err := a.required("columns")
	if err != nil {
		return b, err
	}
	cols, err := columnList(a, t, cv)
	if err != nil {
		return b, err
	}
	until, _, err := a.str("until", true)
	if err != nil {
		return b, err
	}
	if until != "==" && until != "!=" {
		return b, syntaxErr(ErrSyntax, a.val("until"), "\"until\" must be \"==\" or \"!=\"")
	}
	rv, err := a.required("rows")
	if err != nil {
		return b, err
	}
	rl, ok := asArray(rv)
	if !ok {
		return b, a.perr("Type mismatch for member 'rows'.")
	}
	colSchemas := make([]*ColumnSchema, len(cols))
	for i, cn := range cols {
		colSchemas[i], _ = t.schema.Column(cn)
	}
	// Like ovsdb-server, each expected row may name any columns; those it
	// omits take their defaults, and rows compare on "columns" only.
	expected := make(map[string]bool, len(rl))
	for _, e := range rl {
		obj, ok := asObject(e)
		if !ok {
			return b, syntaxErr(ErrSyntax, e, "<row> must be a JSON object")
		}
		row := newDefaultRow(t.schema)
		var rowUUID UUID
		for _, m := range obj.sorted(nil) {
			cn, cv := m.key, m.val
			c, ok := t.schema.Column(cn)
			if !ok {
				return b, syntaxErr(ErrUnknownColumn, e, "No column %s in table %s.", cn, t.schema.Name)
			}
			d, perr := parseDatumJSON(cv, &c.Type, x)
			if perr != nil {
				return b, perr
			}
			if c == uuidColumn {
				rowUUID = d.Keys[0].(UUID)
				continue
			}
			row[c.Index] = d
		}
		var key []byte
		for _, c := range colSchemas {
			if c == uuidColumn {
				key = append(key, rowUUID[:]...)
			} else {
				key = appendDatumJSON(key, &c.Type, row[c.Index])
			}
			key = append(key, 0)
		}
		expected[string(key)] = true
	}
	actual := make(map[string]bool)
	_ = x.scan(t, where, func(u UUID, r Row) *Error {
		var key []byte
		for _, c := range colSchemas {
			if c == uuidColumn {
				key = append(key, u[:]...)
			} else {
				key = appendDatumJSON(key, &c.Type, r[c.Index])
			}
			key = append(key, 0)
		}
		actual[string(key)] = true
		return nil
	})
	equal := len(actual) == len(expected)
	if equal {
		for k := range expected {
			if !actual[k] {
				equal = false
				break
			}
		}
	}
	if equal == (until == "==") {
		return append(b, "{}"...), nil
	}
	if timeout == 0 || x.expired {
		return b, newErr(ErrTimedOut, "\"where\" clause test failed")
	}
	x.blocked = true
	return b, nil
}

// --- finalisation ---

// sortedTables returns the tables the transaction touched, by name, so
// that checks report the same error on every replica.
func (x *txState) sortedTables() []*table {
	l := make([]*table, 0, len(x.byTable))
	for t := range x.byTable {
		l = append(l, t)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].schema.Name < l[j].schema.Name })
	return l
}

// sortedTxRows returns the transaction's rows by table name and UUID.
func (x *txState) sortedTxRows() []*txRow {
	l := make([]*txRow, 0, len(x.rows))
	for _, tr := range x.rows {
		l = append(l, tr)
	}
	slices.SortFunc(l, func(a, b *txRow) int {
		if a.t != b.t {
			return strings.Compare(a.t.schema.Name, b.t.schema.Name)
		}
		return bytes.Compare(a.uuid[:], b.uuid[:])
	})
	return l
}
