package physical

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hcnet/chassis/flowtable"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files in testdata")

// twoSwitchesOneRouter is the topology of testdata/two-switches-router.golden:
// sw0 (vm1 here, vm2 on hv2) and sw1 (vm3 here) joined by router lr0.
func twoSwitchesOneRouter() Input {
	dps := map[string]Datapath{
		"dp-sw0": {UUID: "dp-sw0", Key: 1, Zones: Zones{DNAT: 2, SNAT: 4}},
		"dp-sw1": {UUID: "dp-sw1", Key: 2, Zones: Zones{DNAT: 6, SNAT: 3}},
		"dp-lr0": {UUID: "dp-lr0", Key: 3, Zones: Zones{DNAT: 7, SNAT: 1}},
	}
	ports := []Port{
		{UUID: "pb-vm1", Name: "vm1", Datapath: "dp-sw0", Key: 1, Chassis: "hv1", OFPort: 2, Zone: 5},
		{UUID: "pb-vm2", Name: "vm2", Datapath: "dp-sw0", Key: 2, Chassis: "hv2"},
		{UUID: "pb-sw0-lr0", Name: "sw0-lr0", Type: TypePatch, Datapath: "dp-sw0", Key: 3, Peer: "lr0-sw0"},
		{UUID: "pb-vm3", Name: "vm3", Datapath: "dp-sw1", Key: 1, Chassis: "hv1", OFPort: 3, Zone: 8},
		{UUID: "pb-sw1-lr0", Name: "sw1-lr0", Type: TypePatch, Datapath: "dp-sw1", Key: 2, Peer: "lr0-sw1"},
		{UUID: "pb-lr0-sw0", Name: "lr0-sw0", Type: TypePatch, Datapath: "dp-lr0", Key: 1, Peer: "sw0-lr0"},
		{UUID: "pb-lr0-sw1", Name: "lr0-sw1", Type: TypePatch, Datapath: "dp-lr0", Key: 2, Peer: "sw1-lr0"},
	}
	in := Input{
		Chassis:   "hv1",
		Datapaths: dps,
		Ports:     map[string]Port{},
		Tunnels:   map[string]Tunnel{"hv2": {Chassis: "hv2", OFPort: 1, Type: EncapGeneve}},
		Groups: []MulticastGroup{
			{UUID: "mc-sw0-flood", Name: "_MC_flood", Datapath: "dp-sw0", Key: 0x8000, Ports: []string{"pb-vm1", "pb-vm2", "pb-sw0-lr0"}},
			{UUID: "mc-sw0-l2", Name: "_MC_flood_l2", Datapath: "dp-sw0", Key: 0x8004, Ports: []string{"pb-vm1", "pb-vm2"}},
			{UUID: "mc-sw1-flood", Name: "_MC_flood", Datapath: "dp-sw1", Key: 0x8000, Ports: []string{"pb-vm3", "pb-sw1-lr0"}},
			{UUID: "mc-sw1-l2", Name: "_MC_flood_l2", Datapath: "dp-sw1", Key: 0x8004, Ports: []string{"pb-vm3"}},
		},
	}
	for _, p := range ports {
		in.Ports[p.UUID] = p
	}
	return in
}

func render(owners map[string][]flowtable.Flow) string {
	var lines []string
	for _, fs := range owners {
		for _, f := range fs {
			lines = append(lines, f.String())
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	// Lines starting with # are comments on what the file pins.
	var kept []string
	for _, l := range strings.SplitAfter(string(want), "\n") {
		if !strings.HasPrefix(l, "#") {
			kept = append(kept, l)
		}
	}
	if w := strings.Join(kept, ""); got != w {
		t.Errorf("%s differs (rerun with -rewrite and read the diff):\n--- got\n%s--- want\n%s", name, got, w)
	}
}

func TestGenerateGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		in   func() Input
	}{
		{"two-switches-router.golden", twoSwitchesOneRouter},
		{"gateway.golden", gatewayInput},
		{"host-ha.golden", func() Input {
			// hv1 sends to the distributed gateway port through an
			// active-backup bundle over the gateways' tunnels (gw1 first).
			in := gatewayInput()
			in.Chassis = "hv1"
			in.Tunnels = map[string]Tunnel{
				"gw1": {Chassis: "gw1", OFPort: 4, Type: EncapGeneve},
				"gw2": {Chassis: "gw2", OFPort: 5, Type: EncapGeneve},
			}
			p := in.Ports["pb-cr"]
			p.HAChassis = []string{"gw1", "gw2"}
			in.Ports["pb-cr"] = p
			vm := in.Ports["pb-vm1"]
			vm.OFPort = 3
			in.Ports["pb-vm1"] = vm
			ln := in.Ports["pb-ln"]
			ln.OFPort = 0 // hosts do not map the provider network
			in.Ports["pb-ln"] = ln
			in.MACBindings = nil
			return in
		}},
		{"virtual.golden", func() Input {
			// vip, a virtual port of sw0 whose parent vm1 is here, is
			// bound through vm1's interface (ofport 2).
			in := twoSwitchesOneRouter()
			in.Ports["pb-vip"] = Port{UUID: "pb-vip", Name: "vip", Type: TypeVirtual, Datapath: "dp-sw0", Key: 9,
				Chassis: "hv1", OFPort: 2, Parent: "vm1"}
			for i, g := range in.Groups {
				if g.UUID == "mc-sw0-flood" {
					in.Groups[i].Ports = append(append([]string(nil), g.Ports...), "pb-vip")
				}
			}
			return in
		}},
		{"waiting.golden", func() Input {
			// Interfaces 7 and 9 carry iface-ids of ports not bound here.
			in := twoSwitchesOneRouter()
			in.Waiting = []int{7, 9}
			return in
		}},
		{"vxlan.golden", func() Input {
			in := twoSwitchesOneRouter()
			in.Tunnels["hv2"] = Tunnel{Chassis: "hv2", OFPort: 1, Type: EncapVXLAN}
			return in
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := Generate(tc.in())
			got := render(out)
			if *rewrite {
				// Keep the comment header.
				old, _ := os.ReadFile(filepath.Join("testdata", tc.file))
				var hdr string
				for _, l := range strings.SplitAfter(string(old), "\n") {
					if strings.HasPrefix(l, "#") {
						hdr += l
					}
				}
				got = hdr + got
			}
			golden(t, tc.file, got)
		})
	}
}

