package ovsdb

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Atom is one OVSDB atom. Its dynamic type is one of int64 (integer),
// float64 (real), bool (boolean), string (string) or UUID (uuid).
type Atom = any

// Datum is the value of one column: a set of atoms in ascending order, or
// a map when Values is non-nil (Values[i] belongs to Keys[i]). Datums are
// immutable once stored in a Row; operations build new ones.
type Datum struct {
	Keys   []Atom
	Values []Atom
}

// Len returns the number of elements or pairs.
func (d Datum) Len() int { return len(d.Keys) }

// compareAtoms orders two atoms of the same type.
func compareAtoms(a, b Atom) int {
	switch x := a.(type) {
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
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.(string))
	case UUID:
		y := b.(UUID)
		return bytes.Compare(x[:], y[:])
	}
	panic(fmt.Sprintf("ovsdb: compare atoms of type %T and %T", a, b))
}

// atomsEqual reports whether two atoms of the same type are equal. Every
// atom type is comparable and reals are never NaN, so interface equality
// is exact (and cheaper than a type switch).
func atomsEqual(a, b Atom) bool { return a == b }

// Equal reports whether two datums of the same type hold the same value.
func (d Datum) Equal(o Datum) bool {
	if len(d.Keys) != len(o.Keys) {
		return false
	}
	for i := range d.Keys {
		if !atomsEqual(d.Keys[i], o.Keys[i]) {
			return false
		}
	}
	if d.Values != nil || o.Values != nil {
		if len(d.Values) != len(o.Values) {
			return false
		}
		for i := range d.Values {
			if !atomsEqual(d.Values[i], o.Values[i]) {
				return false
			}
		}
	}
	return true
}

// find returns the position of key k in d, or -1.
func (d Datum) find(k Atom) int {
	n := len(d.Keys)
	if n < 8 {
		for i, x := range d.Keys {
			if atomsEqual(x, k) {
				return i
			}
		}
		return -1
	}
	i := sort.Search(n, func(i int) bool { return compareAtoms(d.Keys[i], k) >= 0 })
	if i < n && atomsEqual(d.Keys[i], k) {
		return i
	}
	return -1
}

// containsUUID is Contains for a UUID key, without boxing it.
func containsUUID(d Datum, u UUID) bool {
	n := len(d.Keys)
	if n < 8 {
		for _, k := range d.Keys {
			if k.(UUID) == u {
				return true
			}
		}
		return false
	}
	i := sort.Search(n, func(i int) bool {
		ki := d.Keys[i].(UUID)
		return bytes.Compare(ki[:], u[:]) >= 0
	})
	return i < n && d.Keys[i].(UUID) == u
}

// Contains reports whether the set holds k (or the map has key k).
func (d Datum) Contains(k Atom) bool { return d.find(k) >= 0 }

// defaultAtom is the type's default atom (ovsdb(7)).
func defaultAtom(t AtomicType) Atom {
	switch t {
	case TypeInteger:
		return int64(0)
	case TypeReal:
		return float64(0)
	case TypeBoolean:
		return false
	case TypeString:
		return ""
	case TypeUUID:
		return UUID{}
	}
	panic(fmt.Sprintf("ovsdb: no default for type %v", t))
}

// defaultDatum returns a column's default value: empty when min is 0, else
// the default atom (and value).
func defaultDatum(t *ColumnType) Datum {
	if t.Min == 0 {
		if t.Value != nil {
			return Datum{Keys: []Atom{}, Values: []Atom{}}
		}
		return Datum{}
	}
	d := Datum{Keys: []Atom{defaultAtom(t.Key.Type)}}
	if t.Value != nil {
		d.Values = []Atom{defaultAtom(t.Value.Type)}
	}
	return d
}

// --- JSON encoding ---

