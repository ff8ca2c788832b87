package physical

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestGeneratorMatchesGenerate: along random sequences of changes to
// ports, datapaths, groups, tunnels and the chassis name, Generator's
// result equals Generate's on every step, owner by owner.
func TestGeneratorMatchesGenerate(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		in := twoSwitchesOneRouter()
		if seed%2 == 1 {
			in = gatewayInput()
		}
		var gr Generator
		for step := 0; step < 60; step++ {
			in = mutate(r, in)
			want, got := Generate(in), gr.Generate(in)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d step %d: incremental\n%s\nfull\n%s", seed, step, render(got), render(want))
			}
		}
	}
}

// mutate returns a changed copy of in (the caller's maps stay intact, as
// the daemon builds a new Input every round).
func mutate(r *rand.Rand, in Input) Input {
	out := in
	out.Ports = map[string]Port{}
	for k, v := range in.Ports {
		v.HAChassis = append([]string(nil), v.HAChassis...)
		out.Ports[k] = v
	}
	out.Datapaths = map[string]Datapath{}
	for k, v := range in.Datapaths {
		out.Datapaths[k] = v
	}
	out.Tunnels = map[string]Tunnel{}
	for k, v := range in.Tunnels {
		out.Tunnels[k] = v
	}
	out.Groups = nil
	for _, g := range in.Groups {
		g.Ports = append([]string(nil), g.Ports...)
		out.Groups = append(out.Groups, g)
	}
	ids := sortedKeys(out.Ports)
	dps := sortedKeys(out.Datapaths)
	pick := func() Port { return out.Ports[ids[r.IntN(len(ids))]] }
	for n := 1 + r.IntN(3); n > 0; n-- {
		switch r.IntN(12) {
		case 0:
			p := pick()
			p.OFPort = r.IntN(4)
			out.Ports[p.UUID] = p
		case 1:
			p := pick()
			p.Chassis = []string{"", "hv1", "hv2", "gw1", "hv3"}[r.IntN(5)]
			out.Ports[p.UUID] = p
		case 2:
			p := pick()
			p.Zone = uint16(r.IntN(3))
			out.Ports[p.UUID] = p
		case 3:
			d := out.Datapaths[dps[r.IntN(len(dps))]]
			d.Zones.DNAT = uint16(r.IntN(9))
			out.Datapaths[d.UUID] = d
		case 4:
			p := pick()
			delete(out.Ports, p.UUID)
			ids = sortedKeys(out.Ports)
			if len(ids) == 0 {
				return in
			}
		case 5:
			id := fmt.Sprintf("pb-new%d", r.IntN(5))
			out.Ports[id] = Port{UUID: id, Name: "new" + id, Datapath: dps[r.IntN(len(dps))], Key: uint32(10 + r.IntN(5)),
				Chassis: "hv1", OFPort: 5 + r.IntN(3)}
			ids = sortedKeys(out.Ports)
		case 6:
			if r.IntN(2) == 0 {
				out.Tunnels["hv3"] = Tunnel{Chassis: "hv3", OFPort: 9, Type: EncapVXLAN}
			} else {
				delete(out.Tunnels, "hv3")
			}
		case 7:
			if len(out.Groups) > 0 {
				g := &out.Groups[r.IntN(len(out.Groups))]
				g.Ports = append(g.Ports, ids[r.IntN(len(ids))])
			}
		case 8:
			p := pick()
			p.Key = uint32(1 + r.IntN(20))
			out.Ports[p.UUID] = p
		case 9:
			// A peer or distributed port renamed: the ports naming it
			// change (names stay unique, as logical_port is).
			p := pick()
			name := []string{"lr0-pub", "lr0-sw0", "sw0-lr0", "x"}[r.IntN(4)]
			free := true
			for _, q := range out.Ports {
				free = free && q.Name != name
			}
			if free {
				p.Name = name
				out.Ports[p.UUID] = p
			}
		case 10:
			p := pick()
			p.HAChassis = []string{"hv2", "hv3"}[:r.IntN(3)]
			p.Type = []string{TypeChassisRedirect, TypeVIF, TypeLocalnet}[r.IntN(3)]
			out.Ports[p.UUID] = p
		case 11:
			d := out.Datapaths[dps[r.IntN(len(dps))]]
			d.Key = uint32(1 + r.IntN(6))
			out.Datapaths[d.UUID] = d
		}
	}
	if r.IntN(10) == 0 {
		out.Waiting = append([]int(nil), 4+r.IntN(3))
	}
	if r.IntN(15) == 0 {
		out.Chassis = []string{"hv1", "gw1"}[r.IntN(2)]
	}
	return out
}

// TestSamePortCoversPort fails when Port gains a field samePort does not
// compare (the Generator would keep stale flows).
func TestSamePortCoversPort(t *testing.T) {
	if n := reflect.TypeFor[Port]().NumField(); n != 12 {
		t.Fatalf("Port has %d fields: update samePort and this test", n)
	}
}
