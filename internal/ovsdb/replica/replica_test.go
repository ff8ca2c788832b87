package replica

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"hcnet/internal/ovsdb"
	"hcnet/schema"
)

func nbSchema(t *testing.T) *ovsdb.Schema {
	t.Helper()
	s, err := ovsdb.ParseSchema(schema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBatchRoundTrip(t *testing.T) {
	es := []*entry{
		{ID: [16]byte{1}, Seed: [16]byte{2}, WaitExpired: true, Locks: []string{"a", "b"}, Ops: json.RawMessage(`[{"op":"comment","comment":"x"}]`)},
		{ID: [16]byte{3}, Ops: json.RawMessage(`[]`)},
	}
	got, err := decodeBatch(encodeBatch(es))
	if err != nil || len(got) != 2 {
		t.Fatalf("decode: %v, %d entries", err, len(got))
	}
	for i := range es {
		a, b := es[i], got[i]
		if a.ID != b.ID || a.Seed != b.Seed || a.WaitExpired != b.WaitExpired || strings.Join(a.Locks, ",") != strings.Join(b.Locks, ",") || string(a.Ops) != string(b.Ops) {
			t.Errorf("entry %d: %+v != %+v", i, b, a)
		}
	}
	for _, bad := range [][]byte{nil, {9}, {batchVersion, 5}, {entryVersion, 1, 2}} {
		if _, err := decodeBatch(bad); err == nil {
			t.Errorf("decodeBatch(%v) accepted", bad)
		}
	}
	rs, err := decodeResults(encodeResults([][]byte{[]byte("a"), nil, []byte("ccc")}), 3)
	if err != nil || string(rs[0]) != "a" || len(rs[1]) != 0 || string(rs[2]) != "ccc" {
		t.Fatalf("results: %q %v", rs, err)
	}
}

func TestApplyIsDeterministicAndDeduplicates(t *testing.T) {
	s := nbSchema(t)
	a, b := New(s, 1, slog.New(slog.DiscardHandler)), New(s, 1, slog.New(slog.DiscardHandler))
	e := &entry{ID: [16]byte{7}, Seed: [16]byte{42}, Ops: json.RawMessage(`[{"op":"insert","table":"Logical_Switch","row":{"name":"x"}}]`)}
	cmd := encodeBatch([]*entry{e, e}) // the same transaction twice
	ra, err := a.Apply(5, cmd)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := b.Apply(5, cmd)
	wa, wb := ra.AllWrites(), rb.AllWrites()
	if string(ra.Result) != string(rb.Result) || len(wa) != len(wb) || len(wa) == 0 {
		t.Fatalf("replicas disagree: %q vs %q, %d vs %d writes", ra.Result, rb.Result, len(wa), len(wb))
	}
	for i := range wa {
		if string(wa[i].Key) != string(wb[i].Key) || string(wa[i].Value) != string(wb[i].Value) {
			t.Fatalf("write %d differs", i)
		}
	}
	rs, _ := decodeResults(ra.Result, 2)
	if string(rs[0]) != string(rs[1]) {
		t.Fatalf("duplicate got a different result: %q vs %q", rs[0], rs[1])
	}
	var n int
	a.Read(func(db *ovsdb.Database) { n = db.Len("Logical_Switch") })
	if n != 1 {
		t.Fatalf("%d switches after a duplicated transaction", n)
	}
	if a.Index() != 5 {
		t.Fatalf("index %d", a.Index())
	}
}

func TestWatchSeesCommitsInOrderAfterInit(t *testing.T) {
	d := NewLocal(nbSchema(t), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	insert := func(name string) {
		if _, err := d.Transact(ctx, Request{Ops: json.RawMessage(`[{"op":"insert","table":"Logical_Switch","row":{"name":"` + name + `"}}]`)}); err != nil {
			t.Fatal(err)
		}
	}
	insert("before")
	var initial int
	var seen []string
	var ids []string
	cancel := d.Watch(func(v View) { initial = v.DB.Len("Logical_Switch") }, func(c *Commit) {
		ids = append(ids, c.TxnID)
		c.Changes.Each(func(table string, u ovsdb.UUID, old, new ovsdb.Row) {
			seen = append(seen, table)
		})
	})
	insert("a")
	insert("b")
	cancel()
	insert("after-cancel")
	if initial != 1 || len(seen) != 2 || len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("initial %d, seen %v, ids %v", initial, seen, ids)
	}
	d.Exclusive(func(v View) {
		cs, found := v.Since(ids[0])
		if !found || len(cs) != 2 { // b and after-cancel
			t.Fatalf("Since(%s): %d commits, found %v", ids[0], len(cs), found)
		}
		if _, found := v.Since("00000000-0000-4000-8000-000000000000"); found {
			t.Fatal("unknown transaction id found")
		}
	})
}

func TestPositionOfInvertsTxnIDFor(t *testing.T) {
	for _, pos := range []uint64{1, position(1, 0), endOf(77), position(1<<40, 4095), 1<<63 | 12345} {
		got, ok := positionOf(9, TxnIDFor(9, pos))
		if !ok || got != pos {
			t.Errorf("positionOf(TxnIDFor(%#x)) = %#x, %v", pos, got, ok)
		}
	}
	if _, ok := positionOf(8, TxnIDFor(9, 5)); ok {
		t.Errorf("another shard's id decoded")
	}
	if _, ok := positionOf(9, "not-a-uuid"); ok {
		t.Errorf("garbage decoded")
	}
}
