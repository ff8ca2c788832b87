package translate

import (
	"maps"

	"hcnet/schema/nb"
)

// NB is a snapshot of the northbound rows translate reads, keyed by row UUID.
// Maps may be nil when a table is empty.
type NB struct {
	Global          *nb.NBGlobal
	Switches        map[string]*nb.LogicalSwitch
	SwitchPorts     map[string]*nb.LogicalSwitchPort
	Routers         map[string]*nb.LogicalRouter
	RouterPorts     map[string]*nb.LogicalRouterPort
	ACLs            map[string]*nb.ACL
	AddressSets     map[string]*nb.AddressSet
	PortGroups      map[string]*nb.PortGroup
	DHCPOptions     map[string]*nb.DHCPOptions
	NATs            map[string]*nb.NAT
	StaticRoutes    map[string]*nb.LogicalRouterStaticRoute
	Policies        map[string]*nb.LogicalRouterPolicy
	GatewayChassis  map[string]*nb.GatewayChassis
	HAChassisGroups map[string]*nb.HAChassisGroup
	HAChassis       map[string]*nb.HAChassis
	QoS             map[string]*nb.QoS
	LoadBalancers   map[string]*nb.LoadBalancer
	DNS             map[string]*nb.DNS
	BFD             map[string]*nb.BFD
	// LoadBalancerGroups are Load_Balancer_Group rows.
	LoadBalancerGroups map[string]*nb.LoadBalancerGroup
	// HealthChecks are Load_Balancer_Health_Check rows.
	HealthChecks map[string]*nb.LoadBalancerHealthCheck
	// ServiceStatus is what SB Service_Monitor rows report, by
	// SvcKey.String(): not NB, but read like it (health.go).
	ServiceStatus map[string]*ServiceStatus
	// IGMPGroups is what SB IGMP_Group rows report, merged over chassis,
	// by IGMPGroupKey: not NB, but read like it (mcast.go).
	IGMPGroups map[string]*IGMPGroup
	// VirtualParents is what SB Port_Binding rows of virtual ports report
	// (virtual_parent, with a chassis), by virtual port name: not NB, but
	// read like it (vport.go).
	VirtualParents map[string]*VirtualParent
	// SvcMonitorMACDefault is the svc_monitor_mac used while NB_Global
	// has none (the daemon's choice, which it then writes to NB): SB_Global
	// carries it from the first write, before any flow names
	// $svc_monitor_mac. "" for none.
	SvcMonitorMACDefault string
}

// NewNB returns an NB with every map allocated.
func NewNB() *NB {
	return &NB{
		Switches:        map[string]*nb.LogicalSwitch{},
		SwitchPorts:     map[string]*nb.LogicalSwitchPort{},
		Routers:         map[string]*nb.LogicalRouter{},
		RouterPorts:     map[string]*nb.LogicalRouterPort{},
		ACLs:            map[string]*nb.ACL{},
		AddressSets:     map[string]*nb.AddressSet{},
		PortGroups:      map[string]*nb.PortGroup{},
		DHCPOptions:     map[string]*nb.DHCPOptions{},
		NATs:            map[string]*nb.NAT{},
		StaticRoutes:    map[string]*nb.LogicalRouterStaticRoute{},
		Policies:        map[string]*nb.LogicalRouterPolicy{},
		GatewayChassis:  map[string]*nb.GatewayChassis{},
		HAChassisGroups: map[string]*nb.HAChassisGroup{},
		HAChassis:       map[string]*nb.HAChassis{},
		QoS:             map[string]*nb.QoS{},
		LoadBalancers:   map[string]*nb.LoadBalancer{},
		DNS:             map[string]*nb.DNS{},
		BFD:             map[string]*nb.BFD{},

		LoadBalancerGroups: map[string]*nb.LoadBalancerGroup{},
		HealthChecks:       map[string]*nb.LoadBalancerHealthCheck{},
		ServiceStatus:      map[string]*ServiceStatus{},
		IGMPGroups:         map[string]*IGMPGroup{},
		VirtualParents:     map[string]*VirtualParent{},
	}
}

// Keys holds tunnel keys already allocated in the southbound database, so that
// keys stay stable across restarts and failovers: datapath keys by NB row UUID
// of the switch or router, port keys by logical port name.
type Keys struct {
	Datapaths map[string]int
	Ports     map[string]int
}

// Datapath is a desired Datapath_Binding row.
type Datapath struct {
	Key       string // NB UUID of the logical switch or router
	Name      string
	Router    bool
	TunnelKey int
}

// Port is a desired Port_Binding row.
type Port struct {
	Name           string
	Datapath       string // Datapath.Key
	TunnelKey      int
	Type           string
	Options        map[string]string
	MAC            []string
	PortSecurity   []string
	NATAddresses   []string
	ParentPort     string
	Tag            int // 0: none
	HAChassisGroup string
	ExternalIDs    map[string]string
}

// MulticastGroup is a desired Multicast_Group row.
type MulticastGroup struct {
	Datapath  string
	Name      string
	TunnelKey int
	Ports     []string // logical port names, sorted
}

