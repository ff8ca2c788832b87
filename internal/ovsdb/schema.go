package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// AtomicType is one of RFC 7047's five atomic types.
type AtomicType uint8

// The atomic types.
const (
	TypeInteger AtomicType = iota + 1
	TypeReal
	TypeBoolean
	TypeString
	TypeUUID
)

var atomicTypeNames = [...]string{"", "integer", "real", "boolean", "string", "uuid"}

func (t AtomicType) String() string {
	if int(t) < len(atomicTypeNames) {
		return atomicTypeNames[t]
	}
	return fmt.Sprintf("AtomicType(%d)", uint8(t))
}

func parseAtomicType(s string) (AtomicType, bool) {
	for i, n := range atomicTypeNames {
		if i > 0 && n == s {
			return AtomicType(i), true
		}
	}
	return 0, false
}

// RefType says whether a reference keeps its target alive.
type RefType uint8

// Reference kinds (RFC 7047 §3.2 <base-type> refType).
const (
	RefStrong RefType = iota
	RefWeak
)

// BaseType constrains the atoms of a column's keys or values.
type BaseType struct {
	Type AtomicType
	// Enum, when non-nil, lists the allowed atoms in ascending order.
	Enum                   []Atom
	MinInteger, MaxInteger int64
	MinReal, MaxReal       float64
	MinLength, MaxLength   int
	RefTable               string // uuid only; "" when not a reference
	RefType                RefType
	refTable               *TableSchema
}

// IsRef reports whether the base type references rows of another table.
func (b *BaseType) IsRef() bool { return b.refTable != nil }

// IsStrongRef reports whether it is a strong reference.
func (b *BaseType) IsStrongRef() bool { return b.refTable != nil && b.RefType == RefStrong }

// IsWeakRef reports whether it is a weak reference.
func (b *BaseType) IsWeakRef() bool { return b.refTable != nil && b.RefType == RefWeak }

func defaultBase(t AtomicType) BaseType {
	return BaseType{
		Type:       t,
		MinInteger: math.MinInt64, MaxInteger: math.MaxInt64,
		MinReal: -math.MaxFloat64, MaxReal: math.MaxFloat64,
		MinLength: 0, MaxLength: math.MaxInt32,
	}
}

// ColumnType is a column's <type>: a set (Value nil) or a map, with size bounds.
type ColumnType struct {
	Key   BaseType
	Value *BaseType // nil unless the column is a map
	Min   int       // 0 or 1
	Max   int       // Unlimited for "unlimited"
}

// Unlimited is ColumnType.Max for "max": "unlimited".
const Unlimited = math.MaxInt32

// IsMap reports whether the column holds key-value pairs.
func (t *ColumnType) IsMap() bool { return t.Value != nil }

// IsScalar reports whether the column holds exactly one atom.
func (t *ColumnType) IsScalar() bool { return t.Value == nil && t.Min == 1 && t.Max == 1 }

// IsOptional reports whether it holds zero or one atom.
func (t *ColumnType) IsOptional() bool { return t.Value == nil && t.Min == 0 && t.Max == 1 }

// ColumnSchema describes one column.
type ColumnSchema struct {
	Name      string
	Type      ColumnType
	Ephemeral bool
	Mutable   bool
	// Index is the column's position in a Row (see Row).
	Index int
	// def is the column's default value, shared by every row that has it.
	def Datum
	// jsonName is Name as a JSON string literal.
	jsonName []byte
	// defErr is what checkDatumConstraints says of def (nil: it is valid).
	defErr *Error
}

// Default returns the column's default value (ovsdb(7)). It is shared:
// do not modify it.
func (c *ColumnSchema) Default() Datum { return c.def }

// TableSchema describes one table.
type TableSchema struct {
	Name string
	// Columns holds the schema's columns; the implicit _uuid and _version
	// are not in it (use Column to look them up too).
	Columns map[string]*ColumnSchema
	// IsRoot is the schema's isRoot, except that when no table of the schema
	// is a root, every table is (ovsdb(5) compatibility rule).
	IsRoot  bool
	MaxRows int // 0 means unlimited
	Indexes [][]string

	ordered []*ColumnSchema // by Index; ordered[0] is _version
	// defaults is a row with every column at its default (and an empty
	// _version), copied by newDefaultRow.
	defaults Row
	indexes  [][]*ColumnSchema // resolved Indexes
	// refCols are the columns whose key or value references another table.
	refCols []*ColumnSchema
	// weakFrom lists, for this table as a target, columns elsewhere that
	// reference it weakly.
	weakFrom []colRef
}

