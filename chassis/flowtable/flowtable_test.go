package flowtable

import (
	"reflect"
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
