package client

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// referenceDecode is the decoding the single-pass decoder replaces:
// encoding/json into raw members, then libovsdb's ovsdb.Row decoding.
func referenceDecode(raw []byte) (TableUpdates, error) {
	var tables map[string]map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tables); err != nil {
		return nil, err
	}
	out := make(TableUpdates, len(tables))
	for table, rows := range tables {
		tu := make(map[string]RowUpdate, len(rows))
		for uuid, obj := range rows {
			var ru RowUpdate
			for kind, val := range obj {
				switch kind {
				case Initial, Insert, Modify:
					var r ovsdb.Row
					if err := json.Unmarshal(val, &r); err != nil {
						return nil, err
					}
					ru = RowUpdate{Kind: kind, Row: r}
				case Delete:
					ru = RowUpdate{Kind: Delete}
				default:
					return nil, fmt.Errorf("kind %q", kind)
				}
			}
			tu[uuid] = ru
		}
		out[table] = tu
	}
	return out, nil
}

func randUUID(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
}

func randAtom(r *rand.Rand) any {
	switch r.IntN(7) {
	case 0:
		return r.IntN(100000) - 50
	case 1:
		return r.Float64() * 1e6
	case 2:
		return r.IntN(2) == 0
	case 3:
		return []any{"uuid", randUUID(r)}
	case 4: // escapes and non-ASCII
		return []string{`a"b`, `c\d`, "é ü", "tab\there", "\u2028", "<&>", "line\nbreak", "emoji 😀"}[r.IntN(8)]
	default:
		return fmt.Sprintf("s%d", r.IntN(1000))
	}
}

func randDatum(r *rand.Rand) any {
	switch r.IntN(4) {
	case 0:
		n := r.IntN(4)
		elems := []any{}
		for i := 0; i < n; i++ {
			elems = append(elems, randAtom(r))
		}
		return []any{"set", elems}
	case 1:
		n := r.IntN(4)
		pairs := []any{}
		for i := 0; i < n; i++ {
			pairs = append(pairs, []any{fmt.Sprintf("k%d", i), randAtom(r)})
		}
		if r.IntN(3) == 0 {
			pairs = append(pairs, []any{[]any{"uuid", randUUID(r)}, r.IntN(9)})
		}
		return []any{"map", pairs}
	default:
		return randAtom(r)
	}
}

func randUpdates(r *rand.Rand) []byte {
	u := map[string]map[string]map[string]any{}
	for t := 0; t < 1+r.IntN(3); t++ {
		rows := map[string]map[string]any{}
		for i := 0; i < r.IntN(5); i++ {
			kind := []string{Initial, Insert, Modify, Delete}[r.IntN(4)]
			if kind == Delete {
				rows[randUUID(r)] = map[string]any{kind: nil}
				continue
			}
			row := map[string]any{}
			for c := 0; c < r.IntN(6); c++ {
				row[fmt.Sprintf("col%d", c)] = randDatum(r)
			}
			rows[randUUID(r)] = map[string]any{kind: row}
		}
		u[fmt.Sprintf("Table%d", t)] = rows
	}
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	return b
}

// TestDecodeUpdates2MatchesLibovsdb: the single-pass decoder returns
// exactly what encoding/json plus libovsdb's row decoding return.
func TestDecodeUpdates2MatchesLibovsdb(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 2000; i++ {
		raw := randUpdates(r)
		// Some with whitespace, as another server might format them.
		if i%3 == 0 {
			var v any
			_ = json.Unmarshal(raw, &v)
			raw, _ = json.MarshalIndent(v, " ", "\t")
		}
		want, err := referenceDecode(raw)
		if err != nil {
			t.Fatalf("reference: %v\n%s", err, raw)
		}
		got, err := decodeUpdates2(raw)
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, raw)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("differs for\n%s\ngot  %#v\nwant %#v", raw, got, want)
		}
	}
}

func TestDecodeUpdates2Errors(t *testing.T) {
	for _, raw := range []string{
		``, `[]`, `{"T":`, `{"T":{"u":{"insert":{"a":}}}}`, `{"T":{"u":{"bogus":{}}}}`,
		`{"T":{"u":{}}}`, `{"T":{"u":{"insert":{"a":["uuid",5]}}}}`, `{"T":{"u":{"insert":{"a":["set",5]}}}}`,
		`{"T":{"u":{"insert":{"a":"x}}}}`, `{"T":{}} x`, `{"T":{"u":{"insert":{"a":01}}}}`,
	} {
		if _, err := decodeUpdates2([]byte(raw)); err == nil {
			t.Errorf("%q: no error", raw)
		}
	}
}

// southboundUpdate is an update like those a chassis receives: logical
// flows with maps and references, port bindings with sets.
func southboundUpdate(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString(`{"Logical_Flow":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:{"insert":{"pipeline":"ingress","table_id":%d,"priority":%d,"match":"inport == \"lsp%d\" && eth.src == {0a:00:00:00:%02x:01}","actions":"next;","logical_datapath":["uuid",%q],"logical_dp_group":["set",[]],"controller_meter":["set",[]],"external_ids":["map",[["source","northd.c:5678"],["stage-name","ls_in_port_sec_l2"],["stage-hint","%08x"]]],"tags":["map",[]]}}`,
			randUUID(r), i%30, i%200, i, i%256, randUUID(r), r.Uint32())
	}
	b.WriteString(`},"Port_Binding":{`)
	for i := 0; i < n/10; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:{"modify":{"chassis":["uuid",%q],"up":["set",[true]],"mac":["set",["0a:00:00:00:%02x:01 10.0.0.%d"]],"options":["map",[["requested-chassis","hv1"]]]}}`,
			randUUID(r), randUUID(r), i%256, i%250)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

func BenchmarkDecodeUpdates2(b *testing.B) {
	raw := southboundUpdate(1000)
	b.SetBytes(int64(len(raw)))
	b.Run("single-pass", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := decodeUpdates2(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json+libovsdb", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := referenceDecode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
