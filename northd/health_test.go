package northd_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ovstest"
)

// healthNB creates, with ovn-nbctl, a switch load balancer and a router
// load balancer with health checks: lb1 (sw0, TCP) has three backends,
// two mapped to ports; lb2 (lr0, UDP) maps one backend to a port that
// does not exist.
func healthNB(t *testing.T, nb string) {
	t.Helper()
	for _, c := range [][]string{
		{"ls-add", "sw0", "--", "lsp-add", "sw0", "vm1", "--", "lsp-set-addresses", "vm1", "00:00:00:00:00:01 10.0.0.11",
			"--", "lsp-add", "sw0", "vm2", "--", "lsp-set-addresses", "vm2", "00:00:00:00:00:02 10.0.0.12"},
		{"ls-add", "sw1", "--", "lsp-add", "sw1", "vm3", "--", "lsp-set-addresses", "vm3", "00:00:00:00:00:03 10.0.1.13"},
		{"lr-add", "lr0", "--", "lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24",
			"--", "lrp-add", "lr0", "lr0-sw1", "00:00:00:00:ff:02", "10.0.1.1/24"},
		{"lsp-add", "sw0", "sw0-lr0", "--", "lsp-set-type", "sw0-lr0", "router", "--", "lsp-set-addresses", "sw0-lr0", "router",
			"--", "lsp-set-options", "sw0-lr0", "router-port=lr0-sw0"},
		{"lsp-add", "sw1", "sw1-lr0", "--", "lsp-set-type", "sw1-lr0", "router", "--", "lsp-set-addresses", "sw1-lr0", "router",
			"--", "lsp-set-options", "sw1-lr0", "router-port=lr0-sw1"},
		{"lb-add", "lb1", "10.0.0.100:80", "10.0.0.11:8080,10.0.0.12:8080,10.0.0.13:8080", "tcp", "--", "ls-lb-add", "sw0", "lb1"},
		{"--id=@hc", "create", "Load_Balancer_Health_Check", `vip="10.0.0.100:80"`, "options:interval=2", "options:timeout=1",
			"--", "add", "Load_Balancer", "lb1", "health_check", "@hc"},
		{"set", "Load_Balancer", "lb1", "ip_port_mappings:10.0.0.11=vm1:10.0.0.2", "ip_port_mappings:10.0.0.12=vm2:10.0.0.2"},
		{"lb-add", "lb2", "20.0.0.1:53", "10.0.1.13:53,10.0.0.77:53", "udp", "--", "lr-lb-add", "lr0", "lb2"},
		{"--id=@hc", "create", "Load_Balancer_Health_Check", `vip="20.0.0.1:53"`,
			"--", "add", "Load_Balancer", "lb2", "health_check", "@hc"},
		{"set", "Load_Balancer", "lb2", "ip_port_mappings:10.0.1.13=vm3:10.0.1.2", "ip_port_mappings:10.0.0.77=nope:10.0.0.3"},
	} {
		nbctl(t, nb, c...)
	}
}

// monitors lists the SB Service_Monitor rows as sorted text, status left
// out unless withStatus.
func monitors(t *testing.T, sb string, withStatus bool) []string {
	t.Helper()
	cols := "ip,port,protocol,logical_port,src_ip,src_mac,options"
	if withStatus {
		cols += ",status"
	}
	out := sbctl(t, sb, "--bare", "--format=csv", "--no-headings", "--columns="+cols, "list", "Service_Monitor")
	lines := strings.Split(out, "\n")
	if out == "" {
		lines = nil
	}
	slices.Sort(lines)
	return lines
}

