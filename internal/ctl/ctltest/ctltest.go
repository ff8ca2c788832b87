package ctltest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hcnet/internal/ctl"
	"hcnet/internal/ovstest"
	"hcnet/nbdb"
	"hcnet/sbdb"
)

// Fields splits a command line like a POSIX shell would for simple cases:
// words separated by blanks, with '...' and "..." quoting and \ escapes.
func Fields(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.ContainsRune(`"\$`, rune(line[i+1])) {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("unterminated \" in %q", line)
			}
			inWord = true
		case ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case ch == ' ' || ch == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// UUIDs returns a generator of predictable, increasing UUIDs. Golden
// tests let nbctl choose the UUIDs of the rows it inserts (the "uuid"
// member of insert), so their output holds no random UUIDs to normalise.
func UUIDs() func() ctl.UUID {
	var mu sync.Mutex
	n := 0
	return func() ctl.UUID {
		mu.Lock()
		defer mu.Unlock()
		n++
		return ctl.UUID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	}
}

// Server kinds.
const (
	OVSDBServer = "ovsdb-server" // Open vSwitch's server, the reference
	Ours        = "hcnet"        // our nbdb/sbdb, in process
)

// Kinds lists the server kinds tests run against.
var Kinds = []string{OVSDBServer, Ours}

// Start starts a fresh server of the given kind for database "nb" or "sb"
// and returns its remote. It skips the test when the kind cannot run here.
func Start(t testing.TB, kind, which string) string {
	t.Helper()
	schemaFile := map[string]string{"nb": "ovn-nb.ovsschema", "sb": "ovn-sb.ovsschema"}[which]
	switch kind {
	case OVSDBServer:
		s := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, schemaFile))
		return s.Remote()
	case Ours:
		// In process, no Open vSwitch program needed.
		dir := t.TempDir()
		sock := filepath.Join(dir, which+".sock")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		raft := l.Addr().String()
		l.Close()
		cfg := nbdb.Config{DataDir: filepath.Join(dir, "data"), Listen: []string{"punix:" + sock}, RaftAddress: raft,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ctx, cancel := context.WithCancel(context.Background())
		var srv interface{ Close() }
		if which == "nb" {
			srv, err = nbdb.Start(ctx, cfg)
		} else {
			srv, err = sbdb.Start(ctx, cfg)
		}
		if err != nil {
			cancel()
			t.Fatalf("start our %sdb: %v", which, err)
		}
		t.Cleanup(func() { srv.Close(); cancel() })
		return "unix:" + sock
	}
	t.Fatalf("unknown server kind %q", kind)
	return ""
}