func appendAtomJSON(b []byte, a Atom) []byte {
	switch x := a.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendJSONReal(b, x)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case string:
		return appendJSONString(b, x)
	case UUID:
		b = append(b, `["uuid",`...)
		b = appendUUIDString(b, x)
		return append(b, ']')
	}
	panic(fmt.Sprintf("ovsdb: cannot encode atom of type %T", a))
}

// appendDatumJSON appends d in RFC 7047 <value> form for a column of type t.
func appendDatumJSON(b []byte, t *ColumnType, d Datum) []byte {
	if t.Value != nil {
		b = append(b, `["map",[`...)
		for i := range d.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendAtomJSON(b, d.Keys[i])
			b = append(b, ',')
			b = appendAtomJSON(b, d.Values[i])
			b = append(b, ']')
		}
		return append(b, "]]"...)
	}
	if len(d.Keys) == 1 {
		return appendAtomJSON(b, d.Keys[0])
	}
	b = append(b, `["set",[`...)
	for i, k := range d.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAtomJSON(b, k)
	}
	return append(b, "]]"...)
}

// --- JSON decoding ---

// symbolResolver maps a named-uuid to a UUID; nil means named-uuids are not
// allowed (as in storage recovery).
type symbolResolver interface {
	resolve(name string) UUID
	// resolveBytes is resolve for a name still in the request's bytes.
	resolveBytes(name []byte) UUID
}

func parseAtomJSON(v any, b *BaseType, syms symbolResolver) (Atom, *Error) {
	// The decoded tree already holds atoms boxed in interfaces: return v
	// itself rather than re-boxing its value, which would allocate.
	switch b.Type {
	case TypeInteger:
		if _, ok := v.(int64); ok {
			return v, nil
		}
		return nil, syntaxErr(ErrSyntax, v, "expected integer")
	case TypeReal:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return v, nil
		}
		return nil, syntaxErr(ErrSyntax, v, "expected real")
	case TypeBoolean:
		if _, ok := v.(bool); ok {
			return v, nil
		}
		return nil, syntaxErr(ErrSyntax, v, "expected boolean")
	case TypeString:
		if _, ok := v.(string); ok {
			return v, nil
		}
		return nil, syntaxErr(ErrSyntax, v, "expected string")
	case TypeUUID:
		if a, ok := asArray(v); ok && len(a) == 2 {
			s, ok := a[1].(string)
			if ok {
				switch a[0] {
				case "uuid":
					u, err := ParseUUID(s)
					if err != nil {
						return nil, syntaxErr(ErrSyntax, v, "%q is not a valid UUID", s)
					}
					return u, nil
				case "named-uuid":
					if syms == nil {
						return nil, syntaxErr(ErrSyntax, v, "named-uuid %q not allowed here", s)
					}
					return syms.resolve(s), nil
				}
			}
		}
		return nil, syntaxErr(ErrSyntax, v, "expected uuid")
	}
	panic(fmt.Sprintf("ovsdb: bad atomic type %v", b.Type))
}

