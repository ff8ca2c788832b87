package ovsdb

import (
	"encoding/json"
	"fmt"
)

// condFunc is a <function> of RFC 7047 §5.1.
type condFunc uint8

const (
	fnLT condFunc = iota
	fnLE
	fnEQ
	fnNE
	fnGE
	fnGT
	fnIncludes
	fnExcludes
	fnTrue  // literal true (monitor_cond)
	fnFalse // literal false (monitor_cond)
)

var condFuncNames = map[string]condFunc{
	"<": fnLT, "<=": fnLE, "==": fnEQ, "!=": fnNE, ">=": fnGE, ">": fnGT,
	"includes": fnIncludes, "excludes": fnExcludes,
}

// clause is one parsed <condition>.
type clause struct {
	col *ColumnSchema // uuidColumn for _uuid
	fn  condFunc
	arg Datum
}

// parseClauses decodes a JSON array of <condition>s (and, if literals is
// set, the booleans true and false).
func parseClauses(t *TableSchema, v any, syms symbolResolver, literals bool) ([]clause, *Error) {
	list, ok := asArray(v)
	if !ok {
		return nil, syntaxErr(ErrSyntax, v, "Parse error in condition.")
	}
	out := make([]clause, 0, len(list))
	for _, e := range list {
		if b, ok := e.(bool); ok {
			if b {
				out = append(out, clause{fn: fnTrue})
			} else {
				out = append(out, clause{fn: fnFalse})
			}
			continue
		}
		c, err := parseClause(t, e, syms)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseClause(t *TableSchema, v any, syms symbolResolver) (clause, *Error) {
	a, ok := asArray(v)
	if !ok || len(a) != 3 {
		return clause{}, syntaxErr(ErrSyntax, v, "Parse error in condition.")
	}
	name, ok := a[0].(string)
	if !ok {
		return clause{}, syntaxErr(ErrSyntax, v, "Parse error in condition.")
	}
	col, ok := t.Column(name)
	if !ok {
		return clause{}, syntaxErr(ErrUnknownColumn, v, "No column %s in table %s.", name, t.Name)
	}
	fname, ok := a[1].(string)
	if !ok {
		return clause{}, syntaxErr(ErrSyntax, v, "Parse error in condition.")
	}
	fn, ok := condFuncNames[fname]
	if !ok {
		return clause{}, syntaxErr(ErrUnknownFunction, a[1], "No function named %s.", fname)
	}
	// The argument has the column's type, constraints included, as in
	// ovsdb-server; only includes and excludes on a multi-valued column
	// may name fewer elements than the column's minimum.
	typ := col.Type
	switch fn {
	case fnLT, fnLE, fnGE, fnGT:
		if !(typ.Value == nil && typ.Max == 1 && (typ.Key.Type == TypeInteger || typ.Key.Type == TypeReal)) {
			return clause{}, syntaxErr(ErrSyntax, v, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", fname, name, typeEnglish(&typ))
		}
	case fnIncludes, fnExcludes:
		if typ.Max > 1 {
			typ.Min = 0
		}
	}
	d, err := parseDatumJSON(a[2], &typ, syms)
	if err != nil {
		return clause{}, err
	}
	if fn == fnLT || fn == fnLE || fn == fnGE || fn == fnGT {
		if len(d.Keys) != 1 {
			return clause{}, syntaxErr(ErrSyntax, v, "Type mismatch: \"%s\" operator requires a single value.", fname)
		}
	}
	return clause{col: col, fn: fn, arg: d}, nil
}

// relaxed drops a base type's value constraints (enum, ranges, lengths)
// but keeps the atomic type and reference information.
func relaxed(b BaseType) BaseType {
	r := defaultBase(b.Type)
	r.RefTable, r.RefType, r.refTable = b.RefTable, b.RefType, b.refTable
	return r
}

// eval evaluates one clause against a row.
func (c *clause) eval(uuid UUID, r Row) bool {
	switch c.fn {
	case fnTrue:
		return true
	case fnFalse:
		return false
	}
	var d Datum
	if c.col == uuidColumn {
		d = Datum{Keys: []Atom{uuid}}
	} else {
		d = r[c.col.Index]
	}
	switch c.fn {
	case fnEQ:
		return d.Equal(c.arg)
	case fnNE:
		return !d.Equal(c.arg)
	case fnIncludes:
		return includes(d, c.arg)
	case fnExcludes:
		return excludes(d, c.arg)
	}
	if len(d.Keys) != 1 {
		return false
	}
	cmp := compareAtoms(d.Keys[0], c.arg.Keys[0])
	switch c.fn {
	case fnLT:
		return cmp < 0
	case fnLE:
		return cmp <= 0
	case fnGE:
		return cmp >= 0
	case fnGT:
		return cmp > 0
	}
	return false
}

// includes reports whether every element (pair) of sub is in d.
func includes(d, sub Datum) bool {
	for i, k := range sub.Keys {
		j := d.find(k)
		if j < 0 {
			return false
		}
		if sub.Values != nil && !atomsEqual(d.Values[j], sub.Values[i]) {
			return false
		}
	}
	return true
}

// excludes reports whether no element (pair) of sub is in d.
func excludes(d, sub Datum) bool {
	for i, k := range sub.Keys {
		j := d.find(k)
		if j < 0 {
			continue
		}
		if sub.Values == nil || atomsEqual(d.Values[j], sub.Values[i]) {
			return false
		}
	}
	return true
}

// matchAll reports whether every clause holds (a "where" clause).
func matchAll(cs []clause, uuid UUID, r Row) bool {
	for i := range cs {
		if !cs[i].eval(uuid, r) {
			return false
		}
	}
	return true
}

// Conditions is a monitor_cond "where" list (ovsdb-server(7) §4.1.12): a
// row matches when any clause holds; an empty list matches every row. The
// zero value matches every row.
type Conditions struct {
	clauses []clause
	set     bool
	// The same clauses for Match: the "==" clauses on a column that at
	// least eqSetMin of them name, as one set of atoms per column (a chassis
	// names each of its datapaths so), and the rest in order.
	eqSets []eqSet
	rest   []clause
}

// eqSetMin is the number of "==" clauses on one column from which Match
// looks the row's value up in a set instead of comparing it with each.
const eqSetMin = 3

// eqSet stands for the clauses [col, "==", x] for every x in atoms, each
// x a one-element set or scalar: a row matches one of them when its value
// of col is exactly one atom, in atoms.
type eqSet struct {
	col   int
	atoms map[Atom]struct{}
	// uuids holds the atoms instead when all are UUIDs (the datapaths and
	// chassis a chassis names): a lookup then hashes 16 bytes directly.
	uuids map[UUID]struct{}
}

// has reports whether a is in the set.
func (e *eqSet) has(a Atom) bool {
	if e.uuids != nil {
		u, ok := a.(UUID)
		if !ok {
			return false
		}
		_, ok = e.uuids[u]
		return ok
	}
	_, ok := e.atoms[a]
	return ok
}

// eqSettable reports whether clause c may be folded into an eqSet.
func eqSettable(c *clause) bool {
	return c.fn == fnEQ && c.col != uuidColumn && c.col.Type.Value == nil && len(c.arg.Keys) == 1 && c.arg.Values == nil
}

// index fills eqSets and rest from clauses.
func (c *Conditions) index() {
	count := map[int]int{}
	for i := range c.clauses {
		if eqSettable(&c.clauses[i]) {
			count[c.clauses[i].col.Index]++
		}
	}
	sets := map[int]int{} // column to position in eqSets
	for i := range c.clauses {
		cl := &c.clauses[i]
		if !eqSettable(cl) || count[cl.col.Index] < eqSetMin {
			c.rest = append(c.rest, *cl)
			continue
		}
		k, ok := sets[cl.col.Index]
		if !ok {
			k = len(c.eqSets)
			sets[cl.col.Index] = k
			c.eqSets = append(c.eqSets, eqSet{col: cl.col.Index, atoms: make(map[Atom]struct{}, count[cl.col.Index])})
		}
		c.eqSets[k].atoms[cl.arg.Keys[0]] = struct{}{}
	}
	for i := range c.eqSets {
		e := &c.eqSets[i]
		uuids := make(map[UUID]struct{}, len(e.atoms))
		for a := range e.atoms {
			u, ok := a.(UUID)
			if !ok {
				uuids = nil
				break
			}
			uuids[u] = struct{}{}
		}
		if uuids != nil {
			e.uuids, e.atoms = uuids, nil
		}
	}
}

// ParseConditions parses a JSON array of <condition>s and booleans for
// table t. Empty or absent data (nil, "null") matches all rows.
func ParseConditions(t *TableSchema, data json.RawMessage) (Conditions, error) {
	if len(data) == 0 {
		return Conditions{}, nil
	}
	v, err := parseJSON(data)
	if err != nil {
		return Conditions{}, fmt.Errorf("parse %s conditions: %w", t.Name, err)
	}
	if v == nil {
		return Conditions{}, nil
	}
	cs, perr := parseClauses(t, v, nil, true)
	if perr != nil {
		return Conditions{}, fmt.Errorf("parse %s conditions: %w", t.Name, perr)
	}
	if len(cs) == 0 {
		return Conditions{}, nil
	}
	c := Conditions{clauses: cs, set: true}
	c.index()
	return c, nil
}

// MatchesAll reports whether the conditions select every row trivially.
func (c Conditions) MatchesAll() bool {
	if !c.set {
		return true
	}
	for _, cl := range c.clauses {
		if cl.fn == fnTrue {
			return true
		}
	}
	return false
}

// Match reports whether the row satisfies the conditions.
func (c Conditions) Match(uuid UUID, r Row) bool {
	if !c.set {
		return true
	}
	for i := range c.eqSets {
		e := &c.eqSets[i]
		if d := r[e.col]; len(d.Keys) == 1 && e.has(d.Keys[0]) {
			return true
		}
	}
	for i := range c.rest {
		if c.rest[i].eval(uuid, r) {
			return true
		}
	}
	return false
}

// matchEach is Match by evaluating every clause in turn (tests compare
// the two).
func (c Conditions) matchEach(uuid UUID, r Row) bool {
	if !c.set {
		return true
	}
	for i := range c.clauses {
		if c.clauses[i].eval(uuid, r) {
			return true
		}
	}
	return false
}
