package northd_test

import (
	"strings"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// TestRouterLBAndDistributedNATWithOVNController_Root runs our northd with
// OVN's ovsdb-server and ovn-controller (TESTBED.md) and checks two
// translations ovn-controller must execute as ovn-northd's: a load balancer
// on a router with a distributed gateway port (the external host reaches a
// VIP on the external network, backend selection and un-DNAT happen on the
// gateway chassis, the backend sees the client's address), and a
// distributed floating IP (dnat_and_snat with logical_port and
// external_mac: the external host resolves the floating IP to the external
// MAC, reaches the VM through it, and the VM's own connections leave with
// the floating IP), a switch load balancer whose backend reaches itself
// through the VIP (hairpin), and a load balancer on a gateway router with
// lb_force_snat_ip=router_ip (the backend sees the router). Not covered: a VM behind the router reaching the
// router's own VIP or floating IPs (ovn-northd's lr_out_egr_loop hairpin,
// not translated yet). Needs root and OVS/OVN; skips otherwise.
func TestRouterLBAndDistributedNATWithOVNController_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{
		Combo: testbed.Combo{DB: testbed.OVN, Translator: testbed.Ours, Chassis: testbed.OVN},
		Chassis: []testbed.ChassisSpec{
			// hv2 has a bridge into the external network: distributed NAT
			// sends the VM's traffic out there, not through gw1.
			{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1, Gateway: true}, {Name: "gw1", Site: 1, Gateway: true},
		},
	})
	nb := func(args ...string) string { return tb.MustNBCtl(t, args...) }
	nb("ls-add", "ls1")
	for _, p := range [][2]string{{"vm1", "0a:00:00:00:01:11 10.0.1.11"}, {"vm2", "0a:00:00:00:01:12 10.0.1.12"}} {
		nb("lsp-add", "ls1", p[0], "--", "lsp-set-addresses", p[0], p[1])
	}
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:01:12", CIDR: "10.0.1.12/24", Gateway: "10.0.1.1"})
	ext := tb.ExternalHost()

	nb("lr-add", "lr0")
	link := func(lrp, mac, cidr, ls string) {
		nb("lrp-add", "lr0", lrp, mac, cidr)
		lsp := ls + "-lr0"
		nb("lsp-add", ls, lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+lrp)
	}
	link("lr0-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "ls1")
	nb("ls-add", "ext")
	nb("lsp-add", "ext", "ext-ln", "--", "lsp-set-type", "ext-ln", "localnet", "--", "lsp-set-addresses", "ext-ln", "unknown",
		"--", "lsp-set-options", "ext-ln", "network_name="+testbed.PhysicalNetwork)
	link("lr0-ext", "00:00:00:00:ff:03", "172.16.0.1/24", "ext")
	nb("lrp-set-gateway-chassis", "lr0-ext", "gw1", "10")

	// A load balancer on the router: a VIP on the external network.
	const vip = "172.16.0.200"
	nb("lb-add", "lbr", vip+":5501", vm1.IP()+":5501", "tcp")
	nb("--wait=hv", "lr-lb-add", "lr0", "lbr")
	var src string
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for {
		if src, err = tb.TCP(ext, vm1, vip, 5501, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("external host to the router VIP %s:5501: %v", vip, err)
	}
	if src != testbed.ExternalHostIP {
		t.Fatalf("backend vm1 saw the VIP client as %s, want the external host %s (no SNAT)", src, testbed.ExternalHostIP)
	}

	// A distributed floating IP for vm2, with its own MAC.
	const fip, fipMAC = "172.16.0.50", "0a:00:00:00:aa:12"
	nb("--wait=hv", "lr-nat-add", "lr0", "dnat_and_snat", fip, vm2.IP(), "vm2", fipMAC)
	deadline = time.Now().Add(60 * time.Second)
	for {
		if src, err = tb.TCP(ext, vm2, fip, 5502, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("external host to the floating IP %s: %v", fip, err)
	}
	if src != testbed.ExternalHostIP {
		t.Fatalf("vm2 saw the external host as %s, want %s", src, testbed.ExternalHostIP)
	}
	if mac, err := ext.Neighbor(fip); err != nil {
		t.Fatalf("external host's neighbor entry for %s: %v", fip, err)
	} else if !strings.EqualFold(mac, fipMAC) {
		t.Fatalf("external host resolved the floating IP %s to %s, want its external_mac %s (answered on vm2's chassis)", fip, mac, fipMAC)
	}
	if src, err = tb.TCP(vm2, ext, testbed.ExternalHostIP, 5503, 20*time.Second); err != nil {
		t.Fatalf("vm2 to the external host: %v", err)
	} else if src != fip {
		t.Fatalf("external host saw vm2 as %s, want its floating IP %s", src, fip)
	}

	// Hairpin: vm4, on vm2's chassis with a floating IP of its own,
	// reaches vm2 through vm2's floating IP (the router loops the packet
	// back into its ingress pipeline, lr_out_egr_loop) and vm2 sees vm4's
	// floating IP.
	nb("lsp-add", "ls1", "vm4", "--", "lsp-set-addresses", "vm4", "0a:00:00:00:01:14 10.0.1.14")
	vm4 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm4", Chassis: "hv2", MAC: "0a:00:00:00:01:14", CIDR: "10.0.1.14/24", Gateway: "10.0.1.1"})
	const fip4 = "172.16.0.54"
	nb("--wait=hv", "lr-nat-add", "lr0", "dnat_and_snat", fip4, vm4.IP(), "vm4", "0a:00:00:00:aa:14")
	deadline = time.Now().Add(60 * time.Second)
	for {
		if src, err = tb.TCP(vm4, vm2, fip, 5505, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("vm4 to vm2's floating IP %s (hairpin on hv2): %v", fip, err)
	}
	if src != fip4 {
		t.Fatalf("vm2 saw vm4 as %s, want vm4's floating IP %s", src, fip4)
	}

	// Switch load balancer hairpin: vm1 is the only backend of a VIP on
	// its own switch and connects to it; the connection comes back to it
	// SNATed to the VIP (chk_lb_hairpin from the SB Load_Balancer rows).
	nb("lb-add", "lbh", "10.0.9.201:5506", vm1.IP()+":5506", "tcp")
	nb("--wait=hv", "ls-lb-add", "ls1", "lbh")
	deadline = time.Now().Add(60 * time.Second)
	for {
		if src, err = tb.TCP(vm1, vm1, "10.0.9.201", 5506, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("vm1 to a switch VIP that picks vm1 itself (hairpin): %v", err)
	}
	if src != "10.0.9.201" {
		t.Fatalf("vm1 saw its hairpinned connection from %s, want the VIP 10.0.9.201", src)
	}

	// A gateway router on gw1 with a load balancer and
	// lb_force_snat_ip=router_ip: the backend sees the router's address on
	// its own network as the client.
	nb("ls-add", "ls3")
	nb("lsp-add", "ls3", "vm3", "--", "lsp-set-addresses", "vm3", "0a:00:00:00:03:13 10.0.3.13")
	vm3 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm3", Chassis: "hv1", MAC: "0a:00:00:00:03:13", CIDR: "10.0.3.13/24", Gateway: "10.0.3.1"})
	nb("lr-add", "gr1", "--", "set", "Logical_Router", "gr1", "options:chassis=gw1", "options:lb_force_snat_ip=router_ip")
	for _, l := range [][4]string{{"gr1-ls3", "00:00:00:00:fe:01", "10.0.3.1/24", "ls3"}, {"gr1-ext", "00:00:00:00:fe:03", "172.16.0.2/24", "ext"}} {
		nb("lrp-add", "gr1", l[0], l[1], l[2])
		lsp := l[3] + "-gr1"
		nb("lsp-add", l[3], lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+l[0])
	}
	const gvip = "172.16.0.201"
	nb("lb-add", "lbg", gvip+":5504", vm3.IP()+":5504", "tcp")
	nb("--wait=hv", "lr-lb-add", "gr1", "lbg")
	deadline = time.Now().Add(60 * time.Second)
	for {
		if src, err = tb.TCP(ext, vm3, gvip, 5504, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("external host to the gateway router VIP %s:5504: %v", gvip, err)
	}
	if src != "10.0.3.1" {
		t.Fatalf("backend vm3 saw the VIP client as %s, want the router address 10.0.3.1 (lb_force_snat_ip=router_ip)", src)
	}
}