// parseDatumJSON decodes a <value> for type t, sorts it and checks its size
// and, for each atom, the base type's constraints.
func parseDatumJSON(v any, t *ColumnType, syms symbolResolver) (Datum, *Error) {
	var d Datum
	if raw, ok := v.(*jsonRaw); ok {
		if d, ok := rawDatum(raw, t, syms); ok {
			return d, nil
		}
		// Something is wrong (or unusual): the general path below says
		// what, from the decoded value, exactly as for a decoded tree.
		v = raw.decoded()
	}
	if t.Value != nil {
		a, ok := asArray(v)
		if !ok || len(a) != 2 || a[0] != "map" {
			return d, syntaxErr(ErrSyntax, v, "expected [\"map\", <array>]")
		}
		pairs, ok := asArray(a[1])
		if !ok {
			return d, syntaxErr(ErrSyntax, v, "expected [\"map\", <array>]")
		}
		d.Keys = make([]Atom, 0, len(pairs))
		d.Values = make([]Atom, 0, len(pairs))
		for _, p := range pairs {
			pa, ok := asArray(p)
			if !ok || len(pa) != 2 {
				return d, syntaxErr(ErrSyntax, p, "expected 2-element array")
			}
			k, err := parseAtomJSON(pa[0], &t.Key, syms)
			if err != nil {
				return d, err
			}
			val, err := parseAtomJSON(pa[1], t.Value, syms)
			if err != nil {
				return d, err
			}
			d.Keys = append(d.Keys, k)
			d.Values = append(d.Values, val)
		}
		if len(d.Keys) < t.Min || len(d.Keys) > t.Max {
			return d, sizeErr("map", v, t, len(d.Keys))
		}
		if dup := sortAtoms(d.Keys, d.Values); dup {
			return d, newErr(ErrOVSDB, "map contains duplicate key")
		}
	} else {
		if a, ok := asArray(v); ok && len(a) == 2 && a[0] == "set" {
			elems, ok := asArray(a[1])
			if !ok {
				return d, syntaxErr(ErrSyntax, v, "expected set")
			}
			d.Keys = make([]Atom, 0, len(elems))
			for _, e := range elems {
				k, err := parseAtomJSON(e, &t.Key, syms)
				if err != nil {
					return d, err
				}
				d.Keys = append(d.Keys, k)
			}
			if len(d.Keys) < t.Min || len(d.Keys) > t.Max {
				return d, sizeErr("set", v, t, len(d.Keys))
			}
			if dup := sortAtoms(d.Keys, d.Values); dup {
				return d, newErr(ErrOVSDB, "set contains duplicate")
			}
		} else {
			k, err := parseAtomJSON(v, &t.Key, syms)
			if err != nil {
				return d, err
			}
			if t.Max < 1 || t.Min > 1 {
				return d, sizeErr("set", v, t, 1)
			}
			d.Keys = []Atom{k}
		}
	}
	if err := checkDatumConstraints(t, d); err != nil {
		return d, err
	}
	return d, nil
}

// rawDatum is parseDatumJSON's fast path: it reads a datum straight from
// the bytes of a validated set, map or UUID, and declines (false) whenever
// the general path might report an error, so that only that path decides
// errors. Like it, it resolves named-uuids in document order, and since
// resolving a name twice gives the same UUID, declining half way through
// changes nothing.
func rawDatum(raw *jsonRaw, t *ColumnType, syms symbolResolver) (Datum, bool) {
	r := jsonReader{data: raw.data, intern: raw.intern}
	var d Datum
	if !r.consume('[') {
		return d, false
	}
	tag, ok := r.plainString()
	if !ok {
		return d, false
	}
	r.pos += len(tag) + 2
	if !r.consume(',') {
		return d, false
	}
	var buf [16]Atom
	switch {
	case t.Value != nil:
		if string(tag) != "map" || !r.consume('[') {
			return d, false
		}
		var vbuf [16]Atom
		keys, values := buf[:0], vbuf[:0]
		if !r.consume(']') {
			for {
				if !r.consume('[') {
					return d, false
				}
				k, ok := r.rawAtom(&t.Key, syms)
				if !ok || !r.consume(',') {
					return d, false
				}
				v, ok := r.rawAtom(t.Value, syms)
				if !ok || !r.consume(']') {
					return d, false
				}
				keys, values = append(keys, k), append(values, v)
				if r.consume(']') {
					break
				}
				if !r.consume(',') {
					return d, false
				}
			}
		}
		if !r.consume(']') || !r.atEnd() || len(keys) < t.Min || len(keys) > t.Max {
			return d, false
		}
		d.Keys = append(make([]Atom, 0, len(keys)), keys...)
		d.Values = append(make([]Atom, 0, len(values)), values...)
	case string(tag) == "set":
		if !r.consume('[') {
			return d, false
		}
		keys := buf[:0]
		if !r.consume(']') {
			for {
				k, ok := r.rawAtom(&t.Key, syms)
				if !ok {
					return d, false
				}
				keys = append(keys, k)
				if r.consume(']') {
					break
				}
				if !r.consume(',') {
					return d, false
				}
			}
		}
		if !r.consume(']') || !r.atEnd() || len(keys) < t.Min || len(keys) > t.Max {
			return d, false
		}
		d.Keys = append(make([]Atom, 0, len(keys)), keys...)
	default:
		// A single UUID: ["uuid", "..."] or ["named-uuid", "..."].
		if t.Key.Type != TypeUUID || t.Max < 1 || t.Min > 1 {
			return d, false
		}
		r.pos = 0
		k, ok := r.rawAtom(&t.Key, syms)
		if !ok || !r.atEnd() {
			return d, false
		}
		d.Keys = []Atom{k}
	}
	if sortAtoms(d.Keys, d.Values) {
		return d, false
	}
	if checkDatumConstraints(t, d) != nil {
		return d, false
	}
	return d, true
}

