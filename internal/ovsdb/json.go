package ovsdb

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON reader and writer tuned for OVSDB traffic.
// Decoding goes to a plain tree (map[string]any, *jsonArray, string, int64,
// float64, bool, nil) without reflection; integers without a fraction or
// exponent decode as int64 so that OVSDB's integer type keeps full range.

// jsonArray is a decoded JSON array. Its first elements live inline, so
// that the short arrays OVSDB is made of (["uuid", ...], ["set", [...]],
// key-value pairs) cost one allocation, and a pointer in an interface
// costs none.
type jsonArray struct {
	elems  []any
	inline [4]any
}

// asArray returns the elements of a decoded JSON array (of either tree).
func asArray(v any) ([]any, bool) {
	switch a := v.(type) {
	case *jsonArray:
		return a.elems, true
	case *jsonRaw:
		if d, ok := a.decoded().(*jsonArray); ok {
			return d.elems, true
		}
	}
	return nil, false
}

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 128

type jsonReader struct {
	data []byte
	pos  int
	// intern, when set, maps strings that recur in every transaction
	// (member names, table and column names, enum values) to an already
	// boxed copy, so that decoding them allocates nothing.
	intern map[string]any
	// lazy selects the lazy tree (see parseJSONLazy): objects decode as
	// *jsonObject, and containers at depth lazyDepth or deeper are only
	// validated and kept as *jsonRaw.
	lazy      bool
	lazyDepth int
}

// jsonRaw is a JSON object or array that the lazy reader validated but did
// not decode. Consumers decode it on demand (asArray, asObject), one level
// at a time, or read it directly (parseDatumJSON's fast path).
type jsonRaw struct {
	data   []byte
	intern map[string]any
	depth  int // nesting depth of data in the document it came from
	tree   any // the one-level decoding, once asked for
}

// decoded returns the value decoded one level deep: its own members or
// elements, with containers among them left raw.
func (j *jsonRaw) decoded() any {
	if j.tree == nil {
		r := jsonReader{data: j.data, intern: j.intern, lazy: true, lazyDepth: j.depth + 1}
		v, err := r.value(j.depth)
		if err != nil {
			panic(fmt.Sprintf("ovsdb: validated JSON does not decode: %v", err))
		}
		j.tree = v
	}
	return j.tree
}

// jsonObject is an object of the lazy tree: members in document order, a
// repeated name keeping only its last value (as a map would).
type jsonObject struct {
	members []jsonMember
	inline  [4]jsonMember  // an insert's members, or a small row's
	index   map[string]int // member positions, once the object is large
}

type jsonMember struct {
	key string
	val any
}

// get returns the value of member k.
func (o *jsonObject) get(k string) (any, bool) {
	if o.index != nil {
		i, ok := o.index[k]
		if !ok {
			return nil, false
		}
		return o.members[i].val, true
	}
	for i := range o.members {
		if o.members[i].key == k {
			return o.members[i].val, true
		}
	}
	return nil, false
}

// set adds or replaces member k.
func (o *jsonObject) set(k string, v any) {
	if o.index == nil {
		for i := range o.members {
			if o.members[i].key == k {
				o.members[i].val = v
				return
			}
		}
		o.members = append(o.members, jsonMember{k, v})
		if len(o.members) >= 16 {
			// Linear search would make a hostile object quadratic.
			o.index = make(map[string]int, 2*len(o.members))
			for i, m := range o.members {
				o.index[m.key] = i
			}
		}
		return
	}
	if i, ok := o.index[k]; ok {
		o.members[i].val = v
		return
	}
	o.index[k] = len(o.members)
	o.members = append(o.members, jsonMember{k, v})
}

