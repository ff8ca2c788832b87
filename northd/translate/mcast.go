package translate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"hcnet/schema/nb"
)

// IGMP/MLD snooping on logical switches (ovn-nb(5) Logical_Switch
// other_config mcast_*, ovn-sb(5) IP_Multicast and IGMP_Group,
// ovn-northd(8) ls_in_l2_lkup), as ovn-northd 23.03 does it for switches:
// every switch gets an SB IP_Multicast row with its snooping
// configuration; a switch with mcast_snoop=true sends IGMP and MLD to the
// controller (igmp), floods link-local IPv4 multicast to _MC_flood_l2 and
// IPv6 multicast that must be flooded to _MC_flood, forwards traffic to a
// group the chassis learnt (SB IGMP_Group rows, merged over chassis into
// one Multicast_Group per address) to that group, and drops other IP
// multicast unless mcast_flood_unregistered=true. Multicast relay on
// routers (mcast_relay) and the per-port mcast_flood options are not
// translated.

// IGMPGroupTable is the table name of IGMPGroups changes: the SB
// IGMP_Group rows northd reads back, fed to the engine like an NB table.
const IGMPGroupTable = "IGMP_Group"

// Multicast group tunnel keys (ovn-architecture(7)): _MC_flood_l2, and
// the first key of the groups learnt by IGMP/MLD.
const (
	mcFloodL2Key = 32772
	mcIPFirstKey = 32774
)

// IGMPGroup is what the chassis learnt for one multicast address on one
// switch: the logical ports that joined, over every chassis. Its key in
// NB.IGMPGroups is IGMPGroupKey(Datapath, Address).
type IGMPGroup struct {
	Datapath string // NB key of the switch
	Address  string
	Ports    []string // logical port names, sorted
}

// IGMPGroupKey returns the key of an IGMPGroup in NB.IGMPGroups.
func IGMPGroupKey(datapath, address string) string { return datapath + "/" + address }

// IPMulticast is the desired SB IP_Multicast row of a switch.
type IPMulticast struct {
	Enabled       bool
	Querier       bool
	EthSrc        string
	IP4Src        string
	IP6Src        string
	TableSize     int
	IdleTimeout   int // seconds
	QueryInterval int // seconds
	QueryMaxResp  int // seconds
}

// mcastConfig reads a switch's snooping configuration with ovn-northd's
// defaults and bounds.
func mcastConfig(sw *nb.LogicalSwitch) IPMulticast {
	oc := sw.OtherConfig
	num := func(k string, def, lo, hi int) int {
		v, err := strconv.Atoi(oc[k])
		if err != nil {
			return def
		}
		return min(max(v, lo), hi)
	}
	c := IPMulticast{
		Enabled: oc["mcast_snoop"] == "true",
		Querier: oc["mcast_querier"] != "false",
		EthSrc:  oc["mcast_eth_src"], IP4Src: oc["mcast_ip4_src"], IP6Src: oc["mcast_ip6_src"],
	}
	c.TableSize = num("mcast_table_size", 2048, 1, 32766)
	c.IdleTimeout = num("mcast_idle_timeout", 300, 15, 3600)
	c.QueryInterval = num("mcast_query_interval", c.IdleTimeout/2, 1, c.IdleTimeout)
	c.QueryMaxResp = num("mcast_query_max_response", 1, 1, 10)
	return c
}

// igmpGroups returns the multicast groups a snooping switch learnt, sorted
// by address, with tunnel keys from mcIPFirstKey in that order and only
// the switch's own ports.
func (x *Index) igmpGroups(sw *nb.LogicalSwitch) []MulticastGroup {
	var out []MulticastGroup
	for _, g := range x.NB.IGMPGroups {
		if g.Datapath != sw.UUID {
			continue
		}
		a, err := netip.ParseAddr(g.Address)
		if err != nil || !a.IsMulticast() {
			continue
		}
		var ports []string
		for _, p := range g.Ports {
			if sp := x.SwitchPorts[p]; sp != nil && sp.Switch == sw.UUID {
				ports = append(ports, p)
			}
		}
		if len(ports) == 0 {
			continue
		}
		slices.Sort(ports)
		out = append(out, MulticastGroup{Datapath: sw.UUID, Name: g.Address, Ports: slices.Compact(ports)})
	}
	slices.SortFunc(out, func(a, b MulticastGroup) int { return cmp.Compare(a.Name, b.Name) })
	for i := range out {
		out[i].TunnelKey = mcIPFirstKey + i
	}
	return out
}

// mcastSwitch adds a switch's multicast groups to out and their flows to
// f: the learnt groups (as ovn-northd, whether the switch snoops or not:
// only a snooping one gets IGMP_Group rows from ovn-controller) and, when
// it snoops, _MC_flood_l2 with the flood ports (ovn-northd writes that
// one on every switch, unused without snooping) and the snooping flows.
func (x *Index) mcastSwitch(f *flowSet, out *DatapathOut, sw *nb.LogicalSwitch, flood []string) {
	for _, g := range x.igmpGroups(sw) {
		out.Groups = append(out.Groups, g)
		fam := "ip4"
		if a, _ := netip.ParseAddr(g.Name); a.Is6() {
			fam = "ip6"
		}
		// ovn-northd's text, trailing spaces included.
		f.add(lsInL2Lkup, 90, fmt.Sprintf("eth.mcast && %s && %s.dst == %s ", fam, fam, g.Name), fmt.Sprintf("outport = %s; output; ", quote(g.Name)))
	}
	if !out.IPMulticast.Enabled {
		return
	}
	if len(flood) > 0 {
		out.Groups = append(out.Groups, MulticastGroup{Datapath: sw.UUID, Name: "_MC_flood_l2", TunnelKey: mcFloodL2Key, Ports: flood})
	}
	f.add(lsInL2Lkup, 100, "igmp", "igmp;")
	f.add(lsInL2Lkup, 100, "mldv1 || mldv2", "igmp;")
	f.add(lsInL2Lkup, 85, "ip4.mcast && ip4.dst == 224.0.0.0/24", `outport = "_MC_flood_l2"; output;`)
	f.add(lsInL2Lkup, 85, "ip6.mcast_flood", `outport = "_MC_flood"; output;`)
	if sw.OtherConfig["mcast_flood_unregistered"] != "true" {
		f.add(lsInL2Lkup, 80, "ip4.mcast || ip6.mcast", "drop;")
	}
}
