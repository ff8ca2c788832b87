package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/internal/ovsdb/server"
	"hcnet/internal/ovstest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files from our server's output")

// A session script is a list of lines "CONN: REQUEST" (CONN a short name;
// the connection opens on first use) or "CONN& REQUEST" (send without
// waiting for the reply, e.g. a transaction blocked in a wait). After each
// line every connection is drained with an echo round trip, so the
// transcript lists, per line, every message each connection received.

type step struct {
	conn  string
	async bool
	wait  string // "CONN? ID": wait for the reply with this id
	req   json.RawMessage
}

func parseScript(t *testing.T, path string) []step {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []step
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k := strings.IndexAny(line, ":&?")
		if k <= 0 {
			t.Fatalf("%s:%d: want CONN: REQUEST", path, i+1)
		}
		if line[k] == '?' {
			steps = append(steps, step{conn: line[:k], wait: strings.TrimSpace(line[k+1:])})
			continue
		}
		req := json.RawMessage(strings.TrimSpace(line[k+1:]))
		if !json.Valid(req) {
			t.Fatalf("%s:%d: invalid JSON", path, i+1)
		}
		steps = append(steps, step{conn: line[:k], async: line[k] == '&', req: req})
	}
	return steps
}

type event struct {
	conn string
	in   bool // received from the server
	msg  json.RawMessage
}

type scriptConn struct {
	c    *jsonrpc.Conn
	r    chan *jsonrpc.Message
	seen map[string]bool // ids of responses already recorded
}

// runScript runs the steps against the server at socket and returns the
// transcript.
func runScript(t *testing.T, socket string, steps []step) []event {
	t.Helper()
	conns := map[string]*scriptConn{}
	defer func() {
		for _, c := range conns {
			c.c.Close()
		}
	}()
	open := func(name string) *scriptConn {
		if c, ok := conns[name]; ok {
			return c
		}
		nc, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		c := &scriptConn{c: jsonrpc.NewConn(nc, jsonrpc.ConnOptions{}), r: make(chan *jsonrpc.Message, 1000), seen: map[string]bool{}}
		go func() {
			defer close(c.r)
			for {
				m, err := c.c.Read()
				if err != nil {
					return
				}
				if m.Method == "echo" && m.IsRequest() {
					c.c.Write(&jsonrpc.Message{ID: m.ID, Result: m.Params})
					continue
				}
				c.r <- m
			}
		}()
		conns[name] = c
		return c
	}
	var out []event
	// readUntil records messages on c until the response with id.
	readUntil := func(name string, id string, record bool) {
		c := conns[name]
		if c.seen[id] {
			return
		}
		timeout := time.After(20 * time.Second)
		for {
			select {
			case m, ok := <-c.r:
				if !ok {
					t.Fatalf("connection %s closed while waiting for reply %s", name, id)
				}
				if m.IsResponse() && string(m.ID) == id {
					if record {
						b, _ := m.MarshalJSON()
						out = append(out, event{conn: name, in: true, msg: b})
					}
					return
				}
				if m.IsResponse() {
					c.seen[string(m.ID)] = true
				}
				b, _ := m.MarshalJSON()
				out = append(out, event{conn: name, in: true, msg: b})
			case <-timeout:
				t.Fatalf("no reply %s on connection %s", id, name)
			}
		}
	}
	barrier := 0
	for _, s := range steps {
		c := open(s.conn)
		if s.wait != "" {
			readUntil(s.conn, s.wait, true)
			continue
		}
		out = append(out, event{conn: s.conn, msg: s.req})
		var m jsonrpc.Message
		if err := json.Unmarshal(s.req, &m); err != nil {
			t.Fatal(err)
		}
		if err := c.c.WriteRaw(s.req); err != nil {
			t.Fatal(err)
		}
		var id struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(s.req, &id)
		if !s.async && len(id.ID) > 0 && string(id.ID) != "null" {
			var cid bytes.Buffer
			json.Compact(&cid, id.ID)
			readUntil(s.conn, cid.String(), true)
		}
		names := make([]string, 0, len(conns))
		for n := range conns {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			barrier++
			bid := fmt.Sprintf(`"barrier-%d"`, barrier)
			if err := conns[n].c.WriteRaw([]byte(`{"method":"echo","params":[],"id":` + bid + `}`)); err != nil {
				t.Fatal(err)
			}
			readUntil(n, bid, false)
		}
	}
	return out
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalise renders a transcript with UUIDs replaced by names in order of
// first appearance, JSON canonicalised (sorted keys, sets and maps sorted
// after renaming) and error details dropped (their wording differs between
// implementations).
func normalise(events []event) string {
	names := map[string]string{}
	name := func(u string) string {
		if n, ok := names[u]; ok {
			return n
		}
		n := fmt.Sprintf("<%d>", len(names))
		if u == "00000000-0000-0000-0000-000000000000" {
			n = "<zero>"
		}
		names[u] = n
		return n
	}
	// First name the UUIDs transactions create, from the replies, so names do
	// not depend on the order of keys in notifications.
	for _, e := range events {
		if !e.in {
			continue
		}
		var r struct {
			Result []struct {
				UUID []string `json:"uuid"`
			} `json:"result"`
		}
		if json.Unmarshal(e.msg, &r) == nil {
			for _, x := range r.Result {
				if len(x.UUID) == 2 {
					name(x.UUID[1])
				}
			}
		}
	}
	// Transaction ids of monitor_cond_since differ by design (ovsdb-server
	// reports zero for a standalone database); show them as <txn>.
	methods := map[string]string{}
	var lines []string
	for _, e := range events {
		var v any
		if err := json.Unmarshal(e.msg, &v); err != nil {
			lines = append(lines, fmt.Sprintf("%s? %s", e.conn, e.msg))
			continue
		}
		if m, ok := v.(map[string]any); ok {
			id, _ := json.Marshal(m["id"])
			if !e.in {
				methods[e.conn+string(id)], _ = m["method"].(string)
			}
			if r, ok := m["result"].([]any); ok && e.in && methods[e.conn+string(id)] == "list_dbs" {
				sort.Slice(r, func(i, j int) bool { return fmt.Sprint(r[i]) < fmt.Sprint(r[j]) })
			}
			if p, ok := m["params"].([]any); ok && m["method"] == "update3" && len(p) == 3 {
				p[1] = "<txn>"
			}
			if r, ok := m["result"].([]any); ok && e.in && methods[e.conn+string(id)] == "monitor_cond_since" && len(r) == 3 {
				r[1] = "<txn>"
			}
		}
		v = canon(v, name)
		out, _ := json.Marshal(v)
		dir := ">"
		if e.in {
			dir = "<"
		}
		lines = append(lines, fmt.Sprintf("%s%s %s", e.conn, dir, out))
	}
	// Notifications of several monitors on one connection for one commit come
	// in no defined order: sort each run of them.
	isUpdate := func(l string) bool {
		return strings.Contains(l, `"method":"update`) && strings.Contains(l, `"id":null`)
	}
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && isUpdate(lines[j]) && lines[j][0] == lines[i][0] {
			j++
		}
		if j > i+1 {
			sort.Strings(lines[i:j])
		}
		i = max(j, i+1)
	}
	return strings.Join(lines, "\n") + "\n"
}

