package physical

import (
	"maps"
	"slices"

	"hcnet/chassis/flowtable"
)

// Generator is Generate kept across calls: a port's or multicast group's
// flows are generated again only when something they are made of
// changed (the port, its datapath, the peer or distributed port it names;
// a group, its datapath and its member ports); the chassis name or any
// tunnel changing regenerates everything. Unchanged owners get the very
// slice of the previous call, which flowtable.Desired recognises without
// comparing flows. Its result equals Generate's.
//
// The zero value is ready to use; not safe for concurrent use.
type Generator struct {
	chassis string
	tunnels map[string]Tunnel
	ports   map[string]portEntry
	groups  map[string]groupEntry
	byName  map[string]Port // scratch, reused
}

type portEntry struct {
	p     Port
	dp    Datapath
	deps  portDeps
	flows []flowtable.Flow
}

// portDeps is what port generation reads of other ports and datapaths:
// the distributed port's key, the peer's key and datapath.
type portDeps struct {
	distKey, peerKey      uint32
	distOK, peerOK, pdpOK bool
	peerDP                string
	pdp                   Datapath
}

type groupEntry struct {
	mg      MulticastGroup
	dp      Datapath
	members []Port // in mg.Ports order; the zero Port for a missing one
	flows   []flowtable.Flow
}

func samePort(a, b Port) bool {
	return a.UUID == b.UUID && a.Name == b.Name && a.Type == b.Type && a.Datapath == b.Datapath && a.Key == b.Key &&
		a.Chassis == b.Chassis && a.Peer == b.Peer && a.DistributedPort == b.DistributedPort && a.OFPort == b.OFPort &&
		a.Parent == b.Parent && a.Zone == b.Zone && slices.Equal(a.HAChassis, b.HAChassis)
}

func (g *gen) portDeps(p Port) portDeps {
	var d portDeps
	if dist, ok := g.byName[p.DistributedPort]; ok {
		d.distKey, d.distOK = dist.Key, true
	}
	if peer, ok := g.byName[p.Peer]; ok {
		d.peerKey, d.peerDP, d.peerOK = peer.Key, peer.Datapath, true
		d.pdp, d.pdpOK = g.in.Datapaths[peer.Datapath]
	}
	return d
}

// Generate returns the physical flows of in, as the package's Generate.
func (gr *Generator) Generate(in Input) map[string][]flowtable.Flow {
	if gr.byName == nil {
		gr.byName = make(map[string]Port, len(in.Ports))
	}
	clear(gr.byName)
	g := gen{in: in, out: make(map[string][]flowtable.Flow, len(gr.ports)+len(in.Groups)+8), byName: gr.byName}
	for _, p := range in.Ports {
		g.byName[p.Name] = p
	}
	if gr.chassis != in.Chassis || !maps.Equal(gr.tunnels, in.Tunnels) {
		gr.ports, gr.groups = nil, nil
	}
	gr.chassis, gr.tunnels = in.Chassis, maps.Clone(in.Tunnels)
	g.static()
	for _, t := range sortedTunnels(in.Tunnels) {
		g.tunnelIn(t)
	}
	if gr.ports == nil {
		gr.ports = make(map[string]portEntry, len(in.Ports))
	}
	for id := range gr.ports {
		if _, ok := in.Ports[id]; !ok {
			delete(gr.ports, id)
		}
	}
	for id, p := range in.Ports {
		dp, dpOK := in.Datapaths[p.Datapath]
		if !dpOK {
			delete(gr.ports, id) // the port generates nothing
			continue
		}
		deps := g.portDeps(p)
		if e, ok := gr.ports[id]; ok && e.dp == dp && e.deps == deps && samePort(e.p, p) {
			if len(e.flows) > 0 {
				g.out[p.UUID] = e.flows
			}
			continue
		}
		g.port(p)
		gr.ports[id] = portEntry{p: p, dp: dp, deps: deps, flows: g.out[p.UUID]}
	}
	groups := make(map[string]groupEntry, len(in.Groups))
	for _, mg := range in.Groups {
		dp, dpOK := in.Datapaths[mg.Datapath]
		members := make([]Port, len(mg.Ports))
		for i, id := range mg.Ports {
			members[i] = in.Ports[id]
		}
		e, ok := gr.groups[mg.UUID]
		_, dup := groups[mg.UUID]
		if ok && !dup && dpOK && e.dp == dp && sameGroup(e.mg, mg) && slices.EqualFunc(e.members, members, samePort) {
			if len(e.flows) > 0 {
				g.out[mg.UUID] = append(g.out[mg.UUID], e.flows...)
			}
			groups[mg.UUID] = e
			continue
		}
		before := len(g.out[mg.UUID])
		g.group(mg)
		if !dup {
			groups[mg.UUID] = groupEntry{mg: mg, dp: dp, members: members, flows: slices.Clone(g.out[mg.UUID][before:])}
		}
	}
	gr.groups = groups
	for _, mb := range in.MACBindings {
		g.macBinding(mb)
	}
	g.waiting()
	return g.out
}

func sameGroup(a, b MulticastGroup) bool {
	return a.UUID == b.UUID && a.Name == b.Name && a.Datapath == b.Datapath && a.Key == b.Key && slices.Equal(a.Ports, b.Ports)
}
