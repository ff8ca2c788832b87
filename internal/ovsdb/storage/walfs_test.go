package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLogFSZeroAhead(t *testing.T) {
	dir := t.TempDir()
	l := newLogFS()
	l.step = 4096
	name := filepath.Join(dir, "000007.log")
	f, err := l.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 0; i < 50; i++ {
		rec := bytes.Repeat([]byte{byte('a' + i%26)}, 100+i)
		if _, err := f.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec...)
	}
	// On disk: the data and zeros up to the next step.
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= int64(len(want)) || fi.Size()%l.step != 0 {
		t.Fatalf("on-disk size %d for %d bytes of data, step %d", fi.Size(), len(want), l.step)
	}
	// Readers see the data only.
	r, err := l.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (err %v), want the %d written", len(got), err, len(want))
	}
	if st, _ := r.Stat(); st.Size() != int64(len(want)) {
		t.Fatalf("reader's size %d, want %d", st.Size(), len(want))
	}
	if _, err := r.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if n, err := r.Read(buf); n != 5 || err != nil || !bytes.Equal(buf, want[10:15]) {
		t.Fatalf("read at 10: %q, %v", buf[:n], err)
	}
	if n, err := r.ReadAt(make([]byte, 100), int64(len(want))-10); n != 10 || err != io.EOF {
		t.Fatalf("read past the data: %d bytes, %v", n, err)
	}
	r.Close()
	// Recording the index cuts the log to its data; no more writes.
	idx := filepath.Join(dir, "000007.idxtmp")
	if err := os.WriteFile(idx, []byte("index"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Rename(idx, filepath.Join(dir, "000007.index")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); fi.Size() != int64(len(want)) {
		t.Fatalf("after the index, size %d, want %d", fi.Size(), len(want))
	}
	if _, err := f.Write([]byte("late")); !errors.Is(err, errCut) {
		t.Fatalf("write after the index: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Once closed, the file is an ordinary one.
	r, err = l.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(*os.File); !ok {
		t.Fatalf("closed log opens as %T", r)
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, want) {
		t.Fatalf("closed log reads %d bytes, want %d", len(got), len(want))
	}
}

func TestLogFSCloseCuts(t *testing.T) {
	dir := t.TempDir()
	l := newLogFS()
	name := filepath.Join(dir, "000001.log")
	f, err := l.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(name); string(b) != "hello" {
		t.Fatalf("closed log holds %q", b)
	}
	// Other files are untouched.
	other := filepath.Join(dir, "MANIFEST-000001")
	g, err := l.Create(other)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, ok := g.(*os.File); !ok {
		t.Fatalf("%s created as %T", other, g)
	}
}

func TestLogNumber(t *testing.T) {
	for _, c := range []struct {
		name, suffix string
		ok           bool
	}{
		{"/a/000002.log", ".log", true},
		{"000002.index", ".index", true},
		{"000002.logtmp", ".log", false},
		{"x2.log", ".log", false},
		{".log", ".log", false},
		{"MANIFEST-000001", ".log", false},
	} {
		if _, ok := logNumber(c.name, c.suffix); ok != c.ok {
			t.Errorf("logNumber(%q, %q) = %v, want %v", c.name, c.suffix, ok, c.ok)
		}
	}
}

func TestLegacyLogDB(t *testing.T) {
	dir := t.TempDir()
	if legacyLogDB(dir) {
		t.Fatal("an empty directory is not a legacy Raft log")
	}
	if err := os.WriteFile(filepath.Join(dir, "dragonboat.ds"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !legacyLogDB(dir) {
		t.Fatal("a node directory without tan is the earlier Pebble log")
	}
	if err := os.MkdirAll(filepath.Join(dir, "host", "0001", "tandb"), 0o750); err != nil {
		t.Fatal(err)
	}
	if legacyLogDB(dir) {
		t.Fatal("a node directory with tan is not legacy")
	}
}

// TestNodeUsesTan pins that a new data directory gets the tan log on logFS
// and that a restart reads it back.
func TestNodeUsesTan(t *testing.T) {
	dir := t.TempDir()
	n, s, _ := startKV(t, dir, 0)
	for i := 0; i < 20; i++ {
		if _, err := s.Propose(t.Context(), []byte("k"+string(rune('a'+i))+"=v")); err != nil {
			t.Fatal(err)
		}
	}
	n.Close()
	var logs int
	filepath.WalkDir(filepath.Join(dir, "raft"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, ok := logNumber(p, ".log"); ok && strings.Contains(p, "tandb") {
				logs++
			}
		}
		return nil
	})
	if logs == 0 {
		t.Fatal("no tan log files under the node directory")
	}
	n, _, app := startKV(t, dir, 0)
	defer n.Close()
	if got := app.dump(); !strings.Contains(got, "kt=v") {
		t.Fatalf("after restart: %s", got)
	}
}

// One commit, one sync of the Raft log: the entry's. Updates that only
// advance the commit index are written without one (tan's rule, which
// stateSyncFactory keeps working; without it every commit was synced
// twice).
func TestOneLogSyncPerCommit(t *testing.T) {
	dir := t.TempDir()
	n, s, _ := startKV(t, dir, 0)
	defer n.Close()
	if n.logFS == nil {
		t.Fatal("new data directory without the tan log store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const commits = 40
	before := n.logFS.syncs.Load()
	for i := 0; i < commits; i++ {
		if _, err := s.Propose(ctx, []byte(fmt.Sprintf("k%d=%d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	// A few more are fine (a term change, the log growing a step).
	if got := n.logFS.syncs.Load() - before; got < commits || got > commits+commits/4 {
		t.Fatalf("%d log syncs for %d commits, want one each", got, commits)
	}
}
