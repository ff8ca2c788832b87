package physical

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"hcnet/chassis/flowtable"
)

// OpenFlow tables, as ovn-architecture(7) numbers them for OVN 23.03.
const (
	TablePhyToLog        = 0
	TableLogIngress      = 8
	TableLargePktDetect  = 37
	TableLargePktProcess = 38
	TableRemoteOutput    = 39
	TableLocalOutput     = 40
	TableCheckLoopback   = 41
	TableLogEgress       = 42
	TableSaveInport      = 64
	TableLogToPhy        = 65
	TableMACBinding      = 66
	TableMACLookup       = 67
)

// Logical flag bits in reg10 (MFF_LOG_FLAGS).
const (
	FlagAllowLoopback = 1 << 0
	FlagRcvFromRamp   = 1 << 1
	FlagLocalOnly     = 1 << 4
	FlagLookupMAC     = 1 << 6
)

// Encapsulations.
const (
	EncapGeneve = "geneve"
	EncapVXLAN  = "vxlan"
)

// Port types as Port_Binding.type spells them.
const (
	TypeVIF             = ""
	TypePatch           = "patch"
	TypeL3Gateway       = "l3gateway"
	TypeLocalnet        = "localnet"
	TypeLocalport       = "localport"
	TypeChassisRedirect = "chassisredirect"
	TypeVirtual         = "virtual"
	TypeExternal        = "external"
)

// Zones are the conntrack zones a datapath or port uses.
type Zones struct {
	DNAT, SNAT uint16 // per datapath: reg11, reg12
}

// Datapath is one local logical datapath.
type Datapath struct {
	UUID  string
	Key   uint32
	Zones Zones
}

// Port is one Port_Binding of a local datapath.
type Port struct {
	UUID     string
	Name     string
	Type     string
	Datapath string // Datapath_Binding UUID
	Key      uint32
	// Chassis is the name of the chassis the port is bound to ("" when
	// unbound). For chassisredirect ports it is the active gateway.
	Chassis string
	// Peer is the peer port name of a patch or l3gateway port.
	Peer string
	// DistributedPort is the logical router port a chassisredirect port
	// stands for (options:distributed-port).
	DistributedPort string
	// OFPort is the OpenFlow port of a local VIF, or of the patch port
	// towards the provider bridge of a localnet port; 0 when none.
	OFPort int
	// Parent is the virtual parent of a virtual port bound here through
	// the parent's interface (OFPort is the parent's): the port gets
	// output flows only, packets from the interface stay the parent's.
	Parent string
	// Zone is the port's conntrack zone (reg13); 0 for none.
	Zone uint16
	// HAChassis are the gateway chassis of a chassisredirect port,
	// highest priority first. A chassis outside the group sends to them
	// through an active-backup bundle over their tunnels, so BFD moves
	// the traffic when the active one dies.
	HAChassis []string
}

// Tunnel is the tunnel port towards one remote chassis.
type Tunnel struct {
	Chassis string
	OFPort  int
	Type    string // geneve or vxlan
}

// MulticastGroup is a Multicast_Group row.
type MulticastGroup struct {
	UUID     string
	Name     string
	Datapath string
	Key      uint32
	Ports    []string // Port_Binding UUIDs
}

// MACBinding is a learned or static neighbour: IP on logical port.
type MACBinding struct {
	UUID        string
	LogicalPort string
	Datapath    string
	IP          string
	MAC         string
}

// Input is everything the physical flows depend on.
type Input struct {
	// Chassis is the local chassis name.
	Chassis string
	// Datapaths are the local datapaths by UUID.
	Datapaths map[string]Datapath
	// Ports are the Port_Bindings of the local datapaths, by UUID.
	Ports map[string]Port
	// Tunnels are the tunnel ports by remote chassis name.
	Tunnels map[string]Tunnel
	// Groups are the Multicast_Groups of the local datapaths.
	Groups []MulticastGroup
	// MACBindings of the local datapaths.
	MACBindings []MACBinding
	// Waiting are the OpenFlow ports of local interfaces that carry an
	// iface-id but no port of theirs is bound here (yet): a VM plugged
	// before its port. What they send goes to the controller (metered by
	// PuntMeterID) instead of being dropped, so that the switch does not
	// cache a drop for them: once their port's flows are installed, the
	// chassis sends those packets back through the flow table, and the
	// port works without waiting for ovs-vswitchd to revalidate its
	// datapath flows (tens to hundreds of milliseconds under load).
	Waiting []int
}

