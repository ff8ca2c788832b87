package ovsdb

import (
	"bytes"
	"sort"
)

// This file holds the commit-time checks that follow a transaction's
// operations, in ovsdb-server's order: drop no-op changes, referential
// integrity, garbage collection, maxRows, weak references, index
// uniqueness, then new _version values.

func rowsEqual(a, b Row) bool {
	for i := 1; i < len(a); i++ {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// strongRefs counts the strong references that the final state holds to
// row u of table t, stopping once it reaches limit (0: no limit).
func (x *txState) strongRefs(t *table, u UUID, newRefs map[rowKey][]rowKey, limit int) int {
	n := 0
	// seen holds the referrers counted so far; there are few, as a rule.
	var seenBuf [8]rowKey
	seen := seenBuf[:0]
	var seenMap map[rowKey]bool
	count := func(src rowKey) {
		if src.uuid == u {
			return // a strong reference to the row's own UUID does not count
		}
		if seenMap != nil {
			if seenMap[src] {
				return
			}
			seenMap[src] = true
		} else {
			for _, k := range seen {
				if k == src {
					return
				}
			}
			if len(seen) < len(seenBuf) {
				seen = append(seen, src)
			} else {
				seenMap = make(map[rowKey]bool, 2*len(seen))
				for _, k := range seen {
					seenMap[k] = true
				}
				seenMap[src] = true
			}
		}
		r := x.get(x.db.tables[src.t.Name], src.uuid)
		if r == nil {
			return
		}
		for _, c := range src.t.refCols {
			d := r[c.Index]
			if b := &c.Type.Key; b.refTable == t.schema && b.RefType == RefStrong {
				if containsUUID(d, u) {
					n++
				}
			}
			if b := c.Type.Value; b != nil && b.refTable == t.schema && b.RefType == RefStrong {
				for _, v := range d.Values {
					if v.(UUID) == u {
						n++
					}
				}
			}
		}
	}
	if set, ok := t.inRefs[u]; ok {
		if set.n > 0 {
			count(set.one)
		}
		for src := range set.more {
			if limit > 0 && n >= limit {
				return n
			}
			count(src)
		}
	}
	for _, src := range newRefs[rowKey{t.schema, u}] {
		if limit > 0 && n >= limit {
			return n
		}
		count(src)
	}
	return n
}

func (x *txState) finalize() (*ChangeSet, *Error) {
	// Drop rows that did not really change.
	for k, tr := range x.rows {
		if (tr.old == nil && tr.new == nil) || (tr.old != nil && tr.new != nil && rowsEqual(tr.old, tr.new)) {
			delete(x.rows, k)
		}
	}
	if len(x.rows) == 0 {
		return nil, nil
	}
	rows := x.sortedTxRows()
	// Rows the operations changed count as modified (and get a new
	// _version) even if weak reference cleanup later undoes the change,
	// as in ovsdb-server.
	for _, tr := range rows {
		tr.changed = true
	}

	// References that changed rows gained: they must point to existing
	// rows (strong) and count as referrers below. Most targets gain one
	// referrer: their lists start as one-element windows of slab.
	newRefs := make(map[rowKey][]rowKey, len(rows))
	slab := make([]rowKey, len(rows))
	// strongSrc holds, for a row that gained a strong reference, one row
	// whose final value holds it: while that row exists, the target is
	// referenced, which spares the garbage collection below a recount.
	strongSrc := make(map[rowKey]rowKey, len(rows))
	var gcWork []rowKey
	for _, tr := range rows {
		src := rowKey{tr.t.schema, tr.uuid}
		var rerr *Error
		x.db.forEachRefChange(tr.t.schema, tr.uuid, tr.old, tr.new, tr.deltas, func(target *table, u UUID, kind RefType, delta int) {
			k := rowKey{target.schema, u}
			if delta < 0 {
				if kind == RefStrong && !target.schema.IsRoot {
					gcWork = append(gcWork, k)
				}
				return
			}
			if l := newRefs[k]; len(l) == 0 && len(slab) > 0 {
				slab[0] = src
				newRefs[k], slab = slab[:1:1], slab[1:]
			} else if len(l) == 0 || l[len(l)-1] != src {
				newRefs[k] = append(l, src)
			}
			if kind == RefStrong {
				if _, ok := strongSrc[k]; !ok {
					strongSrc[k] = src
				}
			}
			if kind == RefStrong && rerr == nil && x.get(target, u) == nil {
				rerr = newErr(ErrReferentialIntegrity, "Table %s column %s row %s references nonexistent row %s in table %s.",
					tr.t.schema.Name, refColumnName(tr.t.schema, tr.new, target.schema, u), tr.uuid, u, target.schema.Name)
			}
		})
		if rerr != nil {
			return nil, rerr
		}
	}
	// Deleted rows must not be strongly referenced any more.
	for _, tr := range rows {
		if tr.old != nil && tr.new == nil {
			if n := x.strongRefs(tr.t, tr.uuid, newRefs, 0); n > 0 {
				return nil, newErr(ErrReferentialIntegrity, "cannot delete %s row %s because of %d remaining reference(s)", tr.t.schema.Name, tr.uuid, n)
			}
		}
	}

	// Garbage-collect unreferenced rows of non-root tables: candidates are
	// changed rows of such tables and the targets of dropped references.
	work := gcWork
	for _, tr := range rows {
		if !tr.t.schema.IsRoot && tr.new != nil {
			work = append(work, rowKey{tr.t.schema, tr.uuid})
		}
	}
	// queued keeps each candidate in the work list once, so that deleting
	// many rows that share a referenced row checks it once, not once per
	// deleted row.
	queued := make(map[rowKey]bool, len(work))
	uniq := work[:0]
	for _, k := range work {
		if !queued[k] {
			queued[k] = true
			uniq = append(uniq, k)
		}
	}
	work = uniq
	for len(work) > 0 {
		k := work[len(work)-1]
		work = work[:len(work)-1]
		delete(queued, k)
		t := x.db.tables[k.t.Name]
		r := x.get(t, k.uuid)
		if r == nil {
			continue
		}
		if src, ok := strongSrc[k]; ok && x.get(x.db.tables[src.t.Name], src.uuid) != nil {
			continue
		}
		if x.strongRefs(t, k.uuid, newRefs, 1) > 0 {
			continue
		}
		tr := x.touch(t, k.uuid)
		tr.new, tr.owned = nil, false
		x.db.forEachRef(t.schema, k.uuid, r, func(target *table, u UUID, kind RefType) {
			if tk := (rowKey{target.schema, u}); kind == RefStrong && !target.schema.IsRoot && !queued[tk] {
				queued[tk] = true
				work = append(work, tk)
			}
		})
	}

	// maxRows.
	for _, t := range x.sortedTables() {
		trs := x.byTable[t]
		if t.schema.MaxRows == 0 {
			continue
		}
		n := len(t.rows)
		for _, tr := range trs {
			if x.rows[rowKey{t.schema, tr.uuid}] != tr {
				continue
			}
			if tr.old == nil && tr.new != nil {
				n++
			} else if tr.old != nil && tr.new == nil {
				n--
			}
		}
		if n > t.schema.MaxRows {
			return nil, newErr(ErrConstraint, "transaction causes \"%s\" table to contain %d rows, greater than the schema-defined limit of %d row(s)", t.schema.Name, n, t.schema.MaxRows)
		}
	}

	// Weak references: drop those to rows that do not exist at the end of
	// the transaction, from changed rows and from rows that referenced
	// deleted rows.
	var check []rowKey
	// Rows are only added to x.rows from here on, so an unchanged count
	// means the sorted list still holds.
	if len(x.rows) != len(rows) {
		rows = x.sortedTxRows()
	}
	for _, tr := range rows {
		if tr.new != nil && hasWeak(tr.t.schema) {
			check = append(check, rowKey{tr.t.schema, tr.uuid})
		}
		if tr.old != nil && tr.new == nil {
			var srcs []rowKey
			set := tr.t.inRefs[tr.uuid]
			set.each(func(src rowKey) {
				if hasWeak(src.t) {
					srcs = append(srcs, src)
				}
			})
			sort.Slice(srcs, func(i, j int) bool {
				if srcs[i].t.Name != srcs[j].t.Name {
					return srcs[i].t.Name < srcs[j].t.Name
				}
				return bytes.Compare(srcs[i].uuid[:], srcs[j].uuid[:]) < 0
			})
			check = append(check, srcs...)
		}
	}
	done := make(map[rowKey]bool, len(check))
	for _, k := range check {
		if done[k] {
			continue
		}
		done[k] = true
		if err := x.dropWeak(k); err != nil {
			return nil, err
		}
	}

	// Index uniqueness.
	for _, t := range x.sortedTables() {
		trs := x.byTable[t]
		for i, ix := range t.schema.indexes {
			seen := make(map[string]*txRow, len(trs))
			for _, tr := range trs {
				if tr.new == nil || x.rows[rowKey{t.schema, tr.uuid}] != tr {
					continue
				}
				k := indexKey(ix, tr.uuid, tr.new)
				if i == len(tr.indexKeys) {
					tr.indexKeys = append(tr.indexKeys, k)
				}
				if other, ok := seen[k]; ok {
					return nil, indexErr(t.schema, t.schema.Indexes[i], ix, indexRow{tr.uuid, tr.old, tr.new, true}, indexRow{other.uuid, other.old, other.new, true})
				}
				seen[k] = tr
				if base, ok := t.indexes[i][k]; ok && base != tr.uuid {
					if _, touched := x.rows[rowKey{t.schema, base}]; !touched {
						br := t.rows[base]
						return nil, indexErr(t.schema, t.schema.Indexes[i], ix, indexRow{tr.uuid, tr.old, tr.new, true}, indexRow{base, br, br, false})
					}
				}
			}
		}
	}

	// New versions, and the change set.
	final := rows
	if len(x.rows) != len(rows) {
		final = x.sortedTxRows()
	}
	cs := &ChangeSet{changes: make([]change, 0, len(final))}
	for _, tr := range final {
		if tr.old == nil && tr.new == nil {
			continue
		}
		if tr.new != nil && tr.old != nil {
			if !tr.changed && rowsEqual(tr.old, tr.new) {
				continue
			}
			r := tr.writable()
			r[0] = x.newVersion()
		}
		ch := change{table: tr.t.schema, uuid: tr.uuid, old: tr.old, new: tr.new, deltas: tr.deltas}
		if tr.new != nil && len(tr.indexKeys) == len(tr.t.schema.indexes) && !indexesVersion(tr.t.schema) {
			ch.indexKeys = tr.indexKeys
		}
		cs.changes = append(cs.changes, ch)
	}
	if len(cs.changes) == 0 {
		return nil, nil
	}
	cs.wantEq = x.wantEq
	return cs, nil
}

// indexesVersion reports whether an index of t covers _version, which
// changes after the index keys are first computed.
func indexesVersion(t *TableSchema) bool {
	for _, ix := range t.indexes {
		for _, c := range ix {
			if c.Index == 0 {
				return true
			}
		}
	}
	return false
}

func hasWeak(t *TableSchema) bool {
	for _, c := range t.refCols {
		if c.Type.Key.IsWeakRef() || (c.Type.Value != nil && c.Type.Value.IsWeakRef()) {
			return true
		}
	}
	return false
}

// dropWeak removes weak references to missing rows from row k.
func (x *txState) dropWeak(k rowKey) *Error {
	t := x.db.tables[k.t.Name]
	r := x.get(t, k.uuid)
	if r == nil {
		return nil
	}
	var tr *txRow
	for _, c := range k.t.refCols {
		kw, vw := c.Type.Key.IsWeakRef(), c.Type.Value != nil && c.Type.Value.IsWeakRef()
		if !kw && !vw {
			continue
		}
		d := r[c.Index]
		gone := func(i int) bool {
			if kw && x.get(x.db.tables[c.Type.Key.RefTable], d.Keys[i].(UUID)) == nil {
				return true
			}
			return vw && x.get(x.db.tables[c.Type.Value.RefTable], d.Values[i].(UUID)) == nil
		}
		removed := 0
		zero := false
		for i := range d.Keys {
			if gone(i) {
				removed++
				if kw && d.Keys[i].(UUID).IsZero() {
					zero = true
				}
			}
		}
		if removed == 0 {
			continue
		}
		nd := Datum{Keys: make([]Atom, 0, len(d.Keys)-removed)}
		if d.Values != nil {
			nd.Values = make([]Atom, 0, len(d.Keys)-removed)
		}
		for i := range d.Keys {
			if gone(i) {
				continue
			}
			nd.Keys = append(nd.Keys, d.Keys[i])
			if d.Values != nil {
				nd.Values = append(nd.Values, d.Values[i])
			}
		}
		if tr == nil {
			tr = x.touch(t, k.uuid)
		}
		tr.writable()[c.Index] = nd
		tr.forget(c.Index)
		if len(nd.Keys) < c.Type.Min {
			inserted := ""
			if tr.old == nil {
				inserted = "(inserted within this transaction) "
			}
			if zero {
				return newErr(ErrConstraint, "Weak reference column \"%s\" in \"%s\" row %s %scontained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.", c.Name, k.t.Name, k.uuid, inserted)
			}
			return newErr(ErrConstraint, "Deletion of %d weak reference(s) to deleted (or never-existing) rows from column \"%s\" in \"%s\" row %s %scaused this column to become empty, but constraints on this column disallow an empty column.", removed, c.Name, k.t.Name, k.uuid, inserted)
		}
		r = tr.new
	}
	return nil
}

func refColumnName(t *TableSchema, r Row, target *TableSchema, u UUID) string {
	for _, c := range t.refCols {
		if c.Type.Key.refTable == target && r[c.Index].Contains(u) {
			return c.Name
		}
		if c.Type.Value != nil && c.Type.Value.refTable == target {
			for _, v := range r[c.Index].Values {
				if v.(UUID) == u {
					return c.Name
				}
			}
		}
	}
	return "?"
}

// indexErr reports two rows with the same values for index ix. Like
// ovsdb-server, the row with the greater UUID is named first.
func indexErr(t *TableSchema, names []string, ix []*ColumnSchema, a, b indexRow) *Error {
	if bytes.Compare(a.uuid[:], b.uuid[:]) < 0 {
		a, b = b, a
	}
	colNames := ""
	for i, n := range names {
		if i > 0 {
			colNames += ", "
		}
		colNames += "\"" + n + "\""
	}
	plural := ""
	if len(names) > 1 {
		plural = "s"
	}
	return newErr(ErrConstraint, "Transaction causes multiple rows in \"%s\" table to have identical values (%s) for index on column%s %s.  First row, with UUID %s, %s  Second row, with UUID %s, %s",
		t.Name, indexValues(ix, a.uuid, a.new), plural, colNames, a.uuid, a.describe(ix), b.uuid, b.describe(ix))
}

// indexRow is one side of an index conflict.
type indexRow struct {
	uuid     UUID
	old, new Row // old nil: inserted; old == new: untouched
	touched  bool
}

func (r indexRow) describe(ix []*ColumnSchema) string {
	switch {
	case !r.touched || (r.old != nil && rowsEqual(r.old, r.new)):
		return "existed in the database before this transaction and was not modified by the transaction."
	case r.old == nil:
		return "was inserted by this transaction."
	case indexKey(ix, r.uuid, r.old) == indexKey(ix, r.uuid, r.new):
		return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index."
	}
	return "had the following index values before the transaction: " + indexValues(ix, r.uuid, r.old) + "."
}

func indexValues(ix []*ColumnSchema, u UUID, r Row) string {
	s := ""
	for i, c := range ix {
		if i > 0 {
			s += ", "
		}
		if c == uuidColumn {
			s += u.String()
			continue
		}
		s += datumString(&c.Type, r[c.Index])
	}
	return s
}

// datumString renders a datum the way ovsdb-server's error details do.
func datumString(t *ColumnType, d Datum) string {
	if t.Value != nil {
		s := "{"
		for i := range d.Keys {
			if i > 0 {
				s += ", "
			}
			s += atomString(d.Keys[i]) + "=" + atomString(d.Values[i])
		}
		return s + "}"
	}
	if t.Max == 1 && len(d.Keys) == 1 {
		return atomString(d.Keys[0])
	}
	return atomsString(d.Keys)
}
