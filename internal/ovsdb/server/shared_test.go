package server_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"hcnet/internal/ovsdb/server"
)

// Monitors of one shape (version, id, columns, condition) share each
// commit's notification; monitors that differ in any of these must still
// get exactly their own. Several clients of each kind watch the same rows
// through a series of commits, one monitor changes its condition midway,
// and each client's notifications are compared with what it should get.
func TestSharedNotificationsPerMonitorShape(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1}, bothSchemas...)
	w := connect(t, o.Socket, true)
	uuidOf := func(name string) string {
		r := w.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": name}})
		var res []struct{ UUID []string }
		if err := json.Unmarshal(r.Result, &res); err != nil || len(res) != 1 || len(res[0].UUID) != 2 {
			t.Fatalf("insert %s: %s %s", name, r.Result, r.Error)
		}
		return res[0].UUID[1]
	}
	s1, s2 := uuidOf("s1"), uuidOf("s2")

	cols := []string{"name", "other_config"}
	cond := func(name string) map[string]any {
		return map[string]any{"Logical_Switch": []any{map[string]any{"columns": cols, "where": []any{[]any{"name", "==", name}}}}}
	}
	type kind struct {
		name   string
		method string
		id     any
		req    map[string]any
		n      int // clients of this kind
	}
	kinds := []kind{
		{"s1 as m", "monitor_cond", "m", cond("s1"), 4},
		{"s1 as n", "monitor_cond", "n", cond("s1"), 2},
		{"s2 as m", "monitor_cond", "m", cond("s2"), 2},
		{"name only", "monitor_cond", "m", map[string]any{"Logical_Switch": []any{map[string]any{"columns": []string{"name"},
			"where": []any{[]any{"name", "==", "s1"}}}}}, 2},
		{"v1 all rows", "monitor", "m", map[string]any{"Logical_Switch": map[string]any{"columns": cols}}, 2},
		{"s1 then s2", "monitor_cond", "m", cond("s1"), 2},
	}
	clients := map[string][]*rawClient{}
	for _, k := range kinds {
		for i := 0; i < k.n; i++ {
			c := connect(t, o.Socket, true)
			if r := c.call(k.method, "OVN_Northbound", k.id, k.req); isErr(r) {
				t.Fatalf("%s: %s", k.method, r.Error)
			}
			clients[k.name] = append(clients[k.name], c)
		}
	}
	update := func(uuid string, row map[string]any) map[string]any {
		return map[string]any{"op": "update", "table": "Logical_Switch", "where": []any{[]any{"_uuid", "==", []any{"uuid", uuid}}}, "row": row}
	}
	oc := func(n int) map[string]any {
		return map[string]any{"other_config": []any{"map", []any{[]any{"n", fmt.Sprint(n)}}}}
	}
	commit := func(ops ...any) {
		t.Helper()
		r := w.call("transact", append([]any{"OVN_Northbound"}, ops...)...)
		if isErr(r) || strings.Contains(string(r.Result), `"error"`) {
			t.Fatalf("transact: %s %s", r.Result, r.Error)
		}
	}
	commit(update(s1, oc(1)))
	commit(update(s2, oc(2)))
	for _, c := range clients["s1 then s2"] {
		if r := c.call("monitor_cond_change", "m", "m", map[string]any{"Logical_Switch": []any{map[string]any{"where": []any{[]any{"name", "==", "s2"}}}}}); isErr(r) {
			t.Fatalf("monitor_cond_change: %s", r.Error)
		}
	}
	commit(update(s1, oc(3)), update(s2, oc(3)))
	commit(update(s1, map[string]any{"name": "s1b"}))

	mod := func(uuid string, n int) string {
		return fmt.Sprintf(`{"Logical_Switch":{%q:{"modify":{"other_config":["map",[["n","%d"]]]}}}}`, uuid, n)
	}
	del1 := fmt.Sprintf(`{"Logical_Switch":{%q:{"delete":null}}}`, s1)
	v1 := func(uuid, name string, old, n int) string {
		oldMap := `["map",[]]`
		if old > 0 {
			oldMap = fmt.Sprintf(`["map",[["n","%d"]]]`, old)
		}
		return fmt.Sprintf(`{%q:{"old":{"other_config":%s},"new":{"name":%q,"other_config":["map",[["n","%d"]]]}}}`, uuid, oldMap, name, n)
	}
	tables := func(rows ...string) string {
		for i, r := range rows {
			rows[i] = strings.TrimSuffix(strings.TrimPrefix(r, "{"), "}")
		}
		return `{"Logical_Switch":{` + strings.Join(rows, ",") + `}}`
	}
	want := map[string][]string{
		"s1 as m":   {`"m"`, mod(s1, 1), mod(s1, 3), del1},
		"s1 as n":   {`"n"`, mod(s1, 1), mod(s1, 3), del1},
		"s2 as m":   {`"m"`, mod(s2, 2), mod(s2, 3)},
		"name only": {`"m"`, del1},
		"v1 all rows": {`"m"`, tables(v1(s1, "s1", 0, 1)), tables(v1(s2, "s2", 0, 2)),
			tables(v1(s1, "s1", 1, 3), v1(s2, "s2", 2, 3)),
			fmt.Sprintf(`{"Logical_Switch":{%q:{"old":{"name":"s1"},"new":{"name":"s1b","other_config":["map",[["n","3"]]]}}}}`, s1)},
		// The s2 row starts to match at the condition change (an insert
		// in that reply's update, before the third commit).
		"s1 then s2": {`"m"`, mod(s1, 1),
			fmt.Sprintf(`{"Logical_Switch":{%q:{"delete":null},%q:{"insert":{"name":"s2","other_config":["map",[["n","2"]]]}}}}`, s1, s2),
			mod(s2, 3)},
	}
	for _, k := range kinds {
		exp := want[k.name]
		method := "update2"
		if k.method == "monitor" {
			method = "update"
		}
		for i, c := range clients[k.name] {
			// Everything up to the last commit: the writer has its reply, and
			// every commit's notifications precede it on every session.
			for j, body := range exp[1:] {
				n := c.waitNote(method)
				var p []json.RawMessage
				if err := json.Unmarshal(n.Params, &p); err != nil || len(p) != 2 {
					t.Fatalf("%s client %d: notification %d: params %s", k.name, i, j, n.Params)
				}
				if string(p[0]) != exp[0] || !sameJSON(t, p[1], []byte(body)) {
					t.Errorf("%s client %d: notification %d is\n%s %s\nwant\n%s %s", k.name, i, j, p[0], p[1], exp[0], body)
				}
			}
			// Nothing else: an echo round trip flushes the session.
			c.call("echo")
			for _, n := range c.notes {
				if n.Method == method {
					t.Errorf("%s client %d: unexpected %s %s", k.name, i, method, n.Params)
				}
			}
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
