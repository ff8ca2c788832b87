package plan

import (
	"sort"

	"hcnet/chassis/physical"
	"hcnet/chassis/replica"
)

// PhysInput gathers the physical flow input from the replicas and the
// decisions made so far.
type PhysInput struct {
	Me       string
	SB       *replica.DB
	LocalDPs map[string]bool
	Ifaces   map[string]Iface       // by iface-id
	Tunnels  map[string]TunnelState // by chassis name
	Localnet map[string]int         // localnet lport -> patch ofport
	Gateways Gateways
	Zones    map[string]uint16 // "lport" or "<dp-uuid>_dnat"/"_snat"
}

// Physical builds physical.Input.
func Physical(p PhysInput) physical.Input {
	sb := p.SB
	names := chassisNames(sb)
	in := physical.Input{
		Chassis:   p.Me,
		Datapaths: map[string]physical.Datapath{},
		Ports:     map[string]physical.Port{},
		Tunnels:   map[string]physical.Tunnel{},
	}
	for dp := range p.LocalDPs {
		r := sb.Row("Datapath_Binding", dp)
		if r == nil {
			continue
		}
		in.Datapaths[dp] = physical.Datapath{UUID: dp, Key: uint32(replica.Int(r, "tunnel_key")),
			Zones: physical.Zones{DNAT: p.Zones[dp+"_dnat"], SNAT: p.Zones[dp+"_snat"]}}
	}
	for ch, t := range p.Tunnels {
		if t.OFPort > 0 {
			in.Tunnels[ch] = physical.Tunnel{Chassis: ch, OFPort: t.OFPort, Type: t.Type}
		}
	}
	used := map[string]bool{} // iface-ids a local port binding claims
	for _, r := range sb.Sorted("Port_Binding") {
		dp := replica.Ref(r, "datapath")
		if !p.LocalDPs[dp] {
			continue
		}
		u := replica.UUID(r)
		name := replica.Str(r, "logical_port")
		opts := replica.Map(r, "options")
		port := physical.Port{
			UUID: u, Name: name, Type: replica.Str(r, "type"), Datapath: dp,
			Key:     uint32(replica.Int(r, "tunnel_key")),
			Chassis: names[replica.Ref(r, "chassis")],
			Peer:    opts["peer"],
			Zone:    p.Zones[name],
		}
		switch port.Type {
		case physical.TypeVIF, physical.TypeVirtual:
			if i, ok := p.Ifaces[name]; ok {
				port.OFPort = i.OFPort
				port.Chassis = p.Me
				used[name] = true
			} else if i, ok := p.Ifaces[replica.Str(r, "virtual_parent")]; ok && port.Type == physical.TypeVirtual {
				// Bound through its parent's interface: delivered there;
				// what enters on it is the parent's.
				port.OFPort = i.OFPort
				port.Chassis = p.Me
				port.Parent = replica.Str(r, "virtual_parent")
			} else if port.Chassis == p.Me {
				port.Chassis = "" // bound here but the interface is gone
			}
		case physical.TypeLocalport:
			if i, ok := p.Ifaces[name]; ok {
				port.OFPort = i.OFPort
				used[name] = true
			}
		case physical.TypeLocalnet:
			port.OFPort = p.Localnet[name]
		case physical.TypeL3Gateway:
			port.Chassis = opts["l3gateway-chassis"]
		case physical.TypeChassisRedirect:
			port.DistributedPort = opts["distributed-port"]
			port.Chassis = p.Gateways.Active[u]
			port.HAChassis = p.Gateways.Members[u]
		}
		in.Ports[u] = port
	}
	for id, i := range p.Ifaces {
		if !used[id] && i.OFPort > 0 {
			in.Waiting = append(in.Waiting, i.OFPort)
		}
	}
	sort.Ints(in.Waiting)
	for _, r := range sb.Sorted("Multicast_Group") {
		dp := replica.Ref(r, "datapath")
		if !p.LocalDPs[dp] {
			continue
		}
		in.Groups = append(in.Groups, physical.MulticastGroup{UUID: replica.UUID(r), Name: replica.Str(r, "name"),
			Datapath: dp, Key: uint32(replica.Int(r, "tunnel_key")), Ports: replica.Refs(r, "ports")})
	}
	for _, r := range sb.Sorted("MAC_Binding") {
		dp := replica.Ref(r, "datapath")
		if !p.LocalDPs[dp] {
			continue
		}
		in.MACBindings = append(in.MACBindings, physical.MACBinding{UUID: replica.UUID(r), LogicalPort: replica.Str(r, "logical_port"),
			Datapath: dp, IP: replica.Str(r, "ip"), MAC: replica.Str(r, "mac")})
	}
	return in
}

// ZoneNames returns the conntrack zone users of the local datapaths: each
// local VIF's logical port and each datapath's DNAT and SNAT zones.
func ZoneNames(sb *replica.DB, localDPs map[string]bool, ifaces map[string]Iface) []string {
	var out []string
	for dp := range localDPs {
		out = append(out, dp+"_dnat", dp+"_snat")
	}
	// Only interfaces bound to a port of a local datapath get a zone: an
	// iface-id no Port_Binding names yet costs no Open_vSwitch write.
	for _, r := range sb.Table("Port_Binding") {
		name := replica.Str(r, "logical_port")
		if _, ok := ifaces[name]; ok && localDPs[replica.Ref(r, "datapath")] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// AssignZones keeps the zones of users that still exist and gives new
// users the lowest free zone (1..65535). It reports whether anything
// changed.
func AssignZones(existing map[string]uint16, users []string) (map[string]uint16, bool) {
	out := map[string]uint16{}
	used := map[uint16]bool{}
	want := map[string]bool{}
	for _, u := range users {
		want[u] = true
	}
	changed := false
	for u, z := range existing {
		if want[u] && z != 0 && !used[z] {
			out[u] = z
			used[z] = true
		} else {
			changed = true
		}
	}
	next := uint16(1)
	for _, u := range users {
		if _, ok := out[u]; ok {
			continue
		}
		for used[next] {
			next++
		}
		out[u] = next
		used[next] = true
		changed = true
	}
	return out, changed
}