func canon(v any, name func(string) string) any {
	switch x := v.(type) {
	case string:
		return uuidRE.ReplaceAllStringFunc(x, name)
	case []any:
		for i := range x {
			x[i] = canon(x[i], name)
		}
		if len(x) == 2 {
			if tag, ok := x[0].(string); ok && (tag == "set" || tag == "map") {
				if l, ok := x[1].([]any); ok {
					sort.Slice(l, func(i, j int) bool {
						a, _ := json.Marshal(l[i])
						b, _ := json.Marshal(l[j])
						return string(a) < string(b)
					})
				}
			}
		}
		return x
	case map[string]any:
		if _, isErr := x["error"].(string); isErr {
			delete(x, "details")
			delete(x, "syntax")
		}
		// Keys that are UUIDs: rename them in sorted order of their values'
		// canonical form, so unnamed ones get stable names.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, _ := json.Marshal(x[keys[i]])
			b, _ := json.Marshal(x[keys[j]])
			return string(a) < string(b)
		})
		out := make(map[string]any, len(x))
		for _, k := range keys {
			out[uuidRE.ReplaceAllStringFunc(k, name)] = canon(x[k], name)
		}
		// Rows of a select come in UUID order, which is random.
		if rows, ok := out["rows"].([]any); ok {
			sort.Slice(rows, func(i, j int) bool {
				a, _ := json.Marshal(rows[i])
				b, _ := json.Marshal(rows[j])
				return string(a) < string(b)
			})
		}
		return out
	}
	return v
}

func TestSessions(t *testing.T) {
	scripts, _ := filepath.Glob("testdata/sessions/*.txt")
	if len(scripts) == 0 {
		t.Fatal("no scripts")
	}
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			o := startOurs(t, "", server.Config{InactivityProbe: -1}, bothSchemas...)
			var ref *ovstest.OVSDBServer
			if os.Getenv("HCNET_SKIP_OVS") == "" && haveOVSDBServer() {
				ref = startRef(t)
			}
			steps := parseScript(t, path)
			got := normalise(runScript(t, o.Socket, steps))
			golden := strings.TrimSuffix(path, ".txt") + ".golden"
			header := "# Transcript of " + filepath.Base(path) + " against our server (UUIDs normalised).\n"
			if *rewrite {
				if err := os.WriteFile(golden, []byte(header+got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if diff := lineDiff(strings.TrimPrefix(string(want), header), got); diff != "" {
				t.Errorf("transcript differs from %s:\n%s", golden, diff)
			}
			if ref == nil {
				return
			}
			refGot := normalise(runScript(t, ref.Socket, steps))
			if diff := lineDiff(refGot, got); diff != "" {
				t.Errorf("differs from ovsdb-server (-ovsdb-server +ours):\n%s", diff)
			}
		})
	}
}

func haveOVSDBServer() bool {
	for _, p := range []string{"/usr/sbin/ovsdb-server", "/usr/bin/ovsdb-server", "/usr/local/sbin/ovsdb-server"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// lineDiff returns the differing lines, or "".
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := max(len(w), len(g))
	shown := 0
	for i := 0; i < n && shown < 20; i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, a, c)
			shown++
		}
	}
	return b.String()
}
