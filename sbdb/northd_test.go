package sbdb_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hcnet/internal/ovstest"
	"hcnet/nbdb"
	"hcnet/sbdb"
)

// startNorthd runs OVN's ovn-northd against nb and sb until the test ends.
func startNorthd(t *testing.T, dir, nb, sb string) {
	t.Helper()
	cmd := exec.Command("ovn-northd", "--ovnnb-db="+nb, "--ovnsb-db="+sb,
		"--unixctl="+filepath.Join(dir, "northd.ctl"), "--log-file="+filepath.Join(dir, "northd.log"), "-vconsole:off")
	cmd.Env = append(os.Environ(), "OVN_RUNDIR="+dir, "OVS_RUNDIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() })
}

// countFlows waits until ovn-northd has written flows for the NB contents
// and the count is stable, and returns it.
func countFlows(t *testing.T, sb string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last, stable := -1, 0
	for time.Now().Before(deadline) {
		out := run("ovn-sbctl", "--timeout=15", "--db="+sb, "--bare", "--columns=_uuid", "list", "Logical_Flow")
		n := len(strings.Fields(out))
		dp := run("ovn-sbctl", "--timeout=15", "--db="+sb, "--bare", "--columns=external_ids", "list", "Datapath_Binding")
		if n > 0 && n == last && strings.Contains(dp, "sw0") && strings.Contains(dp, "r0") {
			stable++
			if stable >= 3 {
				return n
			}
		} else {
			stable = 0
		}
		last = n
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("ovn-northd did not settle (last count %d)", last)
	return 0
}

// TestOVNNorthdAgainstOurDatabases runs the reference ovn-northd between our
// nbdb and sbdb (its IDL uses monitor_cond_since, the ovn_northd lock and
// large transactions) and between two ovsdb-servers; both must end with the
// same logical flows.
func TestOVNNorthdAgainstOurDatabases(t *testing.T) {
	ovstest.Need(t, "ovn-northd", "ovn-nbctl", "ovn-sbctl", "ovsdb-server", "ovsdb-tool")
	if testing.Short() {
		t.Skip("runs ovn-northd")
	}
	setup := [][]string{
		{"ls-add", "sw0"},
		{"lsp-add", "sw0", "p1"},
		{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.11"},
		{"lsp-add", "sw0", "p2"},
		{"lsp-set-addresses", "p2", "00:00:00:00:00:02 10.0.0.12"},
		{"lr-add", "r0"},
		{"lrp-add", "r0", "r0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24"},
		{"lsp-add", "sw0", "sw0-r0"},
		{"lsp-set-type", "sw0-r0", "router"},
		{"lsp-set-addresses", "sw0-r0", "router"},
		{"lsp-set-options", "sw0-r0", "router-port=r0-sw0"},
		{"acl-add", "sw0", "to-lport", "1000", "ip4.src==10.0.0.0/24", "allow-related"},
		{"lb-add", "lb0", "10.0.0.100:80", "10.0.0.11:8080", "tcp"},
		{"ls-lb-add", "sw0", "lb0"},
	}
	flows := map[string]int{}
	content := map[string]string{}
	for _, which := range []string{"ovsdb-server", "ours"} {
		dir, err := os.MkdirTemp("", "hcnd")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		var nb, sb string
		if which == "ours" {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			log := slog.New(slog.DiscardHandler)
			n, err := nbdb.Start(ctx, nbdb.Config{DataDir: filepath.Join(dir, "nb"), Listen: []string{"punix:" + filepath.Join(dir, "nb.sock")}, RaftAddress: freeAddr(t), Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			s, err := sbdb.Start(ctx, sbdb.Config{DataDir: filepath.Join(dir, "sb"), Listen: []string{"punix:" + filepath.Join(dir, "sb.sock")}, RaftAddress: freeAddr(t), Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			nb, sb = "unix:"+filepath.Join(dir, "nb.sock"), "unix:"+filepath.Join(dir, "sb.sock")
		} else {
			nb = ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema")).Remote()
			sb = ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
		}
		startNorthd(t, dir, nb, sb)
		for _, c := range setup {
			if out := run("ovn-nbctl", append([]string{"--timeout=15", "--db=" + nb}, c...)...); strings.Contains(out, "exit") {
				t.Fatalf("%s: ovn-nbctl %v: %s", which, c, out)
			}
		}
		flows[which] = countFlows(t, sb)
		// stage-hint holds the start of an NB row's UUID: drop it.
		content[which] = sortLines(stageHint.ReplaceAllString(run("ovn-sbctl", "--timeout=15", "--db="+sb, "--format=csv", "--no-headings",
			"--columns=pipeline,table_id,priority,match,actions,external_ids", "list", "Logical_Flow"), "stage-hint"))
		// ovn-nbctl --wait=sb blocks until northd has caught up (nb_cfg ->
		// SB_Global.nb_cfg -> NB_Global.sb_cfg).
		if out := run("ovn-nbctl", "--timeout=30", "--wait=sb", "--db="+nb, "ls-add", "sw-wait"); strings.Contains(out, "exit") {
			t.Fatalf("%s: ovn-nbctl --wait=sb: %s", which, out)
		}
		// nb_cfg goes round: northd copies it to SB_Global.
		run("ovn-nbctl", "--timeout=15", "--db="+nb, "set", "NB_Global", ".", "nb_cfg=7")
		deadline := time.Now().Add(30 * time.Second)
		for {
			out := strings.TrimSpace(run("ovn-sbctl", "--timeout=15", "--db="+sb, "get", "SB_Global", ".", "nb_cfg"))
			if n, _ := strconv.Atoi(out); n == 7 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: SB_Global.nb_cfg is %q, want 7", which, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if flows["ours"] != flows["ovsdb-server"] {
		t.Fatalf("ovn-northd wrote %d logical flows through our databases, %d through ovsdb-server", flows["ours"], flows["ovsdb-server"])
	}
	if content["ours"] != content["ovsdb-server"] {
		a, b := strings.Split(content["ovsdb-server"], "\n"), strings.Split(content["ours"], "\n")
		inA := map[string]bool{}
		for _, l := range a {
			inA[l] = true
		}
		inB := map[string]bool{}
		for _, l := range b {
			inB[l] = true
		}
		var diff []string
		for _, l := range a {
			if !inB[l] {
				diff = append(diff, "- "+l)
			}
		}
		for _, l := range b {
			if !inA[l] {
				diff = append(diff, "+ "+l)
			}
		}
		if len(diff) > 40 {
			diff = diff[:40]
		}
		t.Fatalf("logical flows differ (- via ovsdb-server, + via ours):\n%s", strings.Join(diff, "\n"))
	}
	t.Logf("%d logical flows either way, identical", flows["ours"])
}

var stageHint = regexp.MustCompile(`stage-hint=(""[0-9a-f]+""|[0-9a-f]+)`)

func sortLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}