// PuntMeterID is the OpenFlow meter bounding what Input.Waiting
// interfaces send to the controller; PuntMeter its bands, in ovs-ofctl
// syntax without meter=ID.
const (
	PuntMeterID = 65000
	PuntMeter   = "pktps,burst,bands=type=drop,rate=2000,burst_size=200"
)

// Owner names for flows that no single row produced.
const (
	OwnerStatic  = "physical:static"
	OwnerWaiting = "physical:waiting"
)

// Generate returns the physical flows, keyed by owner (a Port_Binding,
// Multicast_Group, MAC_Binding or tunnel UUID/name, or OwnerStatic).
func Generate(in Input) map[string][]flowtable.Flow {
	g := gen{in: in, out: map[string][]flowtable.Flow{}, byName: map[string]Port{}}
	for _, p := range in.Ports {
		g.byName[p.Name] = p
	}
	g.static()
	for _, t := range sortedTunnels(in.Tunnels) {
		g.tunnelIn(t)
	}
	for _, id := range sortedKeys(in.Ports) {
		g.port(in.Ports[id])
	}
	for _, mg := range in.Groups {
		g.group(mg)
	}
	for _, mb := range in.MACBindings {
		g.macBinding(mb)
	}
	g.waiting()
	return g.out
}

func (g *gen) waiting() {
	for _, ofp := range g.in.Waiting {
		g.add(OwnerWaiting, TablePhyToLog, 50, fmt.Sprintf("in_port=%d", ofp),
			fmt.Sprintf("controller(reason=no_match,meter_id=%d)", PuntMeterID))
	}
}

type gen struct {
	in     Input
	out    map[string][]flowtable.Flow
	byName map[string]Port
}

func (g *gen) add(owner string, table uint8, prio uint16, match, actions string) {
	g.out[owner] = append(g.out[owner], flowtable.Flow{Table: table, Priority: prio, Match: match, Actions: actions})
}

func (g *gen) static() {
	o := OwnerStatic
	g.add(o, TablePhyToLog, 0, "", "drop")
	g.add(o, TableLargePktDetect, 0, "", resubmit(TableRemoteOutput))
	g.add(o, TableLargePktProcess, 10, fmt.Sprintf("reg10=%#x/%#x", FlagAllowLoopback, FlagAllowLoopback), resubmit(TableLocalOutput))
	g.add(o, TableLargePktProcess, 0, "", resubmit(TableRemoteOutput))
	g.add(o, TableRemoteOutput, 150, fmt.Sprintf("reg10=%#x/%#x", FlagLocalOnly, FlagLocalOnly), resubmit(TableLocalOutput))
	g.add(o, TableRemoteOutput, 150, fmt.Sprintf("reg10=%#x/%#x", FlagRcvFromRamp, FlagRcvFromRamp|FlagAllowLoopback), resubmit(TableLocalOutput))
	g.add(o, TableRemoteOutput, 0, "", resubmit(TableLocalOutput))
	g.add(o, TableLocalOutput, 0, "", "drop")
	var clear []string
	for i := 0; i <= 9; i++ {
		clear = append(clear, fmt.Sprintf("set_field:0->reg%d", i))
	}
	g.add(o, TableCheckLoopback, 0, "", strings.Join(clear, ",")+","+resubmit(TableLogEgress))
	g.add(o, TableSaveInport, 0, "", resubmit(TableLogToPhy))
	// Loopback allowed: clear in_port so output to it works. One flow
	// for every port (ovn-controller writes one per local port with the
	// same actions): a port without a table 65 flow drops either way.
	g.add(o, TableSaveInport, 100, fmt.Sprintf("reg10=%#x/%#x", FlagAllowLoopback, FlagAllowLoopback),
		"push:NXM_OF_IN_PORT[],set_field:ANY->in_port,"+resubmit(TableLogToPhy)+",pop:NXM_OF_IN_PORT[]")
	g.add(o, TableLogToPhy, 0, "", "drop")
}

