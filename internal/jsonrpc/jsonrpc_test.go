package jsonrpc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

func TestSplitter(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"two objects back to back", `{"a":1}{"b":[2,3]}`, []string{`{"a":1}`, `{"b":[2,3]}`}, io.EOF},
		{"whitespace between", " {\"a\":1}\n\t{}\r\n", []string{`{"a":1}`, `{}`}, io.EOF},
		{"braces inside strings", `{"s":"}{\"]"}{"t":"\\"}`, []string{`{"s":"}{\"]"}`, `{"t":"\\"}`}, io.EOF},
		{"nested", `{"a":{"b":[{"c":{}}]}}`, []string{`{"a":{"b":[{"c":{}}]}}`}, io.EOF},
		{"truncated", `{"a":[1,2`, nil, io.ErrUnexpectedEOF},
		{"garbage", `xyz`, nil, ErrSyntax},
		{"too large", `{"a":"` + strings.Repeat("x", 100) + `"}`, nil, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A tiny reader buffer exercises messages that span refills.
			s := NewSplitter(bufio.NewReaderSize(strings.NewReader(c.in), 16), 64)
			var got []string
			var err error
			for {
				var b []byte
				b, err = s.Next()
				if err != nil {
					break
				}
				got = append(got, string(b))
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("final error %v, want %v", err, c.err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestMarshalShapes(t *testing.T) {
	cases := []struct {
		name string
		m    *Message
		want string
	}{
		{"request", &Message{Method: "echo", Params: json.RawMessage(`[]`), ID: json.RawMessage(`1`)}, `{"method":"echo","params":[],"id":1}`},
		{"notification gets null id and empty params", &Message{Method: "update"}, `{"method":"update","params":[],"id":null}`},
		{"success response gets null error", &Message{Result: json.RawMessage(`{}`), ID: json.RawMessage(`"x"`)}, `{"result":{},"error":null,"id":"x"}`},
		{"error response gets null result", NewErrorResponse(json.RawMessage(`7`), "unknown method", "foo"), `{"result":null,"error":{"details":"foo","error":"unknown method"},"id":7}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.m.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Fatalf("got %s, want %s", b, c.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name                 string
		in                   string
		req, notify, respond bool
		err                  error
	}{
		{"request", `{"method":"transact","params":["db"],"id":3}`, true, false, false, nil},
		{"notification", `{"method":"update","params":[null,{}],"id":null}`, false, true, false, nil},
		{"response", `{"result":[],"error":null,"id":3}`, false, false, true, nil},
		{"params not an array", `{"method":"echo","params":{},"id":1}`, false, false, false, ErrInvalid},
		{"neither method nor id", `{"result":1}`, false, false, false, ErrInvalid},
		{"not json", `{"method":`, false, false, false, ErrSyntax},
		{"empty method", `{"method":"","params":[],"id":1}`, false, false, false, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode([]byte(c.in))
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			if m.IsRequest() != c.req || m.IsNotification() != c.notify || m.IsResponse() != c.respond {
				t.Fatalf("kind: request=%v notification=%v response=%v", m.IsRequest(), m.IsNotification(), m.IsResponse())
			}
		})
	}
	m, err := Decode([]byte(`{"result":null,"error":{"error":"e"},"id":1}`))
	if err != nil || m.Result != nil || string(m.Error) != `{"error":"e"}` {
		t.Fatalf("error response decoded as %+v, %v", m, err)
	}
}

func TestConnRoundTrip(t *testing.T) {
	a, b := net.Pipe()
	ca, cb := NewConn(a, ConnOptions{}), NewConn(b, ConnOptions{})
	defer ca.Close()
	defer cb.Close()
	req, err := NewRequest(1, "echo", "hi", 2)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ca.Write(req) }()
	got, err := cb.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "echo" || string(got.Params) != `["hi",2]` || string(got.ID) != "1" {
		t.Fatalf("got %+v", got)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"method":"transact","params":["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[]}],"id":0}`,
		`{"method":"echo","params":[],"id":"echo"}`,
		`{"result":null,"error":null,"id":null}`,
		`{"method":"update3","params":[["m"],"00000000-0000-0000-0000-000000000000",{}],"id":null}`,
		`[1,2,3]`, `{"id":{}}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, data)
		s := NewSplitter(bufio.NewReader(strings.NewReader(string(data))), 1<<16)
		for i := 0; i < 100; i++ {
			b, err := s.Next()
			if err != nil {
				return
			}
			m, err := Decode(b)
			if err != nil {
				continue
			}
			// Whatever decodes must re-encode and decode to the same kind.
			out, err := m.MarshalJSON()
			if err != nil {
				t.Fatalf("re-encode %q: %v", b, err)
			}
			m2, err := Decode(out)
			if err != nil {
				t.Fatalf("decode of re-encoded %s: %v", out, err)
			}
			if m.IsRequest() != m2.IsRequest() || m.IsNotification() != m2.IsNotification() {
				t.Fatalf("kind changed across re-encoding: %s -> %s", b, out)
			}
		}
	})
}

// checkFastDecode requires decodeFast, when it accepts data, to agree with
// encoding/json's decoding.
func checkFastDecode(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := decodeFast(data)
	if !ok {
		return
	}
	slow, err := decodeSlow(data)
	if err != nil {
		t.Fatalf("decodeFast accepted %q, encoding/json says %v", data, err)
	}
	same := func(a, b json.RawMessage) bool { return (a == nil) == (b == nil) && string(a) == string(b) }
	if fast.Method != slow.Method || !same(fast.Params, slow.Params) || !same(fast.ID, slow.ID) ||
		!same(fast.Result, slow.Result) || !same(fast.Error, slow.Error) {
		t.Fatalf("decodeFast(%q) = %+v, encoding/json %+v", data, fast, slow)
	}
}

func TestFastDecodeAgrees(t *testing.T) {
	for _, s := range []string{
		`{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"T","row":{"a":["set",[1,-2.5e3,true,null,"x\u00e9\n"]]}}],"id":7}`,
		` {"id":"x" , "method":"echo","params":[ ]} `,
		`{"result":[{"uuid":["uuid","00000000-0000-0000-0000-000000000000"]}],"error":null,"id":3}`,
		`{"result":null,"error":{"error":"e"},"id":1}`,
		`{"method":"update","params":[null,{}],"id":null}`,
		`{"method":"echo","params":{},"id":1}`,
		`{"Method":"echo","params":[],"id":1}`,
		`{"method":"echo","method":"x","params":[],"id":1}`,
		`{"method":"e\u0063ho","params":[],"id":1}`,
		`{"method":"echo","params":[01],"id":1}`,
		`{"method":"echo","params":["\x"],"id":1}`,
		`{"method":"echo","params":[1.],"id":1}`,
		`{"method":"echo","params":[],"id":1} x`,
		`{"method":"echo","params":[],"id":1,"extra":2}`,
		`{"result":1}`, `[]`, `{}`, `{"id":1}`,
	} {
		checkFastDecode(t, []byte(s))
	}
	if _, ok := decodeFast([]byte(`{"method":"transact","params":["db",{"op":"comment","comment":"x"}],"id":1}`)); !ok {
		t.Fatal("decodeFast declined a plain request")
	}
}

func BenchmarkDecodeTransact100(b *testing.B) {
	var ops strings.Builder
	for r := 0; r < 100; r++ {
		fmt.Fprintf(&ops, `,{"op":"insert","row":{"addresses":["set",["00:00:00:00:00:01 10.0.0.1"]],"name":"lsp0_0_0_%d"},"table":"Logical_Switch_Port","uuid-name":"lsp0_0_0_%d"}`, r, r)
	}
	msg := []byte(`{"method":"transact","params":["OVN_Northbound"` + ops.String() + `],"id":1}`)
	for _, c := range []struct {
		name   string
		decode func([]byte) (*Message, error)
	}{{"encoding-json", decodeSlow}, {"Decode", Decode}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.decode(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
