package replica

import (
	"fmt"

	"hcnet/internal/ovsdb"
)

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