// tunnelIn classifies packets arriving on a tunnel.
func (g *gen) tunnelIn(t Tunnel) {
	owner := "tunnel:" + t.Chassis
	match := fmt.Sprintf("in_port=%d", t.OFPort)
	switch t.Type {
	case EncapVXLAN:
		// VXLAN's 24-bit VNI carries the datapath key (low 12 bits) and
		// the egress port key (high 12 bits); the ingress port is lost.
		g.add(owner, TablePhyToLog, 100, match,
			"move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11],move:NXM_NX_TUN_ID[12..23]->NXM_NX_REG15[0..11],"+resubmit(TableLocalOutput))
	default:
		g.add(owner, TablePhyToLog, 100, match,
			"move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],"+resubmit(TableLocalOutput))
	}
}

// local reports whether a port's traffic is delivered on this chassis.
func (g *gen) local(p Port) bool {
	switch p.Type {
	case TypePatch:
		return true
	case TypeL3Gateway, TypeChassisRedirect:
		return p.Chassis == g.in.Chassis
	case TypeLocalnet, TypeLocalport:
		return p.OFPort > 0
	default:
		return p.Chassis == g.in.Chassis && p.OFPort > 0
	}
}

// remote returns the tunnel towards the chassis a port is bound to, if
// the port lives on another chassis we have a tunnel to.
func (g *gen) remote(p Port) (Tunnel, bool) {
	switch p.Type {
	case TypePatch, TypeLocalnet, TypeLocalport:
		return Tunnel{}, false
	}
	if p.Chassis == "" || p.Chassis == g.in.Chassis {
		return Tunnel{}, false
	}
	t, ok := g.in.Tunnels[p.Chassis]
	return t, ok
}

func (g *gen) zoneLoads(dp Datapath, p Port) string {
	var s []string
	if p.Zone != 0 {
		s = append(s, fmt.Sprintf("set_field:%#x->reg13", p.Zone))
	}
	if dp.Zones.DNAT != 0 {
		s = append(s, fmt.Sprintf("set_field:%#x->reg11", dp.Zones.DNAT))
	}
	if dp.Zones.SNAT != 0 {
		s = append(s, fmt.Sprintf("set_field:%#x->reg12", dp.Zones.SNAT))
	}
	if len(s) == 0 {
		return ""
	}
	return strings.Join(s, ",") + ","
}

func portMatch(dp Datapath, key uint32) string {
	return fmt.Sprintf("reg15=%#x,metadata=%#x", key, dp.Key)
}

