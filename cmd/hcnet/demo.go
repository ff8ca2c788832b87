package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hcnet/e2e/testbed"
	"hcnet/internal/launch"
)

// demoCmd is `hcnet demo`: on the system `hcnet run` keeps running, two
// tenants with the same subnets, a distributed router each with a gateway
// port on gw1 and SNAT to the external network, VMs as namespaces on hv1
// and hv2; it prints the pings that work and the one that must not.
type demoCmd struct {
	DataDir string        `default:"data" help:"The data directory of the running hcnet run."`
	Keep    bool          `help:"Leave the VMs running after the demo (hcnet run's Ctrl-C removes them)."`
	Timeout time.Duration `default:"90s" help:"How long to wait for each ping that must work."`
}

// demoTenant is one tenant's logical network: two subnets, a router and a
// gateway port with SNAT.
type demoTenant struct {
	name   string // "a" or "b"
	snatIP string
	vms    []testbed.VMSpec // vm[0] in net1, vm[1] in net2
}

func demoTenants() []demoTenant {
	return []demoTenant{
		{name: "a", snatIP: "172.16.0.11", vms: []testbed.VMSpec{
			{Name: "a-vm1", Chassis: "hv1", MAC: "0a:00:00:0a:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"},
			{Name: "a-vm2", Chassis: "hv2", MAC: "0a:00:00:0a:02:12", CIDR: "10.0.2.12/24", Gateway: "10.0.2.1"},
		}},
		// Tenant B reuses the subnets and even vm1's address, on the other
		// hosts; its vm2 has an address tenant A does not use.
		{name: "b", snatIP: "172.16.0.12", vms: []testbed.VMSpec{
			{Name: "b-vm1", Chassis: "hv2", MAC: "0a:00:00:0b:01:11", CIDR: "10.0.1.11/24", Gateway: "10.0.1.1"},
			{Name: "b-vm2", Chassis: "hv1", MAC: "0a:00:00:0b:02:13", CIDR: "10.0.2.13/24", Gateway: "10.0.2.1"},
		}},
	}
}

func (d *demoCmd) Run(c *cli) error {
	data, err := filepath.Abs(d.DataDir)
	if err != nil {
		return err
	}
	st, err := launch.ReadState(filepath.Join(data, "run"))
	if errors.Is(err, launch.ErrNotRunning) {
		return fmt.Errorf("no running system in %s: start it first with `make run` (or hcnet run --data-dir %s) in another terminal", data, d.DataDir)
	}
	if err != nil {
		return err
	}
	if st.Topology == nil {
		return fmt.Errorf("the running system has no chassis (%s); the demo needs them", st.ChassisNote)
	}
	log := newLogger(c.LogFormat, c.LogLevel)
	tb, err := testbed.Attach(*st.Topology, log)
	if err != nil {
		return err
	}
	out := os.Stdout
	ok := false
	defer func() {
		if d.Keep && ok {
			return
		}
		if err := tb.Close(); err != nil {
			log.Error("remove demo VMs", "err", err)
		}
	}()
	if err := d.configure(out, tb); err != nil {
		return err
	}
	failures := d.check(out, tb)
	if failures > 0 {
		return fmt.Errorf("%d of the demo's checks failed (see above)", failures)
	}
	ok = true
	fmt.Fprintln(out, "\ndemo: all checks passed.")
	if d.Keep {
		fmt.Fprintln(out, "The VMs keep running; try for example:")
		fmt.Fprintf(out, "  ip netns exec %s-vm-a-vm1 ping -c 3 172.16.0.100\n", st.Topology.Prefix)
		fmt.Fprintf(out, "  %s/nbctl --db %s show\n", st.Topology.BinDir, st.NBRemote)
	} else {
		fmt.Fprintln(out, "The demo's VMs are removed now; the logical networks stay in NB (hcnet demo --keep leaves the VMs).")
	}
	return nil
}

