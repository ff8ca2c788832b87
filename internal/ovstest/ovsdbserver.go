package ovstest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Need skips the test unless every named program is installed and
// HCNET_SKIP_OVS is unset.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	if os.Getenv("HCNET_SKIP_OVS") != "" {
		t.Skip("HCNET_SKIP_OVS is set")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (scripts/deps.sh installs it)", p)
		}
	}
}

// OVSDBServer is a running ovsdb-server.
type OVSDBServer struct {
	Dir    string   // its run directory
	Socket string   // unix socket path
	DBs    []string // database file paths
	cmd    *exec.Cmd
	log    string
}

// Remote returns "unix:<socket>".
func (s *OVSDBServer) Remote() string { return "unix:" + s.Socket }

// StartOVSDBServer creates one standalone database per schema file and
// serves them on a unix socket. The server is stopped when the test ends.
func StartOVSDBServer(t testing.TB, schemas ...string) *OVSDBServer {
	t.Helper()
	Need(t, "ovsdb-server", "ovsdb-tool")
	dir := t.TempDir()
	s := &OVSDBServer{Dir: dir, Socket: filepath.Join(dir, "db.sock"), log: filepath.Join(dir, "ovsdb-server.log")}
	for i, schema := range schemas {
		db := filepath.Join(dir, fmt.Sprintf("db%d.db", i))
		if out, err := exec.Command("ovsdb-tool", "create", db, schema).CombinedOutput(); err != nil {
			t.Fatalf("ovsdb-tool create %s: %v: %s", schema, err, out)
		}
		s.DBs = append(s.DBs, db)
	}
	s.Start(t)
	return s
}

// Start (re)starts the server on its databases and socket.
func (s *OVSDBServer) Start(t testing.TB) {
	t.Helper()
	args := []string{
		"--remote=punix:" + s.Socket,
		"--unixctl=" + filepath.Join(s.Dir, "ovsdb-server.ctl"),
		"--log-file=" + s.log,
		"-vconsole:off",
	}
	args = append(args, s.DBs...)
	cmd := exec.Command("ovsdb-server", args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+s.Dir, "OVS_DBDIR="+s.Dir, "OVS_LOGDIR="+s.Dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ovsdb-server: %v", err)
	}
	s.cmd = cmd
	t.Cleanup(func() { s.Stop() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", s.Socket)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			t.Fatalf("ovsdb-server did not listen on %s: %v\nstderr: %s\nlog: %s", s.Socket, err, stderr.String(), s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL, by PID) and waits for it.
func (s *OVSDBServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
	_ = os.Remove(s.Socket)
}

// Log returns the server's log file contents.
func (s *OVSDBServer) Log() string {
	b, _ := os.ReadFile(s.log)
	return strings.TrimSpace(string(b))
}

// SchemaPath returns the path of one of the repository's schema files,
// found from the test's working directory upwards.
func SchemaPath(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "schema", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("schema/%s not found above the working directory", name)
		}
		dir = parent
	}
}