// consume skips white space and then c, if it is next.
func (r *jsonReader) consume(c byte) bool {
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		r.skipSpace()
		return true
	}
	return false
}

func (r *jsonReader) atEnd() bool {
	r.skipSpace()
	return r.pos == len(r.data)
}

// rawAtom reads one atom of type b as parseAtomJSON would accept it.
func (r *jsonReader) rawAtom(b *BaseType, syms symbolResolver) (Atom, bool) {
	r.skipSpace()
	if r.pos >= len(r.data) {
		return nil, false
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		if b.Type != TypeString {
			return nil, false
		}
		v, err := r.strAny()
		return v, err == nil
	case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f':
		var v any
		var err error
		switch c {
		case 't':
			v, err = r.lit("true", true)
		case 'f':
			v, err = r.lit("false", false)
		default:
			v, err = r.number()
		}
		if err != nil {
			return nil, false
		}
		a, perr := parseAtomJSON(v, b, nil)
		return a, perr == nil
	case c == '[':
		if b.Type != TypeUUID {
			return nil, false
		}
		r.pos++
		r.skipSpace()
		tag, ok := r.plainString()
		if !ok {
			return nil, false
		}
		r.pos += len(tag) + 2
		if !r.consume(',') {
			return nil, false
		}
		s, ok := r.plainString()
		if !ok {
			return nil, false
		}
		r.pos += len(s) + 2
		if !r.consume(']') {
			return nil, false
		}
		switch string(tag) {
		case "uuid":
			u, ok := parseUUIDBytes(s)
			return u, ok
		case "named-uuid":
			if syms == nil {
				return nil, false
			}
			return syms.resolveBytes(s), true
		}
	}
	return nil, false
}

func sizeErr(what string, v any, t *ColumnType, n int) *Error {
	if t.Min == t.Max {
		return syntaxErr(ErrSyntax, v, "%s must have exactly one member but %d are present", what, n)
	}
	if t.Max == Unlimited {
		return syntaxErr(ErrSyntax, v, "%s must have %d to %d members but %d are present", what, t.Min, uint32(math.MaxUint32), n)
	}
	return syntaxErr(ErrSyntax, v, "%s must have %d to %d members but %d are present", what, t.Min, t.Max, n)
}

// sortDatum sorts d by key and reports whether a key repeats.
func sortDatum(d *Datum) bool { return sortAtoms(d.Keys, d.Values) }

// sortAtoms sorts keys (and values alongside) and reports whether a key
// repeats. It takes the slices rather than a *Datum so that datums being
// built do not escape to the heap.
func sortAtoms(keys, values []Atom) bool {
	n := len(keys)
	sorted := true
	for i := 1; i < n; i++ {
		if compareAtoms(keys[i-1], keys[i]) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return false
	}
	if values != nil {
		sort.Sort(pairSorter{keys, values})
	} else {
		sort.Slice(keys, func(i, j int) bool { return compareAtoms(keys[i], keys[j]) < 0 })
	}
	for i := 1; i < n; i++ {
		if compareAtoms(keys[i-1], keys[i]) == 0 {
			return true
		}
	}
	return false
}

