package translate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Text renders sb as sorted, stable text: the form golden files pin and the
// property test compares.
func (sb *SB) Text() string {
	var b strings.Builder
	dps := slices.Collect(maps.Values(sb.Datapaths))
	slices.SortFunc(dps, func(a, b *DatapathOut) int {
		return cmp.Or(cmp.Compare(a.Datapath.TunnelKey, b.Datapath.TunnelKey), cmp.Compare(a.Datapath.Key, b.Datapath.Key))
	})
	names := map[string]string{}
	for _, d := range dps {
		names[d.Datapath.Key] = d.Datapath.Name
	}
	b.WriteString("Datapath_Binding\n")
	for _, d := range dps {
		kind := "switch"
		if d.Datapath.Router {
			kind = "router"
		}
		fmt.Fprintf(&b, "  %s %s key=%d\n", kind, d.Datapath.Name, d.Datapath.TunnelKey)
	}
	b.WriteString("Port_Binding\n")
	for _, d := range dps {
		for _, p := range sortedPorts(d.Ports) {
			fmt.Fprintf(&b, "  %s/%s\n", d.Datapath.Name, p.String())
		}
	}
	b.WriteString("Multicast_Group\n")
	for _, d := range dps {
		for _, g := range d.Groups {
			fmt.Fprintf(&b, "  %s/%s key=%d ports=%s\n", d.Datapath.Name, g.Name, g.TunnelKey, strings.Join(g.Ports, ","))
		}
	}
	b.WriteString("HA_Chassis_Group\n")
	for _, d := range dps {
		for _, g := range d.HAGroups {
			var m []string
			for _, c := range g.Members {
				m = append(m, fmt.Sprintf("%s:%d", c.Chassis, c.Priority))
			}
			fmt.Fprintf(&b, "  %s %s\n", g.Name, strings.Join(m, ","))
		}
	}
	b.WriteString("Port_Group\n")
	for _, d := range dps {
		for _, k := range slices.Sorted(maps.Keys(d.PortGroups)) {
			fmt.Fprintf(&b, "  %s %s\n", k, strings.Join(d.PortGroups[k], ","))
		}
	}
	b.WriteString("Address_Set\n")
	for _, k := range slices.Sorted(maps.Keys(sb.AddressSets)) {
		fmt.Fprintf(&b, "  %s %s\n", k, strings.Join(sb.AddressSets[k], ","))
	}
	fmt.Fprintf(&b, "SB_Global nb_cfg=%d options=%s\n", sb.Global.NbCfg, mapText(sb.Global.Options))
	if slices.ContainsFunc(dps, func(d *DatapathOut) bool { return len(d.DNS) > 0 }) {
		b.WriteString("DNS\n")
		for _, d := range dps {
			for _, r := range d.DNS {
				fmt.Fprintf(&b, "  %s/%s records=%s\n", d.Datapath.Name, r.Key, mapText(r.Records))
			}
		}
	}
	if slices.ContainsFunc(dps, func(d *DatapathOut) bool { return len(d.LoadBalancers) > 0 }) {
		b.WriteString("Load_Balancer\n")
		for _, d := range dps {
			for _, l := range d.LoadBalancers {
				opts := ""
				if len(l.Options) > 1 {
					opts = " options=" + mapText(l.Options)
				}
				fmt.Fprintf(&b, "  %s/%s name=%s protocol=%s vips=%s%s\n", d.Datapath.Name, l.Key, l.Name, l.Protocol, mapText(l.Vips), opts)
			}
		}
	}
	if slices.ContainsFunc(dps, func(d *DatapathOut) bool { return len(d.BFD) > 0 }) {
		b.WriteString("BFD\n")
		for _, d := range dps {
			for _, s := range d.BFD {
				fmt.Fprintf(&b, "  %s/%s port=%s dst=%s min_tx=%d min_rx=%d detect_mult=%d options=%s\n",
					d.Datapath.Name, s.Key, s.LogicalPort, s.DstIP, s.MinTx, s.MinRx, s.DetectMult, mapText(s.Options))
			}
		}
	}
	if slices.ContainsFunc(dps, func(d *DatapathOut) bool { return d.IPMulticast != nil && d.IPMulticast.Enabled }) {
		b.WriteString("IP_Multicast\n")
		for _, d := range dps {
			if m := d.IPMulticast; m != nil && m.Enabled {
				fmt.Fprintf(&b, "  %s querier=%t eth_src=%q ip4_src=%q ip6_src=%q table_size=%d idle_timeout=%d query_interval=%d query_max_resp=%d\n",
					d.Datapath.Name, m.Querier, m.EthSrc, m.IP4Src, m.IP6Src, m.TableSize, m.IdleTimeout, m.QueryInterval, m.QueryMaxResp)
			}
		}
	}
	if len(sb.BFD) > 0 {
		b.WriteString("BFD rows\n")
		for _, r := range sb.BFD {
			fmt.Fprintf(&b, "  %s %s min_tx=%d min_rx=%d detect_mult=%d nb_status=%s\n", r.LogicalPort, r.DstIP, r.MinTx, r.MinRx, r.DetectMult, r.NBStatus)
		}
	}
	if len(sb.ServiceMonitors) > 0 {
		b.WriteString("Service_Monitor\n")
		for _, m := range sb.ServiceMonitors {
			fmt.Fprintf(&b, "  %s src_ip=%s src_mac=%s options=%s port_up=%t\n", m.Key, m.SrcIP, m.SrcMAC, mapText(m.Options), m.PortUp)
		}
	}
	for _, d := range dps {
		b.WriteString(FlowsText(d.Datapath.Name, d.Flows))
	}
	return b.String()
}

