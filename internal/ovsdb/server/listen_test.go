package server

import "testing"

func TestParseListen(t *testing.T) {
	cases := []struct {
		in, network, addr string
		ok                bool
	}{
		{"ptcp:6641", "tcp", ":6641", true},
		{"ptcp:6641:127.0.0.1", "tcp", "127.0.0.1:6641", true},
		{"ptcp:0:127.0.0.1", "tcp", "127.0.0.1:0", true},
		{"ptcp:6641:::1", "tcp", "[::1]:6641", true},
		{"punix:/run/nb.sock", "unix", "/run/nb.sock", true},
		{"tcp:127.0.0.1:6641", "", "", false},
		{"ptcp:", "", "", false},
		{"punix", "", "", false},
	}
	for _, c := range cases {
		n, a, err := ParseListen(c.in)
		if (err == nil) != c.ok || n != c.network || a != c.addr {
			t.Errorf("ParseListen(%q) = %q, %q, %v", c.in, n, a, err)
		}
	}
}