type pairSorter struct{ keys, values []Atom }

func (p pairSorter) Len() int           { return len(p.keys) }
func (p pairSorter) Less(i, j int) bool { return compareAtoms(p.keys[i], p.keys[j]) < 0 }
func (p pairSorter) Swap(i, j int) {
	p.keys[i], p.keys[j] = p.keys[j], p.keys[i]
	p.values[i], p.values[j] = p.values[j], p.values[i]
}

// checkDatumConstraints checks every atom against enum, range and length
// constraints.
func checkDatumConstraints(t *ColumnType, d Datum) *Error {
	for _, k := range d.Keys {
		if err := checkAtomConstraints(&t.Key, k); err != nil {
			return err
		}
	}
	if t.Value != nil {
		for _, v := range d.Values {
			if err := checkAtomConstraints(t.Value, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkAtomConstraints(b *BaseType, a Atom) *Error {
	if b.Enum != nil {
		for _, e := range b.Enum {
			if atomsEqual(e, a) {
				return nil
			}
		}
		return newErr(ErrConstraint, "%s is not one of the allowed values (%s)", atomString(a), atomsString(b.Enum))
	}
	switch x := a.(type) {
	case int64:
		if x < b.MinInteger || x > b.MaxInteger {
			switch {
			case b.MinInteger != math.MinInt64 && b.MaxInteger != math.MaxInt64:
				return newErr(ErrConstraint, "%d is not in the valid range %d to %d (inclusive)", x, b.MinInteger, b.MaxInteger)
			case b.MinInteger != math.MinInt64:
				return newErr(ErrConstraint, "%d is less than minimum allowed value %d", x, b.MinInteger)
			default:
				return newErr(ErrConstraint, "%d is greater than maximum allowed value %d", x, b.MaxInteger)
			}
		}
	case float64:
		if x < b.MinReal || x > b.MaxReal {
			switch {
			case b.MinReal != -math.MaxFloat64 && b.MaxReal != math.MaxFloat64:
				return newErr(ErrConstraint, "%s is not in the valid range %s to %s (inclusive)", realString(x), realString(b.MinReal), realString(b.MaxReal))
			case b.MinReal != -math.MaxFloat64:
				return newErr(ErrConstraint, "%s is less than minimum allowed value %s", realString(x), realString(b.MinReal))
			default:
				return newErr(ErrConstraint, "%s is greater than maximum allowed value %s", realString(x), realString(b.MaxReal))
			}
		}
	case string:
		if b.MinLength > 0 || b.MaxLength < math.MaxInt32 {
			n := len([]rune(x))
			if n < b.MinLength {
				return newErr(ErrConstraint, "\"%s\" length %d is less than minimum allowed length %d", x, n, b.MinLength)
			}
			if n > b.MaxLength {
				return newErr(ErrConstraint, "\"%s\" length %d is greater than maximum allowed length %d", x, n, b.MaxLength)
			}
		}
	}
	return nil
}

// --- human-readable forms used in error details ---

func realString(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func atomString(a Atom) string {
	switch x := a.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return realString(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		if stringNeedsQuotes(x) {
			return string(appendJSONString(nil, x))
		}
		return x
	case UUID:
		return x.String()
	}
	return fmt.Sprint(a)
}

func stringNeedsQuotes(s string) bool {
	if s == "" || s == "true" || s == "false" {
		return true
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return true
		}
	}
	return isUUIDString(s)
}

func atomsString(l []Atom) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, a := range l {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(atomString(a))
	}
	sb.WriteByte(']')
	return sb.String()
}
