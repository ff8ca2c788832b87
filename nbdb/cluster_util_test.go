package nbdb_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/internal/ovsdb/service"
	"hcnet/nbdb"
)

// replicaConfig is what a replica child process serves.
type replicaConfig struct {
	Dir       string            `json:"dir"`
	ID        uint64            `json:"id"`
	Listen    string            `json:"listen"` // host:port
	Raft      string            `json:"raft"`
	Members   map[uint64]string `json:"members,omitempty"`
	Join      bool              `json:"join,omitempty"`
	NonVoting bool              `json:"non_voting,omitempty"`
	Snapshot  uint64            `json:"snapshot_entries,omitempty"`
}

// runReplica is the child side: one nbdb replica until SIGTERM.
func runReplica(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	var rc replicaConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	host, port, _ := net.SplitHostPort(rc.Listen)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", rc.ID)
	srv, err := nbdb.Start(ctx, nbdb.Config{
		DataDir: filepath.Join(rc.Dir, "data"), Listen: []string{"ptcp:" + port + ":" + host},
		RaftAddress: rc.Raft, ReplicaID: rc.ID, InitialMembers: rc.Members, Join: rc.Join, NonVoting: rc.NonVoting,
		SnapshotEntries: rc.Snapshot, ElectionTimeout: 300 * time.Millisecond, InactivityProbe: 2 * time.Second,
		ControlSocket: filepath.Join(rc.Dir, "ctl.sock"), Logger: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	srv.Close()
	os.Exit(0)
}

// proc is one replica process of a test cluster.
type proc struct {
	t     *testing.T
	netns string // run inside this network namespace ("" none)
	cfg   replicaConfig
	mu    sync.Mutex
	cmd   *exec.Cmd
}

func (p *proc) remote() string { return "tcp:" + p.cfg.Listen }
func (p *proc) ctl() string    { return filepath.Join(p.cfg.Dir, "ctl.sock") }

// freeAddrOn returns a free TCP address on ip.
func freeAddrOn(t *testing.T, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newProc prepares replica id on 127.0.0.<id+offset>.
func newProc(t *testing.T, base string, id uint64, ip string) *proc {
	dir := filepath.Join(base, fmt.Sprintf("r%d", id))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return &proc{t: t, cfg: replicaConfig{Dir: dir, ID: id, Listen: freeAddrOn(t, ip), Raft: freeAddrOn(t, ip), Snapshot: 500}}
}

// start launches the process (not waiting for it to serve).
func (p *proc) start() {
	t := p.t
	b, _ := json.Marshal(p.cfg)
	path := filepath.Join(p.cfg.Dir, "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(p.ctl())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if p.netns != "" {
		// ip netns exec execs the program: the PID stays the replica's.
		cmd = exec.Command("ip", "netns", "exec", p.netns, os.Args[0], "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), "HCNET_NBDB_REPLICA="+path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
}

// waitServing waits until the replica accepts OVSDB connections.
func (p *proc) waitServing() {
	t := p.t
	deadline := time.Now().Add(60 * time.Second)
	for {
		if nc, err := net.DialTimeout("tcp", p.cfg.Listen, time.Second); err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d did not start serving on %s", p.cfg.ID, p.cfg.Listen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("replica %d exited with %v", p.cfg.ID, err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("replica %d did not stop within 30s of SIGTERM", p.cfg.ID)
	}
}

// kill SIGKILLs the process and reaps it.
func (p *proc) kill() {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Signal(syscall.SIGCONT) // a stopped process must run to die
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// cluster is a set of replica processes.
type cluster struct {
	t     *testing.T
	base  string
	procs map[uint64]*proc
}

// startCluster bootstraps n voting replicas on 127.0.0.1..n.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	return startClusterWith(t, n, nil)
}

// startClusterWith is startCluster with edit applied to each replica's
// configuration.
func startClusterWith(t *testing.T, n int, edit func(*replicaConfig)) *cluster {
	t.Helper()
	base, err := os.MkdirTemp("", "hccl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	c := &cluster{t: t, base: base, procs: map[uint64]*proc{}}
	members := map[uint64]string{}
	for i := 1; i <= n; i++ {
		p := newProc(t, base, uint64(i), fmt.Sprintf("127.0.0.%d", i))
		c.procs[uint64(i)] = p
		members[uint64(i)] = p.cfg.Raft
		t.Cleanup(p.kill)
	}
	for _, p := range c.procs {
		p.cfg.Members = members
		if edit != nil {
			edit(&p.cfg)
		}
		p.start()
	}
	for _, p := range c.procs {
		p.waitServing()
	}
	return c
}

// remotes lists the replicas' OVSDB addresses, ids in order.
func (c *cluster) remotes(ids ...uint64) string {
	if len(ids) == 0 {
		for id := range c.procs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	var rs []string
	for _, id := range ids {
		rs = append(rs, c.procs[id].remote())
	}
	return strings.Join(rs, ",")
}

// status asks replica id for the cluster status.
func (c *cluster) status(id uint64) (service.ControlReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return service.ControlCall(ctx, c.procs[id].ctl(), service.ControlRequest{Cmd: "status"})
}

// leader waits until some live replica other than not reports a leader
// among the running replicas, and returns it.
func (c *cluster) leader(not ...uint64) uint64 {
	t := c.t
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for id := range c.procs {
			skip := false
			for _, n := range not {
				skip = skip || n == id
			}
			if skip {
				continue
			}
			rep, err := c.status(id)
			if err == nil && rep.Status.LeaderID != 0 {
				skip := false
				for _, n := range not {
					skip = skip || n == rep.Status.LeaderID
				}
				if !skip {
					return rep.Status.LeaderID
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no leader within 30s")
	return 0
}

// control runs a control command on replica id.
func (c *cluster) control(id uint64, req service.ControlRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := service.ControlCall(ctx, c.procs[id].ctl(), req)
	return err
}

// dump reads every Logical_Switch and Logical_Switch_Port from one replica
// (a local read) and returns a digest and the switch names with their
// multiplicity.
func dump(ctx context.Context, remote string) (digest string, names map[string]int, err error) {
	digest, names, _, err = dumpLines(ctx, remote)
	return digest, names, err
}

func dumpLines(ctx context.Context, remote string) (digest string, names map[string]int, lines []string, err error) {
	cl, err := client.Dial(ctx, remote, client.Options{Database: "OVN_Northbound", MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		return "", nil, nil, err
	}
	defer cl.Close()
	res, err := cl.Transact(ctx, "OVN_Northbound",
		ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Logical_Switch", Where: []ovsdb.Condition{}},
		ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Logical_Switch_Port", Where: []ovsdb.Condition{}})
	if err != nil {
		return "", nil, nil, err
	}
	names = map[string]int{}
	for i, r := range res {
		for _, row := range r.Rows {
			b, _ := json.Marshal(row) // map keys sorted
			lines = append(lines, fmt.Sprint(i)+string(b))
			if i == 0 {
				names[row["name"].(string)]++
			}
		}
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%x", h[:8]), names, lines, nil
}

// writers commit switches (each with one port) continuously through
// clients of the whole cluster and record what was acknowledged.
type writers struct {
	mu         sync.Mutex
	acked      map[string]bool
	last       []time.Time // per writer: last acknowledgement
	lastAny    time.Time   // start of the latest acknowledged transaction
	lastAnyEnd time.Time   // and its acknowledgement
	errs       int
	errSample  []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startWriters(t *testing.T, remotes string, n int) *writers {
	w := &writers{acked: map[string]bool{}, last: make([]time.Time, n), stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		// Half the writers are leader-only (as ovn-nbctl), half take any
		// replica (followers forward writes).
		cl, err := client.Dial(ctx, remotes, client.Options{Database: "OVN_Northbound", LeaderOnly: i%2 == 0,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Probe: 500 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		w.wg.Add(1)
		go func(i int) {
			defer w.wg.Done()
			defer cl.Close()
			prefix := fmt.Sprintf("w%d-%x", i, rand.Uint32())
			for k := 0; ; k++ {
				select {
				case <-w.stop:
					return
				default:
				}
				name := fmt.Sprintf("%s-%d", prefix, k)
				begin := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := cl.Transact(ctx, "OVN_Northbound",
					ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", Row: ovsdb.Row{"name": name + "-p"}, UUIDName: "p"},
					ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": name,
						"ports": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "p"}}}}})
				cancel()
				now := time.Now()
				w.mu.Lock()
				if err == nil {
					w.acked[name] = true
					w.last[i] = now
					if begin.After(w.lastAny) {
						w.lastAny = begin
						w.lastAnyEnd = now
					}
				} else {
					w.errs++ // outcome unknown: the name is never retried
					if len(w.errSample) < 5 {
						w.errSample = append(w.errSample, err.Error())
					}
				}
				w.mu.Unlock()
			}
		}(i)
	}
	return w
}

func (w *writers) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// progress waits until n more transactions are acknowledged.
func (w *writers) progress(t *testing.T, n int, what string) {
	t.Helper()
	target := w.count() + n
	deadline := time.Now().Add(60 * time.Second)
	for w.count() < target {
		if time.Now().After(deadline) {
			t.Fatalf("%s: writers stalled at %d acknowledged (want %d)", what, w.count(), target)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstAckAfter waits for the first acknowledgement of a transaction begun
// after t0 and returns the time from t0 to it.
func (w *writers) firstAckAfter(t *testing.T, t0 time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		w.mu.Lock()
		last, end := w.lastAny, w.lastAnyEnd
		w.mu.Unlock()
		if last.After(t0) {
			return end.Sub(t0)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no commit within 60s after the fault")
		}
		time.Sleep(time.Millisecond)
	}
}

func (w *writers) finish() {
	close(w.stop)
	w.wg.Wait()
}

// verify waits until every replica holds the same rows, then checks that
// every acknowledged switch is there exactly once.
func (c *cluster) verify(t *testing.T, w *writers, ids ...uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		digests := map[uint64]string{}
		counts := map[uint64]int{}
		var names map[string]int
		var err error
		same := true
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var d string
			d, names, err = dump(ctx, c.procs[id].remote())
			cancel()
			if err != nil {
				break
			}
			digests[id] = d
			counts[id] = len(names)
			same = same && d == digests[ids[0]]
		}
		if err == nil && same {
			w.mu.Lock()
			defer w.mu.Unlock()
			lost := 0
			for name := range w.acked {
				if names[name] != 1 {
					lost++
					if lost < 5 {
						t.Errorf("acknowledged switch %s present %d times", name, names[name])
					}
				}
			}
			for name, k := range names {
				if k != 1 {
					t.Errorf("switch %s applied %d times", name, k)
				}
			}
			if lost > 0 {
				t.Fatalf("%d of %d acknowledged transactions missing", lost, len(w.acked))
			}
			t.Logf("replicas %v identical (digest %s): %d switches, %d acknowledged, %d outcomes unknown %q",
				ids, digests[ids[0]], len(names), len(w.acked), w.errs, w.errSample)
			return
		}
		if time.Now().After(deadline) {
			c.explain(t, ids)
			t.Fatalf("replicas did not converge: digests %v, switches %v, err %v", digests, counts, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// explain logs the first rows that differ between replicas.
func (c *cluster) explain(t *testing.T, ids []uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, ref, err := dumpLines(ctx, c.procs[ids[0]].remote())
	if err != nil {
		return
	}
	for _, id := range ids[1:] {
		_, _, got, err := dumpLines(ctx, c.procs[id].remote())
		if err != nil {
			continue
		}
		shown := 0
		for i := 0; i < len(ref) && i < len(got) && shown < 3; i++ {
			if ref[i] != got[i] {
				t.Logf("replica %d row: %s\nreplica %d row: %s", ids[0], ref[i], id, got[i])
				shown++
			}
		}
	}
}
