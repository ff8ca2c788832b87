package engine

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// Change is one NB row change: Row is the new *nb.X model, or nil when the
// row was deleted.
type Change struct {
	Table string
	UUID  string
	Row   any
}

// Stats describes the work of the last Apply.
type Stats struct {
	// Recomputed lists the datapaths (NB UUIDs) recomputed, sorted.
	Recomputed []string
	// Full is set when the batch fell back to a full recompute.
	Full bool
}

// Engine is the incremental NB → SB translator. It is not safe for
// concurrent use: one goroutine owns it.
type Engine struct {
	nb    *translate.NB
	idx   *translate.Index
	sb    *translate.SB
	keys  translate.Keys
	flows *FlowSets
	stats Stats
	// bulk is the bulkFlows threshold (tests lower it).
	bulk int
}

// New computes the SB output for n from scratch; keys are the tunnel keys SB
// already has. The engine takes ownership of n.
func New(n *translate.NB, keys translate.Keys) *Engine {
	e := &Engine{nb: n, bulk: bulkFlows}
	e.recomputeAll(keys)
	return e
}

func (e *Engine) recomputeAll(keys translate.Keys) {
	e.idx = translate.NewIndex(e.nb, keys)
	e.sb = &translate.SB{Datapaths: map[string]*translate.DatapathOut{}, DHCPOptions: translate.DHCPv4Codes(),
		DHCPv6Options: translate.DHCPv6Codes()}
	for _, u := range e.idx.DatapathUUIDs() {
		if d := e.idx.Datapath(u); d != nil {
			e.sb.Datapaths[u] = d
		}
	}
	e.sb.AddressSets = e.idx.AddressSets()
	e.sb.Global = e.idx.Global()
	e.sb.ServiceMonitors = e.idx.ServiceMonitors()
	e.sb.BFD = e.idx.BFDRows()
	e.flows = NewFlowSets(e.sb)
	// Keys given for rows not (yet) in NB stay reserved for them: SB may
	// be loaded before NB.
	e.keys = e.sb.Keys()
	for k, v := range keys.Datapaths {
		if _, ok := e.keys.Datapaths[k]; !ok {
			e.keys.Datapaths[k] = v
		}
	}
	for k, v := range keys.Ports {
		if _, ok := e.keys.Ports[k]; !ok {
			e.keys.Ports[k] = v
		}
	}
	e.stats = Stats{Recomputed: e.idx.DatapathUUIDs(), Full: true}
}

// SB returns the current desired southbound content. Callers must not
// modify it.
func (e *Engine) SB() *translate.SB { return e.sb }

// NB returns the current northbound snapshot. Callers must not modify it.
func (e *Engine) NB() *translate.NB { return e.nb }

// Flows returns the current output's flows by content. Callers must not
// modify it.
func (e *Engine) Flows() *FlowSets { return e.flows }

// Keys returns the tunnel keys of the current output.
func (e *Engine) Keys() translate.Keys { return e.keys }

