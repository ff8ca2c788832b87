package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// natAddressRows lists "port: nat_addresses" of every Port_Binding that
// has any, sorted.
func natAddressRows(t *testing.T, sb string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "--format=csv", "--no-headings", "--columns=logical_port,nat_addresses", "list", "Port_Binding"), "\n") {
		name, addrs, ok := strings.Cut(l, ",")
		if !ok || addrs == "[]" || addrs == `""` {
			continue
		}
		out = append(out, name+": "+addrs)
	}
	slices.Sort(out)
	return out
}

// natAddressNB builds routers whose switch-side ports ask for
// nat-addresses: a distributed gateway port with every NAT type and a load
// balancer, a gateway router with and without a localnet port, a router
// with two distributed gateway ports, an explicit address list, and router
// ports that do not ask.
func natAddressNB(t *testing.T, nb string) {
	t.Helper()
	rp := func(sw, name, peer string, opts ...string) [][]string {
		return [][]string{
			{"lsp-add", sw, name, "--", "lsp-set-type", name, "router", "--", "lsp-set-addresses", name, "router"},
			append([]string{"lsp-set-options", name, "router-port=" + peer}, opts...),
		}
	}
	cmds := [][]string{
		{"ls-add", "sw-a"}, {"ls-add", "public-a"}, {"ls-add", "public-b"}, {"ls-add", "public-c"}, {"ls-add", "public-d"},
		{"lsp-add", "sw-a", "vm-a", "--", "lsp-set-addresses", "vm-a", "00:00:00:00:02:15 10.0.2.15"},
		{"lr-add", "lr-a"},
		{"lrp-add", "lr-a", "lr-a-int", "00:00:00:00:a0:01", "10.0.2.1/24"},
		{"lrp-add", "lr-a", "lr-a-ext", "00:00:00:00:a0:02", "172.16.0.1/24"},
		{"lrp-set-gateway-chassis", "lr-a-ext", "gw1", "10"},
		{"lr-nat-add", "lr-a", "snat", "172.16.0.1", "10.0.2.0/24"},
		{"lr-nat-add", "lr-a", "snat", "172.16.0.2", "10.0.3.0/24"},
		{"lr-nat-add", "lr-a", "dnat_and_snat", "172.16.0.50", "10.0.2.13"},
		{"lr-nat-add", "lr-a", "dnat", "172.16.0.60", "10.0.2.14"},
		{"lr-nat-add", "lr-a", "dnat_and_snat", "172.16.0.70", "10.0.2.15", "vm-a", "00:00:00:00:bb:01"},
		{"lb-add", "lb-a", "172.16.0.80:80", "10.0.2.13:80"},
		{"lr-lb-add", "lr-a", "lb-a"},
		{"lr-add", "lr-b", "--", "set", "Logical_Router", "lr-b", "options:chassis=gw2"},
		{"lrp-add", "lr-b", "lr-b-ext", "00:00:00:00:b0:02", "172.17.0.1/24"},
		{"lr-nat-add", "lr-b", "dnat_and_snat", "172.17.0.50", "10.0.5.13"},
		{"lr-nat-add", "lr-b", "snat", "172.17.0.1", "10.0.5.0/24"},
		{"lb-add", "lb-b", "172.17.0.80:80", "10.0.5.13:80"},
		{"lr-lb-add", "lr-b", "lb-b"},
		{"lsp-add", "public-b", "ln-b", "--", "lsp-set-type", "ln-b", "localnet", "--", "lsp-set-addresses", "ln-b", "unknown",
			"--", "lsp-set-options", "ln-b", "network_name=physnet"},
		{"lr-add", "lr-c"},
		{"lrp-add", "lr-c", "lr-c-ext", "00:00:00:00:c0:02", "172.18.0.1/24"},
		{"lrp-set-gateway-chassis", "lr-c-ext", "gw1", "10"},
		{"lr-nat-add", "lr-c", "dnat_and_snat", "172.18.0.50", "10.0.6.13"},
		{"lr-add", "lr-d"},
		{"lrp-add", "lr-d", "lr-d-ext", "00:00:00:00:d0:02", "172.19.0.1/24"},
		{"lrp-set-gateway-chassis", "lr-d-ext", "gw1", "10"},
		{"lr-nat-add", "lr-d", "dnat_and_snat", "172.19.0.50", "10.0.7.13"},
		{"ls-add", "public-g"}, {"ls-add", "public-h"},
		{"lrp-add", "lr-a", "lr-a-mid", "00:00:00:00:a0:03", "172.24.0.1/24"},
		{"ls-add", "public-e"}, {"ls-add", "public-f1"}, {"ls-add", "public-f2"},
		{"lr-add", "lr-e", "--", "set", "Logical_Router", "lr-e", "options:chassis=gw2"},
		{"lrp-add", "lr-e", "lr-e-ext", "00:00:00:00:e0:02", "172.20.0.1/24"},
		{"lr-nat-add", "lr-e", "dnat_and_snat", "172.20.0.50", "10.0.8.13"},
		{"lr-add", "lr-f"},
		{"lrp-add", "lr-f", "lr-f-ext1", "00:00:00:00:f0:01", "172.21.0.1/24"},
		{"lrp-add", "lr-f", "lr-f-ext2", "00:00:00:00:f0:02", "172.22.0.1/24"},
		{"lrp-set-gateway-chassis", "lr-f-ext1", "gw1", "10"},
		{"lrp-set-gateway-chassis", "lr-f-ext2", "gw2", "10"},
		{"lr-nat-add", "lr-f", "dnat_and_snat", "172.21.0.50", "10.0.9.13"},
		{"lrp-add", "lr-f", "lr-f-mid", "00:00:00:00:f0:03", "172.25.0.1/24"},
		{"--gateway-port=lr-f-ext2", "lr-nat-add", "lr-f", "dnat_and_snat", "172.21.0.99", "10.0.9.14"},
	}
	cmds = append(cmds, rp("sw-a", "sw-a-lr-a", "lr-a-int")...)
	cmds = append(cmds, rp("public-a", "pa-lr-a", "lr-a-ext", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-b", "pb-lr-b", "lr-b-ext", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-c", "pc-lr-c", "lr-c-ext", "nat-addresses=00:00:00:00:c0:09 172.18.0.9 172.18.0.10")...)
	cmds = append(cmds, rp("public-d", "pd-lr-d", "lr-d-ext")...)
	cmds = append(cmds, rp("public-e", "pe-lr-e", "lr-e-ext", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-g", "pg-lr-a", "lr-a-mid", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-h", "ph-lr-f", "lr-f-mid", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-f1", "pf1-lr-f", "lr-f-ext1", "nat-addresses=router")...)
	cmds = append(cmds, rp("public-f2", "pf2-lr-f", "lr-f-ext2", "nat-addresses=router")...)
	for _, c := range cmds {
		nbctl(t, nb, c...)
	}
	nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg=42")
}

// TestNATAddressesMatchOVN runs ovn-northd and our northd on the same NB,
// each writing its own SB, and compares every Port_Binding's
// nat_addresses.
func TestNATAddressesMatchOVN(t *testing.T) {
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	natAddressNB(t, nb)
	waitFor(t, "both SBs at nb_cfg 42", 30*time.Second, func() bool {
		return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42" &&
			sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "42"
	})
	a, b := natAddressRows(t, sbOVN), natAddressRows(t, sbOurs)
	if !slices.Equal(a, b) {
		t.Fatalf("nat_addresses differ\novn-northd:\n%s\nours:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	t.Logf("nat_addresses agree:\n%s", strings.Join(a, "\n"))
}