func (g *gen) port(p Port) {
	dp, ok := g.in.Datapaths[p.Datapath]
	if !ok {
		return
	}
	owner := p.UUID
	if p.Type == TypeChassisRedirect && len(p.HAChassis) > 1 && !contains(p.HAChassis, g.in.Chassis) {
		var members []string
		var first Tunnel
		for _, c := range p.HAChassis {
			if t, ok := g.in.Tunnels[c]; ok {
				if len(members) == 0 {
					first = t
				}
				members = append(members, fmt.Sprint(t.OFPort))
			}
		}
		if len(members) > 0 {
			hdr := strings.TrimSuffix(encap(first, dp, p.Key), fmt.Sprintf(",output:%d", first.OFPort))
			g.add(owner, TableRemoteOutput, 100, portMatch(dp, p.Key),
				hdr+",bundle(eth_src,0,active_backup,ofport,members:"+strings.Join(members, ",")+")")
			return
		}
	}
	if t, ok := g.remote(p); ok {
		g.add(owner, TableRemoteOutput, 100, portMatch(dp, p.Key), encap(t, dp, p.Key)+","+resubmit(TableLocalOutput))
		return
	}
	if !g.local(p) {
		return
	}
	zl := g.zoneLoads(dp, p)
	switch p.Type {
	case TypeChassisRedirect:
		// Traffic to the chassisredirect port continues as traffic to
		// the distributed router port it stands for.
		dist, ok := g.byName[p.DistributedPort]
		if !ok {
			return
		}
		g.add(owner, TableLocalOutput, 100, portMatch(dp, p.Key),
			fmt.Sprintf("set_field:%#x->reg15,%s%s", dist.Key, zl, resubmit(TableCheckLoopback)))
		return
	}
	g.add(owner, TableLocalOutput, 100, portMatch(dp, p.Key), zl+resubmit(TableCheckLoopback))
	g.add(owner, TableCheckLoopback, 100,
		fmt.Sprintf("reg10=0/%#x,reg14=%#x,reg15=%#x,metadata=%#x", FlagAllowLoopback, p.Key, p.Key, dp.Key), "drop")

	switch p.Type {
	case TypePatch, TypeL3Gateway:
		peer, ok := g.byName[p.Peer]
		if !ok {
			return
		}
		pdp, ok := g.in.Datapaths[peer.Datapath]
		if !ok {
			return
		}
		var s []string
		s = append(s, "ct_clear", "set_field:0->reg11", "set_field:0->reg12", "set_field:0->reg13")
		if pdp.Zones.DNAT != 0 {
			s = append(s, fmt.Sprintf("set_field:%#x->reg11", pdp.Zones.DNAT))
		}
		if pdp.Zones.SNAT != 0 {
			s = append(s, fmt.Sprintf("set_field:%#x->reg12", pdp.Zones.SNAT))
		}
		s = append(s, fmt.Sprintf("set_field:%#x->metadata", pdp.Key), fmt.Sprintf("set_field:%#x->reg14", peer.Key),
			"set_field:0->reg10", "set_field:0->reg15")
		for i := 0; i <= 9; i++ {
			s = append(s, fmt.Sprintf("set_field:0->reg%d", i))
		}
		s = append(s, resubmit(TableLogIngress))
		g.add(owner, TableLogToPhy, 100, portMatch(dp, p.Key), "clone("+strings.Join(s, ",")+")")
	case TypeVIF, TypeLocalport, TypeVirtual, TypeLocalnet:
		if p.OFPort <= 0 {
			return
		}
		g.add(owner, TableLogToPhy, 100, portMatch(dp, p.Key), fmt.Sprintf("output:%d", p.OFPort))
		if p.Parent != "" {
			return
		}
		in := fmt.Sprintf("in_port=%d", p.OFPort)
		if p.Type == TypeLocalnet {
			in += ",vlan_tci=0x0000/0x1000"
		}
		g.add(owner, TablePhyToLog, 100, in,
			fmt.Sprintf("%sset_field:%#x->metadata,set_field:%#x->reg14,%s", zl, dp.Key, p.Key, resubmit(TableLogIngress)))
	}
}

