package client

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// decodeUpdates2 decodes a <table-updates2> object (ovsdb-server(5)) in
// one pass over the bytes, straight into the values libovsdb's
// ovsdb.Row decoding produces (string, float64, bool, ovsdb.UUID,
// ovsdb.OvsSet, ovsdb.OvsMap), without building a generic map first and
// re-encoding each set, map and UUID to decode it again.
func decodeUpdates2(raw []byte) (TableUpdates, error) {
	d := decoder{b: raw}
	out := TableUpdates{}
	err := d.object(func(table string) error {
		tu := map[string]RowUpdate{}
		out[table] = tu
		return d.object(func(uuid string) error {
			var ru RowUpdate
			if err := d.object(func(kind string) error {
				switch kind {
				case Initial, Insert, Modify:
					row := ovsdb.Row{}
					if err := d.object(func(col string) error {
						v, err := d.value()
						if err != nil {
							return err
						}
						cv, err := ovsNotation(v)
						if err != nil {
							return fmt.Errorf("column %s: %w", col, err)
						}
						row[col] = cv
						return nil
					}); err != nil {
						return err
					}
					ru = RowUpdate{Kind: kind, Row: row}
				case Delete:
					if _, err := d.value(); err != nil {
						return err
					}
					ru = RowUpdate{Kind: Delete}
				default:
					return fmt.Errorf("unknown update kind %q", kind)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("table %s row %s: %w", table, uuid, err)
			}
			if ru.Kind == "" {
				return fmt.Errorf("table %s row %s: empty row update", table, uuid)
			}
			tu[uuid] = ru
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("table updates: %w", err)
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, fmt.Errorf("table updates: data after the object at offset %d", d.i)
	}
	return out, nil
}

// ovsNotation turns a decoded JSON value into OVSDB's Go notation as
// libovsdb's ovsdb.Row decoding does: ["uuid"|"named-uuid", s] is an
// ovsdb.UUID, ["set", [...]] an ovsdb.OvsSet, ["map", [[k, v]...]] an
// ovsdb.OvsMap; anything else stays as decoded.
func ovsNotation(v any) (any, error) {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return v, nil
	}
	switch a[0] {
	case "uuid", "named-uuid":
		if len(a) != 2 {
			return nil, fmt.Errorf("uuid %v: want 2 elements", a)
		}
		s, ok := a[1].(string)
		if !ok {
			return nil, fmt.Errorf("uuid %v: not a string", a)
		}
		return ovsdb.UUID{GoUUID: s}, nil
	case "set":
		if len(a) != 2 {
			return nil, fmt.Errorf("set %v: want 2 elements", a)
		}
		elems, ok := a[1].([]any)
		if !ok {
			return nil, fmt.Errorf("set %v: elements not an array", a)
		}
		set := ovsdb.OvsSet{GoSet: make([]any, 0, len(elems))}
		for _, e := range elems {
			ce, err := ovsNotation(e)
			if err != nil {
				return nil, err
			}
			set.GoSet = append(set.GoSet, ce)
		}
		return set, nil
	case "map":
		if len(a) != 2 {
			return nil, fmt.Errorf("map %v: want 2 elements", a)
		}
		pairs, ok := a[1].([]any)
		if !ok {
			return nil, fmt.Errorf("map %v: pairs not an array", a)
		}
		m := ovsdb.OvsMap{GoMap: make(map[any]any, len(pairs))}
		for _, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("map %v: pair %v is not [key, value]", a, p)
			}
			var k, val any = kv[0], kv[1]
			for _, x := range []*any{&k, &val} {
				if s, ok := (*x).([]any); ok {
					if len(s) != 2 || s[0] == "map" {
						return nil, fmt.Errorf("map %v: pair %v: want atoms", a, p)
					}
					c, err := ovsNotation(s)
					if err != nil {
						return nil, err
					}
					*x = c
				}
			}
			m.GoMap[k] = val
		}
		return m, nil
	}
	return v, nil
}

// decoder is a JSON reader for the values OVSDB sends (RFC 7159).
type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("json at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

// object reads an object, calling member for each key with the decoder
// at the member's value, which member must consume.
func (d *decoder) object(member func(key string) error) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return d.errorf("want an object")
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.ws()
		k, err := d.str()
		if err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.errorf("want ':'")
		}
		d.i++
		if err := member(k); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.errorf("unterminated object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("want ',' or '}'")
		}
	}
}

// value reads any JSON value as encoding/json decodes it into an any.
func (d *decoder) value() (any, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, d.errorf("unexpected end")
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '[':
		d.i++
		a := []any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return a, nil
		}
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			d.ws()
			if d.i >= len(d.b) {
				return nil, d.errorf("unterminated array")
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return a, nil
			default:
				return nil, d.errorf("want ',' or ']'")
			}
		}
	case c == '{':
		m := map[string]any{}
		err := d.object(func(k string) error {
			v, err := d.value()
			m[k] = v
			return err
		})
		return m, err
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.i
		for d.i < len(d.b) {
			c := d.b[d.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				d.i++
				continue
			}
			break
		}
		tok := d.b[start:d.i]
		if !json.Valid(tok) {
			return nil, d.errorf("bad number %q", tok)
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return nil, d.errorf("number %q: %v", tok, err)
		}
		return f, nil
	}
	return nil, d.errorf("unexpected %q", d.b[d.i])
}

func (d *decoder) lit(s string) error {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return d.errorf("want %s", s)
	}
	d.i += len(s)
	return nil
}

// str reads a string. Plain ASCII without escapes is taken as is; the
// rest is left to encoding/json (escapes, invalid UTF-8 replaced).
func (d *decoder) str() (string, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", d.errorf("want a string")
	}
	start := d.i
	d.i++
	plain := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if plain {
				return string(d.b[start+1 : d.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return "", d.errorf("string: %v", err)
			}
			return s, nil
		case c == '\\':
			plain = false
			d.i += 2
			continue
		case c < 0x20:
			return "", d.errorf("control character in string")
		case c >= utf8.RuneSelf:
			plain = false
		}
		d.i++
	}
	return "", d.errorf("unterminated string")
}
