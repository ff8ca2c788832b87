package ctl

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

func column(t testing.TB, typ string) *ovsdb.ColumnSchema {
	t.Helper()
	var c ovsdb.ColumnSchema
	if err := json.Unmarshal([]byte(`{"type":`+typ+`}`), &c); err != nil {
		t.Fatalf("column type %s: %v", typ, err)
	}
	return &c
}

const (
	strType    = `"string"`
	intType    = `"integer"`
	boolType   = `"boolean"`
	strSet     = `{"key":"string","min":0,"max":"unlimited"}`
	optInt     = `{"key":{"type":"integer","minInteger":0,"maxInteger":4095},"min":0,"max":1}`
	strMap     = `{"key":"string","value":"string","min":0,"max":"unlimited"}`
	uuidSet    = `{"key":{"type":"uuid","refTable":"T"},"min":0,"max":"unlimited"}`
	intStrMap  = `{"key":"string","value":"integer","min":0,"max":"unlimited"}`
	someUUID   = "8c5a8f82-bddb-437c-b9a6-40397e558f80"
	otherUUID  = "47aab30f-0396-41c9-9c83-529368c8ee57"
	upperUUID  = "8C5A8F82-BDDB-437C-B9A6-40397E558F80"
	errPrefix  = "ERR "
	noSymsName = ""
)