// group implements a multicast group: members delivered through patch
// ports and the like in table 39, one copy per remote chassis over its
// tunnel, local VIFs in table 40.
func (g *gen) group(mg MulticastGroup) {
	dp, ok := g.in.Datapaths[mg.Datapath]
	if !ok {
		return
	}
	var remote39, local40 []string
	var tunnels []string
	seen := map[string]bool{}
	members := append([]string(nil), mg.Ports...)
	sort.Slice(members, func(i, j int) bool {
		return g.in.Ports[members[i]].Key < g.in.Ports[members[j]].Key
	})
	for _, id := range members {
		p, ok := g.in.Ports[id]
		if !ok || p.Datapath != mg.Datapath {
			continue
		}
		if t, ok := g.remote(p); ok {
			if !seen[t.Chassis] {
				seen[t.Chassis] = true
				tunnels = append(tunnels, t.Chassis)
			}
			continue
		}
		if !g.local(p) || p.Parent != "" {
			// A virtual port bound through its parent's interface: the
			// parent's copy reaches that interface already.
			continue
		}
		switch p.Type {
		case TypePatch, TypeL3Gateway, TypeChassisRedirect:
			remote39 = append(remote39, fmt.Sprintf("set_field:%#x->reg15,%s", p.Key, resubmit(TableCheckLoopback)))
		default:
			local40 = append(local40, fmt.Sprintf("%sset_field:%#x->reg15,%s", g.zoneLoads(Datapath{}, p), p.Key, resubmit(TableCheckLoopback)))
		}
	}
	sort.Strings(tunnels)
	match := portMatch(dp, mg.Key)
	restore := fmt.Sprintf("set_field:%#x->reg15", mg.Key)
	if len(remote39) > 0 || len(tunnels) > 0 {
		var a []string
		a = append(a, remote39...)
		if len(remote39) > 0 {
			a = append(a, restore)
		}
		for _, c := range tunnels {
			a = append(a, encap(g.in.Tunnels[c], dp, mg.Key))
		}
		a = append(a, resubmit(TableLocalOutput))
		g.add(mg.UUID, TableRemoteOutput, 100, match, strings.Join(a, ","))
	}
	if len(local40) > 0 {
		g.add(mg.UUID, TableLocalOutput, 100, match, strings.Join(local40, ",")+","+restore)
	}
}

func (g *gen) macBinding(mb MACBinding) {
	p, ok := g.byName[mb.LogicalPort]
	if !ok {
		return
	}
	dp, ok := g.in.Datapaths[p.Datapath]
	if !ok {
		return
	}
	ip, err := netip.ParseAddr(mb.IP)
	if err != nil {
		return
	}
	if ip.Is4() {
		a := ip.As4()
		v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		g.add(mb.UUID, TableMACBinding, 100, fmt.Sprintf("reg0=%#x,reg15=%#x,metadata=%#x", v, p.Key, dp.Key),
			"set_field:"+mb.MAC+"->eth_dst")
		g.add(mb.UUID, TableMACLookup, 100, fmt.Sprintf("arp,reg0=%#x,reg14=%#x,metadata=%#x,dl_src=%s", v, p.Key, dp.Key, mb.MAC),
			fmt.Sprintf("set_field:%#x/%#x->reg10", FlagLookupMAC, FlagLookupMAC))
		return
	}
	hex := fmt.Sprintf("0x%x", ip.As16())
	g.add(mb.UUID, TableMACBinding, 100, fmt.Sprintf("xxreg0=%s,reg15=%#x,metadata=%#x", hex, p.Key, dp.Key),
		"set_field:"+mb.MAC+"->eth_dst")
	g.add(mb.UUID, TableMACLookup, 100, fmt.Sprintf("xxreg0=%s,reg14=%#x,metadata=%#x,dl_src=%s", hex, p.Key, dp.Key, mb.MAC),
		fmt.Sprintf("set_field:%#x/%#x->reg10", FlagLookupMAC, FlagLookupMAC))
}

// encap sets the tunnel header for a logical output key and sends the
// packet to the remote chassis.
func encap(t Tunnel, dp Datapath, outKey uint32) string {
	if t.Type == EncapVXLAN {
		return fmt.Sprintf("set_field:%#x/0xffffff->tun_id,output:%d", uint32(dp.Key&0xfff)|(outKey&0xfff)<<12, t.OFPort)
	}
	return fmt.Sprintf("set_field:%#x/0xffffff->tun_id,set_field:%#x->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:%d",
		dp.Key, outKey, t.OFPort)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func resubmit(table int) string { return fmt.Sprintf("resubmit(,%d)", table) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedTunnels(m map[string]Tunnel) []Tunnel {
	out := make([]Tunnel, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
