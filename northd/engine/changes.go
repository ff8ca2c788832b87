package engine

import (
	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// Changes lists the rows that differ between two NB snapshots, comparing row
// pointers: snapshots share unchanged rows (copy-on-write), as
// translate.CloneNB and nbscript keep them.
func Changes(old, new *translate.NB) []Change {
	var out []Change
	if old.Global != new.Global {
		var row any
		uuid := ""
		if new.Global != nil {
			row, uuid = new.Global, new.Global.UUID
		} else if old.Global != nil {
			uuid = old.Global.UUID
		}
		out = append(out, Change{Table: nb.NBGlobalTable, UUID: uuid, Row: row})
	}
	out = diffMap(out, nb.LogicalSwitchTable, old.Switches, new.Switches)
	out = diffMap(out, nb.LogicalSwitchPortTable, old.SwitchPorts, new.SwitchPorts)
	out = diffMap(out, nb.LogicalRouterTable, old.Routers, new.Routers)
	out = diffMap(out, nb.LogicalRouterPortTable, old.RouterPorts, new.RouterPorts)
	out = diffMap(out, nb.ACLTable, old.ACLs, new.ACLs)
	out = diffMap(out, nb.AddressSetTable, old.AddressSets, new.AddressSets)
	out = diffMap(out, nb.PortGroupTable, old.PortGroups, new.PortGroups)
	out = diffMap(out, nb.DHCPOptionsTable, old.DHCPOptions, new.DHCPOptions)
	out = diffMap(out, nb.NATTable, old.NATs, new.NATs)
	out = diffMap(out, nb.LogicalRouterStaticRouteTable, old.StaticRoutes, new.StaticRoutes)
	out = diffMap(out, nb.LogicalRouterPolicyTable, old.Policies, new.Policies)
	out = diffMap(out, nb.GatewayChassisTable, old.GatewayChassis, new.GatewayChassis)
	out = diffMap(out, nb.HAChassisGroupTable, old.HAChassisGroups, new.HAChassisGroups)
	out = diffMap(out, nb.HAChassisTable, old.HAChassis, new.HAChassis)
	out = diffMap(out, nb.QoSTable, old.QoS, new.QoS)
	out = diffMap(out, nb.LoadBalancerTable, old.LoadBalancers, new.LoadBalancers)
	out = diffMap(out, nb.DNSTable, old.DNS, new.DNS)
	out = diffMap(out, nb.BFDTable, old.BFD, new.BFD)
	out = diffMap(out, nb.LoadBalancerGroupTable, old.LoadBalancerGroups, new.LoadBalancerGroups)
	out = diffMap(out, nb.LoadBalancerHealthCheckTable, old.HealthChecks, new.HealthChecks)
	out = diffMap(out, translate.ServiceMonitorTable, old.ServiceStatus, new.ServiceStatus)
	out = diffMap(out, translate.IGMPGroupTable, old.IGMPGroups, new.IGMPGroups)
	out = diffMap(out, translate.VirtualParentTable, old.VirtualParents, new.VirtualParents)
	return out
}

func diffMap[T any](out []Change, table string, old, new map[string]*T) []Change {
	for u, r := range new {
		if old[u] != r {
			out = append(out, Change{Table: table, UUID: u, Row: r})
		}
	}
	for u := range old {
		if _, ok := new[u]; !ok {
			out = append(out, Change{Table: table, UUID: u})
		}
	}
	return out
}
