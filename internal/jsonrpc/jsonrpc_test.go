package jsonrpc

import (
	"bufio"
	"encoding/json"
	"errors"
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
