package storage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// kvApp is a map applier: the command "k=v" sets k, "k=" deletes it.
type kvApp struct {
	mu        sync.Mutex
	m         map[string]string
	published uint64
}

func (a *kvApp) Reset() { a.mu.Lock(); a.m = map[string]string{}; a.mu.Unlock() }
func (a *kvApp) Load(k, v []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[string(k)] = string(v)
	return nil
}
func (a *kvApp) Loaded(uint64) error { return nil }
func (a *kvApp) Apply(index uint64, cmd []byte) (Applied, error) {
	k, v, ok := strings.Cut(string(cmd), "=")
	if !ok {
		return Applied{Result: []byte("bad")}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if v == "" {
		delete(a.m, k)
		return Applied{Writes: []KV{{Key: []byte(k)}}, Result: []byte(fmt.Sprint(index))}, nil
	}
	a.m[k] = v
	return Applied{Writes: []KV{{Key: []byte(k), Value: []byte(v)}}, Result: []byte(fmt.Sprint(index))}, nil
}
func (a *kvApp) Published(i uint64) { a.mu.Lock(); a.published = i; a.mu.Unlock() }
func (a *kvApp) dump() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s []string
	for k, v := range a.m {
		s = append(s, k+"="+v)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var addrs sync.Map // dir -> raft address (a node keeps its address across restarts)

func startKV(t *testing.T, dir string, snapEvery uint64) (*Node, *Shard, *kvApp) {
	t.Helper()
	addr, _ := addrs.LoadOrStore(dir, freeAddr(t))
	n, err := OpenNode(NodeConfig{Dir: dir, RaftAddress: addr.(string), RTT: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	app := &kvApp{m: map[string]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := n.StartShard(ctx, ShardConfig{ShardID: 1, Name: "kv", Applier: app, SnapshotEntries: snapEvery})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	return n, s, app
}

func TestProposeRestartRecovers(t *testing.T) {
	dir := t.TempDir()
	n, s, app := startKV(t, dir, 0)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := s.Propose(ctx, []byte(fmt.Sprintf("k%02d=%d", i, i))); err != nil {
			n.Close()
			t.Fatal(err)
		}
	}
	if _, err := s.Propose(ctx, []byte("k03=")); err != nil {
		t.Fatal(err)
	}
	want := app.dump()
	if leader, _ := s.Leader(); !leader {
		t.Errorf("single replica is not leader")
	}
	n.Close()

	n2, _, app2 := startKV(t, dir, 0)
	defer n2.Close()
	if got := app2.dump(); got != want {
		t.Fatalf("after restart:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(app2.dump(), "k03=") {
		t.Fatalf("deleted key came back")
	}
}

func TestSnapshotsAndCompaction(t *testing.T) {
	dir := t.TempDir()
	n, s, app := startKV(t, dir, 10)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := s.Propose(ctx, []byte(fmt.Sprintf("w%d-%02d=%d", w, i, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	want := app.dump()
	n.Close()
	n2, _, app2 := startKV(t, dir, 10)
	defer n2.Close()
	if got := app2.dump(); got != want {
		t.Fatalf("after restart with snapshots:\n got %s\nwant %s", got, want)
	}
}

func TestSnapshotStreamRoundTrip(t *testing.T) {
	src := &stateMachine{dir: t.TempDir(), app: &kvApp{m: map[string]string{}}, log: slog.New(slog.DiscardHandler)}
	if _, err := src.Open(nil); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Update(sm3("a=1", "b=2", "c=3", "b=")); err != nil {
		t.Fatal(err)
	}
	snap, err := src.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.SaveSnapshot(snap, &buf, nil); err != nil {
		t.Fatal(err)
	}
	dstApp := &kvApp{m: map[string]string{"stale": "x"}}
	dst := &stateMachine{dir: t.TempDir(), app: dstApp, log: slog.New(slog.DiscardHandler)}
	if _, err := dst.Open(nil); err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.Update(sm3("zz=9")); err != nil {
		t.Fatal(err)
	}
	if err := dst.RecoverFromSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := dstApp.dump(); got != "a=1,c=3" {
		t.Fatalf("recovered %q", got)
	}
	if dstApp.published != 4 {
		t.Fatalf("recovered index %d, want 4", dstApp.published)
	}
}

func TestSnapshotBySize(t *testing.T) {
	dir := t.TempDir()
	n, err := OpenNode(NodeConfig{Dir: dir, RaftAddress: freeAddr(t), RTT: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Entry count alone would never snapshot here.
	s, err := n.StartShard(ctx, ShardConfig{ShardID: 1, Name: "kv", Applier: &kvApp{m: map[string]string{}},
		SnapshotEntries: 1 << 30, SnapshotBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 512)
	for i := 0; i < 20; i++ {
		if _, err := s.Propose(ctx, []byte(fmt.Sprintf("k%d=%s", i, big))); err != nil {
			t.Fatal(err)
		}
	}
	for {
		st, err := s.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.SnapshotBytes > 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("no snapshot after %d bytes of entries: %+v", 20*len(big), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