// sorted appends the members to buf ordered by name.
func (o *jsonObject) sorted(buf []jsonMember) []jsonMember {
	buf = append(buf, o.members...)
	slices.SortFunc(buf, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	return buf
}

// asObject returns a decoded JSON object of either tree.
func asObject(v any) (*jsonObject, bool) {
	switch x := v.(type) {
	case *jsonObject:
		return x, true
	case *jsonRaw:
		o, ok := x.decoded().(*jsonObject)
		return o, ok
	case map[string]any:
		o := &jsonObject{}
		o.members = o.inline[:0]
		for _, k := range sortedKeys(x) {
			o.set(k, x[k])
		}
		return o, true
	}
	return nil, false
}

// parseJSON decodes one JSON document.
func parseJSON(data []byte) (any, error) { return parseJSONIntern(data, nil) }

// parseJSONIntern decodes one JSON document, reusing the strings of intern.
func parseJSONIntern(data []byte, intern map[string]any) (any, error) {
	return parseDocument(jsonReader{data: data, intern: intern})
}

// parseJSONLazy decodes one JSON document as the lazy tree: objects are
// *jsonObject, and objects and arrays nested depth levels deep or more are
// validated (the whole document is, as by parseJSON, with the same errors)
// but kept as *jsonRaw until a consumer asks. Execute reads the operations
// this way, so that rows and sets go straight from the bytes to datums.
func parseJSONLazy(data []byte, intern map[string]any, depth int) (any, error) {
	return parseDocument(jsonReader{data: data, intern: intern, lazy: true, lazyDepth: depth})
}

func parseDocument(r jsonReader) (any, error) {
	r.skipSpace()
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	r.skipSpace()
	if r.pos != len(r.data) {
		return nil, fmt.Errorf("json: trailing data at offset %d", r.pos)
	}
	return v, nil
}

func (r *jsonReader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) errf(format string, args ...any) error {
	return fmt.Errorf("json: offset %d: %s", r.pos, fmt.Sprintf(format, args...))
}

func (r *jsonReader) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, r.errf("nesting deeper than %d", maxJSONDepth)
	}
	if r.pos >= len(r.data) {
		return nil, r.errf("unexpected end of input")
	}
	c := r.data[r.pos]
	if r.lazy && (c == '{' || c == '[') {
		if depth >= r.lazyDepth {
			start := r.pos
			if err := r.skip(depth); err != nil {
				return nil, err
			}
			return &jsonRaw{data: r.data[start:r.pos], intern: r.intern, depth: depth}, nil
		}
		if c == '{' {
			return r.lazyObject(depth)
		}
	}
	switch {
	case c == '{':
		m := make(map[string]any)
		if err := r.members(depth, func(k string, v any) { m[k] = v }); err != nil {
			return nil, err
		}
		return m, nil
	case c == '[':
		r.pos++
		arr := &jsonArray{}
		arr.elems = arr.inline[:0]
		r.skipSpace()
		if r.pos < len(r.data) && r.data[r.pos] == ']' {
			r.pos++
			return arr, nil
		}
		for {
			r.skipSpace()
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr.elems = append(arr.elems, v)
			r.skipSpace()
			if r.pos >= len(r.data) {
				return nil, r.errf("unexpected end of array")
			}
			if r.data[r.pos] == ',' {
				r.pos++
				continue
			}
			if r.data[r.pos] == ']' {
				r.pos++
				return arr, nil
			}
			return nil, r.errf("expected ',' or ']'")
		}
	case c == '"':
		return r.strAny()
	case c == 't':
		return r.lit("true", true)
	case c == 'f':
		return r.lit("false", false)
	case c == 'n':
		return r.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	default:
		return nil, r.errf("unexpected character %q", c)
	}
}

// lazyObject is value's object case for the lazy tree.
func (r *jsonReader) lazyObject(depth int) (any, error) {
	o := &jsonObject{}
	o.members = o.inline[:0]
	if err := r.members(depth, o.set); err != nil {
		return nil, err
	}
	return o, nil
}

// members reads an object starting at its '{', handing each member to set
// in document order (the eager and the lazy tree share this loop, so both
// report the same errors at the same offsets).
func (r *jsonReader) members(depth int, set func(k string, v any)) error {
	r.pos++
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		return nil
	}
	for {
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return r.errf("expected object key")
		}
		k, err := r.key()
		if err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return r.errf("expected ':'")
		}
		r.pos++
		r.skipSpace()
		v, err := r.value(depth + 1)
		if err != nil {
			return err
		}
		set(k, v)
		r.skipSpace()
		if r.pos >= len(r.data) {
			return r.errf("unexpected end of object")
		}
		if r.data[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.data[r.pos] == '}' {
			r.pos++
			return nil
		}
		return r.errf("expected ',' or '}'")
	}
}

