package flowtable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

// goldenFlows reads the physical flow goldens (Flow.String lines).
func goldenFlows(t *testing.T) []Flow {
	t.Helper()
	files, err := filepath.Glob("../physical/testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no physical goldens: %v", err)
	}
	seen := map[string]bool{}
	var out []Flow
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			head, actions, ok := strings.Cut(l, " actions=")
			if !ok {
				t.Fatalf("%s: line %q", fn, l)
			}
			f, ok := ParseLine(strings.Replace(head, ", priority=", ",priority=", 1) + ",actions=" + actions)
			if !ok {
				t.Fatalf("%s: line %q", fn, l)
			}
			if !seen[f.Key()] {
				seen[f.Key()] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func TestNativeParsesPhysicalFlows(t *testing.T) {
	for _, f := range goldenFlows(t) {
		of, err := f.OpenFlow(7)
		if err != nil {
			t.Error(err)
			continue
		}
		if of.Table != f.Table || of.Priority != f.Priority || of.Cookie != 7 {
			t.Errorf("%s: header %d/%d/%d", f, of.Table, of.Priority, of.Cookie)
		}
		if got := of.Actions.String(); got != f.actions() {
			// Text may differ in spelling (load vs set_field); the root
			// test compares what the switch makes of both.
			t.Logf("%s: actions render as %s", f, got)
		}
	}
	if _, err := (Flow{Match: "bogus=1"}).OpenFlow(0); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown field: err %v", err)
	}
	if _, err := (Flow{Actions: "frobnicate"}).OpenFlow(0); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown action: err %v", err)
	}
}

func TestMergedConjunctionsKeepCompiledForm(t *testing.T) {
	of := &openflow.Flow{Actions: openflow.Actions{openflow.Conjunction{ID: 1, Clause: 1, NClauses: 2}}}
	tb := New()
	tb.Set("a", []Flow{{Table: 8, Priority: 5, Match: "reg14=0x1", Actions: "conjunction(1,1/2)", OF: of}})
	tb.Set("b", []Flow{{Table: 8, Priority: 5, Match: "reg14=0x1", Actions: "conjunction(2,2/2)", OF: of}})
	fs, _ := tb.Flows()
	for _, f := range fs {
		got, err := f.OpenFlow(0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Actions.String() != "conjunction(1,1/2),conjunction(2,2/2)" {
			t.Errorf("merged actions %s", got.Actions)
		}
	}
}

// TestRootNativeMatchesOfctl installs every physical golden flow as text
// through ovs-ofctl and natively, and compares what the switch holds.
func TestRootNativeMatchesOfctl(t *testing.T) {
	sw := ovstest.Start(t)
	text := sw.AddBridge("brphytxt")
	bin := sw.AddBridge("brphybin")
	if _, err := sw.Run("ovs-ofctl", "-O", "OpenFlow15", "add-tlv-map", "unix:"+text, openflow.GeneveOVN.String()); err != nil {
		t.Fatal(err)
	}
	flows := goldenFlows(t)
	var lines []string
	msgs := [][]byte{openflow.TLVTableMod(openflow.TLVAdd, []openflow.TLVMap{openflow.GeneveOVN}, 1)}
	for i, f := range flows {
		lines = append(lines, strings.TrimPrefix(RenderAll(map[string]Flow{"": f}, 0), "cookie=0,"))
		of, err := f.OpenFlow(0)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, of.Marshal(openflow.FlowAdd, uint32(i+10)))
	}
	if err := sw.AddFlows(text, lines); err != nil {
		t.Fatal(err)
	}
	c, err := ovstest.Dial(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(msgs, nil); err != nil {
		t.Fatalf("switch rejected native flows: %v", err)
	}
	want, got := sw.DumpFlows(text), sw.DumpFlows(bin)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("native flows differ from ovs-ofctl's:\ntext:\n%s\nnative:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if len(got) != len(flows) {
		t.Errorf("%d flows installed, want %d", len(got), len(flows))
	}
}
