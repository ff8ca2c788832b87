package replica

import (
	"fmt"

	"hcnet/internal/ovsdb"
)

// persistColumns lists the columns a stored row holds: _version (every
// replica derives the same; a restarted one must keep it) and the schema's
// columns. _uuid is in the key.
func (d *DB) persistColumns(table string) []string {
	if cols, ok := d.colCache[table]; ok {
		return cols
	}
	t := d.schema.Tables[table]
	cols := make([]string, 0, len(t.Columns)+1)
	cols = append(cols, "_version")
	for _, c := range t.ColumnList() {
		cols = append(cols, c.Name)
	}
	d.colCache[table] = cols
	return cols
}

// loadDatabase rebuilds db from stored rows as they are (versions
// included), without re-running transactions: the rows were consistent when
// they were stored.
func loadDatabase(db *ovsdb.Database, s *ovsdb.Schema, rows []loadRow) error {
	for _, r := range rows {
		t, ok := s.Tables[r.table]
		if !ok {
			return fmt.Errorf("stored row %s in unknown table %q", r.uuid, r.table)
		}
		row, err := ovsdb.ParseRow(t, r.data)
		if err != nil {
			return fmt.Errorf("stored row %s: %w", r.uuid, err)
		}
		if err := db.Load(r.table, r.uuid, row); err != nil {
			return err
		}
	}
	return nil
}
