package flowtable

import (
	"reflect"
	"strings"
	"testing"
)

func TestTableDiff(t *testing.T) {
	tab := New()
	a := Flow{Table: 0, Priority: 100, Match: "in_port=1", Actions: "resubmit(,8)"}
	b := Flow{Table: 65, Priority: 100, Match: "reg15=0x1,metadata=0x1", Actions: "output:1"}
	tab.Set("pb-1", []Flow{a, b})
	tab.Set("static", []Flow{{Table: 0, Priority: 0}})
	desired, conflicts := tab.Flows()
	if len(conflicts) != 0 || len(desired) != 3 {
		t.Fatalf("desired %v conflicts %v", desired, conflicts)
	}
	ops := Diff(nil, desired)
	if got, want := Render(ops, 0x5), "add cookie=0x5,table=0,priority=0,actions=drop\n"+
		"add cookie=0x5,table=0,priority=100,in_port=1,actions=resubmit(,8)\n"+
		"add cookie=0x5,table=65,priority=100,reg15=0x1,metadata=0x1,actions=output:1\n"; got != want {
		t.Fatalf("render:\n%s\nwant:\n%s", got, want)
	}
	installed := desired
	if ops := Diff(installed, desired); len(ops) != 0 {
		t.Fatalf("second apply not empty: %v", ops)
	}

	// Same key from a second owner with other actions: first owner wins,
	// conflict reported; removing the first owner hands the key over.
	tab.Set("pb-2", []Flow{{Table: 65, Priority: 100, Match: "reg15=0x1,metadata=0x1", Actions: "output:2"}})
	_, conflicts = tab.Flows()
	if len(conflicts) != 1 {
		t.Fatalf("conflicts %v", conflicts)
	}
	tab.Remove("pb-1")
	desired, _ = tab.Flows()
	ops = Diff(installed, desired)
	want := []Op{
		{Kind: "delete", Flow: a},
		{Kind: "add", Flow: Flow{Table: 65, Priority: 100, Match: "reg15=0x1,metadata=0x1", Actions: "output:2"}},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops %v\nwant %v", ops, want)
	}
	if got := Render(ops[:1], 1); got != "delete_strict table=0,priority=100,in_port=1\n" {
		t.Fatalf("render delete %q", got)
	}
	if got := b.String(); got != "table=65, priority=100,reg15=0x1,metadata=0x1 actions=output:1" {
		t.Fatalf("String %q", got)
	}
}

func TestConjunctionClausesMerge(t *testing.T) {
	tab := New()
	tab.Set("lf-1", []Flow{{Table: 10, Priority: 2000, Match: "ip,metadata=0x1,nw_src=10.0.0.1", Actions: "conjunction(16,1/2)"}})
	tab.Set("lf-2", []Flow{{Table: 10, Priority: 2000, Match: "ip,metadata=0x1,nw_src=10.0.0.1", Actions: "conjunction(32,1/2)"}})
	fs, conflicts := tab.Flows()
	if len(conflicts) != 0 || len(fs) != 1 {
		t.Fatalf("flows %v conflicts %v", fs, conflicts)
	}
	for _, f := range fs {
		if f.Actions != "conjunction(16,1/2),conjunction(32,1/2)" {
			t.Fatalf("merged actions %q", f.Actions)
		}
	}
}

func TestParseLineRoundTrip(t *testing.T) {
	f := Flow{Table: 14, Priority: 100, Match: "reg0=0x1/0x1,metadata=0x1", Actions: "ct(table=15,zone=NXM_NX_REG13[0..15])"}
	for _, line := range []string{
		strings.TrimSuffix(RenderAll(map[string]Flow{f.Key(): f}, 7), "\n"),
		strings.TrimSuffix(Render([]Op{{Kind: "add", Flow: f}}, 7), "\n"),
	} {
		got, ok := ParseLine(line)
		if !ok || got.Key() != f.Key() {
			t.Fatalf("ParseLine(%q) = %+v, %v", line, got, ok)
		}
	}
}
