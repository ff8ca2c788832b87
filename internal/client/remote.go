package client

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Remote is one server address: tcp:IP:PORT or unix:PATH.
type Remote struct {
	Network string // "tcp" or "unix"
	Address string
}

func (r Remote) String() string { return r.Network + ":" + r.Address }

// ParseRemotes parses a comma-separated list of remotes, the syntax
// ovsdb-client and ovn-nbctl accept for active connections.
func ParseRemotes(s string) ([]Remote, error) {
	var out []Remote
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := ParseRemote(part)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no remote in %q", s)
	}
	return out, nil
}

// ParseRemote parses one remote.
func ParseRemote(s string) (Remote, error) {
	kind, addr, ok := strings.Cut(s, ":")
	if !ok || addr == "" {
		return Remote{}, fmt.Errorf("remote %q: want tcp:IP:PORT or unix:PATH", s)
	}
	switch kind {
	case "unix":
		return Remote{Network: "unix", Address: addr}, nil
	case "tcp":
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return Remote{}, fmt.Errorf("remote %q: %v", s, err)
		}
		if host == "" || port == "" {
			return Remote{}, fmt.Errorf("remote %q: want tcp:IP:PORT", s)
		}
		return Remote{Network: "tcp", Address: net.JoinHostPort(host, port)}, nil
	case "ssl":
		return Remote{}, fmt.Errorf("remote %q: ssl is not supported yet", s)
	default:
		return Remote{}, fmt.Errorf("remote %q: unknown kind %q (want tcp or unix)", s, kind)
	}
}

func (r Remote) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, r.Network, r.Address)
}
