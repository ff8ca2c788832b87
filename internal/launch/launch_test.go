package launch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

func TestMissing(t *testing.T) {
	have := map[string]bool{"ip": true, "tc": true}
	look := func(c string) (string, error) {
		if have[c] {
			return "/usr/sbin/" + c, nil
		}
		return "", exec.ErrNotFound
	}
	need := map[string]string{"ip": "iproute2", "tc": "iproute2", "ovs-vsctl": "openvswitch-switch",
		"ovs-vswitchd": "openvswitch-switch", "ethtool": "ethtool"}
	cmds, pkgs := Missing(need, look)
	if want := []string{"ethtool", "ovs-vsctl", "ovs-vswitchd"}; !reflect.DeepEqual(cmds, want) {
		t.Errorf("commands = %v, want %v", cmds, want)
	}
	if want := []string{"ethtool", "openvswitch-switch"}; !reflect.DeepEqual(pkgs, want) {
		t.Errorf("packages = %v, want %v", pkgs, want)
	}
	have["ethtool"], have["ovs-vsctl"], have["ovs-vswitchd"] = true, true, true
	if cmds, pkgs := Missing(need, look); cmds != nil || pkgs != nil {
		t.Errorf("all present: got %v %v", cmds, pkgs)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("ReadState of an empty dir: %v, want ErrNotRunning", err)
	}
	st := State{PID: 42, NBRemote: "unix:/x/nb.sock", SBRemote: "unix:/x/sb.sock", NBTCP: "tcp:127.0.0.1:6641",
		Processes: []ProcState{{Name: "nbdb", PID: 43, Logs: []string{"/x/log/nbdb.log"}}},
		Topology:  &testbed.State{Prefix: "hc0000aa", Chassis: []testbed.ChassisState{{Name: "hv1", Site: 1, NS: "hc0000aa-hv1"}}}}
	if err := WriteState(dir, st); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("read back %+v, want %+v", got, st)
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(dir); err == nil || errors.Is(err, ErrNotRunning) {
		t.Errorf("corrupt state file: err %v", err)
	}
}

// TestGroup starts two processes, sees one exit through Exits, and stops
// the other with StopAll.
func TestGroup(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	g := &Group{LogDir: t.TempDir()}
	long, err := g.Start("long", nil, sh, "-c", "echo started; exec sleep 600")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.StopAll(time.Second) })
	short, err := g.Start("short", []string{"HCNET_X=7"}, sh, "-c", "echo x=$HCNET_X; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-g.Exits():
		if p != short || p.Err() == nil {
			t.Fatalf("first exit: %s (%v), want short with an error", p.Name, p.Err())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("short did not exit")
	}
	b, err := os.ReadFile(short.Log)
	if err != nil || string(b) != "x=7\n" {
		t.Errorf("short's log = %q (%v), want x=7", b, err)
	}
	if long.HasExited() {
		t.Fatal("long exited early")
	}
	g.StopAll(5 * time.Second)
	if !long.HasExited() {
		t.Fatal("long still running after StopAll")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := WaitListening(ctx, long, "unix", filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Error("WaitListening on an exited process's missing socket succeeded")
	}
}