type colRef struct {
	table *TableSchema
	col   *ColumnSchema
}

// Implicit columns.
var (
	uuidColumn = &ColumnSchema{Name: "_uuid", Type: ColumnType{Key: defaultBase(TypeUUID), Min: 1, Max: 1}, Index: -1}
)

// Column returns the named column, including the implicit _uuid and _version.
func (t *TableSchema) Column(name string) (*ColumnSchema, bool) {
	if c, ok := t.Columns[name]; ok {
		return c, true
	}
	switch name {
	case "_uuid":
		return uuidColumn, true
	case "_version":
		return t.ordered[0], true
	}
	return nil, false
}

// ColumnList returns the schema's columns ordered by Index (and by name),
// without _uuid and _version.
func (t *TableSchema) ColumnList() []*ColumnSchema { return t.ordered[1:] }

// Schema is a parsed database schema (RFC 7047 §3.2).
type Schema struct {
	Name, Version, Cksum string
	Tables               map[string]*TableSchema
	raw                  json.RawMessage
	tableList            []*TableSchema // by name
	intern               map[string]any // see jsonReader.intern
}

// protocolWords are strings that appear in most transactions.
var protocolWords = []string{
	"op", "table", "row", "rows", "where", "columns", "mutations", "uuid-name", "uuid", "named-uuid",
	"until", "timeout", "durable", "comment", "lock", "set", "map", "_uuid", "_version",
	"insert", "select", "update", "mutate", "delete", "wait", "commit", "abort", "assert",
	"==", "!=", "<", "<=", ">", ">=", "includes", "excludes", "+=", "-=", "*=", "/=", "%=", "",
}

// buildIntern collects the strings worth interning for this schema.
func (s *Schema) buildIntern() {
	s.intern = make(map[string]any)
	add := func(str string) {
		if _, ok := s.intern[str]; !ok {
			s.intern[str] = str
		}
	}
	for _, w := range protocolWords {
		add(w)
	}
	for _, t := range s.tableList {
		add(t.Name)
		for _, c := range t.ordered[1:] {
			add(c.Name)
			for _, b := range []*BaseType{&c.Type.Key, c.Type.Value} {
				if b == nil {
					continue
				}
				for _, e := range b.Enum {
					if str, ok := e.(string); ok {
						add(str)
					}
				}
			}
		}
	}
}

// JSON returns the schema as get_schema sends it.
func (s *Schema) JSON() json.RawMessage { return s.raw }

// TableList returns the tables ordered by name.
func (s *Schema) TableList() []*TableSchema { return s.tableList }

