package server

import (
	"hcnet/internal/ovsdb"
)

// update2Modify is the "modify" <row> of an update2 notification. For a
// column that holds at most one atom ovsdb-server sends the new value
// (["set",[]] when it became empty), not the symmetric difference; the
// executor's Update2Modify does that only for columns with exactly one atom,
// so optional columns are handled here.
func update2Modify(t *ovsdb.TableSchema, id ovsdb.UUID, old, new ovsdb.Row, cols []string) ([]byte, bool) {
	var rest, optional []string
	for _, name := range cols {
		c, ok := t.Columns[name]
		if ok && c.Type.Value == nil && c.Type.Min == 0 && c.Type.Max == 1 {
			if !old.Get(c).Equal(new.Get(c)) {
				optional = append(optional, name)
			}
			continue
		}
		rest = append(rest, name)
	}
	var d []byte
	ok := false
	if len(rest) > 0 {
		var r []byte
		if r, ok = ovsdb.Update2Modify(t, old, new, rest); ok {
			d = r
		}
	}
	if len(optional) == 0 {
		return d, ok
	}
	o := ovsdb.RowJSON(t, id, new, optional)
	if !ok {
		return o, true
	}
	out := make([]byte, 0, len(d)+len(o))
	out = append(out, d[:len(d)-1]...)
	out = append(out, ',')
	return append(out, o[1:]...), true
}
