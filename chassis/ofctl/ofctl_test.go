package ofctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hcnet/chassis/flowtable"
)

// A fake ovs-ofctl that rejects line 2 of its input, as the real one
// reports a flow the switch refuses.
func TestLineError(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "ovs-ofctl")
	script := "#!/bin/sh\ncat >/dev/null\necho 'ovs-ofctl: -:2: actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)' >&2\nexit 1\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sw := Switch{Target: "unix:/nonexistent.mgmt", Program: prog}
	ops := []flowtable.Op{
		{Kind: "add", Flow: flowtable.Flow{Table: 0, Priority: 1, Actions: "drop"}},
		{Kind: "add", Flow: flowtable.Flow{Table: 14, Priority: 100, Match: "reg0=0x1/0x1", Actions: "ct(table=15)"}},
	}
	err := sw.Apply(context.Background(), ops, 1)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("err %v, want a LineError for line 2", err)
	}
	f, ok := flowtable.ParseLine(le.Text)
	if !ok || f.Key() != ops[1].Flow.Key() {
		t.Fatalf("line %q names %+v, want %+v", le.Text, f, ops[1].Flow)
	}
	if got := command([]string{"-O", "OpenFlow15", "--bundle", "add-flows", "x", "-"}); got != "add-flows" {
		t.Fatalf("command = %q", got)
	}
}