// ParseSchema parses and validates a <database-schema>.
func ParseSchema(data []byte) (*Schema, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse schema: not a JSON object")
	}
	s := &Schema{Tables: make(map[string]*TableSchema)}
	if err := checkMembers("schema", obj, "name", "version", "cksum", "tables", "doc"); err != nil {
		return nil, err
	}
	if s.Name, err = reqString(obj, "name", "schema"); err != nil {
		return nil, err
	}
	if !isIdentifier(s.Name) {
		return nil, fmt.Errorf("parse schema: name %q is not a valid identifier", s.Name)
	}
	if _, ok := obj["version"]; ok {
		if s.Version, err = reqString(obj, "version", "schema "+s.Name); err != nil {
			return nil, err
		}
		if !isVersion(s.Version) {
			return nil, fmt.Errorf("parse schema %s: version %q is not of the form x.y.z", s.Name, s.Version)
		}
	}
	if _, ok := obj["cksum"]; ok {
		if s.Cksum, err = reqString(obj, "cksum", "schema "+s.Name); err != nil {
			return nil, err
		}
	}
	tables, ok := obj["tables"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse schema %s: \"tables\" must be an object", s.Name)
	}
	anyRoot := false
	for name, tv := range tables {
		t, err := parseTable(name, tv)
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", s.Name, err)
		}
		anyRoot = anyRoot || t.IsRoot
		s.Tables[name] = t
		s.tableList = append(s.tableList, t)
	}
	sort.Slice(s.tableList, func(i, j int) bool { return s.tableList[i].Name < s.tableList[j].Name })
	for _, t := range s.tableList {
		if !anyRoot {
			t.IsRoot = true
		}
		for _, c := range t.ordered[1:] {
			for _, b := range []*BaseType{&c.Type.Key, c.Type.Value} {
				if b == nil || b.RefTable == "" {
					continue
				}
				rt, ok := s.Tables[b.RefTable]
				if !ok {
					return nil, fmt.Errorf("parse schema %s: table %s column %s refers to undefined table %q", s.Name, t.Name, c.Name, b.RefTable)
				}
				b.refTable = rt
				if b.RefType == RefWeak {
					rt.weakFrom = appendColRef(rt.weakFrom, colRef{t, c})
				}
			}
			if c.Type.Key.refTable != nil || (c.Type.Value != nil && c.Type.Value.refTable != nil) {
				t.refCols = append(t.refCols, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", s.Name, err)
	}
	s.raw = buf.Bytes()
	s.buildIntern()
	return s, nil
}

func appendColRef(l []colRef, r colRef) []colRef {
	for _, e := range l {
		if e == r {
			return l
		}
	}
	return append(l, r)
}

func parseTable(name string, v any) (*TableSchema, error) {
	if !isIdentifier(name) || strings.HasPrefix(name, "_") {
		return nil, fmt.Errorf("table name %q is not a valid identifier", name)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("table %s: not a JSON object", name)
	}
	if err := checkMembers("table "+name, obj, "columns", "maxRows", "isRoot", "indexes", "doc"); err != nil {
		return nil, err
	}
	t := &TableSchema{Name: name, Columns: make(map[string]*ColumnSchema)}
	if r, ok := obj["isRoot"]; ok {
		b, ok := r.(bool)
		if !ok {
			return nil, fmt.Errorf("table %s: isRoot must be a boolean", name)
		}
		t.IsRoot = b
	}
	if m, ok := obj["maxRows"]; ok {
		n, ok := m.(int64)
		if !ok || n < 1 || n > math.MaxInt32 {
			return nil, fmt.Errorf("table %s: maxRows must be a positive integer, not %s", name, appendJSONValue(nil, m))
		}
		t.MaxRows = int(n)
	}
	cols, ok := obj["columns"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("table %s: \"columns\" must be an object", name)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: must have at least one column", name)
	}
	names := sortedKeys(cols)
	version := &ColumnSchema{Name: "_version", Type: ColumnType{Key: defaultBase(TypeUUID), Min: 1, Max: 1}, Index: 0}
	t.ordered = append(t.ordered, version)
	for _, cn := range names {
		c, err := parseColumn(cn, cols[cn])
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		c.Index = len(t.ordered)
		t.ordered = append(t.ordered, c)
		t.Columns[cn] = c
	}
	t.defaults = make(Row, len(t.ordered))
	for _, c := range t.ordered[1:] {
		t.defaults[c.Index] = c.def
	}
	if iv, ok := obj["indexes"]; ok {
		list, ok := asArray(iv)
		if !ok {
			return nil, fmt.Errorf("table %s: indexes must be an array", name)
		}
		for _, ix := range list {
			cl, ok := asArray(ix)
			if !ok || len(cl) == 0 {
				return nil, fmt.Errorf("table %s: index %s must be a non-empty array of column names", name, appendJSONValue(nil, ix))
			}
			var names []string
			var resolved []*ColumnSchema
			for _, e := range cl {
				cn, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("table %s: index %s must be an array of column names", name, appendJSONValue(nil, ix))
				}
				c, ok := t.Column(cn)
				if !ok {
					return nil, fmt.Errorf("table %s: index refers to unknown column %q", name, cn)
				}
				if c.Ephemeral {
					return nil, fmt.Errorf("table %s: ephemeral column %s may not be indexed", name, cn)
				}
				names = append(names, cn)
				resolved = append(resolved, c)
			}
			t.Indexes = append(t.Indexes, names)
			t.indexes = append(t.indexes, resolved)
		}
	}
	return t, nil
}

func parseColumn(name string, v any) (*ColumnSchema, error) {
	if !isIdentifier(name) || strings.HasPrefix(name, "_") {
		return nil, fmt.Errorf("column name %q is not a valid identifier (names starting with _ are reserved)", name)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("column %s: not a JSON object", name)
	}
	if err := checkMembers("column "+name, obj, "type", "ephemeral", "mutable", "doc"); err != nil {
		return nil, err
	}
	c := &ColumnSchema{Name: name, Mutable: true, jsonName: appendJSONString(nil, name)}
	tv, ok := obj["type"]
	if !ok {
		return nil, fmt.Errorf("column %s: missing \"type\"", name)
	}
	typ, err := parseType(tv)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", name, err)
	}
	c.Type = typ
	c.def = defaultDatum(&c.Type)
	c.defErr = checkDatumConstraints(&c.Type, c.def)
	if e, ok := obj["ephemeral"]; ok {
		b, ok := e.(bool)
		if !ok {
			return nil, fmt.Errorf("column %s: ephemeral must be a boolean", name)
		}
		c.Ephemeral = b
	}
	if m, ok := obj["mutable"]; ok {
		b, ok := m.(bool)
		if !ok {
			return nil, fmt.Errorf("column %s: mutable must be a boolean", name)
		}
		c.Mutable = b
	}
	return c, nil
}

