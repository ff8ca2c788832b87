package server

import (
	"testing"

	"hcnet/internal/ovsdb"
)

// BenchmarkUpdatesJSON: what a notified monitor pays per commit to collect
// its rows (bodies already encoded) and lay out <table-updates2>: here two
// rows of Logical_Flow and one of Port_Binding, added out of table order.
func BenchmarkUpdatesJSON(b *testing.B) {
	body := []byte(`{"modify":{"actions":"reg0 = 1; next;"}}`)
	ids := []ovsdb.UUID{{1}, {2}, {3}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var u updates
		u.add("Port_Binding", ids[0], body)
		u.add("Logical_Flow", ids[1], body)
		u.add("Logical_Flow", ids[2], body)
		if len(u.json()) < 100 {
			b.Fatal("short")
		}
	}
}

// TestUpdatesJSON: tables sorted by name, rows in the order added.
func TestUpdatesJSON(t *testing.T) {
	var u updates
	u.add("b", ovsdb.UUID{1}, []byte(`1`))
	u.add("a", ovsdb.UUID{2}, []byte(`2`))
	u.add("b", ovsdb.UUID{3}, []byte(`3`))
	want := `{"a":{"02000000-0000-0000-0000-000000000000":2},"b":{"01000000-0000-0000-0000-000000000000":1,"03000000-0000-0000-0000-000000000000":3}}`
	if got := string(u.json()); got != want || u.n != 3 {
		t.Fatalf("json %s (n %d), want %s", got, u.n, want)
	}
}