// healthFlows returns the health-check flows of a datapath as
// ovn-sbctl prints them: the $svc_monitor_mac flows outside the ACL
// stages (ovn-northd's ACL stages differ from ours when a switch has load
// balancers but no ACLs), the VIPs' backend selection and the ARP
// answers for probe sources.
func healthFlows(t *testing.T, sb, dp string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(sbctl(t, sb, "lflow-list", dp), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		switch {
		case strings.Contains(l, "(ls_in_acl "), strings.Contains(l, "(ls_out_acl "):
		case strings.Contains(l, "$svc_monitor_mac"),
			strings.Contains(l, "ls_in_lb ") && strings.Contains(l, "ct.new"),
			strings.Contains(l, "lr_in_dnat ") && strings.Contains(l, "priority=120"),
			strings.Contains(l, "ls_in_arp_rsp ") && strings.Contains(l, "priority=110"):
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// TestDaemonServiceMonitors: northd generates NB_Global
// options:svc_monitor_mac, writes one Service_Monitor per mapped backend,
// leaves backends the chassis reports offline out of the VIP (the VIP
// drops when none is left), sets an online monitor of a port that is not
// up offline, and removes the monitors with the health check.
func TestDaemonServiceMonitors(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	startInProcess(t, nb, sb)
	var mac string
	waitFor(t, "a generated svc_monitor_mac", 20*time.Second, func() bool {
		mac = strings.Trim(nbctl(t, nb, "--if-exists", "get", "NB_Global", ".", "options:svc_monitor_mac"), `"`)
		return mac != ""
	})
	healthNB(t, nb)
	nbctl(t, nb, "--wait=sb", "sync")
	if got := strings.Trim(sbctl(t, sb, "get", "SB_Global", ".", "options:svc_monitor_mac"), `"`); got != mac {
		t.Errorf("SB_Global svc_monitor_mac %q, want NB's %q", got, mac)
	}
	want := []string{
		"10.0.0.11,8080,tcp,vm1,10.0.0.2," + mac + ",interval=2 timeout=1",
		"10.0.0.12,8080,tcp,vm2,10.0.0.2," + mac + ",interval=2 timeout=1",
		"10.0.1.13,53,udp,vm3,10.0.1.2," + mac + ",",
	}
	if got := monitors(t, sb, false); !slices.Equal(got, want) {
		t.Errorf("Service_Monitor rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	vipAction := func() string {
		for _, l := range healthFlows(t, sb, "sw0") {
			if strings.Contains(l, "10.0.0.100") && strings.Contains(l, "ls_in_lb") {
				return l
			}
		}
		return ""
	}
	if got := vipAction(); !strings.Contains(got, "ct_lb_mark(backends=10.0.0.11:8080,10.0.0.12:8080);") {
		t.Errorf("VIP flow %q: want the two mapped backends", got)
	}
	uuidOf := func(ip string) string {
		return sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Service_Monitor", "ip="+ip)
	}
	sbctl(t, sb, "set", "Service_Monitor", uuidOf("10.0.0.11"), "status=offline")
	waitFor(t, "vm1 out of the VIP", 20*time.Second, func() bool {
		return strings.Contains(vipAction(), "ct_lb_mark(backends=10.0.0.12:8080);")
	})
	sbctl(t, sb, "set", "Service_Monitor", uuidOf("10.0.0.12"), "status=offline")
	waitFor(t, "the VIP without backends to drop", 20*time.Second, func() bool {
		return strings.Contains(vipAction(), "action=(drop;)")
	})

	// vm2 is not up: northd does not let its monitor say online.
	sbctl(t, sb, "set", "Service_Monitor", uuidOf("10.0.0.12"), "status=online")
	waitFor(t, "vm2's monitor back to offline", 20*time.Second, func() bool {
		return sbctl(t, sb, "get", "Service_Monitor", uuidOf("10.0.0.12"), "status") == "offline"
	})
	// vm1 comes up (its Port_Binding says so): online sticks.
	sbctl(t, sb, "set", "Port_Binding", "vm1", "up=true")
	waitFor(t, "vm1 up in NB", 20*time.Second, func() bool {
		return nbctl(t, nb, "get", "Logical_Switch_Port", "vm1", "up") == "true"
	})
	sbctl(t, sb, "set", "Service_Monitor", uuidOf("10.0.0.11"), "status=online")
	waitFor(t, "vm1 back in the VIP", 20*time.Second, func() bool {
		return strings.Contains(vipAction(), "ct_lb_mark(backends=10.0.0.11:8080);")
	})
	if got := sbctl(t, sb, "get", "Service_Monitor", uuidOf("10.0.0.11"), "status"); got != "online" {
		t.Errorf("vm1's monitor status %q, want online", got)
	}

	nbctl(t, nb, "--wait=sb", "clear", "Load_Balancer", "lb1", "health_check")
	if got := monitors(t, sb, false); len(got) != 1 || !strings.HasPrefix(got[0], "10.0.1.13,") {
		t.Errorf("Service_Monitor rows after lb1 lost its health check: %v", got)
	}
	if got := vipAction(); !strings.Contains(got, "ct_lb_mark(backends=10.0.0.11:8080,10.0.0.12:8080,10.0.0.13:8080);") {
		t.Errorf("VIP flow %q: want every backend without a health check", got)
	}
}

// TestServiceMonitorsMatchOVN runs ovn-northd and our northd on the same NB,
// each writing its own SB, and compares the Service_Monitor rows and the
// health-check flows, before and after the same status changes.
func TestServiceMonitorsMatchOVN(t *testing.T) {
	ovstest.Need(t, "ovn-northd")
	nb, sbOVN := dbs(t)
	sbOurs := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema")).Remote()
	nbctl(t, nb, "init")
	// Set, so that neither generates one.
	nbctl(t, nb, "set", "NB_Global", ".", "options:svc_monitor_mac=0a:00:00:00:fe:fe")
	startOVNNorthd(t, nb, sbOVN)
	startInProcess(t, nb, sbOurs)
	healthNB(t, nb)
	nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg=7")
	waitFor(t, "both SBs at nb_cfg 7", 30*time.Second, func() bool {
		return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "7" &&
			sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "7"
	})
	compare := func(when string) {
		t.Helper()
		// ovn-controller knows $svc_monitor_mac as this address set.
		for _, sb := range []string{sbOVN, sbOurs} {
			if got := sbctl(t, sb, "--bare", "--columns=addresses", "find", "Address_Set", "name=svc_monitor_mac"); got != "0a:00:00:00:fe:fe" {
				t.Errorf("%s: Address_Set svc_monitor_mac %q", when, got)
			}
		}
		if a, b := monitors(t, sbOVN, true), monitors(t, sbOurs, true); len(a) != 3 || !slices.Equal(a, b) {
			t.Errorf("%s: Service_Monitor rows differ:\novn-northd:\n%s\nours:\n%s", when, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		for dp, least := range map[string]int{"sw0": 7, "sw1": 6, "lr0": 1} {
			var a, b []string
			// ovn-northd recomputes on its own schedule: wait until the
			// two agree or the deadline passes, then report.
			deadline := time.Now().Add(10 * time.Second)
			for {
				a, b = healthFlows(t, sbOVN, dp), healthFlows(t, sbOurs, dp)
				if slices.Equal(a, b) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("%s: %s: %d health-check flows agree", when, dp, len(a))
			if len(a) < least || !slices.Equal(a, b) {
				t.Errorf("%s: %s health-check flows differ:\novn-northd:\n%s\nours:\n%s", when, dp, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
		}
	}
	compare("initially")
	for _, sb := range []string{sbOVN, sbOurs} {
		u := sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Service_Monitor", "ip=10.0.0.11")
		sbctl(t, sb, "set", "Service_Monitor", u, "status=offline")
		u = sbctl(t, sb, "--bare", "--columns=_uuid", "find", "Service_Monitor", "ip=10.0.1.13")
		sbctl(t, sb, "set", "Service_Monitor", u, "status=offline")
	}
	nbctl(t, nb, "set", "NB_Global", ".", "nb_cfg=8")
	waitFor(t, "both SBs at nb_cfg 8", 30*time.Second, func() bool {
		return sbctl(t, sbOVN, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "8" &&
			sbctl(t, sbOurs, "--bare", "--columns=nb_cfg", "list", "SB_Global") == "8"
	})
	compare("after vm1 and vm3 went offline")
}