// Pipeline names as in Logical_Flow.pipeline.
const (
	Ingress = "ingress"
	Egress  = "egress"
)

// Flow is a desired Logical_Flow row. All fields together are its identity.
type Flow struct {
	Datapath string
	Pipeline string
	Table    int
	Stage    string
	Priority int
	Match    string
	Actions  string
}

// HAChassis is a member of an HA_Chassis_Group, by chassis name.
type HAChassis struct {
	Chassis  string
	Priority int
}

// HAGroup is a desired HA_Chassis_Group row.
type HAGroup struct {
	Name    string
	Members []HAChassis // sorted by priority descending, then name
}

// DatapathOut is everything one logical switch or router contributes to SB.
type DatapathOut struct {
	Datapath Datapath
	Ports    []Port
	Groups   []MulticastGroup
	Flows    []Flow
	HAGroups []HAGroup
	// PortGroups are the per-datapath SB Port_Group rows ("<key>_<name>").
	PortGroups map[string][]string
	// DNS are the NB DNS rows a switch uses (dns_records), sorted by key:
	// the SB DNS row of each lists every datapath that names it.
	DNS []DNSRecords
	// LoadBalancers are the NB load balancers a switch uses, sorted by key:
	// the SB Load_Balancer row of each lists every datapath that uses it
	// (ovn-controller builds its hairpin flows from them).
	LoadBalancers []LoadBalancer
	// BFD are the BFD sessions of a router's ports (NB BFD rows whose
	// logical_port is one of them), sorted by key.
	BFD []BFDSession
	// IPMulticast is a switch's SB IP_Multicast row (nil for routers).
	IPMulticast *IPMulticast
}

// BFDSession is the content northd decides of an SB BFD row, from the NB
// BFD row Key; the writer allocates src_port and disc, and copies the SB
// status back to NB. Timers default as in ovn-northd 23.03.
type BFDSession struct {
	Key         string
	LogicalPort string
	DstIP       string
	MinTx       int // ms, default 1000
	MinRx       int // ms, default 1000
	DetectMult  int // default 5
	Options     map[string]string
}

// LoadBalancer is the content of an SB Load_Balancer row, from the NB row
// Key: name, protocol and vips as in NB; external_ids:lb_id = Key and
// options NB's plus hairpin_orig_tuple=true, as ovn-northd 23.03 writes
// them (ovn-controller reads hairpin_snat_ip there).
type LoadBalancer struct {
	Key      string
	Name     string
	Protocol string
	Vips     map[string]string
	Options  map[string]string
}

// DNSRecords is the content of an SB DNS row, from the NB DNS row Key.
type DNSRecords struct {
	Key     string // NB DNS row UUID, SB external_ids:dns_id
	Records map[string]string
}

// SB is the complete desired southbound content.
type SB struct {
	Datapaths   map[string]*DatapathOut
	AddressSets map[string][]string
	Global      Global
	DHCPOptions []DHCPOptionCode
	// DHCPv6Options are the SB DHCPv6_Options rows.
	DHCPv6Options []DHCPOptionCode
	// ServiceMonitors are the SB Service_Monitor rows, sorted by key.
	ServiceMonitors []ServiceMonitor
	// BFD are the SB BFD rows, sorted by logical port and dst_ip.
	BFD []BFDRow
}

// Global is the desired SB_Global content northd owns.
type Global struct {
	NbCfg   int
	Options map[string]string
}

// CloneNB returns a copy of n whose maps are new but share the rows: rows are
// treated as immutable and replaced, never edited, on change.
func CloneNB(n *NB) *NB {
	return &NB{
		Global:          n.Global,
		Switches:        maps.Clone(n.Switches),
		SwitchPorts:     maps.Clone(n.SwitchPorts),
		Routers:         maps.Clone(n.Routers),
		RouterPorts:     maps.Clone(n.RouterPorts),
		ACLs:            maps.Clone(n.ACLs),
		AddressSets:     maps.Clone(n.AddressSets),
		PortGroups:      maps.Clone(n.PortGroups),
		DHCPOptions:     maps.Clone(n.DHCPOptions),
		NATs:            maps.Clone(n.NATs),
		StaticRoutes:    maps.Clone(n.StaticRoutes),
		Policies:        maps.Clone(n.Policies),
		GatewayChassis:  maps.Clone(n.GatewayChassis),
		HAChassisGroups: maps.Clone(n.HAChassisGroups),
		HAChassis:       maps.Clone(n.HAChassis),
		QoS:             maps.Clone(n.QoS),
		LoadBalancers:   maps.Clone(n.LoadBalancers),
		DNS:             maps.Clone(n.DNS),
		BFD:             maps.Clone(n.BFD),

		LoadBalancerGroups: maps.Clone(n.LoadBalancerGroups),
		HealthChecks:       maps.Clone(n.HealthChecks),
		ServiceStatus:      maps.Clone(n.ServiceStatus),
		IGMPGroups:         maps.Clone(n.IGMPGroups),
		VirtualParents:     maps.Clone(n.VirtualParents),

		SvcMonitorMACDefault: n.SvcMonitorMACDefault,
	}
}
