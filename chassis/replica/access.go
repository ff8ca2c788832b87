package replica

import (
	"fmt"
	"sort"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// UUID returns a row's _uuid.
func UUID(r ovsdb.Row) string { return Ref(r, "_uuid") }

// Str returns a string column, or the single element of an optional
// string column, or "".
func Str(r ovsdb.Row, col string) string {
	for _, a := range atoms(r[col]) {
		if s, ok := a.(string); ok {
			return s
		}
	}
	return ""
}

// Int returns an integer column (JSON numbers decode as float64), or the
// single element of an optional one, or 0.
func Int(r ovsdb.Row, col string) int64 {
	for _, a := range atoms(r[col]) {
		switch n := a.(type) {
		case float64:
			return int64(n)
		case int:
			return int64(n)
		case int64:
			return n
		}
	}
	return 0
}

// Bool returns a boolean column, or the single element of an optional
// one, and whether it was set.
func Bool(r ovsdb.Row, col string) (value, set bool) {
	for _, a := range atoms(r[col]) {
		if b, ok := a.(bool); ok {
			return b, true
		}
	}
	return false, false
}

// Ref returns a UUID column, or the single element of an optional one,
// or "".
func Ref(r ovsdb.Row, col string) string {
	for _, a := range atoms(r[col]) {
		if u, ok := a.(ovsdb.UUID); ok {
			return u.GoUUID
		}
	}
	return ""
}

// Refs returns the UUIDs of a set-of-UUID column, sorted.
func Refs(r ovsdb.Row, col string) []string {
	var out []string
	for _, a := range atoms(r[col]) {
		if u, ok := a.(ovsdb.UUID); ok {
			out = append(out, u.GoUUID)
		}
	}
	sort.Strings(out)
	return out
}

// Strs returns the strings of a set-of-string column, in stored order.
func Strs(r ovsdb.Row, col string) []string {
	var out []string
	for _, a := range atoms(r[col]) {
		if s, ok := a.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Map returns a string-to-string map column; other key or value types
// are formatted with %v.
func Map(r ovsdb.Row, col string) map[string]string {
	m := mapOf(r[col])
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[str(k)] = str(v)
	}
	return out
}

// MapValue returns the value of key k in a string-keyed map column, and
// whether it is there, without copying the map.
func MapValue(r ovsdb.Row, col, k string) (string, bool) {
	v, ok := mapOf(r[col])[k]
	if !ok {
		return "", false
	}
	return str(v), true
}

// IntMap returns an integer-to-UUID map column (Logical_Router's...) as
// key -> UUID string, or integer-to-anything as key -> %v.
func IntMap(r ovsdb.Row, col string) map[int64]string {
	m := mapOf(r[col])
	out := make(map[int64]string, len(m))
	for k, v := range m {
		var ik int64
		switch n := k.(type) {
		case float64:
			ik = int64(n)
		case int:
			ik = int64(n)
		case int64:
			ik = n
		}
		out[ik] = str(v)
	}
	return out
}

func str(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case ovsdb.UUID:
		return v.GoUUID
	case float64:
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprint(a)
}