// Row returns the current NB model of a row (a *nb.X), or nil.
func (e *Engine) Row(table, uuid string) any {
	n := e.nb
	var r any
	switch table {
	case nb.NBGlobalTable:
		if n.Global != nil && n.Global.UUID == uuid {
			return n.Global
		}
		return nil
	case nb.LogicalSwitchTable:
		r = n.Switches[uuid]
	case nb.LogicalSwitchPortTable:
		r = n.SwitchPorts[uuid]
	case nb.LogicalRouterTable:
		r = n.Routers[uuid]
	case nb.LogicalRouterPortTable:
		r = n.RouterPorts[uuid]
	case nb.ACLTable:
		r = n.ACLs[uuid]
	case nb.AddressSetTable:
		r = n.AddressSets[uuid]
	case nb.PortGroupTable:
		r = n.PortGroups[uuid]
	case nb.DHCPOptionsTable:
		r = n.DHCPOptions[uuid]
	case nb.NATTable:
		r = n.NATs[uuid]
	case nb.LogicalRouterStaticRouteTable:
		r = n.StaticRoutes[uuid]
	case nb.LogicalRouterPolicyTable:
		r = n.Policies[uuid]
	case nb.GatewayChassisTable:
		r = n.GatewayChassis[uuid]
	case nb.HAChassisGroupTable:
		r = n.HAChassisGroups[uuid]
	case nb.HAChassisTable:
		r = n.HAChassis[uuid]
	case nb.QoSTable:
		r = n.QoS[uuid]
	case nb.LoadBalancerTable:
		r = n.LoadBalancers[uuid]
	case nb.DNSTable:
		r = n.DNS[uuid]
	case nb.BFDTable:
		r = n.BFD[uuid]
	case nb.LoadBalancerGroupTable:
		r = n.LoadBalancerGroups[uuid]
	case nb.LoadBalancerHealthCheckTable:
		r = n.HealthChecks[uuid]
	case translate.ServiceMonitorTable:
		r = n.ServiceStatus[uuid]
	case translate.IGMPGroupTable:
		r = n.IGMPGroups[uuid]
	case translate.VirtualParentTable:
		r = n.VirtualParents[uuid]
	}
	if r == nil || reflect.ValueOf(r).IsNil() {
		return nil
	}
	return r
}

// SwitchPort returns the NB row of the switch port named name.
func (e *Engine) SwitchPort(name string) (*nb.LogicalSwitchPort, bool) {
	p, ok := e.idx.SwitchPort(name)
	if !ok {
		return nil, false
	}
	// The index may hold an earlier version of the row (see indexFree).
	if cur := e.nb.SwitchPorts[p.UUID]; cur != nil {
		return cur, true
	}
	return p, true
}

// indexFree reports whether a batch changes only what the translate index
// does not derive anything from, so Apply can keep the index instead of
// rebuilding it (which costs time in proportion to NB): the
// acknowledgement columns northd itself writes, Logical_Switch_Port.up and
// NB_Global's *_cfg and *_cfg_timestamp. Readers of those changes are
// computed as usual; the index reads NB_Global from the snapshot.
func indexFree(changes []Change, prevs []any) bool {
	for i, c := range changes {
		switch c.Table {
		case nb.LogicalSwitchPortTable:
			o, _ := prevs[i].(*nb.LogicalSwitchPort)
			n, _ := c.Row.(*nb.LogicalSwitchPort)
			if o == nil || n == nil {
				return false
			}
			x := *o
			x.Up = n.Up
			if !reflect.DeepEqual(&x, n) {
				return false
			}
		case nb.NBGlobalTable:
			o, _ := prevs[i].(*nb.NBGlobal)
			n, _ := c.Row.(*nb.NBGlobal)
			if o == nil || n == nil {
				return false
			}
			x := *o
			x.NbCfg, x.NbCfgTimestamp = n.NbCfg, n.NbCfgTimestamp
			x.SbCfg, x.SbCfgTimestamp = n.SbCfg, n.SbCfgTimestamp
			x.HvCfg, x.HvCfgTimestamp = n.HvCfg, n.HvCfgTimestamp
			if !reflect.DeepEqual(&x, n) {
				return false
			}
		case translate.ServiceMonitorTable, translate.IGMPGroupTable, translate.VirtualParentTable:
			// Service_Monitor status and IGMP groups are read when
			// flows are built, from the snapshot.
		default:
			return false
		}
	}
	return true
}

// PortDatapath returns the NB key of the datapath a logical port belongs to.
func (e *Engine) PortDatapath(name string) (string, bool) { return e.idx.PortDatapath(name) }

// Stats returns what the last Apply did.
func (e *Engine) Stats() Stats { return e.stats }

// Delta is the result of one Apply: the datapaths whose output changed, with
// their old and new output (Old nil: new datapath; New nil: deleted), the
// flow contents whose set of datapaths may have changed, and whether global
// outputs changed.
type Delta struct {
	Datapaths map[string]DatapathDelta
	// Flows holds at least every content (Content of a flow) whose
	// datapaths in Flows() changed; after a large batch, every content of
	// the recomputed datapaths.
	Flows       map[translate.Flow]bool
	AddressSets bool
	Global      bool
	// ServiceMonitors is set when the desired Service_Monitor rows
	// changed.
	ServiceMonitors bool
	// BFD is set when the desired BFD rows changed.
	BFD bool
}

