package translate

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"hcnet/schema/nb"
)

// Tunnel key ranges (ovn-architecture(7)).
const (
	maxDatapathKey = 16711680 // 2^24 - 2^16, what Geneve and VXLAN both carry
	maxPortKey     = 32767
	mcFloodKey     = 32768
	mcUnknownKey   = 32769
)

// switchPort is a Logical_Switch_Port with what translate derived from it.
type switchPort struct {
	Row      *nb.LogicalSwitchPort
	Switch   string // NB UUID
	Addrs    []lspAddr
	Unknown  bool
	IsRouter bool   // type router
	Peer     string // for type router: the router port name (options:router-port)
}

func (p *switchPort) enabled() bool { return p.Row.Enabled == nil || *p.Row.Enabled }

// routerPort is a Logical_Router_Port with what translate derived from it.
type routerPort struct {
	Row    *nb.LogicalRouterPort
	Router string // NB UUID
	MAC    string
	V4     []netip.Prefix
	V6     []netip.Prefix
	LLA    netip.Addr
	// PeerSwitchPort is the switch port whose options:router-port names us
	// (the smallest name if several do; SwitchPeers lists them all).
	PeerSwitchPort string
	SwitchPeers    []string
	// PeerRouterPort is the router port named in our peer column.
	PeerRouterPort string
	// Gateway marks a distributed gateway port (gateway_chassis or
	// ha_chassis_group set); CR is then its chassisredirect port name.
	Gateway bool
	CR      string
}

func (p *routerPort) enabled() bool { return p.Row.Enabled == nil || *p.Row.Enabled }

// Index is the NB snapshot arranged for lookups. Build it with NewIndex; it
// is read-only afterwards and safe to share between goroutines.
type Index struct {
	NB *NB

	SwitchPorts map[string]*switchPort // by name
	RouterPorts map[string]*routerPort // by name
	// PortGroupsOf lists, per switch UUID, the port groups with a member on it.
	PortGroupsOf map[string][]*nb.PortGroup
	// portPG maps a switch port name to the port groups it is in.
	portPG map[string][]*nb.PortGroup

	Keys Keys // datapath keys decided here; port keys per datapath later
	// svc is the health-check view (health.go).
	svc svcIndex
	// DatapathKeys are the allocated datapath tunnel keys by NB UUID.
	DatapathKeys map[string]int

	readers readers
}

// NewIndex arranges n for translation. prev holds the tunnel keys already
// allocated in SB; prev.Datapaths may be nil.
func NewIndex(n *NB, prev Keys) *Index { return NewIndexFrom(nil, n, prev) }

// NewIndexFrom is NewIndex reusing what old (an index of an earlier snapshot,
// or nil) derived from rows that did not change.
func NewIndexFrom(old *Index, n *NB, prev Keys) *Index {
	x := &Index{
		NB:           n,
		SwitchPorts:  make(map[string]*switchPort, len(n.SwitchPorts)),
		RouterPorts:  make(map[string]*routerPort, len(n.RouterPorts)),
		PortGroupsOf: map[string][]*nb.PortGroup{},
		portPG:       map[string][]*nb.PortGroup{},
		Keys:         prev,
	}
	for swUUID, sw := range n.Switches {
		for _, pu := range sw.Ports {
			row := n.SwitchPorts[pu]
			if row == nil {
				continue
			}
			if old != nil {
				if op := old.SwitchPorts[row.Name]; op != nil && op.Row == row && op.Switch == swUUID {
					if cur := x.SwitchPorts[row.Name]; cur == nil || cur.Switch > swUUID {
						x.SwitchPorts[row.Name] = op
					}
					continue
				}
			}
			p := &switchPort{Row: row, Switch: swUUID}
			for _, a := range row.Addresses {
				switch strings.TrimSpace(a) {
				case "unknown":
					p.Unknown = true
					continue
				case "router", "dynamic", "":
					continue
				}
				if la, ok := parseLSPAddress(a); ok {
					p.Addrs = append(p.Addrs, la)
				}
			}
			if row.Type == "router" {
				p.IsRouter = true
				p.Peer = row.Options["router-port"]
			}
			// A port listed by two switches (invalid NB) stays on the
			// one with the smaller UUID, so the result is deterministic.
			if prev := x.SwitchPorts[row.Name]; prev != nil && prev.Switch < swUUID {
				continue
			}
			x.SwitchPorts[row.Name] = p
		}
	}
	for rUUID, r := range n.Routers {
		for _, pu := range r.Ports {
			row := n.RouterPorts[pu]
			if row == nil {
				continue
			}
			p := &routerPort{Row: row, Router: rUUID, MAC: normMAC(row.MAC)}
			p.V4, p.V6, _ = lrpNetworks(row.Networks)
			p.LLA = linkLocal(p.MAC)
			if prev := x.RouterPorts[row.Name]; prev != nil && prev.Router < rUUID {
				continue
			}
			if row.Peer != nil {
				p.PeerRouterPort = *row.Peer
			}
			if len(row.GatewayChassis) > 0 || row.HaChassisGroup != nil {
				p.Gateway = true
				p.CR = "cr-" + row.Name
			}
			x.RouterPorts[row.Name] = p
		}
	}
	for _, sp := range x.SwitchPorts {
		if sp.IsRouter {
			if rp := x.RouterPorts[sp.Peer]; rp != nil {
				rp.SwitchPeers = append(rp.SwitchPeers, sp.Row.Name)
				if rp.PeerSwitchPort == "" || sp.Row.Name < rp.PeerSwitchPort {
					rp.PeerSwitchPort = sp.Row.Name
				}
			}
		}
	}
	for _, pg := range n.PortGroups {
		seen := map[string]bool{}
		for _, pu := range pg.Ports {
			row := n.SwitchPorts[pu]
			if row == nil {
				continue
			}
			sp := x.SwitchPorts[row.Name]
			if sp == nil {
				continue
			}
			x.portPG[row.Name] = append(x.portPG[row.Name], pg)
			if !seen[sp.Switch] {
				seen[sp.Switch] = true
				x.PortGroupsOf[sp.Switch] = append(x.PortGroupsOf[sp.Switch], pg)
			}
		}
	}
	for k := range x.PortGroupsOf {
		slices.SortFunc(x.PortGroupsOf[k], func(a, b *nb.PortGroup) int { return cmp.Compare(a.Name, b.Name) })
	}
	x.DatapathKeys = allocateDatapathKeys(n, prev.Datapaths)
	x.buildSvc()
	x.buildReaders()
	return x
}