func parseType(v any) (ColumnType, error) {
	t := ColumnType{Min: 1, Max: 1}
	if s, ok := v.(string); ok {
		at, ok := parseAtomicType(s)
		if !ok {
			return t, fmt.Errorf("unknown atomic type %q", s)
		}
		t.Key = defaultBase(at)
		return t, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return t, fmt.Errorf("type %s must be a string or an object", appendJSONValue(nil, v))
	}
	if err := checkMembers("type", obj, "key", "value", "min", "max"); err != nil {
		return t, err
	}
	kv, ok := obj["key"]
	if !ok {
		return t, fmt.Errorf("type %s: missing \"key\"", appendJSONValue(nil, v))
	}
	k, err := parseBaseType(kv)
	if err != nil {
		return t, fmt.Errorf("key: %w", err)
	}
	t.Key = k
	if vv, ok := obj["value"]; ok {
		val, err := parseBaseType(vv)
		if err != nil {
			return t, fmt.Errorf("value: %w", err)
		}
		t.Value = &val
	}
	if m, ok := obj["min"]; ok {
		n, ok := m.(int64)
		if !ok || n < 0 || n > 1 {
			return t, fmt.Errorf("min %s must be 0 or 1", appendJSONValue(nil, m))
		}
		t.Min = int(n)
	}
	if m, ok := obj["max"]; ok {
		switch m := m.(type) {
		case string:
			if m != "unlimited" {
				return t, fmt.Errorf("max %q must be a positive integer or \"unlimited\"", m)
			}
			t.Max = Unlimited
		case int64:
			if m < 1 || m > math.MaxInt32 {
				return t, fmt.Errorf("max %d must be a positive integer or \"unlimited\"", m)
			}
			t.Max = int(m)
		default:
			return t, fmt.Errorf("max %s must be a positive integer or \"unlimited\"", appendJSONValue(nil, m))
		}
	}
	if t.Min > t.Max {
		return t, fmt.Errorf("min %d is greater than max %d", t.Min, t.Max)
	}
	return t, nil
}

