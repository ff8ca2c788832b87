package ovsdb

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"hcnet/schema"
)

// refServer is a real ovsdb-server that a test started, for differential
// testing.
type refServer struct {
	conn    net.Conn
	dec     *json.Decoder
	id      int
	db      string
	dir     string // where its database, socket and log live
	cmd     *exec.Cmd
	updates []json.RawMessage // <table-updates2> of update2s for monitor "m"
}

// startRefServer starts ovsdb-server on a fresh database of the given
// schema, or returns nil when Open vSwitch is not installed.
func startRefServer(t testing.TB, schemaJSON []byte, dbName string) *refServer {
	t.Helper()
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		return nil
	}
	server, err1 := exec.LookPath("ovsdb-server")
	tool, err2 := exec.LookPath("ovsdb-tool")
	if err1 != nil || err2 != nil {
		return nil
	}
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "schema.ovsschema")
	if err := os.WriteFile(schemaPath, schemaJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "db")
	if out, err := exec.Command(tool, "create", dbPath, schemaPath).CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v: %s", err, out)
	}
	sock := filepath.Join(dir, "db.sock")
	cmd := exec.Command(server, "--remote=punix:"+sock, "--unixctl="+filepath.Join(dir, "ctl"),
		"--log-file="+filepath.Join(dir, "log"), "--pidfile="+filepath.Join(dir, "pid"), dbPath)
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ovsdb-server: %v", err)
	}
	stderr.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var conn net.Conn
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			conn = c
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("ovsdb-server did not come up on %s: %v\n%s", sock, err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	return &refServer{conn: conn, dec: json.NewDecoder(bufio.NewReader(conn)), db: dbName, dir: dir, cmd: cmd}
}

// transact sends one transaction and returns the result array.
func (s *refServer) transact(t testing.TB, ops json.RawMessage) json.RawMessage {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(ops, &list); err != nil {
		t.Fatalf("transaction %s: %v", ops, err)
	}
	dbJSON, _ := json.Marshal(s.db)
	res, rpcErr := s.call(t, "transact", append([]json.RawMessage{dbJSON}, list...))
	if rpcErr != nil {
		return json.RawMessage(`[{"rpc-error":` + string(rpcErr) + `}]`)
	}
	return res
}

// call sends a request and returns its result (or error), collecting any
// update2 notifications that arrive meanwhile in s.updates.
func (s *refServer) call(t testing.TB, method string, params any) (json.RawMessage, json.RawMessage) {
	t.Helper()
	s.id++
	req, _ := json.Marshal(map[string]any{"method": method, "params": params, "id": s.id})
	_ = s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.conn.Write(req); err != nil {
		t.Fatalf("send to ovsdb-server: %v", err)
	}
	for {
		var msg struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
			ID     json.RawMessage `json:"id"`
		}
		if err := s.dec.Decode(&msg); err != nil {
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			stderr, _ := os.ReadFile(filepath.Join(s.dir, "stderr"))
			alive := s.cmd.Process.Signal(syscall.Signal(0)) == nil
			t.Fatalf("read from ovsdb-server (alive: %v): %v; its log:\n%s%s", alive, err, log, stderr)
		}
		switch msg.Method {
		case "echo":
			resp, _ := json.Marshal(map[string]any{"result": msg.Params, "error": nil, "id": msg.ID})
			_, _ = s.conn.Write(resp)
			continue
		case "update2":
			var p []json.RawMessage
			if err := json.Unmarshal(msg.Params, &p); err != nil || len(p) != 2 {
				t.Fatalf("bad update2 %s", msg.Params)
			}
			if string(p[0]) == `"m"` {
				s.updates = append(s.updates, p[1])
			}
			continue
		}
		if string(msg.ID) != fmt.Sprint(s.id) {
			continue
		}
		if len(msg.Error) > 0 && string(msg.Error) != "null" {
			return nil, msg.Error
		}
		return msg.Result, nil
	}
}

// sync waits until every notification the server queued has arrived.
func (s *refServer) sync(t testing.TB) {
	if _, err := s.call(t, "echo", []any{}); err != nil {
		t.Fatalf("echo: %s", err)
	}
}

