package translate_test

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"hcnet/internal/lflow"
	"hcnet/internal/openflow"
	"hcnet/northd/nbscript"
	"hcnet/northd/translate"
)

// knownUnsupported lists actions ovn-controller supports, that northd emits,
// and that internal/lflow parses but does not compile yet. Any other compile
// failure fails the test.
var knownUnsupported = map[string]string{}

// knownParseGaps lists action texts ovn-northd emits, that northd emits the
// same way, and that internal/lflow does not parse yet, by a substring of
// the actions and the reason. Any other parse failure fails the test.
var knownParseGaps = map[string]string{}

// scenarioNB builds the NB of a golden scenario: every "nb" block in order.
func scenarioNB(t *testing.T, path string) *translate.NB {
	n := translate.NewNB()
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd == "nb" {
			if err := nbscript.Run(n, d.Input); err != nil {
				t.Fatalf("%s: %v", d.Pos, err)
			}
		}
		return d.Expected
	})
	return n
}

// TestEveryFlowCompiles checks that every logical flow the golden scenarios
// produce parses and compiles with internal/lflow, the compiler our chassis
// uses, in an environment built from the same SB content.
func TestEveryFlowCompiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := os.Stat(f); err != nil {
				t.Fatal(err)
			}
			sb := translate.Translate(scenarioNB(t, f), translate.Keys{})
			checkCompiles(t, sb)
		})
	}
}

func checkCompiles(t *testing.T, sb *translate.SB) {
	t.Helper()
	codes := map[string]translate.DHCPOptionCode{}
	for _, c := range sb.DHCPOptions {
		codes[c.Name] = c
	}
	n := 0
	unsupported := map[string]int{}
	defer func() {
		for a, c := range unsupported {
			if r, ok := knownParseGaps[a]; ok {
				t.Logf("%d flows use %q, which internal/lflow does not parse yet: %s", c, a, r)
				continue
			}
			t.Logf("%d flows use %q, which parses but internal/lflow does not compile yet: %s", c, a, knownUnsupported[a])
		}
	}()
	for _, d := range sb.Datapaths {
		ports := map[string]uint32{}
		for _, p := range d.Ports {
			ports[p.Name] = uint32(p.TunnelKey)
		}
		for _, g := range d.Groups {
			ports[g.Name] = uint32(g.TunnelKey)
		}
		env := &lflow.Env{
			Port: func(name string) (uint32, bool) { k, ok := ports[name]; return k, ok },
			AddressSet: func(name string) ([]string, bool) {
				// ovn-controller defines $svc_monitor_mac from SB_Global
				// options:svc_monitor_mac.
				if name == "svc_monitor_mac" {
					return []string{cmp.Or(sb.Global.Options["svc_monitor_mac"], "0a:00:00:00:fe:fe")}, true
				}
				a, ok := sb.AddressSets[name]
				return a, ok
			},
			PortGroup: func(name string) ([]string, bool) {
				p, ok := d.PortGroups[strings.Join([]string{strconv.Itoa(d.Datapath.TunnelKey), name}, "_")]
				return p, ok
			},
			IsLocal: func(string) bool { return true },
			Meter:   func(string) (uint32, bool) { return 1, true },
			Group:   func(openflow.GroupDesc) uint32 { return 1 },
			DHCPOption: func(name string) (uint8, string, bool) {
				c, ok := codes[name]
				return uint8(c.Code), c.Type, ok
			},
		}
		for _, f := range d.Flows {
			n++
			lf := lflow.LogicalFlow{Pipeline: f.Pipeline, TableID: uint8(f.Table), Priority: uint16(f.Priority),
				Match: f.Match, Actions: f.Actions, Datapath: uint32(d.Datapath.TunnelKey), Router: d.Datapath.Router}
			if _, err := lflow.Compile(lf, env); err != nil {
				if gap := parseGap(f.Actions); gap != "" {
					unsupported[gap]++
					continue
				}
				var ue *lflow.UnsupportedError
				if errors.As(err, &ue) && knownUnsupported[ue.Action] != "" {
					// Parsed; lflow's compiler lacks the action (noted below).
					unsupported[ue.Action]++
					continue
				}
				if errors.As(err, &ue) {
					t.Errorf("%s %s table %d: lflow does not support %q yet: match (%s) actions (%s)", d.Datapath.Name, f.Pipeline, f.Table, ue.Action, f.Match, f.Actions)
					continue
				}
				t.Errorf("%s %s table %d: %v: match (%s) actions (%s)", d.Datapath.Name, f.Pipeline, f.Table, err, f.Match, f.Actions)
			}
		}
	}
	if n == 0 {
		t.Fatal("no flows")
	}
}

// TestEveryTableHasCatchAll checks that every stage of every datapath has a
// flow matching everything (at priority 0, or 50 for port security): a table without one drops whatever
// its other flows miss, which is how a missing default breaks forwarding.
func TestEveryTableHasCatchAll(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		sb := translate.Translate(scenarioNB(t, f), translate.Keys{})
		for _, d := range sb.Datapaths {
			type stage struct {
				pipeline string
				table    int
			}
			seen := map[stage]bool{}
			max := map[string]int{}
			for _, fl := range d.Flows {
				if fl.Table > max[fl.Pipeline] {
					max[fl.Pipeline] = fl.Table
				}
				if fl.Match == "1" {
					seen[stage{fl.Pipeline, fl.Table}] = true
				}
			}
			for _, p := range []string{translate.Ingress, translate.Egress} {
				for i := 0; i <= max[p]; i++ {
					if !seen[stage{p, i}] {
						t.Errorf("%s: datapath %s %s table %d has no catch-all flow (match 1)", f, d.Datapath.Name, p, i)
					}
				}
			}
		}
	}
}

// parseGap returns the knownParseGaps key found in actions, or "".
func parseGap(actions string) string {
	for k := range knownParseGaps {
		if strings.Contains(actions, k) {
			return k
		}
	}
	return ""
}
