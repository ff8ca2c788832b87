package ovsdb

// ChangeSet is what one committed transaction changed, ordered by table
// name and then UUID.
type ChangeSet struct {
	changes []change
	// wantEq lists the equality indexes Commit should build (eqindex.go).
	wantEq []eqWant
}

type eqWant struct {
	t   *TableSchema
	col *ColumnSchema
}

type change struct {
	table    *TableSchema
	uuid     UUID
	old, new Row
	deltas   map[int]*colDelta // see txRow.deltas
	// indexKeys holds new's key in each of the table's indexes, when
	// finalize computed them (nil otherwise).
	indexKeys []string
}

// Each calls fn for every changed row in order. old is nil for an insert,
// new is nil for a delete. The rows are shared: do not modify them.
func (cs *ChangeSet) Each(fn func(table string, uuid UUID, old, new Row)) {
	if cs == nil {
		return
	}
	for i := range cs.changes {
		c := &cs.changes[i]
		fn(c.table.Name, c.uuid, c.old, c.new)
	}
}

// Empty reports whether nothing changed.
func (cs *ChangeSet) Empty() bool { return cs == nil || len(cs.changes) == 0 }

// Len returns the number of changed rows.
func (cs *ChangeSet) Len() int {
	if cs == nil {
		return 0
	}
	return len(cs.changes)
}
