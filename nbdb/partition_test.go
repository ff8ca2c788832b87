package nbdb_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// netnet is a private network of namespaces on a Linux bridge: each replica
// runs in its own namespace behind a veth whose root end the test can take
// down (a full partition, both directions, clients included).
type netnet struct {
	t      *testing.T
	prefix string
	subnet string // "10.251.N"
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func newNetnet(t *testing.T) *netnet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed")
	}
	n := &netnet{t: t, prefix: fmt.Sprintf("hp%04x", rand.Uint32()&0xffff), subnet: fmt.Sprintf("10.251.%d", rand.IntN(250))}
	br := n.prefix + "br"
	t.Cleanup(func() { ipCmd("link", "del", br) })
	for _, args := range [][]string{
		{"link", "add", br, "type", "bridge"},
		{"addr", "add", n.subnet + ".254/24", "dev", br},
		{"link", "set", br, "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *netnet) ns(id uint64) string   { return fmt.Sprintf("%sr%d", n.prefix, id) }
func (n *netnet) veth(id uint64) string { return fmt.Sprintf("%sv%d", n.prefix, id) }
func (n *netnet) ip(id uint64) string   { return fmt.Sprintf("%s.%d", n.subnet, id) }

// addHost creates replica id's namespace, plugged into the bridge.
func (n *netnet) addHost(id uint64) {
	t := n.t
	ns, veth := n.ns(id), n.veth(id)
	t.Cleanup(func() { ipCmd("netns", "del", ns) })
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", n.prefix + "br", "up"},
		{"-n", ns, "addr", "add", n.ip(id) + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// cut takes replica id off the network (up=false) or puts it back.
func (n *netnet) cut(id uint64, off bool) {
	state := "up"
	if off {
		state = "down"
	}
	if err := ipCmd("link", "set", n.veth(id), state); err != nil {
		n.t.Fatal(err)
	}
}

// startNetCluster bootstraps n replicas, each in its own namespace.
func startNetCluster(t *testing.T, nn *netnet, n int) *cluster {
	t.Helper()
	base, err := os.MkdirTemp("", "hcnp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	c := &cluster{t: t, base: base, procs: map[uint64]*proc{}}
	members := map[uint64]string{}
	for i := uint64(1); i <= uint64(n); i++ {
		nn.addHost(i)
		dir := filepath.Join(base, fmt.Sprintf("r%d", i))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		p := &proc{t: t, netns: nn.ns(i), cfg: replicaConfig{Dir: dir, ID: i, Listen: nn.ip(i) + ":16641", Raft: nn.ip(i) + ":16643", Snapshot: 500}}
		c.procs[i] = p
		members[i] = p.cfg.Raft
		t.Cleanup(p.kill)
	}
	for _, p := range c.procs {
		p.cfg.Members = members
		p.start()
	}
	for _, p := range c.procs {
		p.waitServing()
	}
	return c
}

// TestClusterPartition_Root cuts a follower off the network (both
// directions) under writes and heals it, then does the same to the leader
// (CheckQuorum makes it step down; the others elect a new one). Nothing
// acknowledged is lost; all replicas end identical.
func TestClusterPartition_Root(t *testing.T) {
	skipCluster(t)
	nn := newNetnet(t)
	c := startNetCluster(t, nn, 3)
	w := startWriters(t, c.remotes(), 4)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	w.progress(t, 50, "start")
	leader := c.leader()
	follower := leader%3 + 1
	nn.cut(follower, true)
	w.progress(t, 100, "follower cut off")
	nn.cut(follower, false)
	w.progress(t, 50, "follower healed")

	leader = c.leader()
	nn.cut(leader, true)
	newLeader := c.leader(leader)
	w.progress(t, 100, "leader cut off")
	nn.cut(leader, false)
	w.progress(t, 50, "leader healed")
	w.finish()
	t.Logf("leader %d cut off; %d took over", leader, newLeader)
	c.verify(t, w, 1, 2, 3)
}