func normMAC(s string) string {
	if la, ok := parseLSPAddress(s); ok {
		return la.MAC
	}
	return s
}

// allocateDatapathKeys keeps every valid previous key and gives new
// datapaths the lowest free keys, in order of name then UUID.
func allocateDatapathKeys(n *NB, prev map[string]int) map[string]int {
	type dp struct{ uuid, name string }
	var all []dp
	for u, s := range n.Switches {
		all = append(all, dp{u, s.Name})
	}
	for u, r := range n.Routers {
		all = append(all, dp{u, r.Name})
	}
	slices.SortFunc(all, func(a, b dp) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.uuid, b.uuid))
	})
	keys := make(map[string]int, len(all))
	used := map[int]bool{}
	var pending []string
	for _, d := range all {
		k, ok := prev[d.uuid]
		if ok && k > 0 && k <= maxDatapathKey && !used[k] {
			keys[d.uuid] = k
			used[k] = true
			continue
		}
		pending = append(pending, d.uuid)
	}
	next := 1
	for _, u := range pending {
		for used[next] {
			next++
		}
		if next > maxDatapathKey {
			break // out of keys: the datapath is left out
		}
		keys[u] = next
		used[next] = true
	}
	return keys
}

// allocatePortKeys does the same for the ports of one datapath.
func allocatePortKeys(names []string, prev map[string]int) map[string]int {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	keys := make(map[string]int, len(sorted))
	used := map[int]bool{}
	var pending []string
	for _, n := range sorted {
		k, ok := prev[n]
		if ok && k > 0 && k <= maxPortKey && !used[k] {
			keys[n] = k
			used[k] = true
			continue
		}
		pending = append(pending, n)
	}
	next := 1
	for _, n := range pending {
		for used[next] {
			next++
		}
		if next > maxPortKey {
			break
		}
		keys[n] = next
		used[next] = true
	}
	return keys
}

// switchPortsOf returns the ports of a switch sorted by name.
func (x *Index) switchPortsOf(sw *nb.LogicalSwitch) []*switchPort {
	out := make([]*switchPort, 0, len(sw.Ports))
	for _, pu := range sw.Ports {
		if row := x.NB.SwitchPorts[pu]; row != nil {
			if sp := x.SwitchPorts[row.Name]; sp != nil && sp.Switch == sw.UUID {
				out = append(out, sp)
			}
		}
	}
	slices.SortFunc(out, func(a, b *switchPort) int { return cmp.Compare(a.Row.Name, b.Row.Name) })
	return slices.CompactFunc(out, func(a, b *switchPort) bool { return a.Row.Name == b.Row.Name })
}

// routerPortsOf returns the ports of a router sorted by name.
func (x *Index) routerPortsOf(r *nb.LogicalRouter) []*routerPort {
	out := make([]*routerPort, 0, len(r.Ports))
	for _, pu := range r.Ports {
		if row := x.NB.RouterPorts[pu]; row != nil {
			if rp := x.RouterPorts[row.Name]; rp != nil && rp.Router == r.UUID {
				out = append(out, rp)
			}
		}
	}
	slices.SortFunc(out, func(a, b *routerPort) int { return cmp.Compare(a.Row.Name, b.Row.Name) })
	return slices.CompactFunc(out, func(a, b *routerPort) bool { return a.Row.Name == b.Row.Name })
}

// gatewayChassisOf returns the chassis of the router, from options:chassis
// (a gateway router), or "".
func gatewayChassisOf(r *nb.LogicalRouter) string {
	if r == nil {
		return ""
	}
	return r.Options["chassis"]
}

// SwitchPort returns the NB row of the switch port named name.
func (x *Index) SwitchPort(name string) (*nb.LogicalSwitchPort, bool) {
	if sp := x.SwitchPorts[name]; sp != nil {
		return sp.Row, true
	}
	return nil, false
}

// PortDatapath returns the NB UUID of the switch or router that owns the
// logical port name (switch ports, router ports and "cr-" ports).
func (x *Index) PortDatapath(name string) (string, bool) {
	if sp := x.SwitchPorts[name]; sp != nil {
		return sp.Switch, true
	}
	if rp := x.RouterPorts[name]; rp != nil {
		return rp.Router, true
	}
	if base, ok := strings.CutPrefix(name, "cr-"); ok {
		if rp := x.RouterPorts[base]; rp != nil && rp.Gateway {
			return rp.Router, true
		}
	}
	return "", false
}

// DatapathUUIDs returns every switch and router UUID, sorted.
func (x *Index) DatapathUUIDs() []string {
	out := make([]string, 0, len(x.NB.Switches)+len(x.NB.Routers))
	for u := range x.NB.Switches {
		out = append(out, u)
	}
	for u := range x.NB.Routers {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}
