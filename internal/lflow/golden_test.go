package lflow

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hcnet/internal/openflow"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of golden files in testdata/")

// goldenCase is one block of a golden file:
//
//	command arg=value ...
//	input lines
//	----
//	expected output lines
//
// Blocks are separated by blank lines; lines starting with # before a
// command are comments.
type goldenCase struct {
	cmd    string
	args   map[string]string
	input  []string
	output []string
	pre    []string // comments and blank lines before the block
}

func parseGolden(t *testing.T, path string) []*goldenCase {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*goldenCase
	var pre []string
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		f := strings.Fields(l)
		c := &goldenCase{cmd: f[0], args: map[string]string{}, pre: pre}
		pre = nil
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			c.args[k] = v
		}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.input = append(c.input, lines[i])
		}
		if i >= len(lines) {
			t.Fatalf("%s: block %q has no ---- line", path, l)
		}
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			c.output = append(c.output, lines[i])
		}
		i--
		cases = append(cases, c)
	}
	return cases
}

func writeGolden(t *testing.T, path string, cases []*goldenCase) {
	var sb strings.Builder
	for _, c := range cases {
		for _, p := range c.pre {
			sb.WriteString(p + "\n")
		}
		sb.WriteString(c.cmd)
		for _, k := range sortedKeys(c.args) {
			if c.args[k] == "" {
				sb.WriteString(" " + k)
			} else {
				sb.WriteString(" " + k + "=" + c.args[k])
			}
		}
		sb.WriteString("\n")
		for _, l := range c.input {
			sb.WriteString(l + "\n")
		}
		sb.WriteString("----\n")
		for _, l := range c.output {
			sb.WriteString(l + "\n")
		}
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// goldenEnv is testEnv plus deterministic group and meter allocators that
// record what they hand out, so the output can show the groups too.
func goldenEnv() (*Env, *[]string) {
	env := testEnv()
	var extra []string
	groups := map[string]uint32{}
	env.Group = func(g openflow.GroupDesc) uint32 {
		k := g.String()
		if id, ok := groups[k]; ok {
			return id
		}
		id := uint32(len(groups) + 1)
		groups[k] = id
		extra = append(extra, fmt.Sprintf("group_id=%d,%s", id, k))
		return id
	}
	env.Meter = func(n string) (uint32, bool) { extra = append(extra, "meter "+n+" = 1"); return 1, true }
	env.ConjIDBase = 100
	return env, &extra
}

func runGoldenCase(t *testing.T, c *goldenCase) []string {
	errOut := func(err error) []string { return []string{"error: " + err.Error()} }
	switch c.cmd {
	case "expr":
		ms, err := MatchExpr(strings.Join(c.input, "\n"), testEnv())
		if err != nil {
			return errOut(err)
		}
		if len(ms) == 0 {
			return []string{"(never matches)"}
		}
		var out []string
		for _, m := range simplify(ms) {
			s := m.String()
			if s == "" {
				s = "(always matches)"
			}
			out = append(out, s)
		}
		return out
	case "parse-actions":
		as, err := ParseActions(strings.Join(c.input, "\n"))
		if err != nil {
			return errOut(err)
		}
		if len(as) == 0 {
			return []string{"drop;"}
		}
		return []string{as.String()}
	case "flow":
		if len(c.input) != 2 {
			t.Fatalf("flow needs two input lines (match, actions), got %d", len(c.input))
		}
		lf := LogicalFlow{Pipeline: "ingress", Priority: 100, Match: c.input[0], Actions: c.input[1], Datapath: 5, Cookie: 0xabc}
		if p, ok := c.args["pipeline"]; ok {
			lf.Pipeline = p
		}
		if tb, ok := c.args["table"]; ok {
			n, _ := strconv.Atoi(tb)
			lf.TableID = uint8(n)
		}
		_, lf.Router = c.args["router"]
		lf.ControllerMeter = c.args["meter"]
		env, extra := goldenEnv()
		if tp, ok := c.args["tunnels"]; ok {
			// tunnels=port:ofport,...: Env.TunnelPort.
			ports := map[string]uint32{}
			for _, kv := range strings.Split(tp, ",") {
				k, v, _ := strings.Cut(kv, ":")
				n, _ := strconv.Atoi(v)
				ports[k] = uint32(n)
			}
			env.TunnelPort = func(p string) (uint32, bool) { n, ok := ports[p]; return n, ok }
		}
		flows, err := Compile(lf, env)
		if err != nil {
			return errOut(err)
		}
		var out []string
		for _, f := range flows {
			out = append(out, f.String())
		}
		if len(out) == 0 {
			out = append(out, "(no flows)")
		}
		return append(out, *extra...)
	}
	t.Fatalf("unknown golden command %q", c.cmd)
	return nil
}

// TestGolden runs every testdata/*.golden file. Regenerate with -rewrite
// and read the diff before committing.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cases := parseGolden(t, path)
			for _, c := range cases {
				got := runGoldenCase(t, c)
				if *rewrite {
					c.output = got
					continue
				}
				if strings.Join(got, "\n") != strings.Join(c.output, "\n") {
					t.Errorf("%s %s\n%s\ngot:\n%s\nwant:\n%s", c.cmd, c.args, strings.Join(c.input, "\n"), strings.Join(got, "\n"), strings.Join(c.output, "\n"))
				}
			}
			if *rewrite {
				writeGolden(t, path, cases)
			}
		})
	}
}
