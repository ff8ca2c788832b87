package plan

import (
	"sort"

	"hcnet/chassis/replica"
)

// HAMember is one chassis of a chassisredirect port's HA group.
type HAMember struct {
	Chassis  string
	Priority int64
}

// HAMembers returns the gateway chassis of a chassisredirect Port_Binding,
// highest priority first (ties by name), from its HA_Chassis_Group, or
// from the older gateway_chassis column when it has no group.
func HAMembers(sb *replica.DB, pbUUID string) []HAMember {
	pb := sb.Row("Port_Binding", pbUUID)
	if pb == nil {
		return nil
	}
	names := chassisNames(sb)
	var out []HAMember
	if g := sb.Row("HA_Chassis_Group", replica.Ref(pb, "ha_chassis_group")); g != nil {
		for _, hu := range replica.Refs(g, "ha_chassis") {
			h := sb.Row("HA_Chassis", hu)
			if h == nil {
				continue
			}
			if n := names[replica.Ref(h, "chassis")]; n != "" {
				out = append(out, HAMember{Chassis: n, Priority: replica.Int(h, "priority")})
			}
		}
	} else {
		for _, gu := range replica.Refs(pb, "gateway_chassis") {
			g := sb.Row("Gateway_Chassis", gu)
			if g == nil {
				continue
			}
			if n := names[replica.Ref(g, "chassis")]; n != "" {
				out = append(out, HAMember{Chassis: n, Priority: replica.Int(g, "priority")})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		return out[i].Chassis < out[j].Chassis
	})
	return out
}

// Gateways is the gateway decision for every chassisredirect port.
type Gateways struct {
	// Active maps a chassisredirect Port_Binding UUID to the chassis
	// this chassis believes is active for it ("" when none).
	Active map[string]string
	// Members maps it to the group's chassis, highest priority first.
	Members map[string][]string
	// Peers are the chassis that share an HA group with this one or
	// serve a group this chassis sends to: BFD runs on their tunnels.
	Peers map[string]bool
	// Gateway reports whether this chassis is in any HA group.
	Gateway bool
}

// DecideGateways picks the active gateway of every chassisredirect port:
// the highest-priority member that alive reports as up. This chassis is
// always alive to itself, so a gateway takes over as soon as it stops
// seeing every member above it, without waiting for the southbound.
func DecideGateways(sb *replica.DB, me string, alive func(chassis string) bool) Gateways {
	g := Gateways{Active: map[string]string{}, Members: map[string][]string{}, Peers: map[string]bool{}}
	for u, r := range sb.Table("Port_Binding") {
		if replica.Str(r, "type") != "chassisredirect" {
			continue
		}
		ms := HAMembers(sb, u)
		var names []string
		active := ""
		for _, m := range ms {
			names = append(names, m.Chassis)
			if m.Chassis == me {
				g.Gateway = true
			}
			if active == "" && (m.Chassis == me || alive(m.Chassis)) {
				active = m.Chassis
			}
		}
		g.Active[u] = active
		g.Members[u] = names
	}
	// Hosts need BFD towards every gateway; gateways towards everyone
	// else that could send them traffic (all chassis with tunnels).
	for _, names := range g.Members {
		for _, n := range names {
			if n != me {
				g.Peers[n] = true
			}
		}
	}
	return g
}
