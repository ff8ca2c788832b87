package storage

import (
	"fmt"
	"log/slog"
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"
)

// encodeApp defers its writes to Applied.Encode; it claims a large
// EncodeKeys for two entries in three, so both the writer goroutine and the
// inline path for small updates are taken, interleaved.
type encodeApp struct{ kvApp }

func (a *encodeApp) Apply(index uint64, cmd []byte) (Applied, error) {
	out, err := a.kvApp.Apply(index, cmd)
	w := out.Writes
	out.Writes = nil
	out.EncodeKeys = int(index%3) * inlineKeys
	out.Encode = func(put func(KV)) {
		for _, kv := range w {
			put(kv)
		}
	}
	return out, err
}

// The writes applied off the apply path are all in Pebble, with the applied
// index, after Close; a reopened store loads them and resumes there.
func TestDeferredWritesReachTheStore(t *testing.T) {
	dir := t.TempDir()
	m := &stateMachine{dir: dir, app: &encodeApp{kvApp{m: map[string]string{}}}, log: slog.New(slog.DiscardHandler)}
	if _, err := m.Open(nil); err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := 1; i <= n; i++ {
		cmd := fmt.Sprintf("k%d=%d", i%50, i)
		if i%7 == 0 {
			cmd = fmt.Sprintf("k%d=", i%50)
		}
		if _, err := m.Update([]sm.Entry{{Index: uint64(i), Cmd: []byte(cmd)}}); err != nil {
			t.Fatal(err)
		}
	}
	want := m.app.(*encodeApp).dump()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	app := &encodeApp{kvApp{m: map[string]string{}}}
	m2 := &stateMachine{dir: dir, app: app, log: slog.New(slog.DiscardHandler)}
	idx, err := m2.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if idx != n {
		t.Fatalf("reopened at index %d, want %d", idx, n)
	}
	if got := app.dump(); got != want {
		t.Fatalf("reloaded %q, want %q", got, want)
	}
	// Sync drains the writer too.
	if _, err := m2.Update([]sm.Entry{{Index: n + 1, Cmd: []byte("new=1")}}); err != nil {
		t.Fatal(err)
	}
	if err := m2.Sync(); err != nil {
		t.Fatal(err)
	}
	v, closer, err := m2.db.Get(dataKey([]byte("new")))
	if err != nil || string(v) != "1" {
		t.Fatalf("after Sync: %q, %v", v, err)
	}
	closer.Close()
}
