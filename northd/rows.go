package northd

import (
	"fmt"
	"reflect"

	"github.com/ovn-org/libovsdb/mapper"
	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
)

// rowCache holds full rows of monitored tables, applying update2 diffs.
type rowCache struct {
	schema *ovsdb.DatabaseSchema
	tables map[string]map[string]ovsdb.Row
	// compact tables are not stored here: their owner keeps a smaller
	// form and rebuilds a row on demand (for update2 diffs) with rebuild.
	compact map[string]bool
	rebuild func(table, uuid string) ovsdb.Row
}

func newRowCache(s *ovsdb.DatabaseSchema) *rowCache {
	return &rowCache{schema: s, tables: map[string]map[string]ovsdb.Row{}}
}

// change is one row change after the cache applied it: Row is the full new
// row, nil when deleted.
type change struct {
	Table, UUID string
	Row         ovsdb.Row
}

// apply applies updates and returns the changed rows.
func (c *rowCache) apply(u client.TableUpdates) ([]change, error) {
	var out []change
	for table, rows := range u {
		ts, ok := c.schema.Tables[table]
		if !ok {
			return nil, fmt.Errorf("table %s: not in schema %s", table, c.schema.Name)
		}
		t := c.tables[table]
		if t == nil {
			t = map[string]ovsdb.Row{}
			c.tables[table] = t
		}
		for uuid, ru := range rows {
			switch ru.Kind {
			case client.Delete:
				if c.compact[table] {
					out = append(out, change{Table: table, UUID: uuid})
					continue
				}
				if _, had := t[uuid]; had {
					delete(t, uuid)
					out = append(out, change{Table: table, UUID: uuid})
				}
			case client.Initial, client.Insert:
				r := ovsdb.Row{}
				for k, v := range ru.Row {
					r[k] = v
				}
				if !c.compact[table] {
					t[uuid] = r
				}
				out = append(out, change{Table: table, UUID: uuid, Row: r})
			case client.Modify:
				old := t[uuid]
				if c.compact[table] && c.rebuild != nil {
					old = c.rebuild(table, uuid)
				}
				r := ovsdb.Row{}
				for k, v := range old {
					r[k] = v
				}
				for col, diff := range ru.Row {
					cs := ts.Column(col)
					if cs == nil {
						continue
					}
					r[col] = applyDiff(cs, r[col], diff)
				}
				if !c.compact[table] {
					t[uuid] = r
				}
				out = append(out, change{Table: table, UUID: uuid, Row: r})
			}
		}
	}
	return out, nil
}

// applyDiff applies one column's update2 diff (ovsdb-server(5)): sets take
// the symmetric difference, maps add, change or remove pairs, and columns
// that hold at most one value (scalars and optional values) are replaced:
// for those ovsdb-server sends the new value, not a difference.
func applyDiff(cs *ovsdb.ColumnSchema, old, diff any) any {
	switch cs.Type {
	case ovsdb.TypeSet:
		if cs.TypeObj != nil && cs.TypeObj.Max() == 1 {
			return diff
		}
		cur := setElems(old)
		for _, e := range setElems(diff) {
			found := -1
			for i, c := range cur {
				if reflect.DeepEqual(c, e) {
					found = i
					break
				}
			}
			if found >= 0 {
				cur = append(cur[:found], cur[found+1:]...)
			} else {
				cur = append(cur, e)
			}
		}
		return ovsdb.OvsSet{GoSet: cur}
	case ovsdb.TypeMap:
		cur := map[any]any{}
		if m, ok := old.(ovsdb.OvsMap); ok {
			for k, v := range m.GoMap {
				cur[k] = v
			}
		}
		if m, ok := diff.(ovsdb.OvsMap); ok {
			for k, v := range m.GoMap {
				if ov, ok := cur[k]; ok && reflect.DeepEqual(ov, v) {
					delete(cur, k)
				} else {
					cur[k] = v
				}
			}
		}
		return ovsdb.OvsMap{GoMap: cur}
	default:
		return diff
	}
}

func setElems(v any) []any {
	switch s := v.(type) {
	case nil:
		return nil
	case ovsdb.OvsSet:
		return append([]any(nil), s.GoSet...)
	default:
		return []any{s}
	}
}

// decode fills model (a pointer to a libovsdb model) from a full row.
func decode(m mapper.Mapper, schema *ovsdb.DatabaseSchema, table, uuid string, row ovsdb.Row, model any) error {
	ts, ok := schema.Tables[table]
	if !ok {
		return fmt.Errorf("table %s: not in schema", table)
	}
	info, err := mapper.NewInfo(table, &ts, model)
	if err != nil {
		return fmt.Errorf("table %s: %w", table, err)
	}
	r := ovsdb.Row{}
	for k, v := range row {
		if ts.Column(k) != nil {
			r[k] = v
		}
	}
	r["_uuid"] = ovsdb.UUID{GoUUID: uuid}
	if err := m.GetRowData(&r, info); err != nil {
		return fmt.Errorf("table %s row %s: %w", table, uuid, err)
	}
	// The mapper fills schema columns only; models carry _uuid in UUID.
	if f := reflect.ValueOf(model).Elem().FieldByName("UUID"); f.IsValid() && f.Kind() == reflect.String {
		f.SetString(uuid)
	}
	return nil
}

// Accessors for SB rows, which northd reads without models.

func str(r ovsdb.Row, col string) string {
	s, _ := r[col].(string)
	return s
}

func num(r ovsdb.Row, col string) int {
	switch v := r[col].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case ovsdb.OvsSet:
		if len(v.GoSet) == 1 {
			if f, ok := v.GoSet[0].(float64); ok {
				return int(f)
			}
		}
	}
	return 0
}

func boolean(r ovsdb.Row, col string) (val, set bool) {
	switch v := r[col].(type) {
	case bool:
		return v, true
	case ovsdb.OvsSet:
		if len(v.GoSet) == 1 {
			b, ok := v.GoSet[0].(bool)
			return b, ok
		}
	}
	return false, false
}

func ref(r ovsdb.Row, col string) string {
	switch v := r[col].(type) {
	case ovsdb.UUID:
		return v.GoUUID
	case ovsdb.OvsSet:
		if len(v.GoSet) == 1 {
			if u, ok := v.GoSet[0].(ovsdb.UUID); ok {
				return u.GoUUID
			}
		}
	}
	return ""
}

func strSet(r ovsdb.Row, col string) []string {
	var out []string
	for _, e := range setElems(r[col]) {
		switch v := e.(type) {
		case string:
			out = append(out, v)
		case ovsdb.UUID:
			out = append(out, v.GoUUID)
		}
	}
	return out
}

func strMap(r ovsdb.Row, col string) map[string]string {
	out := map[string]string{}
	if m, ok := r[col].(ovsdb.OvsMap); ok {
		for k, v := range m.GoMap {
			ks, _ := k.(string)
			vs, _ := v.(string)
			out[ks] = vs
		}
	}
	return out
}
