package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovsdb/service"
	"hcnet/schema"
)

func TestParseMembers(t *testing.T) {
	got, err := ParseMembers("1=127.0.0.1:7001, 2=127.0.0.2:7001,3=[::1]:7001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != "127.0.0.1:7001" || got[2] != "127.0.0.2:7001" || got[3] != "[::1]:7001" {
		t.Fatalf("ParseMembers = %v", got)
	}
	if m, err := ParseMembers(" "); err != nil || m != nil {
		t.Fatalf("empty: %v, %v", m, err)
	}
	for _, bad := range []string{"1", "0=a:1", "x=a:1", "1=", "1=a:1,1=b:1"} {
		if _, err := ParseMembers(bad); err == nil || !strings.Contains(err.Error(), strings.Split(bad, ",")[0]) && !strings.Contains(err.Error(), "twice") {
			t.Errorf("ParseMembers(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestStatusCommand(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raft := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{DataDir: dir, Listen: []string{"punix:" + filepath.Join(dir, "db.sock")},
		RaftAddress: raft, ReplicaID: 1, Logger: slog.New(slog.DiscardHandler), RTT: 20 * time.Millisecond,
		ElectionTimeout: 200 * time.Millisecond, ControlSocket: filepath.Join(dir, "ctl.sock")}, schema.Northbound, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var out bytes.Buffer
	cmd := &statusCmd{ctlFlags: ctlFlags{DataDir: dir, Timeout: 10 * time.Second}, Format: "text"}
	if err := status(&out, cmd); err != nil {
		t.Fatal(err)
	}
	// The e2e harness looks for "Replica: N (leader)".
	for _, want := range []string{"Name: OVN_Northbound\n", "Replica: 1 (leader)\n", "Leader: 1\n", "    1 at " + raft + " (voter, leader, self)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	cmd.Format = "json"
	if err := status(&out, cmd); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Leader  bool `json:"leader"`
		Members []struct {
			ID uint64 `json:"id"`
		} `json:"members"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || !st.Leader || len(st.Members) != 1 {
		t.Fatalf("json status %s: %v", out.String(), err)
	}
	if _, err := (ctlFlags{DataDir: dir, Timeout: 10 * time.Second}).call("transfer", 7, ""); err == nil {
		t.Fatalf("transfer to an unknown replica succeeded")
	}
}
