package ctl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// Symbols holds the @name row references of one transaction. A name used
// before the row that defines it gets its placeholder on first use.
type Symbols struct {
	uuids   map[string]UUID
	defined map[string]bool
	newUUID func() UUID
}

// NewSymbols returns an empty symbol table whose placeholders come from newUUID.
func NewSymbols(newUUID func() UUID) *Symbols {
	return &Symbols{uuids: map[string]UUID{}, defined: map[string]bool{}, newUUID: newUUID}
}

// Get returns the placeholder for @name, creating it if needed.
func (s *Symbols) Get(name string) UUID {
	u, ok := s.uuids[name]
	if !ok {
		u = s.newUUID()
		s.uuids[name] = u
	}
	return u
}

// Define marks @name as created by a command and returns its placeholder.
func (s *Symbols) Define(name string) (UUID, error) {
	if s.defined[name] {
		return "", fmt.Errorf("row id %q may only be specified on one --id option", name)
	}
	s.defined[name] = true
	return s.Get(name), nil
}

// Undefined returns names used but never created.
func (s *Symbols) Undefined() []string {
	var out []string
	for n := range s.uuids {
		if !s.defined[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// typeName names a base type the way error messages do.
func typeName(b *ovsdb.BaseType) string {
	switch b.Type {
	case ovsdb.TypeInteger:
		return "integer"
	case ovsdb.TypeReal:
		return "real"
	case ovsdb.TypeBoolean:
		return "boolean"
	case ovsdb.TypeUUID:
		return "uuid"
	}
	return "string"
}

// ParseAtom parses s (all of it) as an atom of type b.
func ParseAtom(b *ovsdb.BaseType, s string, syms *Symbols) (Atom, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%q is not valid UTF-8", s)
	}
	if b.Type == ovsdb.TypeString {
		if strings.HasPrefix(s, `"`) {
			var out string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, fmt.Errorf("%s: syntax error in quoted string", s)
			}
			return out, nil
		}
		return s, nil
	}
	return parseNonString(b, s, syms)
}

func parseNonString(b *ovsdb.BaseType, s string, syms *Symbols) (Atom, error) {
	switch b.Type {
	case ovsdb.TypeInteger:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid integer", s)
		}
		return i, nil
	case ovsdb.TypeReal:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid real number", s)
		}
		return f, nil
	case ovsdb.TypeBoolean:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a valid boolean (use \"true\" or \"false\")", s)
	case ovsdb.TypeUUID:
		if IsUUID(s) {
			return UUID(strings.ToLower(s)), nil
		}
		if strings.HasPrefix(s, "@") && len(s) > 1 && syms != nil {
			return syms.Get(s), nil
		}
		return nil, fmt.Errorf("%q is not a valid UUID", s)
	}
	return nil, fmt.Errorf("unsupported type %q", b.Type)
}

const tokenDelims = ":=, []{}!<>"

// nextToken reads one token at s[i:]: a JSON-quoted string or a run of
// characters up to a delimiter. It returns the token, whether it was quoted,
// and the index after it.
func nextToken(s string, i int) (string, bool, int, error) {
	if i < len(s) && s[i] == '"' {
		j := i + 1
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(s) {
			return "", false, 0, fmt.Errorf("%s: missing quote at end of quoted string", s[i:])
		}
		var out string
		if err := json.Unmarshal([]byte(s[i:j+1]), &out); err != nil {
			return "", false, 0, fmt.Errorf("%s: syntax error in quoted string", s[i:j+1])
		}
		return out, true, j + 1, nil
	}
	var b strings.Builder
	j := i
	for j < len(s) && !strings.ContainsRune(tokenDelims, rune(s[j])) {
		if s[j] == '\\' && j+1 < len(s) {
			j++ // a backslash takes the next character literally
		}
		b.WriteByte(s[j])
		j++
	}
	return b.String(), false, j, nil
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	return i
}

func parseToken(b *ovsdb.BaseType, s string, i int, syms *Symbols) (Atom, int, error) {
	tok, quoted, j, err := nextToken(s, i)
	if err != nil {
		return nil, 0, err
	}
	if !utf8.ValidString(tok) {
		return nil, 0, fmt.Errorf("%q is not valid UTF-8", tok)
	}
	if tok == "" && !quoted {
		if j < len(s) {
			return nil, 0, fmt.Errorf("%s: unexpected %q parsing %s", s, s[j:j+1], typeName(b))
		}
		return nil, 0, fmt.Errorf("%s: missing %s", s, typeName(b))
	}
	if b.Type == ovsdb.TypeString {
		return tok, j, nil
	}
	if quoted {
		return nil, 0, fmt.Errorf("%s: quoted string where %s expected", s, typeName(b))
	}
	a, err := parseNonString(b, tok, syms)
	return a, j, err
}

