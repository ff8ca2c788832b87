package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/internal/ovsdb/server"
)

// rawClient is a test client that records notifications.
type rawClient struct {
	t     *testing.T
	c     *jsonrpc.Conn
	in    chan *jsonrpc.Message
	id    int
	echo  bool // answer the server's echo requests
	notes []*jsonrpc.Message
}

func connect(t *testing.T, socket string, answerEcho bool) *rawClient {
	t.Helper()
	nc, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, c: jsonrpc.NewConn(nc, jsonrpc.ConnOptions{}), in: make(chan *jsonrpc.Message, 10000), echo: answerEcho}
	t.Cleanup(func() { c.c.Close() })
	go func() {
		defer close(c.in)
		for {
			m, err := c.c.Read()
			if err != nil {
				return
			}
			if m.Method == "echo" && m.IsRequest() {
				if c.echo {
					c.c.Write(&jsonrpc.Message{ID: m.ID, Result: m.Params})
				}
				continue
			}
			c.in <- m
		}
	}()
	return c
}

// call sends a request and returns its response, keeping notifications.
func (c *rawClient) call(method string, params ...any) *jsonrpc.Message {
	c.t.Helper()
	c.id++
	m, err := jsonrpc.NewRequest(c.id, method, params...)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.c.Write(m); err != nil {
		c.t.Fatal(err)
	}
	want := fmt.Sprint(c.id)
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r, ok := <-c.in:
			if !ok {
				c.t.Fatalf("%s: connection closed", method)
			}
			if r.IsResponse() && string(r.ID) == want {
				return r
			}
			c.notes = append(c.notes, r)
		case <-timeout:
			c.t.Fatalf("%s: no reply", method)
		}
	}
}

// waitNote waits for a notification with method.
func (c *rawClient) waitNote(method string) *jsonrpc.Message {
	c.t.Helper()
	for i, n := range c.notes {
		if n.Method == method {
			c.notes = append(c.notes[:i:i], c.notes[i+1:]...)
			return n
		}
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r, ok := <-c.in:
			if !ok {
				c.t.Fatalf("closed while waiting for %s", method)
			}
			if r.Method == method {
				return r
			}
			c.notes = append(c.notes, r)
		case <-timeout:
			c.t.Fatalf("no %s notification", method)
		}
	}
}

func isErr(m *jsonrpc.Message) bool { return len(m.Error) > 0 && string(m.Error) != "null" }

func insertLS(t *testing.T, c *rawClient, name string) {
	t.Helper()
	r := c.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": name}})
	if strings.Contains(string(r.Result), "error") || isErr(r) {
		t.Fatalf("insert %s: %s %s", name, r.Result, r.Error)
	}
}