// DatapathDelta holds one datapath's output before and after.
type DatapathDelta struct {
	Old, New *translate.DatapathOut
}

// Empty reports whether d changes nothing.
func (d Delta) Empty() bool {
	return len(d.Datapaths) == 0 && len(d.Flows) == 0 && !d.AddressSets && !d.Global && !d.ServiceMonitors && !d.BFD
}

func equalMonitor(a, b translate.ServiceMonitor) bool {
	return a.Key == b.Key && a.SrcIP == b.SrcIP && a.SrcMAC == b.SrcMAC && a.PortUp == b.PortUp && maps.Equal(a.Options, b.Options)
}

// bulkFlows is the number of recomputed datapaths from which Apply rebuilds
// the flow index instead of editing it datapath by datapath (sorted
// insertion into sets of thousands of datapaths is quadratic).
const bulkFlows = 64

// Apply applies a batch of NB changes and returns what changed in SB.
func (e *Engine) Apply(changes []Change) (Delta, error) {
	if len(changes) == 0 {
		e.stats = Stats{}
		return Delta{Datapaths: map[string]DatapathDelta{}, Flows: map[translate.Flow]bool{}}, nil
	}
	old := e.idx
	affected := map[string]bool{}
	prevs := make([]any, len(changes))
	for i, c := range changes {
		prev, err := e.set(c)
		if err != nil {
			return Delta{}, err
		}
		prevs[i] = prev
		if prev != nil {
			for _, u := range old.Readers(c.Table, c.UUID, prev, c.Row) {
				affected[u] = true
			}
		}
	}
	if !indexFree(changes, prevs) {
		e.idx = translate.NewIndexFrom(old, e.nb, e.keys)
	}
	for i, c := range changes {
		if c.Row != nil {
			for _, u := range e.idx.Readers(c.Table, c.UUID, prevs[i], c.Row) {
				affected[u] = true
			}
		}
		// A switch or router appearing or disappearing is its own reader.
		if c.Table == nb.LogicalSwitchTable || c.Table == nb.LogicalRouterTable {
			affected[c.UUID] = true
		}
	}
	delta := Delta{Datapaths: map[string]DatapathDelta{}, Flows: map[translate.Flow]bool{}}
	recomputed := slices.Sorted(maps.Keys(affected))
	bulk := len(recomputed) >= e.bulk
	// Port keys: a recomputed datapath keeps the keys of its surviving
	// ports (allocation reads e.keys); keys of vanished ports are dropped
	// afterwards, so Keys always describes the current output.
	var gone []string
	var outs []*translate.DatapathOut
	for _, u := range recomputed {
		prev := e.sb.Datapaths[u]
		next := e.idx.Datapath(u)
		if prev != nil {
			for _, p := range prev.Ports {
				gone = append(gone, p.Name)
			}
		}
		if next == nil {
			delete(e.sb.Datapaths, u)
		} else {
			e.sb.Datapaths[u] = next
			outs = append(outs, next)
		}
		if prev == nil && next == nil {
			continue
		}
		if bulk {
			for _, o := range []*translate.DatapathOut{prev, next} {
				if o != nil {
					for _, f := range o.Flows {
						delta.Flows[Content(f)] = true
					}
				}
			}
		} else {
			e.flows.update(u, prev, next, delta.Flows)
		}
		if !equalOut(prev, next) {
			delta.Datapaths[u] = DatapathDelta{Old: prev, New: next}
		}
	}
	if bulk {
		e.flows = NewFlowSets(e.sb)
	}
	for _, name := range gone {
		delete(e.keys.Ports, name)
	}
	for _, d := range outs {
		for _, p := range d.Ports {
			e.keys.Ports[p.Name] = p.TunnelKey
		}
	}
	for k, v := range e.idx.DatapathKeys {
		e.keys.Datapaths[k] = v
	}
	for _, c := range changes {
		if c.Row == nil && (c.Table == nb.LogicalSwitchTable || c.Table == nb.LogicalRouterTable) {
			delete(e.keys.Datapaths, c.UUID)
		}
	}
	as := e.idx.AddressSets()
	if !maps.EqualFunc(as, e.sb.AddressSets, slices.Equal) {
		delta.AddressSets = true
		e.sb.AddressSets = as
	}
	g := e.idx.Global()
	if g.NbCfg != e.sb.Global.NbCfg || !maps.Equal(g.Options, e.sb.Global.Options) {
		delta.Global = true
		e.sb.Global = g
	}
	if sm := e.idx.ServiceMonitors(); !slices.EqualFunc(sm, e.sb.ServiceMonitors, equalMonitor) {
		delta.ServiceMonitors = true
		e.sb.ServiceMonitors = sm
	}
	if b := e.idx.BFDRows(); !slices.Equal(b, e.sb.BFD) {
		delta.BFD = true
		e.sb.BFD = b
	}
	e.stats = Stats{Recomputed: recomputed}
	return delta, nil
}

