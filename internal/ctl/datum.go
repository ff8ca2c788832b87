package ctl

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// UUID is a row reference atom. Placeholders for rows inserted by the
// current transaction are UUIDs too, replaced by named-uuid at commit.
type UUID string

// Atom is one of string, int64, float64, bool or UUID.
type Atom = any

// Datum is a column value: a sorted, duplicate-free list of keys, and for
// maps the values paired with them.
type Datum struct {
	Keys []Atom
	Vals []Atom // nil unless the column is a map
}

// Len is the number of elements.
func (d Datum) Len() int { return len(d.Keys) }

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a textual UUID.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// compareAtoms orders atoms of the same type as OVSDB does.
func compareAtoms(a, b Atom) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case UUID:
		return strings.Compare(string(x), string(b.(UUID)))
	}
	panic(fmt.Sprintf("ctl: compare atoms of type %T", a))
}

// normalize sorts d by key and drops duplicate keys (the last value wins).
func (d Datum) normalize() Datum {
	idx := make([]int, len(d.Keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return compareAtoms(d.Keys[idx[i]], d.Keys[idx[j]]) < 0 })
	out := Datum{}
	if d.Vals != nil {
		out.Vals = []Atom{}
	}
	for _, i := range idx {
		n := len(out.Keys)
		if n > 0 && compareAtoms(out.Keys[n-1], d.Keys[i]) == 0 {
			if d.Vals != nil {
				out.Vals[n-1] = d.Vals[i]
			}
			continue
		}
		out.Keys = append(out.Keys, d.Keys[i])
		if d.Vals != nil {
			out.Vals = append(out.Vals, d.Vals[i])
		}
	}
	if out.Keys == nil {
		out.Keys = []Atom{}
	}
	return out
}

// Find returns the index of key k, or -1.
func (d Datum) Find(k Atom) int {
	for i, x := range d.Keys {
		if compareAtoms(x, k) == 0 {
			return i
		}
	}
	return -1
}

// Equal reports whether two normalized datums are equal.
func (d Datum) Equal(e Datum) bool {
	if len(d.Keys) != len(e.Keys) {
		return false
	}
	for i := range d.Keys {
		if compareAtoms(d.Keys[i], e.Keys[i]) != 0 {
			return false
		}
		if d.Vals != nil && compareAtoms(d.Vals[i], e.Vals[i]) != 0 {
			return false
		}
	}
	return true
}

// Clone copies d.
func (d Datum) Clone() Datum {
	out := Datum{Keys: append([]Atom{}, d.Keys...)}
	if d.Vals != nil {
		out.Vals = append([]Atom{}, d.Vals...)
	}
	return out
}

// Union adds e's elements to d (for maps, existing keys keep d's value).
func (d Datum) Union(e Datum) Datum {
	out := d.Clone()
	for i, k := range e.Keys {
		if out.Find(k) >= 0 {
			continue
		}
		out.Keys = append(out.Keys, k)
		if out.Vals != nil {
			out.Vals = append(out.Vals, e.Vals[i])
		}
	}
	return out.normalize()
}

// Subtract removes e's elements from d. For maps, an element of e with
// Vals == nil removes by key; otherwise key and value must both match.
func (d Datum) Subtract(e Datum) Datum {
	out := Datum{Keys: []Atom{}}
	if d.Vals != nil {
		out.Vals = []Atom{}
	}
	for i, k := range d.Keys {
		j := e.Find(k)
		if j >= 0 && (d.Vals == nil || e.Vals == nil || compareAtoms(d.Vals[i], e.Vals[j]) == 0) {
			continue
		}
		out.Keys = append(out.Keys, k)
		if d.Vals != nil {
			out.Vals = append(out.Vals, d.Vals[i])
		}
	}
	return out
}

// Includes reports whether every element of e is in d.
func (d Datum) Includes(e Datum) bool {
	for i, k := range e.Keys {
		j := d.Find(k)
		if j < 0 {
			return false
		}
		if d.Vals != nil && e.Vals != nil && compareAtoms(d.Vals[j], e.Vals[i]) != 0 {
			return false
		}
	}
	return true
}

// MapGet returns the value for key k in a map datum.
func (d Datum) MapGet(k Atom) (Atom, bool) {
	i := d.Find(k)
	if i < 0 || d.Vals == nil {
		return nil, false
	}
	return d.Vals[i], true
}