// ParseDatum parses the ovs-vsctl value syntax for column c: a single value,
// a set "[a, b]" or a map "{k=v, k2=v2}".
func ParseDatum(c *ovsdb.ColumnSchema, s string, syms *Symbols) (Datum, error) {
	key, val, min, max := colType(c)
	d := Datum{Keys: []Atom{}}
	if val != nil {
		d.Vals = []Atom{}
	}
	what := "set of " + typeName(key) + "s"
	if val != nil {
		what = "map"
	}
	i := skipSpaces(s, 0)
	end := byte(0)
	if i < len(s) && (s[i] == '[' || s[i] == '{') {
		if s[i] == '[' {
			end = ']'
		} else {
			end = '}'
		}
		i = skipSpaces(s, i+1)
	} else if min == 1 && max == 1 && val == nil {
		a, err := ParseAtom(key, strings.TrimSpace(s), syms)
		if err != nil {
			return d, err
		}
		d.Keys = append(d.Keys, a)
		return d, nil
	}
	for i < len(s) && s[i] != end {
		k, j, err := parseToken(key, s, i, syms)
		if err != nil {
			return d, err
		}
		d.Keys = append(d.Keys, k)
		if val != nil {
			i = skipSpaces(s, j)
			if i >= len(s) || s[i] != '=' {
				return d, fmt.Errorf("%s: syntax error at %q expecting \"=\"", s, s[i:])
			}
			var v Atom
			v, j, err = parseToken(val, s, skipSpaces(s, i+1), syms)
			if err != nil {
				return d, err
			}
			d.Vals = append(d.Vals, v)
		}
		k2 := skipSpaces(s, j)
		switch {
		case k2 < len(s) && s[k2] == ',':
			i = skipSpaces(s, k2+1)
		case k2 > j || k2 == len(s) || (end != 0 && s[k2] == end):
			i = k2
		default:
			return d, fmt.Errorf("%s: unexpected %q parsing %s", s, s[k2:k2+1], what)
		}
	}
	if end != 0 {
		if i >= len(s) {
			return d, fmt.Errorf("%s: missing %q at end of %s", s, string(end), what)
		}
		if rest := strings.TrimSpace(s[i+1:]); rest != "" {
			return d, fmt.Errorf("%s: trailing garbage %q", s, rest)
		}
	}
	d = d.normalize()
	if d.Len() < min || d.Len() > max {
		return d, fmt.Errorf("%q: %d values where the column allows %d to %s", s, d.Len(), min, maxString(max))
	}
	return d, nil
}

func maxString(max int) string {
	if max > 1<<40 {
		return "unlimited"
	}
	return strconv.Itoa(max)
}

// ColumnArg is one "column[:key][op value]" argument of set, get, find,
// remove or wait-until.
type ColumnArg struct {
	Column string
	Key    string
	HasKey bool
	Op     string // "", "=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}"
	Value  string
}

var relOps = []string{"{!=}", "{<=}", "{>=}", "{=}", "{<}", "{>}", "!=", "<=", ">=", "=", "<", ">"}

// ParseKey parses a ColumnArg key (a token, possibly quoted or with
// backslash escapes) as an atom of type b.
func ParseKey(b *ovsdb.BaseType, raw string, syms *Symbols) (Atom, error) {
	tok, quoted, j, err := nextToken(raw, 0)
	if err != nil {
		return nil, err
	}
	if j != len(raw) {
		return nil, fmt.Errorf("%s: trailing garbage %q in key", raw, raw[j:])
	}
	if !utf8.ValidString(tok) {
		return nil, fmt.Errorf("%q is not valid UTF-8", tok)
	}
	if b.Type == ovsdb.TypeString {
		return tok, nil
	}
	if quoted {
		return nil, fmt.Errorf("%s: quoted string where %s expected", raw, typeName(b))
	}
	return parseNonString(b, tok, syms)
}

// ParseColumnArg splits arg. allowed lists the operators the command accepts
// (nil: none, value-less form only).
func ParseColumnArg(arg string, allowed []string) (ColumnArg, error) {
	var ca ColumnArg
	i := 0
	for i < len(arg) && !strings.ContainsRune(":=!<>{", rune(arg[i])) {
		i++
	}
	ca.Column = strings.TrimSpace(arg[:i])
	if ca.Column == "" {
		return ca, fmt.Errorf("%s: missing column name", arg)
	}
	if i < len(arg) && arg[i] == ':' {
		tok, _, j, err := nextToken(arg, i+1)
		if err != nil {
			return ca, err
		}
		// keep the raw (possibly quoted) key text for atom parsing
		raw := arg[i+1 : j]
		_ = tok
		ca.Key, ca.HasKey = raw, true
		i = j
	}
	if i >= len(arg) {
		return ca, nil
	}
	for _, op := range relOps {
		if strings.HasPrefix(arg[i:], op) {
			ok := false
			for _, a := range allowed {
				if a == op {
					ok = true
				}
			}
			if !ok {
				if allowed == nil {
					return ca, fmt.Errorf("%s: trailing garbage %q in argument", arg, arg[i:])
				}
				return ca, fmt.Errorf("%s: argument does not end in one of %s followed by a value", arg, strings.Join(allowed, ", "))
			}
			ca.Op, ca.Value = op, arg[i+len(op):]
			return ca, nil
		}
	}
	return ca, fmt.Errorf("%s: trailing garbage %q in argument", arg, arg[i:])
}
