package schema

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// TestMatchesInstalledOVN compares our schema files with the ones shipped in
// Debian's ovn-common package. Layout may differ; anything a client can see
// through get_schema (names, versions, checksums, tables, columns, types,
// constraints, indexes, isRoot, maxRows) must not.
func TestMatchesInstalledOVN(t *testing.T) {
	cases := []struct {
		name      string
		ours      []byte
		installed string
	}{
		{NorthboundName, Northbound, "/usr/share/ovn/ovn-nb.ovsschema"},
		{SouthboundName, Southbound, "/usr/share/ovn/ovn-sb.ovsschema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			theirs, err := os.ReadFile(c.installed)
			if os.IsNotExist(err) {
				t.Skipf("%s not installed (Debian package ovn-common)", c.installed)
			}
			if err != nil {
				t.Fatal(err)
			}
			var a, b map[string]any
			if err := json.Unmarshal(c.ours, &a); err != nil {
				t.Fatalf("ours: %v", err)
			}
			if err := json.Unmarshal(theirs, &b); err != nil {
				t.Fatalf("installed: %v", err)
			}
			for _, d := range diff("", a, b) {
				t.Errorf("differs from %s: %s", c.installed, d)
			}
		})
	}
}

// diff lists the paths at which two decoded JSON documents differ.
func diff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !ain:
				out = append(out, path+"/"+k+": missing in ours")
			case !bin:
				out = append(out, path+"/"+k+": extra in ours")
			default:
				out = append(out, diff(path+"/"+k, av, bv)...)
			}
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{path + ": ours " + js(a) + ", installed " + js(b)}
	}
	return nil
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestParses checks that libovsdb's schema parser accepts both files and that
// the table counts match OVN 23.03.
func TestParses(t *testing.T) {
	for name, c := range map[string]struct {
		data   []byte
		tables int
	}{NorthboundName: {Northbound, 30}, SouthboundName: {Southbound, 34}} {
		var s ovsdb.DatabaseSchema
		if err := json.Unmarshal(c.data, &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name != name {
			t.Errorf("name = %q, want %q", s.Name, name)
		}
		if len(s.Tables) != c.tables {
			t.Errorf("%s: %d tables, want %d", name, len(s.Tables), c.tables)
		}
	}
}