// FlowsText renders the flows of one datapath like "ovn-sbctl lflow-list".
func FlowsText(name string, flows []Flow) string {
	var b strings.Builder
	fl := slices.Clone(flows)
	SortFlows(fl)
	last := ""
	for _, f := range fl {
		if f.Pipeline != last {
			fmt.Fprintf(&b, "Datapath: %q Pipeline: %s\n", name, f.Pipeline)
			last = f.Pipeline
		}
		fmt.Fprintf(&b, "  table=%-2d(%-20s), priority=%-5d, match=(%s), action=(%s)\n", f.Table, f.Stage, f.Priority, f.Match, f.Actions)
	}
	return b.String()
}

// SortFlows orders flows as lflow-list does: ingress before egress, by table,
// priority descending, then match and actions.
func SortFlows(fl []Flow) {
	slices.SortFunc(fl, func(a, b Flow) int {
		return cmp.Or(
			cmp.Compare(a.Datapath, b.Datapath),
			-cmp.Compare(a.Pipeline, b.Pipeline), // "ingress" > "egress"
			cmp.Compare(a.Table, b.Table),
			-cmp.Compare(a.Priority, b.Priority),
			cmp.Compare(a.Match, b.Match),
			cmp.Compare(a.Actions, b.Actions))
	})
}

func sortedPorts(ps []Port) []Port {
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b Port) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// String renders a port binding on one line.
func (p Port) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s key=%d", p.Name, p.TunnelKey)
	if p.Type != "" {
		fmt.Fprintf(&b, " type=%s", p.Type)
	}
	if len(p.MAC) > 0 {
		fmt.Fprintf(&b, " mac=%q", p.MAC)
	}
	if len(p.Options) > 0 {
		fmt.Fprintf(&b, " options=%s", mapText(p.Options))
	}
	if len(p.PortSecurity) > 0 {
		fmt.Fprintf(&b, " port_security=%q", p.PortSecurity)
	}
	if len(p.NATAddresses) > 0 {
		fmt.Fprintf(&b, " nat_addresses=%q", p.NATAddresses)
	}
	if p.ParentPort != "" {
		fmt.Fprintf(&b, " parent=%s", p.ParentPort)
	}
	if p.Tag != 0 {
		fmt.Fprintf(&b, " tag=%d", p.Tag)
	}
	if p.HAChassisGroup != "" {
		fmt.Fprintf(&b, " ha_chassis_group=%s", p.HAChassisGroup)
	}
	return b.String()
}

func mapText(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