// StrMap returns a string-to-string map datum as a Go map.
func (d Datum) StrMap() map[string]string {
	m := map[string]string{}
	for i, k := range d.Keys {
		ks, _ := k.(string)
		vs, _ := d.Vals[i].(string)
		m[ks] = vs
	}
	return m
}

// Strings returns the string keys of d.
func (d Datum) Strings() []string {
	var out []string
	for _, k := range d.Keys {
		if s, ok := k.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Str returns the single string of d, or "".
func (d Datum) Str() string {
	if len(d.Keys) == 1 {
		if s, ok := d.Keys[0].(string); ok {
			return s
		}
	}
	return ""
}

// Int returns the single integer of d and whether there was one.
func (d Datum) Int() (int64, bool) {
	if len(d.Keys) == 1 {
		if i, ok := d.Keys[0].(int64); ok {
			return i, true
		}
	}
	return 0, false
}

// Bool returns the single boolean of d and whether there was one.
func (d Datum) Bool() (bool, bool) {
	if len(d.Keys) == 1 {
		if b, ok := d.Keys[0].(bool); ok {
			return b, true
		}
	}
	return false, false
}

// UUIDs returns the UUID keys of d.
func (d Datum) UUIDs() []UUID {
	var out []UUID
	for _, k := range d.Keys {
		if u, ok := k.(UUID); ok {
			out = append(out, u)
		}
	}
	return out
}

// Set builds a set datum.
func Set(atoms ...Atom) Datum { return Datum{Keys: append([]Atom{}, atoms...)}.normalize() }

// StrSet builds a set of strings.
func StrSet(ss ...string) Datum {
	d := Datum{Keys: []Atom{}}
	for _, s := range ss {
		d.Keys = append(d.Keys, s)
	}
	return d.normalize()
}

// Map builds a string map datum.
func Map(m map[string]string) Datum {
	d := Datum{Keys: []Atom{}, Vals: []Atom{}}
	for k, v := range m {
		d.Keys = append(d.Keys, k)
		d.Vals = append(d.Vals, v)
	}
	return d.normalize()
}

// defaultAtom is the OVSDB default value of a base type.
func defaultAtom(b *ovsdb.BaseType) Atom {
	switch b.Type {
	case ovsdb.TypeInteger:
		return int64(0)
	case ovsdb.TypeReal:
		return float64(0)
	case ovsdb.TypeBoolean:
		return false
	case ovsdb.TypeUUID:
		return UUID("00000000-0000-0000-0000-000000000000")
	}
	return ""
}

// colType returns the key type, value type (nil unless a map), min and max of a column.
func colType(c *ovsdb.ColumnSchema) (key, val *ovsdb.BaseType, min, max int) {
	if c.TypeObj == nil {
		return &ovsdb.BaseType{Type: c.Type}, nil, 1, 1
	}
	min, max = c.TypeObj.Min(), c.TypeObj.Max()
	if max == ovsdb.Unlimited {
		max = math.MaxInt
	}
	return c.TypeObj.Key, c.TypeObj.Value, min, max
}

// DefaultDatum is the value of a column that was never set.
func DefaultDatum(c *ovsdb.ColumnSchema) Datum {
	key, val, min, _ := colType(c)
	d := Datum{Keys: []Atom{}}
	if val != nil {
		d.Vals = []Atom{}
	}
	if min == 1 && val == nil {
		d.Keys = append(d.Keys, defaultAtom(key))
	}
	return d
}

// atomFromWire converts a value decoded by libovsdb into an atom of type b.
func atomFromWire(b *ovsdb.BaseType, v any) (Atom, error) {
	switch b.Type {
	case ovsdb.TypeInteger:
		switch x := v.(type) {
		case float64:
			return int64(x), nil
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		}
	case ovsdb.TypeReal:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		}
	case ovsdb.TypeBoolean:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case ovsdb.TypeString:
		if x, ok := v.(string); ok {
			return x, nil
		}
	case ovsdb.TypeUUID:
		switch x := v.(type) {
		case ovsdb.UUID:
			return UUID(x.GoUUID), nil
		case string:
			return UUID(x), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T value %v for type %s", v, v, b.Type)
}

// DatumFromWire converts a column value from a select result.
func DatumFromWire(c *ovsdb.ColumnSchema, v any) (Datum, error) {
	key, val, _, _ := colType(c)
	d := Datum{Keys: []Atom{}}
	if val != nil {
		d.Vals = []Atom{}
		m, ok := v.(ovsdb.OvsMap)
		if !ok {
			return d, fmt.Errorf("expected a map, got %T", v)
		}
		for k, x := range m.GoMap {
			ka, err := atomFromWire(key, k)
			if err != nil {
				return d, err
			}
			va, err := atomFromWire(val, x)
			if err != nil {
				return d, err
			}
			d.Keys = append(d.Keys, ka)
			d.Vals = append(d.Vals, va)
		}
		return d.normalize(), nil
	}
	if s, ok := v.(ovsdb.OvsSet); ok {
		for _, x := range s.GoSet {
			a, err := atomFromWire(key, x)
			if err != nil {
				return d, err
			}
			d.Keys = append(d.Keys, a)
		}
		return d.normalize(), nil
	}
	a, err := atomFromWire(key, v)
	if err != nil {
		return d, err
	}
	d.Keys = append(d.Keys, a)
	return d, nil
}

// atomToWire renders an atom as RFC 7047 JSON; named maps placeholder UUIDs
// of rows inserted in this transaction to their uuid-name.
func atomToWire(a Atom, named map[UUID]string) any {
	if u, ok := a.(UUID); ok {
		if n, ok := named[u]; ok {
			return []any{"named-uuid", n}
		}
		return []any{"uuid", string(u)}
	}
	return a
}

// DatumToWire renders d as RFC 7047 JSON for column c.
func DatumToWire(c *ovsdb.ColumnSchema, d Datum, named map[UUID]string) any {
	_, val, min, max := colType(c)
	if val != nil {
		pairs := []any{}
		for i := range d.Keys {
			pairs = append(pairs, []any{atomToWire(d.Keys[i], named), atomToWire(d.Vals[i], named)})
		}
		return []any{"map", pairs}
	}
	if min == 1 && max == 1 && len(d.Keys) == 1 {
		return atomToWire(d.Keys[0], named)
	}
	elems := []any{}
	for _, k := range d.Keys {
		elems = append(elems, atomToWire(k, named))
	}
	return []any{"set", elems}
}

// DatumToJSON renders d as ovs-vsctl's --format=json output does: a set of one
// element as the bare atom.
func DatumToJSON(c *ovsdb.ColumnSchema, d Datum) any {
	_, val, _, _ := colType(c)
	if val == nil && len(d.Keys) == 1 {
		return atomToWire(d.Keys[0], nil)
	}
	return DatumToWire(c, d, nil)
}

// stringNeedsQuotes reports whether a string atom must be quoted so that it
// reads back as the same string.
func stringNeedsQuotes(s string) bool {
	if s == "" {
		return true
	}
	c := s[0]
	if !(isAlpha(c) || c == '_') {
		return true
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.') {
			return true
		}
	}
	return s == "true" || s == "false" || IsUUID(s)
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quoteString renders s as a C-style quoted string.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// AtomString formats an atom; bare leaves strings unquoted.
func AtomString(a Atom, bare bool) string {
	switch x := a.(type) {
	case string:
		if !bare && stringNeedsQuotes(x) {
			return quoteString(x)
		}
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case UUID:
		return string(x)
	}
	return fmt.Sprint(a)
}

// DatumString formats d as ovs-vsctl prints column values.
func DatumString(c *ovsdb.ColumnSchema, d Datum) string {
	_, val, _, max := colType(c)
	var b strings.Builder
	brackets := max > 1 || len(d.Keys) == 0 || val != nil
	if brackets {
		if val != nil {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
	}
	for i, k := range d.Keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(AtomString(k, false))
		if val != nil {
			b.WriteByte('=')
			b.WriteString(AtomString(d.Vals[i], false))
		}
	}
	if brackets {
		if val != nil {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	}
	return b.String()
}

// DatumBare formats d without quotes or brackets, elements separated by spaces.
func DatumBare(d Datum) string {
	parts := make([]string, 0, len(d.Keys))
	for i, k := range d.Keys {
		s := AtomString(k, true)
		if d.Vals != nil {
			s += "=" + AtomString(d.Vals[i], true)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
