package engine

import (
	"maps"
	"slices"

	"hcnet/northd/translate"
)

// DatapathDiff is the row-level difference between two outputs of one
// datapath: what the writer must insert, update and delete.
type DatapathDiff struct {
	// Datapath is set when the Datapath_Binding row must be written.
	Datapath *translate.Datapath
	// DeleteDatapath is set when the datapath is gone.
	DeleteDatapath bool
	AddFlows       []translate.Flow
	DelFlows       []translate.Flow
	PutPorts       []translate.Port // new or changed
	DelPorts       []string
	PutGroups      []translate.MulticastGroup
	DelGroups      []string
	PutHAGroups    []translate.HAGroup
	DelHAGroups    []string
	PutPortGroups  map[string][]string
	DelPortGroups  []string
	// IPMulticast is set when the switch's IP_Multicast row changed.
	IPMulticast bool
}

// Rows counts the rows the diff writes.
func (d DatapathDiff) Rows() int {
	n := len(d.AddFlows) + len(d.DelFlows) + len(d.PutPorts) + len(d.DelPorts) + len(d.PutGroups) +
		len(d.DelGroups) + len(d.PutHAGroups) + len(d.DelHAGroups) + len(d.PutPortGroups) + len(d.DelPortGroups)
	if d.Datapath != nil || d.DeleteDatapath {
		n++
	}
	if d.IPMulticast {
		n++
	}
	return n
}

// Diff computes the row-level difference from old to new (either may be nil).
func Diff(old, new *translate.DatapathOut) DatapathDiff {
	var d DatapathDiff
	if old == nil {
		old = &translate.DatapathOut{}
	}
	if new == nil {
		d.DeleteDatapath = true
		new = &translate.DatapathOut{}
	} else if old.Datapath != new.Datapath {
		dp := new.Datapath
		d.Datapath = &dp
	}
	// Flows: set difference by full content.
	oldF := make(map[translate.Flow]int, len(old.Flows))
	for _, f := range old.Flows {
		oldF[f]++
	}
	for _, f := range new.Flows {
		if oldF[f] > 0 {
			oldF[f]--
			continue
		}
		d.AddFlows = append(d.AddFlows, f)
	}
	for f, n := range oldF {
		for ; n > 0; n-- {
			d.DelFlows = append(d.DelFlows, f)
		}
	}
	translate.SortFlows(d.DelFlows)

	oldP := map[string]translate.Port{}
	for _, p := range old.Ports {
		oldP[p.Name] = p
	}
	for _, p := range new.Ports {
		if o, ok := oldP[p.Name]; !ok || !equalPort(o, p) {
			d.PutPorts = append(d.PutPorts, p)
		}
		delete(oldP, p.Name)
	}
	d.DelPorts = slices.Sorted(maps.Keys(oldP))

	oldG := map[string]translate.MulticastGroup{}
	for _, g := range old.Groups {
		oldG[g.Name] = g
	}
	for _, g := range new.Groups {
		if o, ok := oldG[g.Name]; !ok || o.TunnelKey != g.TunnelKey || !slices.Equal(o.Ports, g.Ports) {
			d.PutGroups = append(d.PutGroups, g)
		}
		delete(oldG, g.Name)
	}
	d.DelGroups = slices.Sorted(maps.Keys(oldG))

	oldH := map[string]translate.HAGroup{}
	for _, g := range old.HAGroups {
		oldH[g.Name] = g
	}
	for _, g := range new.HAGroups {
		if o, ok := oldH[g.Name]; !ok || !slices.Equal(o.Members, g.Members) {
			d.PutHAGroups = append(d.PutHAGroups, g)
		}
		delete(oldH, g.Name)
	}
	d.DelHAGroups = slices.Sorted(maps.Keys(oldH))

	for name, ports := range new.PortGroups {
		if o, ok := old.PortGroups[name]; !ok || !slices.Equal(o, ports) {
			if d.PutPortGroups == nil {
				d.PutPortGroups = map[string][]string{}
			}
			d.PutPortGroups[name] = ports
		}
	}
	for name := range old.PortGroups {
		if _, ok := new.PortGroups[name]; !ok {
			d.DelPortGroups = append(d.DelPortGroups, name)
		}
	}
	slices.Sort(d.DelPortGroups)
	if (old.IPMulticast == nil) != (new.IPMulticast == nil) ||
		(old.IPMulticast != nil && *old.IPMulticast != *new.IPMulticast) {
		d.IPMulticast = true
	}
	return d
}

func equalPort(a, b translate.Port) bool {
	return a.Name == b.Name && a.Datapath == b.Datapath && a.TunnelKey == b.TunnelKey && a.Type == b.Type &&
		maps.Equal(a.Options, b.Options) && slices.Equal(a.MAC, b.MAC) && slices.Equal(a.PortSecurity, b.PortSecurity) &&
		slices.Equal(a.NATAddresses, b.NATAddresses) && a.ParentPort == b.ParentPort && a.Tag == b.Tag &&
		a.HAChassisGroup == b.HAChassisGroup && maps.Equal(a.ExternalIDs, b.ExternalIDs)
}

func equalOut(a, b *translate.DatapathOut) bool {
	if a == nil || b == nil {
		return a == b
	}
	return Diff(a, b).Rows() == 0
}