// gatewayInput: the chassis is the active gateway of lr0's distributed
// port lr0-pub (cr-lr0-pub) on a switch with a localnet port.
func gatewayInput() Input {
	dps := map[string]Datapath{
		"dp-sw0": {UUID: "dp-sw0", Key: 1},
		"dp-lr0": {UUID: "dp-lr0", Key: 2, Zones: Zones{DNAT: 3, SNAT: 4}},
		"dp-pub": {UUID: "dp-pub", Key: 3},
	}
	ports := []Port{
		{UUID: "pb-vm1", Name: "vm1", Datapath: "dp-sw0", Key: 1, Chassis: "hv1"},
		{UUID: "pb-sw0-lr0", Name: "sw0-lr0", Type: TypePatch, Datapath: "dp-sw0", Key: 2, Peer: "lr0-sw0"},
		{UUID: "pb-lr0-sw0", Name: "lr0-sw0", Type: TypePatch, Datapath: "dp-lr0", Key: 1, Peer: "sw0-lr0"},
		{UUID: "pb-lr0-pub", Name: "lr0-pub", Type: TypePatch, Datapath: "dp-lr0", Key: 2, Peer: "pub-lr0"},
		{UUID: "pb-cr", Name: "cr-lr0-pub", Type: TypeChassisRedirect, Datapath: "dp-lr0", Key: 3, Chassis: "gw1", DistributedPort: "lr0-pub"},
		{UUID: "pb-pub-lr0", Name: "pub-lr0", Type: TypePatch, Datapath: "dp-pub", Key: 1, Peer: "lr0-pub"},
		{UUID: "pb-ln", Name: "ln-pub", Type: TypeLocalnet, Datapath: "dp-pub", Key: 2, OFPort: 7},
	}
	in := Input{
		Chassis:   "gw1",
		Datapaths: dps,
		Ports:     map[string]Port{},
		Tunnels:   map[string]Tunnel{"hv1": {Chassis: "hv1", OFPort: 1, Type: EncapGeneve}},
		Groups: []MulticastGroup{
			{UUID: "mc-pub-flood", Name: "_MC_flood", Datapath: "dp-pub", Key: 0x8000, Ports: []string{"pb-pub-lr0", "pb-ln"}},
		},
		MACBindings: []MACBinding{
			{UUID: "mb-1", LogicalPort: "lr0-pub", Datapath: "dp-lr0", IP: "172.16.0.1", MAC: "0a:00:00:00:00:01"},
			{UUID: "mb-2", LogicalPort: "lr0-pub", Datapath: "dp-lr0", IP: "fd00:1::99", MAC: "0a:00:00:00:00:02"},
		},
	}
	for _, p := range ports {
		in.Ports[p.UUID] = p
	}
	return in
}

func TestGenerateIdempotentAndOwned(t *testing.T) {
	in := twoSwitchesOneRouter()
	a, b := render(Generate(in)), render(Generate(in))
	if a != b {
		t.Fatal("Generate is not deterministic")
	}
	// Unbinding vm1 removes exactly its flows.
	out := Generate(in)
	p := in.Ports["pb-vm1"]
	p.Chassis = ""
	in.Ports["pb-vm1"] = p
	out2 := Generate(in)
	if len(out2["pb-vm1"]) != 0 || len(out["pb-vm1"]) == 0 {
		t.Fatalf("vm1 flows before %v after %v", out["pb-vm1"], out2["pb-vm1"])
	}
}
