package replica

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"hcnet/internal/ovsdb"
	"hcnet/schema"
)

// BenchmarkTransact100 measures one in-memory transaction of 100
// Logical_Switch_Port inserts added to a switch's ports (no log).
func BenchmarkTransact100(b *testing.B) {
	s, err := ovsdb.ParseSchema(schema.Northbound)
	if err != nil {
		b.Fatal(err)
	}
	d := NewLocal(s, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := d.Transact(ctx, Request{Ops: json.RawMessage(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw"}}]`)}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		ops := []any{}
		var refs []any
		for r := 0; r < 100; r++ {
			name := fmt.Sprintf("lsp%d_%d", n, r)
			ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": name,
				"row": map[string]any{"name": name, "addresses": []any{"set", []any{"00:00:00:00:00:01 10.0.0.1"}}}})
			refs = append(refs, []any{"named-uuid", name})
		}
		ops = append(ops, map[string]any{"op": "mutate", "table": "Logical_Switch", "where": []any{[]any{"name", "==", "sw"}},
			"mutations": []any{[]any{"ports", "insert", []any{"set", refs}}}})
		raw, _ := json.Marshal(ops)
		b.StartTimer()
		r, err := d.Transact(ctx, Request{Ops: raw})
		b.StopTimer()
		if err != nil || len(r.Reply) == 0 {
			b.Fatal(err)
		}
	}
}