// configure writes both tenants into NB (replacing an earlier demo's) and
// plugs the VMs into their chassis.
func (d *demoCmd) configure(out io.Writer, tb *testbed.Testbed) error {
	nb := func(args ...string) error {
		_, err := tb.NBCtl(args...)
		return err
	}
	fmt.Fprintln(out, "demo: two tenants, each with subnets 10.0.1.0/24 and 10.0.2.0/24, a distributed router")
	fmt.Fprintln(out, "      and a gateway port on gw1 doing SNAT to the external network 172.16.0.0/24")
	for _, t := range demoTenants() {
		lr := "lr-" + t.name
		// Start from a clean slate: an earlier demo's objects go first.
		if err := nb("--if-exists", "lr-del", lr,
			"--", "--if-exists", "ls-del", t.name+"-net1",
			"--", "--if-exists", "ls-del", t.name+"-net2",
			"--", "--if-exists", "ls-del", t.name+"-ext"); err != nil {
			return err
		}
		if err := nb("lr-add", lr); err != nil {
			return err
		}
		for i, vm := range t.vms {
			ls := fmt.Sprintf("%s-net%d", t.name, i+1)
			lrp := fmt.Sprintf("%s-net%d", lr, i+1)
			rmac := fmt.Sprintf("00:00:00:0%s:ff:0%d", t.name, i+1)
			ip, _, _ := strings.Cut(vm.CIDR, "/")
			if err := nb("ls-add", ls,
				"--", "lsp-add", ls, vm.Name, "--", "lsp-set-addresses", vm.Name, vm.MAC+" "+ip,
				"--", "lrp-add", lr, lrp, rmac, vm.Gateway+"/24",
				"--", "lsp-add", ls, ls+"-"+lr, "--", "lsp-set-type", ls+"-"+lr, "router",
				"--", "lsp-set-addresses", ls+"-"+lr, "router",
				"--", "lsp-set-options", ls+"-"+lr, "router-port="+lrp); err != nil {
				return err
			}
		}
		ext := t.name + "-ext"
		lrp := lr + "-ext"
		if err := nb("ls-add", ext,
			"--", "lsp-add", ext, ext+"-ln", "--", "lsp-set-type", ext+"-ln", "localnet",
			"--", "lsp-set-addresses", ext+"-ln", "unknown",
			"--", "lsp-set-options", ext+"-ln", "network_name="+testbed.PhysicalNetwork,
			"--", "lrp-add", lr, lrp, fmt.Sprintf("00:00:00:0%s:ff:03", t.name), t.snatIP+"/24",
			"--", "lsp-add", ext, ext+"-"+lr, "--", "lsp-set-type", ext+"-"+lr, "router",
			"--", "lsp-set-addresses", ext+"-"+lr, "router",
			"--", "lsp-set-options", ext+"-"+lr, "router-port="+lrp, "nat-addresses=router"); err != nil {
			return err
		}
		if err := nb("lrp-set-gateway-chassis", lrp, "gw1", "20"); err != nil {
			return err
		}
		if err := nb("lr-nat-add", lr, "snat", t.snatIP, "10.0.0.0/16"); err != nil {
			return err
		}
		fmt.Fprintf(out, "  tenant %s: router %s, gateway %s on gw1 (SNAT 10.0.0.0/16 -> %s)\n", strings.ToUpper(t.name), lr, lrp, t.snatIP)
		for _, vm := range t.vms {
			if _, err := tb.AddVM(vm); err != nil {
				return err
			}
			fmt.Fprintf(out, "    VM %-6s %-13s on %s (netns %s-vm-%s)\n", vm.Name, vm.CIDR, vm.Chassis, tb.Prefix, vm.Name)
		}
	}
	return nil
}

// check runs the pings and prints each result; it returns how many failed.
func (d *demoCmd) check(out io.Writer, tb *testbed.Testbed) int {
	failures := 0
	report := func(what string, err error, detail string) {
		if err != nil {
			failures++
			fmt.Fprintf(out, "  FAIL  %s: %v\n", what, err)
			return
		}
		fmt.Fprintf(out, "  ok    %s%s\n", what, detail)
	}
	fmt.Fprintln(out, "\ndemo: pings that must work")
	pings := []struct{ from, dst, what string }{
		{"a-vm1", "10.0.2.12", "tenant A  a-vm1 (hv1) -> a-vm2 10.0.2.12 (hv2), routed by lr-a"},
		{"b-vm1", "10.0.2.13", "tenant B  b-vm1 (hv2) -> b-vm2 10.0.2.13 (hv1), routed by lr-b"},
		{"a-vm1", testbed.ExternalHostIP, "tenant A  a-vm1 -> external host " + testbed.ExternalHostIP + " through gw1, SNAT"},
		{"b-vm1", testbed.ExternalHostIP, "tenant B  b-vm1 -> external host " + testbed.ExternalHostIP + " through gw1, SNAT"},
	}
	for _, p := range pings {
		took, err := tb.VM(p.from).Ping(p.dst, d.Timeout)
		report(p.what, err, fmt.Sprintf("  (answered after %s)", took.Round(time.Millisecond)))
	}
	ext := tb.ExternalHost()
	for i, t := range demoTenants() {
		src, err := tb.TCP(tb.VM(t.vms[0].Name), ext, testbed.ExternalHostIP, 5501+i, 10*time.Second)
		if err == nil && src != t.snatIP {
			err = fmt.Errorf("the external host saw %s, want the SNAT address %s", src, t.snatIP)
		}
		report(fmt.Sprintf("tenant %s  the external host sees %s's TCP connection from %s", strings.ToUpper(t.name), t.vms[0].Name, t.snatIP), err, "")
	}

	fmt.Fprintln(out, "\ndemo: the ping that must not work")
	bvm2 := tb.VM("b-vm2")
	before, err := bvm2.EchoRequestsReceived()
	if err == nil {
		err = tb.VM("a-vm1").ExpectNoReply("10.0.2.13", 3)
	}
	if err == nil {
		var after int
		if after, err = bvm2.EchoRequestsReceived(); err == nil && after != before {
			err = fmt.Errorf("tenant B's b-vm2 received %d echo requests from tenant A: tenants leak", after-before)
		}
	}
	report("tenant A  a-vm1 -> 10.0.2.13 (tenant B's b-vm2): no reply, and b-vm2 saw no request", err, "")
	return failures
}