// TestParseDatum pins the ovs-vsctl value syntax: what parses, to what, and
// how it prints back.
func TestParseDatum(t *testing.T) {
	for _, tc := range []struct {
		name, typ, in, want string
	}{
		{"bare string", strType, "sw0", "sw0"},
		{"string keeps spaces and colons", strType, "00:00:00:00:00:01 10.0.0.1", `"00:00:00:00:00:01 10.0.0.1"`},
		{"quoted string", strType, `"a \"b\""`, `"a \"b\""`},
		{"empty string", strType, `""`, `""`},
		{"digits need quotes", strType, "1", `"1"`},
		{"true as string", strType, `"true"`, `"true"`},
		{"integer", intType, "42", "42"},
		{"negative integer", intType, "-7", "-7"},
		{"bad integer", intType, "abc", errPrefix + `"abc" is not a valid integer`},
		{"boolean", boolType, "true", "true"},
		{"bad boolean", boolType, "yes", errPrefix + `"yes" is not a valid boolean (use "true" or "false")`},
		{"set brackets", strSet, "[b, a]", "[a, b]"},
		{"set commas", strSet, "b,a,b", "[a, b]"},
		{"set spaces", strSet, "abc def", "[abc, def]"},
		{"set quoted element", strSet, `["00:00:00:00:00:01 10.0.0.1"]`, `["00:00:00:00:00:01 10.0.0.1"]`},
		{"set unquoted colon", strSet, "00:00:00:00:00:01", errPrefix + `00:00:00:00:00:01: unexpected ":" parsing set of strings`},
		{"empty set", strSet, "[]", "[]"},
		{"optional empty", optInt, "[]", "[]"},
		{"optional one", optInt, "7", "7"},
		{"optional two", optInt, "[1,2]", errPrefix + `"[1,2]": 2 values where the column allows 0 to 1`},
		{"map", strMap, `{b=2, a="x y"}`, `{a="x y", b="2"}`},
		{"map bare pairs", strMap, "k=v", "{k=v}"},
		{"map missing value", strMap, "{a}", errPrefix + `{a}: syntax error at "}" expecting "="`},
		{"map missing brace", strMap, "{a=b", errPrefix + `{a=b: missing "}" at end of map`},
		{"map of integers", intStrMap, "{rate=100}", "{rate=100}"},
		{"uuid set", uuidSet, "[" + someUUID + "," + otherUUID + "]", "[" + otherUUID + ", " + someUUID + "]"},
		{"uuid upper case", uuidSet, upperUUID, "[" + someUUID + "]"},
		{"bad uuid", uuidSet, "nope", errPrefix + `"nope" is not a valid UUID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := column(t, tc.typ)
			d, err := ParseDatum(c, tc.in, nil)
			got := ""
			if err != nil {
				got = errPrefix + err.Error()
			} else {
				got = DatumString(c, d)
			}
			if got != tc.want {
				t.Fatalf("ParseDatum(%s, %q) = %s, want %s", tc.typ, tc.in, got, tc.want)
			}
		})
	}
}

// TestSymbols checks @name references: a forward reference gets the same
// placeholder as the row that defines it, and an undefined one is reported.
func TestSymbols(t *testing.T) {
	n := 0
	syms := NewSymbols(func() UUID { n++; return UUID(strings.Repeat("0", 35) + string(rune('0'+n))) })
	c := column(t, uuidSet)
	d, err := ParseDatum(c, "[@a]", syms)
	if err != nil {
		t.Fatal(err)
	}
	u, err := syms.Define("@a")
	if err != nil || d.Keys[0] != u {
		t.Fatalf("forward reference %v, defined %v (%v)", d.Keys[0], u, err)
	}
	if _, err := syms.Define("@a"); err == nil {
		t.Fatal("defining @a twice succeeded")
	}
	ParseDatum(c, "@b", syms)
	if got := syms.Undefined(); !reflect.DeepEqual(got, []string{"@b"}) {
		t.Fatalf("Undefined() = %v, want [@b]", got)
	}
}

func TestParseColumnArg(t *testing.T) {
	for _, tc := range []struct {
		in      string
		allowed []string
		want    ColumnArg
		err     string
	}{
		{in: "name", want: ColumnArg{Column: "name"}},
		{in: "external_ids:owner", want: ColumnArg{Column: "external_ids", Key: "owner", HasKey: true}},
		{in: "options:x=1.2.3.4:5", allowed: []string{"="}, want: ColumnArg{Column: "options", Key: "x", HasKey: true, Op: "=", Value: "1.2.3.4:5"}},
		{in: `external_ids:"a b"=c`, allowed: []string{"="}, want: ColumnArg{Column: "external_ids", Key: `"a b"`, HasKey: true, Op: "=", Value: "c"}},
		{in: `external_ids:neutron\:network_name=net0`, allowed: []string{"="}, want: ColumnArg{Column: "external_ids", Key: `neutron\:network_name`, HasKey: true, Op: "=", Value: "net0"}},
		{in: "tag{>=}5", allowed: findOps, want: ColumnArg{Column: "tag", Op: "{>=}", Value: "5"}},
		{in: "tag!=5", allowed: findOps, want: ColumnArg{Column: "tag", Op: "!=", Value: "5"}},
		{in: "tag<5", allowed: []string{"="}, err: "tag<5: argument does not end in one of = followed by a value"},
		{in: "=5", allowed: []string{"="}, err: "=5: missing column name"},
	} {
		got, err := ParseColumnArg(tc.in, tc.allowed)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseColumnArg(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseColumnArg(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseKey(t *testing.T) {
	str := &ovsdb.BaseType{Type: ovsdb.TypeString}
	for raw, want := range map[string]string{`neutron\:network_name`: "neutron:network_name", `"a b"`: "a b", "plain": "plain", `"x\"y"`: `x"y`} {
		got, err := ParseKey(str, raw, nil)
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %v, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := ParseKey(str, `a=b`, nil); err == nil {
		t.Errorf("ParseKey(a=b) accepted trailing garbage")
	}
}

func TestSplitGlobal(t *testing.T) {
	flags := []GlobalFlag{{Name: "db", TakesArg: true}, {Name: "timeout", TakesArg: true, ShortName: 't'}, {Name: "bare"}}
	for _, tc := range []struct {
		in           string
		global, rest string
	}{
		{"--db x ls-add sw0", "--db x", "ls-add sw0"},
		{"--db=x --may-exist ls-add sw0", "--db=x", "--may-exist ls-add sw0"},
		{"-t 5 --bare list T -- --bare x", "-t 5 --bare", "list T -- --bare x"},
		{"--may-exist --db=x ls-add sw0", "--db=x", "--may-exist ls-add sw0"},
		{"ls-add --db=x", "", "ls-add --db=x"},
	} {
		g, r := SplitGlobal(strings.Fields(tc.in), flags)
		if strings.Join(g, " ") != tc.global || strings.Join(r, " ") != tc.rest {
			t.Errorf("SplitGlobal(%q) = %q | %q, want %q | %q", tc.in, g, r, tc.global, tc.rest)
		}
	}
}

// FuzzParseDatum checks that whatever parses prints back to text that
// parses to the same value.
func FuzzParseDatum(f *testing.F) {
	for _, s := range []string{"a", "[a, b]", `{k="v w"}`, `"x\ny"`, "[1,2]", "{a=1}", "", "[]", `"\u00e9"`} {
		f.Add(s)
	}
	cols := []*ovsdb.ColumnSchema{column(f, strSet), column(f, strMap), column(f, intStrMap), column(f, strType), column(f, optInt)}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			d, err := ParseDatum(c, s, nil)
			if err != nil {
				continue
			}
			text := DatumString(c, d)
			d2, err := ParseDatum(c, text, nil)
			if err != nil {
				t.Fatalf("%q parsed, printed as %q, which does not parse: %v", s, text, err)
			}
			if !d.Equal(d2) {
				t.Fatalf("%q parsed to %v, printed as %q, reparsed to %v", s, d, text, d2)
			}
		}
	})
}

func TestSchemaLazy(t *testing.T) {
	s, err := ParseSchema([]byte(`{"name":"DB","version":"1.0.0","tables":{
		"A":{"columns":{"name":{"type":"string"}},"isRoot":true},
		"B":{"columns":{"x":{"type":{"key":"nosuchtype"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.TableNames(); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Fatalf("TableNames() = %v", got)
	}
	if a := s.Table("A"); a == nil || a.Column("name") == nil || !a.IsRoot {
		t.Fatalf("Table(A) = %+v", a)
	}
	if s.Table("C") != nil {
		t.Fatal("Table(C) is not nil")
	}
	if s.Err() != nil {
		t.Fatalf("Err() before decoding B = %v", s.Err())
	}
	if b := s.Table("B"); b == nil || s.Err() == nil || !strings.Contains(s.Err().Error(), "table B") {
		t.Fatalf("Table(B) = %+v, Err() = %v; want an error naming table B", b, s.Err())
	}
	if _, err := ParseSchema([]byte(`{"tables":{}}`)); err == nil {
		t.Fatal("a schema without name and tables parsed")
	}
}