// normalizer replaces UUIDs by placeholders in order of first appearance,
// so that replies from two servers can be compared.
type normalizer struct {
	names  map[string]string
	frozen bool // name no new UUIDs (they become "<?>")
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func (n *normalizer) name(u string) string {
	if n.names == nil {
		n.names = make(map[string]string)
	}
	if p, ok := n.names[u]; ok {
		return p
	}
	if n.frozen {
		return "<?>"
	}
	p := fmt.Sprintf("<%d>", len(n.names))
	n.names[u] = p
	return p
}

// masked renders v with every UUID replaced by the same token, as a sort key.
func (n *normalizer) masked(v any) string {
	return uuidRE.ReplaceAllStringFunc(marshalPlain(v), func(u string) string {
		if p, ok := n.names[u]; ok {
			return p
		}
		return "U"
	})
}

// marshalPlain encodes v without HTML escaping, for readable golden files.
func marshalPlain(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// sortByMask orders set elements and rows by their JSON with known UUIDs
// replaced by placeholders and unknown ones masked.
func (n *normalizer) sortByMask(l []any) {
	keys := make([]string, len(l))
	for i, e := range l {
		keys[i] = n.masked(e)
	}
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]any, len(l))
	for i, j := range idx {
		out[i] = l[j]
	}
	copy(l, out)
}

// reply normalises a whole transact reply. kindOnly drops error details.
func (n *normalizer) reply(raw json.RawMessage, kindOnly bool) string {
	var results []any
	if err := json.Unmarshal(raw, &results); err != nil {
		return "unparsable reply: " + string(raw)
	}
	// Name inserted rows first, in operation order.
	for _, r := range results {
		if m, ok := r.(map[string]any); ok {
			if u, ok := m["uuid"].([]any); ok && len(u) == 2 {
				if s, ok := u[1].(string); ok {
					n.name(s)
				}
			}
		}
	}
	var b strings.Builder
	for _, r := range results {
		if m, ok := r.(map[string]any); ok {
			if _, isErr := m["error"]; isErr {
				delete(m, "syntax")
				if kindOnly {
					delete(m, "details")
				}
			}
		}
		b.WriteString(marshalPlain(n.walk(r)))
		b.WriteByte('\n')
	}
	return b.String()
}

func (n *normalizer) walk(v any) any {
	switch v := v.(type) {
	case []any:
		if len(v) == 2 {
			if tag, ok := v[0].(string); ok {
				switch tag {
				case "uuid":
					if s, ok := v[1].(string); ok {
						return []any{"uuid", n.name(s)}
					}
				case "set", "map":
					if l, ok := v[1].([]any); ok {
						l = append([]any(nil), l...)
						n.sortByMask(l)
						out := make([]any, len(l))
						for i, e := range l {
							out[i] = n.walk(e)
						}
						return []any{tag, out}
					}
				}
			}
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = n.walk(e)
		}
		return out
	case map[string]any:
		if rows, ok := v["rows"].([]any); ok {
			rows = append([]any(nil), rows...)
			n.sortByMask(rows)
			v["rows"] = rows
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(v))
		for _, k := range keys {
			out[k] = n.walk(v[k])
		}
		return out
	case string:
		return uuidRE.ReplaceAllStringFunc(v, n.name)
	}
	return v
}

// TestDifferential runs the scripts in testdata/diff against this package
// and, when Open vSwitch is installed, against a real ovsdb-server started
// for the test, and requires the same normalised replies. Commands:
//
//	schema name=<test|nb|sb>
//	transact [kind-only]
//	  <JSON array of operations>
//
// kind-only compares error kinds but not details, for errors whose
// details are ovsdb-server implementation noise.
func TestDifferential(t *testing.T) {
	datadriven.Walk(t, "testdata/diff", func(t *testing.T, path string) {
		var (
			db       *Database
			ref      *refServer
			ours     normalizer
			theirs   normalizer
			seed     byte
			checked  int
			noServer bool
		)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "schema":
				var name string
				d.ScanArgs(t, "name", &name)
				s := loadSchema(t, name)
				db = NewDatabase(s)
				raw := map[string][]byte{"nb": schema.Northbound, "sb": schema.Southbound}[name]
				if raw == nil {
					var err error
					raw, err = os.ReadFile(filepath.Join("testdata", name+".ovsschema"))
					if err != nil {
						t.Fatal(err)
					}
				}
				ref = startRefServer(t, raw, s.Name)
				noServer = ref == nil
				return ""
			case "transact":
				seed++
				txn := Txn{Ops: json.RawMessage(d.Input), Seed: [16]byte{seed, 0xd1}}
				res := db.Execute(txn)
				if res.Blocked {
					t.Fatalf("%s: transaction blocked; differential scripts must not block", d.Pos)
				}
				db.Commit(res.Changes)
				kindOnly := d.HasArg("kind-only")
				got := ours.reply(res.Reply, kindOnly)
				if ref != nil {
					want := theirs.reply(ref.transact(t, json.RawMessage(d.Input)), kindOnly)
					checked++
					if got != want {
						t.Errorf("%s: reply differs from ovsdb-server\nops:\n%s\nhcnet:\n%sovsdb-server:\n%s", d.Pos, d.Input, got, want)
					}
				}
				return got
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
		if noServer {
			t.Logf("ovsdb-server not available: compared against golden output only")
		} else {
			t.Logf("%d transactions compared with ovsdb-server", checked)
		}
	})
}
