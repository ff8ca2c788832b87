package nbdb_test

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"hcnet/internal/client"
	"hcnet/internal/ovsdb/service"
)

func skipCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts replica processes")
	}
}

// TestClusterFaults runs a 3-replica cluster (processes on 127.0.0.1-3)
// under continuous writes while the leader is SIGKILLed and restarted and a
// follower is frozen (SIGSTOP: it neither sends nor answers) and resumed.
// Every acknowledged transaction must end up exactly once on every replica,
// the replicas identical, and the writers must resume. ovn-nbctl with the
// three remotes works before and after the leader's death, and a monitor
// of the killed replica resumes elsewhere without a full resync.
func TestClusterFaults(t *testing.T) {
	skipCluster(t)
	c := startCluster(t, 3)
	leader := c.leader()
	followers := []uint64{}
	for id := range c.procs {
		if id != leader {
			followers = append(followers, id)
		}
	}
	nbctl, _ := exec.LookPath("ovn-nbctl")
	if os.Getenv("HCNET_SKIP_OVS") != "" {
		nbctl = ""
	}
	if nbctl == "" {
		t.Log("ovn-nbctl not used (not installed or HCNET_SKIP_OVS set)")
	}
	runNbctl := func(args ...string) {
		t.Helper()
		if nbctl == "" {
			return
		}
		// ovn-nbctl gives up when no remote is the leader right now (an
		// election under way): retry within a deadline.
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := exec.Command(nbctl, append([]string{"--db=" + c.remotes(), "--timeout=10"}, args...)...).CombinedOutput()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ovn-nbctl %v: %v\n%s", args, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	runNbctl("ls-add", "nbctl-before")

	// A monitor client whose first remote is the leader (it will be killed).
	var mu sync.Mutex
	var kinds []string
	initialDone := false
	mctx, mcancel := context.WithTimeout(context.Background(), 30*time.Second)
	mon, err := client.Dial(mctx, c.remotes(leader, followers[0], followers[1]), client.Options{Database: "OVN_Northbound",
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Probe: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	m, err := mon.Monitor(mctx, "OVN_Northbound", map[string]client.MonitorRequest{"Logical_Switch": {Columns: []string{"name"}}},
		func(u client.TableUpdates) {
			mu.Lock()
			defer mu.Unlock()
			for _, ru := range u["Logical_Switch"] {
				if initialDone {
					kinds = append(kinds, ru.Kind)
				}
			}
		})
	mcancel()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	initialDone = true
	mu.Unlock()
	if got := mon.Remote(); got != c.procs[leader].remote() {
		t.Fatalf("monitor client on %s, want the leader %s", got, c.procs[leader].remote())
	}

	w := startWriters(t, c.remotes(), 4)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	w.progress(t, 50, "start")

	// SIGKILL the leader: measure the time to the next commit.
	t0 := time.Now()
	c.procs[leader].kill()
	window := w.firstAckAfter(t, t0)
	t.Logf("leader %d SIGKILLed: first commit after %v", leader, window)
	runNbctl("ls-add", "nbctl-after")
	newLeader := c.leader(leader)
	w.progress(t, 50, "after leader kill")

	// The monitor moved to a follower and resumed from its last
	// transaction: no "initial" rows (a full resync) since.
	deadline := time.Now().Add(20 * time.Second)
	for mon.Remote() == "" || mon.Remote() == c.procs[leader].remote() {
		if time.Now().After(deadline) {
			t.Fatalf("monitor client did not reconnect (on %q)", mon.Remote())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.procs[leader].start()
	c.procs[leader].waitServing()
	w.progress(t, 50, "after restart")

	// Freeze a follower (not the new leader), commit, thaw it.
	var frozen uint64
	for _, id := range followers {
		if id != newLeader {
			frozen = id
		}
	}
	if frozen == 0 {
		frozen = leader // the restarted one is a follower now
	}
	c.procs[frozen].signal(syscall.SIGSTOP)
	w.progress(t, 100, "follower frozen")
	c.procs[frozen].signal(syscall.SIGCONT)
	w.progress(t, 50, "follower thawed")
	w.finish()

	// Every writer resumed after the last fault.
	w.mu.Lock()
	for i, last := range w.last {
		if last.Before(t0) {
			t.Errorf("writer %d made no commit after the leader's death", i)
		}
	}
	w.mu.Unlock()
	c.verify(t, w, 1, 2, 3)

	mu.Lock()
	defer mu.Unlock()
	for _, k := range kinds {
		if k == client.Initial {
			t.Fatalf("the monitor was resynchronised in full after the failover")
		}
	}
	if len(kinds) == 0 {
		t.Fatalf("the monitor received no updates")
	}
	if m.LastTxnID() == "" {
		t.Fatalf("no update3 transaction id")
	}
	t.Logf("monitor: %d row updates, none initial, last txn %s", len(kinds), m.LastTxnID())
}

// TestClusterMembership adds a 4th (voter) and 5th (non-voting) replica to
// a live 3-replica cluster under writes, moves leadership and removes a
// replica; nothing acknowledged is lost and all members converge.
func TestClusterMembership(t *testing.T) {
	skipCluster(t)
	c := startCluster(t, 3)
	w := startWriters(t, c.remotes(), 2)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	w.progress(t, 30, "start")
	leader := c.leader()
	for _, add := range []struct {
		id        uint64
		nonVoting bool
	}{{4, false}, {5, true}} {
		p := newProc(t, c.base, add.id, "127.0.0."+string(rune('0'+add.id)))
		p.cfg.Join, p.cfg.NonVoting = true, add.nonVoting
		t.Cleanup(p.kill)
		cmd := "add"
		if add.nonVoting {
			cmd = "add-non-voting"
		}
		if err := c.control(leader, service.ControlRequest{Cmd: cmd, ID: add.id, Address: p.cfg.Raft}); err != nil {
			t.Fatal(err)
		}
		c.procs[add.id] = p
		p.start()
		p.waitServing()
		w.progress(t, 30, "after adding a replica")
	}
	rep, err := c.status(5)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Status.Members); n != 5 || !rep.Status.NonVoting {
		t.Fatalf("status of replica 5: %+v", rep.Status)
	}
	// The non-voting replica serves monitors: the writers' commits reach a
	// client of replica 5 alone.
	mctx, mcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer mcancel()
	mc, err := client.Dial(mctx, c.procs[5].remote(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	seen := make(chan string, 1000)
	if _, err := mc.Monitor(mctx, "OVN_Northbound", map[string]client.MonitorRequest{"Logical_Switch": {Columns: []string{"name"}}},
		func(u client.TableUpdates) {
			for _, ru := range u["Logical_Switch"] {
				if ru.Kind == client.Insert {
					select {
					case seen <- ru.Row["name"].(string):
					default:
					}
				}
			}
		}); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-seen:
		t.Logf("non-voting replica's monitor saw %s", name)
	case <-mctx.Done():
		t.Fatalf("no insert reached a monitor on the non-voting replica")
	}
	// Move leadership to the new voter, then remove a former member.
	if err := c.control(leader, service.ControlRequest{Cmd: "transfer", ID: 4}); err != nil {
		t.Fatal(err)
	}
	w.progress(t, 30, "after the transfer")
	victim := uint64(1)
	if err := c.control(4, service.ControlRequest{Cmd: "remove", ID: victim}); err != nil {
		t.Fatal(err)
	}
	c.procs[victim].kill()
	delete(c.procs, victim)
	w.progress(t, 30, "after removing a replica")
	w.finish()
	c.verify(t, w, 2, 3, 4, 5)
	rep, err = c.status(4)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Status.Members); n != 4 || !rep.Status.Leader {
		t.Fatalf("status of replica 4 after the removal: %+v", rep.Status)
	}
}

// TestClusterSnapshotCatchUp keeps a follower down while the others commit
// far more entries than the snapshot interval (the log behind it is
// compacted), then restarts it: it must catch up from a snapshot.
func TestClusterSnapshotCatchUp(t *testing.T) {
	skipCluster(t)
	c := startClusterWith(t, 3, func(cfg *replicaConfig) { cfg.Snapshot = 50 })
	leader := c.leader()
	var down uint64
	for id := range c.procs {
		if id != leader {
			down = id
			break
		}
	}
	c.procs[down].kill()
	w := startWriters(t, c.remotes(), 1)
	w.progress(t, 400, "with a follower down")
	w.finish()
	rep, err := c.status(leader)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status.SnapshotBytes == 0 {
		t.Fatalf("leader took no snapshot: %+v", rep.Status)
	}
	c.procs[down].start()
	c.procs[down].waitServing()
	c.verify(t, w, 1, 2, 3)
	if rep, err := c.status(down); err != nil || rep.Status.SnapshotBytes == 0 {
		t.Fatalf("the restarted replica holds no snapshot: %+v, %v", rep.Status, err)
	}
}

// TestClusterGracefulStop stops the leader with SIGTERM: it hands
// leadership over before exiting, and writers go on.
func TestClusterGracefulStop(t *testing.T) {
	skipCluster(t)
	c := startCluster(t, 3)
	w := startWriters(t, c.remotes(), 2)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	w.progress(t, 30, "start")
	leader := c.leader()
	t0 := time.Now()
	c.procs[leader].stop(t)
	t.Logf("leader %d stopped in %v; first commit %v after SIGTERM", leader, time.Since(t0), w.firstAckAfter(t, t0))
	w.progress(t, 30, "after the leader stopped")
	if nl := c.leader(leader); nl == leader {
		t.Fatalf("leader still %d", nl)
	}
	w.finish()
	ids := []uint64{}
	for id := range c.procs {
		if id != leader {
			ids = append(ids, id)
		}
	}
	c.verify(t, w, ids...)
}

// TestClusterLeaderOnlyClientFollowsLeader: a leader-only client leaves a
// replica as soon as _Server says it lost leadership (a transfer here, no
// connection loss) and settles on the new leader.
func TestClusterLeaderOnlyClientFollowsLeader(t *testing.T) {
	skipCluster(t)
	c := startCluster(t, 3)
	leader := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, c.remotes(), client.Options{Database: "OVN_Northbound", LeaderOnly: true,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Remote() != c.procs[leader].remote() {
		t.Fatalf("leader-only client on %s, leader is %s", cl.Remote(), c.procs[leader].remote())
	}
	target := leader%3 + 1
	t0 := time.Now()
	if err := c.control(leader, service.ControlRequest{Cmd: "transfer", ID: target}); err != nil {
		t.Fatal(err)
	}
	for cl.Remote() != c.procs[target].remote() {
		if ctx.Err() != nil {
			t.Fatalf("client stayed on %q after leadership moved to %d", cl.Remote(), target)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("client moved to the new leader %v after the transfer request", time.Since(t0))
}
