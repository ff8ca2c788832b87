package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hcnet/internal/jsonrpc"
	"hcnet/internal/ovsdb"
	"hcnet/internal/ovsdb/replica"
	"hcnet/schema"
)

func fuzzServer(t testing.TB) *Server {
	t.Helper()
	nb, err := ovsdb.ParseSchema(schema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Logger: slog.New(slog.DiscardHandler), InactivityProbe: -1, MaxMessageSize: 1 << 20},
		replica.NewLocal(nb, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// FuzzSession feeds arbitrary bytes to a session: it must answer, close, or
// ignore them, and always come back (no panic, no hang).
func FuzzSession(f *testing.F) {
	seeds := []string{
		`{"method":"list_dbs","params":[],"id":1}`,
		`{"method":"echo","params":[1,"x"],"id":"e"}`,
		`{"method":"get_schema","params":["OVN_Northbound"],"id":2}`,
		`{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"a"}}],"id":3}`,
		`{"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"Logical_Switch","where":[],"until":"!=","rows":[],"timeout":100000}],"id":4}{"method":"cancel","params":[4],"id":null}`,
		`{"method":"monitor","params":["OVN_Northbound",null,{"Logical_Switch":[{"columns":["name"]},{"select":{"modify":false}}]}],"id":5}`,
		`{"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"where":[["name","==","a"]]}]}],"id":6}{"method":"monitor_cond_change","params":["m","n",{"Logical_Switch":[{"where":[true]}]}],"id":7}`,
		`{"method":"monitor_cond_since","params":["OVN_Northbound","s",{},"x"],"id":8}`,
		`{"method":"lock","params":["l"],"id":9}{"method":"steal","params":["l"],"id":10}{"method":"unlock","params":["l"],"id":11}`,
		`{"method":"transact","params":"x","id":12}`,
		`{"method":"monitor","params":[1,2,3,4,5],"id":13}`,
		`{"method":"nope","params":{},"id":[]}`,
		`{"id":1,"result":null,"error":null}`,
		`[1,2,3]`,
		`{"method":`,
		`}{`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := fuzzServer(t)
		a, b := net.Pipe()
		ss := newSession(srv, a)
		done := make(chan struct{})
		go func() { ss.run(context.Background()); close(done) }()
		go func() {
			b.Write(data)
			b.Write([]byte(`{"method":"echo","params":[],"id":"fuzz-barrier"}`))
		}()
		conn := jsonrpc.NewConn(b, jsonrpc.ConnOptions{})
		// An incomplete message swallows the barrier; give up reading after a
		// while (what matters is that the session ends when the client goes).
		b.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			m, err := conn.Read()
			if err != nil {
				if err == io.EOF || strings.Contains(err.Error(), "closed") {
					break
				}
				break
			}
			if m.IsResponse() && string(m.ID) == `"fuzz-barrier"` {
				break
			}
		}
		b.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session did not end after %q", data)
		}
	})
}

// FuzzMonitorRequests checks that any monitor request parses or errors.
func FuzzMonitorRequests(f *testing.F) {
	for _, s := range []string{
		`{"Logical_Switch":{}}`,
		`{"Logical_Switch":[{"columns":["name"],"where":[["name","==","x"]]},{"columns":["ports"],"select":{"initial":false}}]}`,
		`{"ACL":{"columns":["name","name"]}}`,
		`{"Nope":{}}`,
		`[]`,
		`{"Logical_Switch":[{"where":[["other_config","includes",["map",[["a","b"]]]]]}]}`,
	} {
		f.Add([]byte(s))
	}
	nb, err := ovsdb.ParseSchema(schema.Northbound)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		_, _ = parseMonitorRequests(nb, data, true)
		_, _ = parseMonitorRequests(nb, data, false)
	})
}

// FuzzScan checks the transaction scanner against encoding/json.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`[]`, `[1, "a\"]", {"op":"insert","x":[1,{"y":"}"}]}]`, ` [ null , true,false ,-1.5e3 ] `, `{"op" : "wait", "a\\u0070":1}`, `[{"\u006fp":"x"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		trimmed := strings.TrimSpace(string(data))
		var want []json.RawMessage
		if strings.HasPrefix(trimmed, "[") && json.Unmarshal(data, &want) == nil {
			got, err := arrayElements(data)
			if err != nil || len(got) != len(want) {
				t.Fatalf("arrayElements(%q) = %q, %v; want %q", data, got, err, want)
			}
			for i := range got {
				if string(got[i]) != strings.TrimSpace(string(want[i])) {
					t.Fatalf("element %d: %q, want %q", i, got[i], want[i])
				}
			}
		}
		var obj map[string]json.RawMessage
		if strings.HasPrefix(trimmed, "{") && utf8.Valid(data) && json.Unmarshal(data, &obj) == nil {
			for k, v := range obj {
				got, ok := member(data, k)
				if !ok {
					t.Fatalf("member(%q, %q) missing", data, k)
				}
				var a, b any
				json.Unmarshal(got, &a)
				json.Unmarshal(v, &b)
				if fmt.Sprint(a) != fmt.Sprint(b) && !strings.Contains(string(data), `\`) {
					t.Fatalf("member(%q, %q) = %q, want %q", data, k, got, v)
				}
			}
		}
	})
}