func TestMonitorCondSinceResumes(t *testing.T) {
	dir := shortDir(t)
	o := startOurs(t, dir, server.Config{InactivityProbe: -1}, bothSchemas...)
	c := connect(t, o.Socket, true)
	insertLS(t, c, "a")
	req := map[string]any{"Logical_Switch": []any{map[string]any{"columns": []string{"name"}}}}
	r := c.call("monitor_cond_since", "OVN_Northbound", "m", req, "00000000-0000-0000-0000-000000000000")
	var res []json.RawMessage
	if err := json.Unmarshal(r.Result, &res); err != nil || len(res) != 3 || string(res[0]) != "false" {
		t.Fatalf("first monitor_cond_since: %s", r.Result)
	}
	var last string
	json.Unmarshal(res[1], &last)
	c.call("monitor_cancel", "m")

	insertLS(t, c, "b")
	r = c.call("monitor_cond_since", "OVN_Northbound", "m", req, last)
	if err := json.Unmarshal(r.Result, &res); err != nil || string(res[0]) != "true" {
		t.Fatalf("resume from %s: %s", last, r.Result)
	}
	if !strings.Contains(string(res[2]), `"insert":{"name":"b"}`) || strings.Contains(string(res[2]), `"a"`) {
		t.Fatalf("resume should carry only the insert of b: %s", res[2])
	}
	json.Unmarshal(res[1], &last)
	c.call("monitor_cancel", "m")

	// The current transaction id survives a restart.
	o.stop()
	t.Run("after restart", func(t *testing.T) {
		o2 := startOurs(t, dir, server.Config{InactivityProbe: -1}, bothSchemas...)
		c2 := connect(t, o2.Socket, true)
		r := c2.call("monitor_cond_since", "OVN_Northbound", "m", req, last)
		if err := json.Unmarshal(r.Result, &res); err != nil || string(res[0]) != "true" || string(res[2]) != "{}" {
			t.Fatalf("resume after restart from %s: %s", last, r.Result)
		}
		r = c2.call("transact", "OVN_Northbound", map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name"}})
		if !strings.Contains(string(r.Result), `"a"`) || !strings.Contains(string(r.Result), `"b"`) {
			t.Fatalf("rows after restart: %s", r.Result)
		}
	})
}

func TestServerDatabase(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1}, bothSchemas...)
	c := connect(t, o.Socket, true)
	r := c.call("monitor_cond", "_Server", "s", map[string]any{"Database": []any{map[string]any{
		"columns": []string{"name", "model", "connected", "leader", "cid", "sid", "index", "schema"},
		"where":   []any{[]any{"name", "==", "OVN_Northbound"}}}}})
	s := string(r.Result)
	for _, want := range []string{`"name":"OVN_Northbound"`, `"model":"clustered"`, `"connected":true`, `"leader":true`, `"cid":["uuid"`, `"sid":["uuid"`, `"schema":"{`} {
		if !strings.Contains(s, want) {
			t.Errorf("_Server row lacks %s: %.400s", want, s)
		}
	}
	if strings.Contains(s, "OVN_Southbound") {
		t.Errorf("condition not applied: %.300s", s)
	}
	// The index follows the database (refreshed every second).
	insertLS(t, c, "moves-the-index")
	n := c.waitNote("update2")
	if !strings.Contains(string(n.Params), `"index"`) {
		t.Errorf("_Server update without index: %s", n.Params)
	}
	r = c.call("transact", "_Server", map[string]any{"op": "delete", "table": "Database", "where": []any{}})
	if !strings.Contains(string(r.Error), "not allowed") {
		t.Errorf("write to _Server: %s %s", r.Result, r.Error)
	}
	r = c.call("list_dbs")
	if string(r.Result) != `["OVN_Northbound","OVN_Southbound","_Server"]` {
		t.Errorf("list_dbs: %s", r.Result)
	}
}

func TestLockReleasedOnDisconnect(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1}, bothSchemas...)
	a := connect(t, o.Socket, true)
	b := connect(t, o.Socket, true)
	if r := a.call("lock", "l"); string(r.Result) != `{"locked":true}` {
		t.Fatalf("a lock: %s", r.Result)
	}
	if r := b.call("lock", "l"); string(r.Result) != `{"locked":false}` {
		t.Fatalf("b lock: %s", r.Result)
	}
	a.c.Close()
	n := b.waitNote("locked")
	if string(n.Params) != `["l"]` {
		t.Fatalf("locked params %s", n.Params)
	}
}

func TestSlowMonitorClientIsDisconnected(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1, MaxBacklog: 256 << 10}, bothSchemas...)
	// The slow client monitors and then never reads.
	nc, err := net.Dial("unix", o.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(`{"method":"monitor","params":["OVN_Northbound",1,{"Logical_Switch":{}}],"id":1}`)); err != nil {
		t.Fatal(err)
	}
	w := connect(t, o.Socket, true)
	fast := connect(t, o.Socket, true)
	fast.call("monitor", "OVN_Northbound", 1, map[string]any{"Logical_Switch": map[string]any{"columns": []string{"name"}}})
	big := strings.Repeat("x", 8000)
	for i := 0; i < 300; i++ {
		r := w.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch",
			"row": map[string]any{"name": fmt.Sprint("s", i), "external_ids": []any{"map", []any{[]any{"pad", big}}}}})
		if isErr(r) {
			t.Fatalf("transaction %d: %s", i, r.Error)
		}
	}
	// The fast monitor got every update.
	for i := 0; i < 300; i++ {
		fast.waitNote("update")
	}
	// The slow one was cut off: reading drains what was sent, then fails.
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := nc.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("slow client still connected")
			}
			break
		}
	}
}

