package northd_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// TestStagesAndBindingsMatchOVN runs ovn-northd and our northd on the same
// NB, each writing its own SB, and compares what must agree for
// ovn-controller: every (pipeline, table, stage name) triple, and the
// Port_Binding rows' names, types and options. Our flows within a stage may
// be simpler than OVN's; the stage layout and the bindings may not differ.
func TestStagesAndBindingsMatchOVN(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)

	for _, c := range [][]string{
		{"ls-add", "sw0"}, {"ls-add", "sw1"}, {"ls-add", "public"},
		{"lsp-add", "sw0", "vm1", "--", "lsp-set-addresses", "vm1", "00:00:00:00:00:01 10.0.0.11"},
		{"lsp-add", "sw1", "vm2", "--", "lsp-set-addresses", "vm2", "00:00:00:00:00:02 10.0.1.12"},
		{"lsp-add", "public", "ln", "--", "lsp-set-type", "ln", "localnet", "--", "lsp-set-addresses", "ln", "unknown",
			"--", "lsp-set-options", "ln", "network_name=physnet"},
		{"lr-add", "lr0"},
		{"lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24"},
		{"lrp-add", "lr0", "lr0-sw1", "00:00:00:00:ff:02", "10.0.1.1/24"},
		{"lrp-add", "lr0", "lr0-public", "00:00:00:00:ff:03", "172.16.0.1/24"},
		{"lsp-add", "sw0", "sw0-lr0", "--", "lsp-set-type", "sw0-lr0", "router", "--", "lsp-set-addresses", "sw0-lr0", "router", "--", "lsp-set-options", "sw0-lr0", "router-port=lr0-sw0"},
		{"lsp-add", "sw1", "sw1-lr0", "--", "lsp-set-type", "sw1-lr0", "router", "--", "lsp-set-addresses", "sw1-lr0", "router", "--", "lsp-set-options", "sw1-lr0", "router-port=lr0-sw1"},
		{"lsp-add", "public", "public-lr0", "--", "lsp-set-type", "public-lr0", "router", "--", "lsp-set-addresses", "public-lr0", "router", "--", "lsp-set-options", "public-lr0", "router-port=lr0-public"},
		{"lrp-set-gateway-chassis", "lr0-public", "gw1", "10"},
		{"lr-nat-add", "lr0", "snat", "172.16.0.100", "10.0.0.0/16"},
		{"lr-route-add", "lr0", "0.0.0.0/0", "172.16.0.254"},
		{"acl-add", "sw0", "to-lport", "1000", "ip4 && tcp.dst == 23", "drop"},
		{"acl-add", "sw1", "from-lport", "1000", "ip4", "allow-related"},
		{"set", "NB_Global", ".", "nb_cfg=42"},
	} {
		nbctl(t, nb, c...)
	}
	waitFor(t, "both SBs at nb_cfg 42", 30*time.Second, func() bool {
		return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42" &&
			sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42"
	})

	stages := func(sb string) []string {
		out := sbctl(t, sb, "--bare", "--format=csv", "--no-headings", "--columns=pipeline,table_id,external_ids", "list", "Logical_Flow")
		var set []string
		for _, line := range strings.Split(out, "\n") {
			f := strings.SplitN(line, ",", 3)
			if len(f) < 3 {
				continue
			}
			name := ""
			for _, kv := range strings.Fields(strings.Trim(f[2], `"{}`)) {
				kv = strings.Trim(kv, ",")
				if v, ok := strings.CutPrefix(kv, "stage-name="); ok {
					name = v
				}
			}
			set = append(set, f[0]+" "+f[1]+" "+name)
		}
		slices.Sort(set)
		return slices.Compact(set)
	}
	if a, b := stages(sbOVN), stages(sbOurs); !slices.Equal(a, b) {
		t.Errorf("stage layout differs:\novn-northd: %v\nours:       %v", a, b)
	}

	bindings := func(sb string) []string {
		out := sbctl(t, sb, "--bare", "--format=csv", "--no-headings", "--columns=logical_port,type,options", "list", "Port_Binding")
		lines := strings.Split(out, "\n")
		slices.Sort(lines)
		return lines
	}
	// The switch side of a router port carries the same options in both.
	a, b := bindings(sbOVN), bindings(sbOurs)
	if !slices.Equal(a, b) {
		t.Errorf("port bindings differ:\novn-northd:\n%s\nours:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// startOVNNorthd runs ovn-northd on nb and sb until the test ends, or
// until the returned stop is called (SIGKILL: it leaves SB as it was).
func startOVNNorthd(t *testing.T, nb, sb string) (stop func()) {
	t.Helper()
	ovstest.Need(t, "ovn-northd")
	dir := t.TempDir()
	cmd := exec.Command("ovn-northd", "--ovnnb-db="+nb, "--ovnsb-db="+sb, "--unixctl="+filepath.Join(dir, "northd.ctl"),
		"--log-file="+filepath.Join(dir, "northd.log"), "-vconsole:off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}
