package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// ipMulticastRows lists SB IP_Multicast rows by datapath name, sorted.
func ipMulticastRows(t *testing.T, sb string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "--bare", "--format=csv", "--no-headings",
		"--columns=datapath,enabled,querier,eth_src,ip4_src,ip6_src,table_size,idle_timeout,query_interval,query_max_resp,seq_no", "list", "IP_Multicast"), "\n") {
		dp, rest, ok := strings.Cut(l, ",")
		if !ok {
			continue
		}
		name := strings.Trim(sbctl(t, sb, "get", "Datapath_Binding", dp, "external_ids:name"), `"`)
		out = append(out, name+","+rest)
	}
	slices.Sort(out)
	return out
}

// addIGMPGroup inserts an IGMP_Group row as chassis ch would.
func addIGMPGroup(t *testing.T, sb, ch, sw, addr string, ports ...string) {
	t.Helper()
	dp := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "external_ids:name="+sw)
	chU := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Chassis", "name="+ch)
	args := []string{"create", "IGMP_Group", `address="` + addr + `"`, "datapath=" + dp, "chassis=" + chU}
	var pus []string
	for _, p := range ports {
		pus = append(pus, sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Port_Binding", "logical_port="+p))
	}
	args = append(args, "ports=["+strings.Join(pus, ",")+"]")
	sbctl(t, sb, args...)
}

// l2Multicast returns the multicast flows of ls_in_l2_lkup of a switch.
func l2Multicast(t *testing.T, sb, sw string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "lflow-list", sw), "\n") {
		if strings.Contains(l, "ls_in_l2_lkup") && (strings.Contains(l, "mcast") || strings.Contains(l, "igmp") || strings.Contains(l, "mld")) {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	slices.Sort(out)
	return out
}

// mcGroups lists a switch's Multicast_Group rows as "name key ports".
func mcGroups(t *testing.T, sb, sw string) []string {
	t.Helper()
	dp := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "external_ids:name="+sw)
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "--bare", "--format=csv", "--no-headings", "--columns=name,tunnel_key,ports", "find", "Multicast_Group", "datapath="+dp), "\n") {
		f := strings.SplitN(l, ",", 3)
		if len(f) < 3 {
			continue
		}
		var names []string
		for _, u := range strings.Fields(strings.Trim(f[2], `"`)) {
			names = append(names, sbctl(t, sb, "get", "Port_Binding", u, "logical_port"))
		}
		slices.Sort(names)
		out = append(out, f[0]+" "+f[1]+" "+strings.Join(names, ","))
	}
	slices.Sort(out)
	return out
}

// TestIGMPSnoopingMatchesOVN runs ovn-northd and our northd on the same NB
// (a snooping switch with non-default settings and a plain one), each
// writing its own SB, inserts the same IGMP_Group rows in both as a
// chassis would, and compares IP_Multicast, the switch's Multicast_Group
// rows and its multicast flows.
func TestIGMPSnoopingMatchesOVN(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	nbctl(t, nb, "ls-add", "msw", "--", "lsp-add", "msw", "m1", "--", "lsp-set-addresses", "m1", "00:00:00:00:10:01 10.5.0.11",
		"--", "lsp-add", "msw", "m2", "--", "lsp-set-addresses", "m2", "00:00:00:00:10:02 10.5.0.12",
		"--", "lsp-add", "msw", "m3", "--", "lsp-set-addresses", "m3", "00:00:00:00:10:03 10.5.0.13")
	nbctl(t, nb, "ls-add", "plain", "--", "lsp-add", "plain", "p1")
	nbctl(t, nb, "set", "Logical_Switch", "msw", "other_config:mcast_snoop=true", "other_config:mcast_querier=false",
		"other_config:mcast_eth_src=00:00:00:00:99:99", "other_config:mcast_ip4_src=10.5.0.254", "other_config:mcast_idle_timeout=100")
	sync := func(cfg string) {
		t.Helper()
		nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg="+cfg)
		waitFor(t, "both SBs at nb_cfg "+cfg, 30*time.Second, func() bool {
			return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg &&
				sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == cfg
		})
	}
	sync("3")
	compare := func(when string, what string, get func(sb string) []string, least int) {
		t.Helper()
		var a, b []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			a, b = get(sbOVN), get(sbOurs)
			if (len(a) >= least && slices.Equal(a, b)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(a) < least || !slices.Equal(a, b) {
			t.Errorf("%s: %s differ:\novn-northd:\n%s\nours:\n%s", when, what, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	compare("initially", "IP_Multicast rows", func(sb string) []string { return ipMulticastRows(t, sb) }, 2)
	compare("initially", "msw multicast flows", func(sb string) []string { return l2Multicast(t, sb, "msw") }, 5)

	for _, sb := range []string{sbOVN, sbOurs} {
		sbctl(t, sb, "chassis-add", "ch1", "geneve", "127.0.0.11")
		sbctl(t, sb, "chassis-add", "ch2", "geneve", "127.0.0.12")
		addIGMPGroup(t, sb, "ch1", "msw", "239.1.1.1", "m1", "m2")
		addIGMPGroup(t, sb, "ch2", "msw", "239.1.1.1", "m3")
		addIGMPGroup(t, sb, "ch1", "msw", "ff0e::1", "m2")
		addIGMPGroup(t, sb, "ch1", "plain", "239.1.1.1", "p1") // not snooping
	}
	sync("4")
	groups := func(sb string) []string { return mcGroups(t, sb, "msw") }
	compare("with groups", "msw Multicast_Group rows", groups, 4)
	compare("with groups", "msw multicast flows", func(sb string) []string { return l2Multicast(t, sb, "msw") }, 7)
	// ovn-northd writes _MC_flood_l2 on every switch; ours only where
	// flows use it (snooping switches).
	plain := func(sb string) []string {
		return slices.DeleteFunc(mcGroups(t, sb, "plain"), func(s string) bool { return strings.HasPrefix(s, "_MC_flood_l2 ") })
	}
	compare("with groups", "plain Multicast_Group rows", plain, 2)
	compare("with groups", "plain multicast flows", func(sb string) []string { return l2Multicast(t, sb, "plain") }, 1)

	nbctl(t, nb, "set", "Logical_Switch", "msw", "other_config:mcast_flood_unregistered=true")
	sync("5")
	compare("flood unregistered", "msw multicast flows", func(sb string) []string { return l2Multicast(t, sb, "msw") }, 6)
}