func TestInactivityProbe(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: 500 * time.Millisecond}, bothSchemas...)
	silent := connect(t, o.Socket, false)
	alive := connect(t, o.Socket, true)
	deadline := time.After(20 * time.Second)
	for closed := false; !closed; {
		select {
		case _, ok := <-silent.in:
			closed = !ok
		case <-deadline:
			t.Fatal("client that ignores echo was not disconnected")
		}
	}
	// The answering client is still served.
	if r := alive.call("list_dbs"); isErr(r) {
		t.Fatalf("list_dbs: %s", r.Error)
	}
}

func TestLimits(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1, MaxMonitors: 2, MaxMessageSize: 4096}, bothSchemas...)
	c := connect(t, o.Socket, true)
	for i := 0; i < 2; i++ {
		if r := c.call("monitor", "OVN_Northbound", i, map[string]any{}); isErr(r) {
			t.Fatalf("monitor %d: %s", i, r.Error)
		}
	}
	if r := c.call("monitor", "OVN_Northbound", 3, map[string]any{}); !strings.Contains(string(r.Error), "resources exhausted") {
		t.Fatalf("third monitor: %s", r.Error)
	}
	// An oversized request ends the connection (the stream cannot resync).
	big := strings.Repeat("x", 8192)
	c.c.Write(&jsonrpc.Message{Method: "echo", Params: json.RawMessage(`["` + big + `"]`), ID: json.RawMessage(`99`)})
	timeout := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				// Others are still served.
				d := connect(t, o.Socket, true)
				if r := d.call("echo", "hi"); string(r.Result) != `["hi"]` {
					t.Fatalf("echo: %s", r.Result)
				}
				return
			}
		case <-timeout:
			t.Fatal("oversized message did not end the connection")
		}
	}
}

// A monitoring client that stops reading while commits pile up (the socket
// fills, so writes are partial and the rest is queued) still receives every
// update, whole and in commit order, once it reads again.
func TestLaggingMonitorGetsEveryUpdateInOrder(t *testing.T) {
	o := startOurs(t, "", server.Config{InactivityProbe: -1, MaxBacklog: 64 << 20}, bothSchemas...)
	nc, err := net.Dial("unix", o.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(`{"method":"monitor","params":["OVN_Northbound",1,{"Logical_Switch":{"columns":["name","external_ids"]}}],"id":1}`)); err != nil {
		t.Fatal(err)
	}
	sp := jsonrpc.NewSplitter(bufio.NewReader(nc), 0)
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if b, err := sp.Next(); err != nil || !strings.Contains(string(b), `"id":1`) {
		t.Fatalf("monitor reply %s: %v", b, err)
	}
	const n = 120
	w := connect(t, o.Socket, true)
	big := strings.Repeat("x", 8000) // n*8000 bytes is more than a socket buffer
	for i := 0; i < n; i++ {
		r := w.call("transact", "OVN_Northbound", map[string]any{"op": "insert", "table": "Logical_Switch",
			"row": map[string]any{"name": fmt.Sprint("s", i), "external_ids": []any{"map", []any{[]any{"pad", big}}}}})
		if isErr(r) {
			t.Fatalf("transaction %d: %s", i, r.Error)
		}
	}
	for i := 0; i < n; i++ {
		b, err := sp.Next()
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		m, err := jsonrpc.Decode(b)
		if err != nil {
			t.Fatalf("update %d: %v in %.200s", i, err, b)
		}
		want := fmt.Sprintf(`"name":"s%d"`, i)
		if m.Method != "update" || !strings.Contains(string(b), want) || !strings.Contains(string(b), big) {
			t.Fatalf("message %d is not the update with %s: %.200s", i, want, b)
		}
	}
}
