package translate_test

import (
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"hcnet/northd/nbscript"
	"hcnet/northd/translate"
)

// TestGolden runs the datadriven scenarios in testdata/: "nb" applies an
// nbscript, "sb" prints the southbound rows but flows, "flows NAME" prints
// the logical flows of one datapath. Regenerate with -rewrite.
func TestGolden(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		n := translate.NewNB()
		var keys translate.Keys
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "nb":
				if err := nbscript.Run(n, d.Input); err != nil {
					return "error: " + err.Error() + "\n"
				}
				return ""
			case "sb":
				sb := translate.Translate(n, keys)
				keys = sb.Keys()
				text := sb.Text()
				if i := strings.Index(text, "Datapath: "); i >= 0 {
					text = text[:i]
				}
				return text
			case "flows":
				sb := translate.Translate(n, keys)
				keys = sb.Keys()
				var b strings.Builder
				for _, arg := range d.CmdArgs {
					for _, dp := range sb.Datapaths {
						if dp.Datapath.Name == arg.Key {
							b.WriteString(translate.FlowsText(dp.Datapath.Name, dp.Flows))
						}
					}
				}
				return b.String()
			default:
				t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
				return ""
			}
		})
	})
}