// skip validates one value exactly as value does (same errors at the same
// offsets) without building it.
func (r *jsonReader) skip(depth int) error {
	if depth > maxJSONDepth {
		return r.errf("nesting deeper than %d", maxJSONDepth)
	}
	if r.pos >= len(r.data) {
		return r.errf("unexpected end of input")
	}
	switch c := r.data[r.pos]; {
	case c == '{':
		r.pos++
		r.skipSpace()
		if r.pos < len(r.data) && r.data[r.pos] == '}' {
			r.pos++
			return nil
		}
		for {
			r.skipSpace()
			if r.pos >= len(r.data) || r.data[r.pos] != '"' {
				return r.errf("expected object key")
			}
			if err := r.skipStr(); err != nil {
				return err
			}
			r.skipSpace()
			if r.pos >= len(r.data) || r.data[r.pos] != ':' {
				return r.errf("expected ':'")
			}
			r.pos++
			r.skipSpace()
			if err := r.skip(depth + 1); err != nil {
				return err
			}
			r.skipSpace()
			if r.pos >= len(r.data) {
				return r.errf("unexpected end of object")
			}
			if r.data[r.pos] == ',' {
				r.pos++
				continue
			}
			if r.data[r.pos] == '}' {
				r.pos++
				return nil
			}
			return r.errf("expected ',' or '}'")
		}
	case c == '[':
		r.pos++
		r.skipSpace()
		if r.pos < len(r.data) && r.data[r.pos] == ']' {
			r.pos++
			return nil
		}
		for {
			r.skipSpace()
			if err := r.skip(depth + 1); err != nil {
				return err
			}
			r.skipSpace()
			if r.pos >= len(r.data) {
				return r.errf("unexpected end of array")
			}
			if r.data[r.pos] == ',' {
				r.pos++
				continue
			}
			if r.data[r.pos] == ']' {
				r.pos++
				return nil
			}
			return r.errf("expected ',' or ']'")
		}
	case c == '"':
		return r.skipStr()
	case c == 't':
		_, err := r.lit("true", true)
		return err
	case c == 'f':
		_, err := r.lit("false", false)
		return err
	case c == 'n':
		_, err := r.lit("null", nil)
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := r.number()
		return err
	default:
		return r.errf("unexpected character %q", c)
	}
}

// skipStr validates a string literal without building it. Anything but
// the plain case (escapes, errors) is left to str, which says what is wrong.
func (r *jsonReader) skipStr() error {
	start := r.pos + 1
	for i := start; i < len(r.data); i++ {
		c := r.data[i]
		if c == '"' {
			if !utf8.Valid(r.data[start:i]) {
				break
			}
			r.pos = i + 1
			return nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	_, err := r.str()
	return err
}

func (r *jsonReader) lit(s string, v any) (any, error) {
	if len(r.data)-r.pos < len(s) || string(r.data[r.pos:r.pos+len(s)]) != s {
		return nil, r.errf("invalid literal")
	}
	r.pos += len(s)
	return v, nil
}

func (r *jsonReader) number() (any, error) {
	start := r.pos
	isInt := true
	if r.data[r.pos] == '-' {
		r.pos++
	}
	digits := 0
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
		digits++
	}
	if digits == 0 {
		return nil, r.errf("invalid number")
	}
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		isInt = false
		r.pos++
		d := 0
		for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
			r.pos++
			d++
		}
		if d == 0 {
			return nil, r.errf("invalid number")
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		isInt = false
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		d := 0
		for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
			r.pos++
			d++
		}
		if d == 0 {
			return nil, r.errf("invalid number")
		}
	}
	s := string(r.data[start:r.pos])
	if isInt {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, r.errf("number %s out of range", s)
	}
	return f, nil
}