// set stores one change in the NB snapshot and returns the previous row.
func (e *Engine) set(c Change) (any, error) {
	n := e.nb
	switch c.Table {
	case nb.NBGlobalTable:
		prev := n.Global
		r, ok := c.Row.(*nb.NBGlobal)
		if c.Row != nil && !ok {
			return nil, fmt.Errorf("table %s: row is %T", c.Table, c.Row)
		}
		if c.Row == nil {
			r = nil
		}
		n.Global = r
		if prev == nil {
			return nil, nil
		}
		return prev, nil
	case nb.LogicalSwitchTable:
		return setRow(n.Switches, c)
	case nb.LogicalSwitchPortTable:
		return setRow(n.SwitchPorts, c)
	case nb.LogicalRouterTable:
		return setRow(n.Routers, c)
	case nb.LogicalRouterPortTable:
		return setRow(n.RouterPorts, c)
	case nb.ACLTable:
		return setRow(n.ACLs, c)
	case nb.AddressSetTable:
		return setRow(n.AddressSets, c)
	case nb.PortGroupTable:
		return setRow(n.PortGroups, c)
	case nb.DHCPOptionsTable:
		return setRow(n.DHCPOptions, c)
	case nb.NATTable:
		return setRow(n.NATs, c)
	case nb.LogicalRouterStaticRouteTable:
		return setRow(n.StaticRoutes, c)
	case nb.LogicalRouterPolicyTable:
		return setRow(n.Policies, c)
	case nb.GatewayChassisTable:
		return setRow(n.GatewayChassis, c)
	case nb.HAChassisGroupTable:
		return setRow(n.HAChassisGroups, c)
	case nb.HAChassisTable:
		return setRow(n.HAChassis, c)
	case nb.QoSTable:
		return setRow(n.QoS, c)
	case nb.LoadBalancerTable:
		return setRow(n.LoadBalancers, c)
	case nb.DNSTable:
		return setRow(n.DNS, c)
	case nb.BFDTable:
		return setRow(n.BFD, c)
	case nb.LoadBalancerGroupTable:
		return setRow(n.LoadBalancerGroups, c)
	case nb.LoadBalancerHealthCheckTable:
		return setRow(n.HealthChecks, c)
	case translate.ServiceMonitorTable:
		return setRow(n.ServiceStatus, c)
	case translate.IGMPGroupTable:
		return setRow(n.IGMPGroups, c)
	case translate.VirtualParentTable:
		return setRow(n.VirtualParents, c)
	}
	return nil, nil // a table translate does not read
}

func setRow[T any](m map[string]*T, c Change) (any, error) {
	prev, had := m[c.UUID]
	if c.Row == nil {
		delete(m, c.UUID)
	} else {
		r, ok := c.Row.(*T)
		if !ok {
			return nil, fmt.Errorf("table %s row %s: got %T", c.Table, c.UUID, c.Row)
		}
		m[c.UUID] = r
	}
	if !had {
		return nil, nil
	}
	return prev, nil
}
