package replica

import (
	"encoding/json"
	"fmt"

	"hcnet/internal/ovsdb"
)

// persistColumns lists the columns a stored row holds (all but _uuid and
// _version, which insert does not accept).
func (d *DB) persistColumns(table string) []string {
	if cols, ok := d.colCache[table]; ok {
		return cols
	}
	t := d.schema.Tables[table]
	cols := make([]string, 0, len(t.Columns))
	for _, c := range t.ColumnList() {
		cols = append(cols, c.Name)
	}
	d.colCache[table] = cols
	return cols
}

// loadDatabase rebuilds db from stored rows with one transaction of inserts
// that keep each row's UUID (the executor's "uuid" insert member), so
// references between the rows resolve and integrity is checked on the way.
func loadDatabase(db *ovsdb.Database, s *ovsdb.Schema, rows []loadRow) error {
	if len(rows) == 0 {
		return nil
	}
	b := []byte{'['}
	for i, r := range rows {
		if _, ok := s.Tables[r.table]; !ok {
			return fmt.Errorf("stored row %s in unknown table %q", r.uuid, r.table)
		}
		if i > 0 {
			b = append(b, ',')
		}
		t, _ := json.Marshal(r.table)
		b = append(b, `{"op":"insert","table":`...)
		b = append(b, t...)
		b = append(b, `,"uuid":"`...)
		b = append(b, r.uuid.String()...)
		b = append(b, `","row":`...)
		b = append(b, r.data...)
		b = append(b, '}')
	}
	b = append(b, ']')
	res := db.Execute(ovsdb.Txn{Ops: b})
	var reply []json.RawMessage
	if err := json.Unmarshal(res.Reply, &reply); err != nil {
		return fmt.Errorf("load reply %.200s: %w", res.Reply, err)
	}
	for _, r := range reply {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(r, &e) == nil && e.Error != "" {
			return fmt.Errorf("load %d rows: %s", len(rows), r)
		}
	}
	if res.Changes != nil {
		db.Commit(res.Changes)
	}
	return nil
}
