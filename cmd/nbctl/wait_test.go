package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/internal/ctl/ctltest"
	"hcnet/internal/ovstest"
	"hcnet/northd"
)

// nbGlobal reads NB_Global's cfg columns.
func nbGlobal(t *testing.T, c *client.Client) (nb, sb, hv int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: []ovsdb.Condition{}})
	if err != nil {
		t.Fatalf("read NB_Global: %v", err)
	}
	if len(res[0].Rows) == 0 {
		return 0, 0, 0
	}
	r := res[0].Rows[0]
	f := func(k string) int { v, _ := r[k].(float64); return int(v) }
	return f("nb_cfg"), f("sb_cfg"), f("hv_cfg")
}

// poll waits for cond with a deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type result struct {
	code   int
	output string
}

func runAsync(remote string, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"--db=" + remote}, args...), env{getenv: func(string) string { return "" }}, &out, &out)
		ch <- result{code, out.String()}
	}()
	return ch
}

// TestWaitStub checks --wait=sb and --wait=hv against a stand-in
// translator that acknowledges nb_cfg only when the test lets it: nbctl
// must not return before the acknowledgement and must return after it.
func TestWaitStub(t *testing.T) {
	schema := ovstest.SchemaPath(t, "ovn-nb.ovsschema")
	remote := ovstest.StartOVSDBServer(t, schema).Remote()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.Dial(ctx, remote, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ack := func(col string, v int) {
		_, err := c.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "NB_Global",
			Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionNotEqual, Value: ovsdb.UUID{GoUUID: "00000000-0000-0000-0000-000000000000"}}},
			Row:   ovsdb.Row{col: v}})
		if err != nil {
			t.Fatalf("ack %s=%d: %v", col, v, err)
		}
	}
	for i, mode := range []string{"sb", "hv"} {
		col := mode + "_cfg"
		done := runAsync(remote, "--wait="+mode, "ls-add", fmt.Sprintf("sw%d", i))
		want := i + 1
		poll(t, "nb_cfg bump", func() bool { nb, _, _ := nbGlobal(t, c); return nb == want })
		select {
		case r := <-done:
			t.Fatalf("--wait=%s returned before %s reached %d: %+v", mode, col, want, r)
		default:
		}
		if mode == "hv" {
			ack("sb_cfg", want) // sb alone does not satisfy --wait=hv
			select {
			case r := <-done:
				t.Fatalf("--wait=hv returned on sb_cfg alone: %+v", r)
			default:
			}
		}
		ack(col, want)
		select {
		case r := <-done:
			if r.code != 0 {
				t.Fatalf("--wait=%s: exit %d: %s", mode, r.code, r.output)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("--wait=%s did not return after %s=%d", mode, col, want)
		}
	}
	// No change: no bump and no wait, unless "sync" asks for it.
	if r := <-runAsync(remote, "--wait=sb", "ls-list"); r.code != 0 {
		t.Fatalf("ls-list: %+v", r)
	}
	if nb, _, _ := nbGlobal(t, c); nb != 2 {
		t.Fatalf("a read-only command bumped nb_cfg to %d", nb)
	}
	// sync with nobody acknowledging: times out with a clear message.
	r := <-runAsync(remote, "--wait=sb", "--timeout=1", "sync")
	if r.code == 0 || !strings.Contains(r.output, "timeout") {
		t.Fatalf("sync without a translator: exit %d, %q; want a timeout", r.code, r.output)
	}
}

// checkWaitTranslator runs --wait=sb and --wait=hv with a translator
// running between nb and sb: after --wait=sb the Southbound database
// already has the new switch's datapath; after --wait=hv, hv_cfg has
// reached nb_cfg.
func checkWaitTranslator(t *testing.T, nb, sb string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sbc, err := client.Dial(ctx, sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sbc.Close()
	nbc, err := client.Dial(ctx, nb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nbc.Close()
	for _, mode := range []string{"sb", "hv"} {
		name := "sw-" + mode
		r := <-runAsync(nb, "--timeout=60", "--wait="+mode, "ls-add", name)
		if r.code != 0 {
			t.Fatalf("--wait=%s ls-add: exit %d: %s", mode, r.code, r.output)
		}
		if mode == "hv" {
			// Without chassis, ovn-northd acknowledges hv_cfg as soon as it
			// reads nb_cfg, possibly before its SB write: check the ack.
			if nbCfg, _, hvCfg := nbGlobal(t, nbc); hvCfg < nbCfg {
				t.Fatalf("--wait=hv returned with hv_cfg %d < nb_cfg %d", hvCfg, nbCfg)
			}
			continue
		}
		res, err := sbc.Transact(ctx, "OVN_Southbound", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Datapath_Binding",
			Where: []ovsdb.Condition{{Column: "external_ids", Function: ovsdb.ConditionIncludes,
				Value: ovsdb.OvsMap{GoMap: map[any]any{"name": name}}}}})
		if err != nil || len(res) != 1 || len(res[0].Rows) != 1 {
			t.Fatalf("after --wait=%s, SB has no datapath for %s: %v %+v", mode, name, err, res)
		}
	}
}

// TestWaitOVNNorthd checks --wait with the real ovn-northd between two
// ovsdb-servers.
func TestWaitOVNNorthd(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"))
	sb := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema"))
	dir := t.TempDir()
	cmd := exec.Command("ovn-northd", "--ovnnb-db="+nb.Remote(), "--ovnsb-db="+sb.Remote(),
		"--pidfile="+filepath.Join(dir, "northd.pid"), "--unixctl="+filepath.Join(dir, "northd.ctl"),
		"--log-file="+filepath.Join(dir, "northd.log"), "-vconsole:off")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	checkWaitTranslator(t, nb.Remote(), sb.Remote())
}

// TestWaitOurNorthd checks --wait with our northd between our nbdb and
// sbdb, all in process.
func TestWaitOurNorthd(t *testing.T) {
	nb := ctltest.Start(t, ctltest.Ours, "nb")
	sb := ctltest.Start(t, ctltest.Ours, "sb")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- northd.Run(ctx, northd.Config{NBRemotes: nb, SBRemotes: sb}) }()
	t.Cleanup(func() { cancel(); <-done })
	checkWaitTranslator(t, nb, sb)
}
