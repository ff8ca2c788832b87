package ovsdb

import "fmt"

// checkInvariants verifies, after every Commit, what the executor
// guarantees: indexes and reverse references match the rows, strong
// references point to existing rows, every row of a non-root table is
// strongly referenced, and weak references point to existing rows. It
// panics with the offending row, since a violation is a bug in this
// package.
func (d *Database) checkInvariants() {
	refs := make(map[*table]map[UUID]map[rowKey]int32)
	strong := make(map[rowKey]int)
	for _, t := range d.tables {
		t.checkEqIndexes()
		for i, ix := range t.schema.indexes {
			if len(t.indexes[i]) != len(t.rows) {
				panic(fmt.Sprintf("ovsdb: invariant: %s index %d has %d entries for %d rows", t.schema.Name, i, len(t.indexes[i]), len(t.rows)))
			}
			for u, r := range t.rows {
				if got := t.indexes[i][indexKey(ix, u, r)]; got != u {
					panic(fmt.Sprintf("ovsdb: invariant: %s row %s missing from index %d", t.schema.Name, u, i))
				}
			}
		}
		for u, r := range t.rows {
			d.forEachRef(t.schema, u, r, func(target *table, v UUID, kind RefType) {
				if target.rows[v] == nil {
					panic(fmt.Sprintf("ovsdb: invariant: %s row %s references missing %s row %s", t.schema.Name, u, target.schema.Name, v))
				}
				if refs[target] == nil {
					refs[target] = make(map[UUID]map[rowKey]int32)
				}
				if refs[target][v] == nil {
					refs[target][v] = make(map[rowKey]int32)
				}
				refs[target][v][rowKey{t.schema, u}]++
				if kind == RefStrong {
					strong[rowKey{target.schema, v}]++
				}
			})
		}
	}
	for _, t := range d.tables {
		if len(t.inRefs) != len(refs[t]) {
			panic(fmt.Sprintf("ovsdb: invariant: %s has reverse references for %d rows, want %d", t.schema.Name, len(t.inRefs), len(refs[t])))
		}
		for v, m := range refs[t] {
			for src, n := range m {
				set := t.inRefs[v]
				if set.get(src) != n || set.len() != len(m) {
					panic(fmt.Sprintf("ovsdb: invariant: %s row %s: %d references from %s %s recorded (of %d referrers), want %d (of %d)", t.schema.Name, v, set.get(src), src.t.Name, src.uuid, set.len(), n, len(m)))
				}
			}
		}
		if !t.schema.IsRoot {
			for u := range t.rows {
				if strong[rowKey{t.schema, u}] == 0 {
					panic(fmt.Sprintf("ovsdb: invariant: non-root %s row %s is not referenced", t.schema.Name, u))
				}
			}
		}
	}
}
