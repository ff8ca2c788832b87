package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// vportNB builds a switch with virtual ports (IPv4 and IPv6) whose parents
// are two VMs, and a router on it.
func vportNB(t *testing.T, nb string) {
	t.Helper()
	for _, c := range [][]string{
		{"ls-add", "sw-v"},
		{"lsp-add", "sw-v", "vm1", "--", "lsp-set-addresses", "vm1", "00:00:00:00:07:01 10.0.7.11"},
		{"lsp-add", "sw-v", "vm2", "--", "lsp-set-addresses", "vm2", "00:00:00:00:07:02 10.0.7.12"},
		{"lsp-add", "sw-v", "vip", "--", "lsp-set-type", "vip", "virtual",
			"--", "lsp-set-addresses", "vip", "00:00:00:00:07:50 10.0.7.50",
			"--", "lsp-set-options", "vip", "virtual-ip=10.0.7.50", "virtual-parents=vm1,vm2,nope"},
		{"lsp-add", "sw-v", "vip6", "--", "lsp-set-type", "vip6", "virtual",
			"--", "lsp-set-addresses", "vip6", "00:00:00:00:07:60 2001:db8::60",
			"--", "lsp-set-options", "vip6", "virtual-ip=2001:db8::60", "virtual-parents=vm1,vm2"},
		{"lr-add", "lr-v"},
		{"lrp-add", "lr-v", "lr-v-sw", "00:00:00:00:07:ff", "10.0.7.1/24"},
		{"lsp-add", "sw-v", "sw-v-lr", "--", "lsp-set-type", "sw-v-lr", "router", "--", "lsp-set-addresses", "sw-v-lr", "router",
			"--", "lsp-set-options", "sw-v-lr", "router-port=lr-v-sw"},
		{"set", "NB_Global", ".", "nb_cfg=42"},
	} {
		nbctl(t, nb, c...)
	}
}

// switchFlows returns the logical flows of a switch, one normalised line
// each, sorted.
func switchFlows(t *testing.T, sb, sw string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "lflow-list", sw), "\n") {
		if strings.Contains(l, "table=") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	slices.Sort(out)
	return out
}

// arpResolve returns a router's lr_in_arp_resolve flows for ip.
func arpResolve(t *testing.T, sb, lr, ip string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "lflow-list", lr), "\n") {
		if strings.Contains(l, "lr_in_arp_resolve") && strings.Contains(l, ip) {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	slices.Sort(out)
	return out
}

// TestVirtualPortMatchesOVN runs ovn-northd and our northd on the same NB,
// each writing its own SB, and compares the virtual port's Port_Binding
// and the flows that name it; then claims the port in both SBs as a
// chassis would (virtual_parent and chassis) and compares how the router
// resolves the virtual IP, claimed and released.
func TestVirtualPortMatchesOVN(t *testing.T) {
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	vportNB(t, nb)
	waitFor(t, "both SBs at nb_cfg 42", 30*time.Second, func() bool {
		return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42" &&
			sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42"
	})
	binding := func(sb string) string {
		return sbctl(t, sb, "--format=csv", "--no-headings", "--columns=logical_port,type,options,mac,virtual_parent", "find", "Port_Binding", "logical_port=vip")
	}
	if a, b := binding(sbOVN), binding(sbOurs); a != b {
		t.Errorf("Port_Binding vip differs:\novn-northd: %s\nours:       %s", a, b)
	}
	// The virtual port floods like any port. (ovn-northd also writes
	// _MC_flood_l2 on every switch; ours only where snooping uses it.)
	flood := func(sb string) []string {
		return slices.DeleteFunc(mcGroups(t, sb, "sw-v"), func(g string) bool { return !strings.HasPrefix(g, "_MC_flood ") })
	}
	if a, b := flood(sbOVN), flood(sbOurs); !slices.Equal(a, b) {
		t.Errorf("_MC_flood differs:\novn-northd: %v\nours:       %v", a, b)
	}
	vportFlows := func(sb string) []string {
		return slices.DeleteFunc(switchFlows(t, sb, "sw-v"), func(l string) bool {
			return !strings.Contains(l, `"vip`) && !strings.Contains(l, "10.0.7.50") && !strings.Contains(l, "00:00:00:00:07:50") &&
				!strings.Contains(l, "2001:db8::60") && !strings.Contains(l, "00:00:00:00:07:60")
		})
	}
	a, b := vportFlows(sbOVN), vportFlows(sbOurs)
	if !slices.Equal(a, b) {
		t.Fatalf("flows naming the virtual port differ\novn-northd:\n%s\nours:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	t.Logf("flows naming the virtual port agree:\n%s", strings.Join(a, "\n"))

	resolve := func(what, wantMAC string) {
		t.Helper()
		var a, b []string
		deadline := time.Now().Add(20 * time.Second)
		for {
			a, b = arpResolve(t, sbOVN, "lr-v", "10.0.7.50"), arpResolve(t, sbOurs, "lr-v", "10.0.7.50")
			if len(a) > 0 && slices.Equal(a, b) && strings.Contains(strings.Join(a, " "), "eth.dst = "+wantMAC) {
				t.Logf("%s: lr_in_arp_resolve agrees:\n%s", what, strings.Join(a, "\n"))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: lr_in_arp_resolve for 10.0.7.50 differs\novn-northd:\n%s\nours:\n%s", what, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	resolve("unclaimed", "00:00:00:00:00:00")
	claim := func(sb, parent string) {
		pb := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Port_Binding", "logical_port=vip")
		if parent == "" {
			sbctl(t, sb, "clear", "Port_Binding", pb, "virtual_parent", "--", "clear", "Port_Binding", pb, "chassis")
			return
		}
		ch := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Chassis", "name=hv1")
		if ch == "" {
			sbctl(t, sb, "chassis-add", "hv1", "geneve", "127.0.0.1")
			ch = sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Chassis", "name=hv1")
		}
		sbctl(t, sb, "set", "Port_Binding", pb, "virtual_parent="+parent, "chassis="+ch)
	}
	for _, sb := range []string{sbOVN, sbOurs} {
		claim(sb, "vm2")
	}
	resolve("claimed by vm2", "00:00:00:00:07:02")
	for _, sb := range []string{sbOVN, sbOurs} {
		claim(sb, "")
	}
	resolve("released", "00:00:00:00:00:00")
}