func parseBaseType(v any) (BaseType, error) {
	if s, ok := v.(string); ok {
		at, ok := parseAtomicType(s)
		if !ok {
			return BaseType{}, fmt.Errorf("unknown atomic type %q", s)
		}
		return defaultBase(at), nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return BaseType{}, fmt.Errorf("base type %s must be a string or an object", appendJSONValue(nil, v))
	}
	if err := checkMembers("base type", obj, "type", "enum", "minInteger", "maxInteger", "minReal", "maxReal", "minLength", "maxLength", "refTable", "refType"); err != nil {
		return BaseType{}, err
	}
	ts, ok := obj["type"].(string)
	if !ok {
		return BaseType{}, fmt.Errorf("base type %s: \"type\" must be a string", appendJSONValue(nil, v))
	}
	at, ok := parseAtomicType(ts)
	if !ok {
		return BaseType{}, fmt.Errorf("unknown atomic type %q", ts)
	}
	b := defaultBase(at)
	allowed := map[AtomicType][]string{
		TypeInteger: {"minInteger", "maxInteger"},
		TypeReal:    {"minReal", "maxReal"},
		TypeString:  {"minLength", "maxLength"},
		TypeUUID:    {"refTable", "refType"},
	}
	for _, k := range []string{"minInteger", "maxInteger", "minReal", "maxReal", "minLength", "maxLength", "refTable", "refType"} {
		if _, ok := obj[k]; !ok {
			continue
		}
		okHere := false
		for _, a := range allowed[at] {
			okHere = okHere || a == k
		}
		if !okHere {
			return b, fmt.Errorf("%s is not allowed for type %s", k, at)
		}
	}
	getInt := func(k string, dst *int64) error {
		if x, ok := obj[k]; ok {
			n, ok := x.(int64)
			if !ok {
				return fmt.Errorf("%s %s must be an integer", k, appendJSONValue(nil, x))
			}
			*dst = n
		}
		return nil
	}
	getReal := func(k string, dst *float64) error {
		if x, ok := obj[k]; ok {
			switch n := x.(type) {
			case int64:
				*dst = float64(n)
			case float64:
				*dst = n
			default:
				return fmt.Errorf("%s %s must be a number", k, appendJSONValue(nil, x))
			}
		}
		return nil
	}
	if err := getInt("minInteger", &b.MinInteger); err != nil {
		return b, err
	}
	if err := getInt("maxInteger", &b.MaxInteger); err != nil {
		return b, err
	}
	if b.MinInteger > b.MaxInteger {
		return b, fmt.Errorf("minInteger %d exceeds maxInteger %d", b.MinInteger, b.MaxInteger)
	}
	if err := getReal("minReal", &b.MinReal); err != nil {
		return b, err
	}
	if err := getReal("maxReal", &b.MaxReal); err != nil {
		return b, err
	}
	if b.MinReal > b.MaxReal {
		return b, fmt.Errorf("minReal %g exceeds maxReal %g", b.MinReal, b.MaxReal)
	}
	var minL, maxL int64 = 0, math.MaxInt32
	if err := getInt("minLength", &minL); err != nil {
		return b, err
	}
	if err := getInt("maxLength", &maxL); err != nil {
		return b, err
	}
	if minL < 0 || maxL < 0 || minL > math.MaxInt32 || maxL > math.MaxInt32 || minL > maxL {
		return b, fmt.Errorf("invalid string length range %d to %d", minL, maxL)
	}
	b.MinLength, b.MaxLength = int(minL), int(maxL)
	if rt, ok := obj["refTable"]; ok {
		s, ok := rt.(string)
		if !ok || !isIdentifier(s) {
			return b, fmt.Errorf("refTable %s must be a table name", appendJSONValue(nil, rt))
		}
		b.RefTable = s
	}
	if rt, ok := obj["refType"]; ok {
		switch rt {
		case "strong":
			b.RefType = RefStrong
		case "weak":
			b.RefType = RefWeak
		default:
			return b, fmt.Errorf("refType %s must be \"strong\" or \"weak\"", appendJSONValue(nil, rt))
		}
	}
	if ev, ok := obj["enum"]; ok {
		plain := defaultBase(at)
		d, err := parseDatumJSON(ev, &ColumnType{Key: plain, Min: 0, Max: Unlimited}, nil)
		if err != nil {
			return b, fmt.Errorf("enum: %v", err)
		}
		if len(d.Keys) == 0 {
			return b, fmt.Errorf("enum must not be empty")
		}
		b.Enum = d.Keys
	}
	return b, nil
}

func checkMembers(what string, obj map[string]any, allowed ...string) error {
	for k := range obj {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%s: unknown member %q", what, k)
		}
	}
	return nil
}

func reqString(obj map[string]any, k, what string) (string, error) {
	v, ok := obj[k]
	if !ok {
		return "", fmt.Errorf("%s: missing %q", what, k)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %q must be a string", what, k)
	}
	return s, nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func isVersion(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 9 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func sortStrings(s []string) { sort.Strings(s) }
