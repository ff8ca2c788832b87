package translate

import (
	"maps"
	"slices"
	"strconv"
)

// Translate computes the complete desired southbound content from n; prev
// holds the tunnel keys SB already has. It is the full recompute, the oracle
// for the incremental engine.
func Translate(n *NB, prev Keys) *SB {
	x := NewIndex(n, prev)
	sb := &SB{Datapaths: map[string]*DatapathOut{}}
	for _, u := range x.DatapathUUIDs() {
		if d := x.Datapath(u); d != nil {
			sb.Datapaths[u] = d
		}
	}
	sb.AddressSets = x.AddressSets()
	sb.Global = x.Global()
	sb.ServiceMonitors = x.ServiceMonitors()
	sb.BFD = x.BFDRows()
	sb.DHCPOptions = DHCPv4Codes()
	sb.DHCPv6Options = DHCPv6Codes()
	return sb
}

// Datapath computes what the switch or router with NB UUID u contributes, or
// nil if there is no such row or it got no tunnel key.
func (x *Index) Datapath(u string) *DatapathOut {
	if _, ok := x.DatapathKeys[u]; !ok {
		return nil
	}
	if sw := x.NB.Switches[u]; sw != nil {
		return x.switchOut(sw)
	}
	if r := x.NB.Routers[u]; r != nil {
		return x.routerOut(r)
	}
	return nil
}

// AddressSets returns the SB Address_Set rows: NB's address sets, for
// every port group "<name>_ip4" and "<name>_ip6" with its ports' addresses,
// and "svc_monitor_mac" with NB_Global options:svc_monitor_mac.
func (x *Index) AddressSets() map[string][]string {
	out := map[string][]string{}
	for _, as := range x.NB.AddressSets {
		out[as.Name] = sortedUnique(as.Addresses)
	}
	for _, pg := range x.NB.PortGroups {
		var v4, v6 []string
		for _, pu := range pg.Ports {
			row := x.NB.SwitchPorts[pu]
			if row == nil {
				continue
			}
			sp := x.SwitchPorts[row.Name]
			if sp == nil {
				continue
			}
			for _, a := range sp.Addrs {
				for _, ip := range a.IPv4 {
					v4 = append(v4, ip.String())
				}
				for _, ip := range a.IPv6 {
					v6 = append(v6, ip.String())
				}
			}
		}
		out[pg.Name+"_ip4"] = sortedUnique(v4)
		out[pg.Name+"_ip6"] = sortedUnique(v6)
	}
	// ovn-controller knows $svc_monitor_mac as this address set, which
	// ovn-northd writes.
	if mac := x.svcMonitorMAC(); mac != "" {
		out["svc_monitor_mac"] = []string{mac}
	}
	return out
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Global returns the SB_Global content northd owns.
func (x *Index) Global() Global {
	g := Global{Options: map[string]string{}}
	if x.NB.Global != nil {
		g.NbCfg = x.NB.Global.NbCfg
		maps.Copy(g.Options, x.NB.Global.Options)
	}
	g.Options["max_tunid"] = strconv.Itoa(maxDatapathKey)
	if mac := x.svcMonitorMAC(); mac != "" {
		g.Options["svc_monitor_mac"] = mac
	}
	return g
}

// DHCPOptionCode is an SB DHCP_Options row: an option ovn-controller may put
// in a DHCPv4 reply, by name, code (RFC 2132 and successors) and value type.
type DHCPOptionCode struct {
	Name string
	Code int
	Type string
}

// DHCPv4Codes returns the DHCPv4 options northd publishes, sorted by name.
func DHCPv4Codes() []DHCPOptionCode {
	c := []DHCPOptionCode{
		{"offerip", 0, "ipv4"},
		{"netmask", 1, "ipv4"},
		{"router", 3, "ipv4"},
		{"dns_server", 6, "ipv4"},
		{"log_server", 7, "ipv4"},
		{"lpr_server", 9, "ipv4"},
		{"hostname", 12, "str"},
		{"domain_name", 15, "str"},
		{"swap_server", 16, "ipv4"},
		{"policy_filter", 21, "ipv4"},
		{"router_solicitation", 32, "ipv4"},
		{"nis_server", 41, "ipv4"},
		{"ntp_server", 42, "ipv4"},
		{"server_id", 54, "ipv4"},
		{"tftp_server", 66, "host_id"},
		{"classless_static_route", 121, "static_routes"},
		{"ms_classless_static_route", 249, "static_routes"},
		{"ip_forward_enable", 19, "bool"},
		{"router_discovery", 31, "bool"},
		{"ethernet_encap", 36, "bool"},
		{"default_ttl", 23, "uint8"},
		{"tcp_ttl", 37, "uint8"},
		{"mtu", 26, "uint16"},
		{"lease_time", 51, "uint32"},
		{"T1", 58, "uint32"},
		{"T2", 59, "uint32"},
		{"wpad", 252, "str"},
		{"bootfile_name", 67, "str"},
		{"path_prefix", 210, "str"},
		{"tftp_server_address", 150, "ipv4"},
		{"arp_cache_timeout", 35, "uint32"},
		{"tcp_keepalive_interval", 38, "uint32"},
		{"domain_search_list", 119, "domains"},
		{"broadcast_address", 28, "ipv4"},
		{"netbios_name_server", 44, "ipv4"},
		{"netbios_node_type", 46, "uint8"},
		{"next_server", 253, "ipv4"},
	}
	slices.SortFunc(c, func(a, b DHCPOptionCode) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return c
}

// Keys returns the tunnel keys sb allocated, to feed the next translation.
func (sb *SB) Keys() Keys {
	k := Keys{Datapaths: map[string]int{}, Ports: map[string]int{}}
	for u, d := range sb.Datapaths {
		k.Datapaths[u] = d.Datapath.TunnelKey
		for _, p := range d.Ports {
			k.Ports[p.Name] = p.TunnelKey
		}
	}
	return k
}
