package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// eventsNB builds load balancers without backends on a switch, a gateway
// router and a router with a distributed gateway port, with
// NB_Global options:controller_event=true.
func eventsNB(t *testing.T, nb string) {
	t.Helper()
	for _, c := range [][]string{
		{"set", "NB_Global", ".", "options:controller_event=true"},
		{"ls-add", "sw-e"},
		{"lsp-add", "sw-e", "vm1", "--", "lsp-set-addresses", "vm1", "00:00:00:00:08:01 10.0.8.11"},
		{"lr-add", "gr-e", "--", "set", "Logical_Router", "gr-e", "options:chassis=gw1"},
		{"lrp-add", "gr-e", "gr-e-pub", "00:00:00:00:08:f1", "172.16.8.1/24"},
		{"lr-add", "dr-e"},
		{"lrp-add", "dr-e", "dr-e-sw", "00:00:00:00:08:f2", "10.0.8.1/24"},
		{"lrp-add", "dr-e", "dr-e-pub", "00:00:00:00:08:f3", "172.16.9.1/24"},
		{"lrp-set-gateway-chassis", "dr-e-pub", "gw1", "10"},
		{"lsp-add", "sw-e", "sw-e-dr", "--", "lsp-set-type", "sw-e-dr", "router", "--", "lsp-set-addresses", "sw-e-dr", "router",
			"--", "lsp-set-options", "sw-e-dr", "router-port=dr-e-sw"},
		{"lb-add", "lb-empty", "10.0.8.100:80", ""},
		{"lb-add", "lb-empty", "10.0.8.101", ""},
		{"lb-add", "lb-empty", "[2001:db8::100]:80", ""},
		{"lb-add", "lb-udp", "10.0.8.102:53", "", "udp"},
		{"lb-add", "lb-full", "10.0.8.103:80", "10.0.8.11:8080"},
		{"lb-add", "lb-rej", "10.0.8.104:80", ""},
		{"lb-add", "lb-opt", "10.0.8.105:80", ""},
		{"set", "Load_Balancer", "lb-opt", "options:event=true"},
		{"set", "Load_Balancer", "lb-rej", "options:reject=true"},
		{"ls-lb-add", "sw-e", "lb-empty"}, {"ls-lb-add", "sw-e", "lb-udp"}, {"ls-lb-add", "sw-e", "lb-full"}, {"ls-lb-add", "sw-e", "lb-rej"}, {"ls-lb-add", "sw-e", "lb-opt"},
		{"lr-lb-add", "gr-e", "lb-empty"}, {"lr-lb-add", "gr-e", "lb-rej"},
		{"lr-lb-add", "dr-e", "lb-udp"},
		{"set", "NB_Global", ".", "nb_cfg=42"},
	} {
		nbctl(t, nb, c...)
	}
}

// eventFlows returns the trigger_event flows of a datapath, normalised.
func eventFlows(t *testing.T, sb, dp string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "lflow-list", dp), "\n") {
		if strings.Contains(l, "trigger_event") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	slices.Sort(out)
	return out
}

// TestControllerEventsMatchOVN runs ovn-northd and our northd on the same
// NB, each writing its own SB, and compares the trigger_event flows of
// every datapath: with controller_event on, then off (one load balancer
// still asks with options:event=true), then with no events at all.
func TestControllerEventsMatchOVN(t *testing.T) {
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	eventsNB(t, nb)
	synced := func(cfg string) {
		waitFor(t, "both SBs at nb_cfg "+cfg, 30*time.Second, func() bool {
			return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg &&
				sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg
		})
	}
	compare := func(wantAny bool) {
		t.Helper()
		total := 0
		for _, dp := range []string{"sw-e", "gr-e", "dr-e"} {
			a, b := eventFlows(t, sbOVN, dp), eventFlows(t, sbOurs, dp)
			if !slices.Equal(a, b) {
				t.Errorf("%s: trigger_event flows differ\novn-northd:\n%s\nours:\n%s", dp, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			total += len(a)
			t.Logf("%s: %d trigger_event flows of ovn-northd:\n%s", dp, len(a), strings.Join(a, "\n"))
		}
		if wantAny != (total > 0) {
			t.Errorf("%d trigger_event flows, want some: %v", total, wantAny)
		}
	}
	synced("42")
	compare(true)
	nbctl(t, nb, "remove", "NB_Global", ".", "options", "controller_event")
	nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg=43")
	synced("43")
	compare(true) // lb-opt's own options:event=true
	nbctl(t, nb, "remove", "Load_Balancer", "lb-opt", "options", "event")
	nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg=44")
	synced("44")
	compare(false)
}