// plainString returns the raw bytes of a string literal without escapes
// at r.pos, or false.
func (r *jsonReader) plainString() ([]byte, bool) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return nil, false
	}
	for i := r.pos + 1; i < len(r.data) && i-r.pos <= 64; i++ {
		switch c := r.data[i]; {
		case c == '"':
			return r.data[r.pos+1 : i], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// key decodes an object member name, interned when possible.
func (r *jsonReader) key() (string, error) {
	if r.intern != nil {
		if b, ok := r.plainString(); ok {
			if v, ok := r.intern[string(b)]; ok {
				r.pos += len(b) + 2
				return v.(string), nil
			}
		}
	}
	return r.str()
}

// strAny decodes a string value as an interface, interned when possible.
func (r *jsonReader) strAny() (any, error) {
	if r.intern != nil {
		if b, ok := r.plainString(); ok {
			if v, ok := r.intern[string(b)]; ok {
				r.pos += len(b) + 2
				return v, nil
			}
		}
	}
	return r.str()
}

func (r *jsonReader) str() (string, error) {
	r.pos++ // opening quote
	start := r.pos
	// Fast path: no escapes.
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		if c == '"' {
			s := r.data[start:r.pos]
			r.pos++
			if !utf8.Valid(s) {
				return "", r.errf("invalid UTF-8 in string")
			}
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", r.errf("control character in string")
		}
		r.pos++
	}
	buf := append([]byte(nil), r.data[start:r.pos]...)
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !utf8.Valid(buf) {
				return "", r.errf("invalid UTF-8 in string")
			}
			return string(buf), nil
		case c < 0x20:
			return "", r.errf("control character in string")
		case c == '\\':
			r.pos++
			if r.pos >= len(r.data) {
				return "", r.errf("unterminated escape")
			}
			e := r.data[r.pos]
			r.pos++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				c1, ok := r.hex4()
				if !ok {
					return "", r.errf("invalid \\u escape")
				}
				ch := rune(c1)
				if utf16.IsSurrogate(ch) {
					if r.pos+1 < len(r.data) && r.data[r.pos] == '\\' && r.data[r.pos+1] == 'u' {
						r.pos += 2
						c2, ok := r.hex4()
						if !ok {
							return "", r.errf("invalid \\u escape")
						}
						ch = utf16.DecodeRune(ch, rune(c2))
					} else {
						ch = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, ch)
			default:
				return "", r.errf("invalid escape \\%c", e)
			}
		default:
			buf = append(buf, c)
			r.pos++
		}
	}
	return "", r.errf("unterminated string")
}

func (r *jsonReader) hex4() (uint16, bool) {
	if len(r.data)-r.pos < 4 {
		return 0, false
	}
	var v uint16
	for i := 0; i < 4; i++ {
		c := r.data[r.pos+i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(d)
	}
	r.pos += 4
	return v, true
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONReal formats a real the way ovsdb-server does: integral values
// without a fraction, others with enough digits to round-trip.
func appendJSONReal(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// appendJSONValue encodes a decoded tree (as produced by parseJSON).
func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return appendJSONReal(b, v)
	case string:
		return appendJSONString(b, v)
	case *jsonArray:
		b = append(b, '[')
		for i, e := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case *jsonRaw:
		return appendJSONValue(b, v.decoded())
	case *jsonObject:
		var buf [8]jsonMember
		b = append(b, '{')
		for i, m := range v.sorted(buf[:0]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.key)
			b = append(b, ':')
			b = appendJSONValue(b, m.val)
		}
		return append(b, '}')
	case map[string]any:
		keys := sortedKeys(v)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONValue(b, v[k])
		}
		return append(b, '}')
	default:
		panic(fmt.Sprintf("ovsdb: cannot encode %T as JSON", v))
	}
}

func sortedKeys(m map[string]any) []string {
	return appendSortedKeys(make([]string, 0, len(m)), m)
}

// appendSortedKeys appends m's keys to buf in order; with a large enough
// buf on the caller's stack it does not allocate.
func appendSortedKeys(buf []string, m map[string]any) []string {
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}
