package plan

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/config"
	"hcnet/chassis/replica"
)

// External-id keys marking the ports the chassis manages.
const (
	KeyChassisID    = "ovn-chassis-id"
	KeyLocalnetPort = "ovn-localnet-port"
)

// EnsureBridge returns the operations creating the integration bridge
// (fail_mode secure, the configured datapath type) when it is missing.
func EnsureBridge(ovs *replica.DB, cfg config.Config) []ovsdb.Operation {
	if findByName(ovs, "Bridge", cfg.Bridge) != nil {
		return nil
	}
	var root string
	for u := range ovs.Table("Open_vSwitch") {
		root = u
	}
	if root == "" {
		return nil
	}
	br := ovsdb.Row{
		"name": cfg.Bridge, "fail_mode": "secure", "ports": set(ovsdb.UUID{GoUUID: "port"}),
		"other_config": omap(map[string]string{"disable-in-band": "true"}),
	}
	if cfg.BridgeDatapathType != "" {
		br["datapath_type"] = cfg.BridgeDatapathType
	}
	return []ovsdb.Operation{
		{Op: ovsdb.OperationInsert, Table: "Interface", UUIDName: "iface", Row: ovsdb.Row{"name": cfg.Bridge, "type": "internal"}},
		{Op: ovsdb.OperationInsert, Table: "Port", UUIDName: "port", Row: ovsdb.Row{"name": cfg.Bridge, "interfaces": set(ovsdb.UUID{GoUUID: "iface"})}},
		{Op: ovsdb.OperationInsert, Table: "Bridge", UUIDName: "bridge", Row: br},
		{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: where(root), Mutations: []ovsdb.Mutation{
			{Column: "bridges", Mutator: ovsdb.MutateOperationInsert, Value: set(ovsdb.UUID{GoUUID: "bridge"})},
		}},
	}
}

// PortSpec is a port the chassis wants on a bridge, with one interface of
// the same name.
type PortSpec struct {
	Bridge      string
	Name        string
	Type        string
	Options     map[string]string
	BFD         map[string]string
	ExternalIDs map[string]string // on the Port; identifies the owner
}

// Tunnels returns the tunnel ports this chassis wants: one per other
// chassis in needed (all when needed is nil), of the first of our
// encapsulation types it offers, with BFD towards bfdPeers.
func Tunnels(sb *replica.DB, cfg config.Config, needed, bfdPeers map[string]bool, bfdMinRx, bfdMinTx int) []PortSpec {
	var out []PortSpec
	used := map[string]bool{}
	for _, ch := range sb.Sorted("Chassis") {
		name := replica.Str(ch, "name")
		if name == cfg.SystemID || name == "" || needed != nil && !needed[name] {
			continue
		}
		offers := map[string]string{}
		for _, eu := range replica.Refs(ch, "encaps") {
			if e := sb.Row("Encap", eu); e != nil {
				if _, ok := offers[replica.Str(e, "type")]; !ok {
					offers[replica.Str(e, "type")] = replica.Str(e, "ip")
				}
			}
		}
		typ, ip := "", ""
		for _, t := range cfg.EncapTypes {
			if a, ok := offers[t]; ok && a != "" {
				typ, ip = t, a
				break
			}
		}
		if typ == "" {
			continue
		}
		pname := ""
		for i := 0; ; i++ {
			pname = fmt.Sprintf("ovn-%s-%d", trunc(sanitize(name), 10), i)
			if !used[pname] {
				break
			}
		}
		used[pname] = true
		opts := map[string]string{"remote_ip": ip, "key": "flow"}
		if typ == config.EncapGeneve {
			opts["csum"] = "true"
		}
		if typ == config.EncapVXLAN {
			opts["dst_port"] = "4789"
		}
		var bfd map[string]string
		if bfdPeers[name] {
			// check_tnl_key: the switch's own BFD takes only control
			// packets with tunnel key 0 (its own); the overlay's BFD
			// sessions (southbound BFD rows, run by the controller path)
			// cross the tunnel under their datapath's key and must reach
			// the pipeline, not slow_path(bfd).
			bfd = map[string]string{"enable": "true", "min_rx": fmt.Sprint(bfdMinRx), "min_tx": fmt.Sprint(bfdMinTx),
				"check_tnl_key": "true"}
		}
		out = append(out, PortSpec{Bridge: cfg.Bridge, Name: pname, Type: typ, Options: opts, BFD: bfd,
			ExternalIDs: map[string]string{KeyChassisID: name + "@" + ip}})
	}
	return out
}

// LocalnetPatches returns the patch port pairs between the integration
// bridge and the provider bridges of the localnet ports of local
// datapaths whose network is mapped on this chassis.
func LocalnetPatches(sb *replica.DB, cfg config.Config, localDPs map[string]bool) []PortSpec {
	var out []PortSpec
	for _, r := range sb.Sorted("Port_Binding") {
		if replica.Str(r, "type") != "localnet" || !localDPs[replica.Ref(r, "datapath")] {
			continue
		}
		lport := replica.Str(r, "logical_port")
		br, ok := cfg.BridgeMappings[replica.Map(r, "options")["network_name"]]
		if !ok {
			continue
		}
		in := "patch-" + cfg.Bridge + "-to-" + lport
		ex := "patch-" + lport + "-to-" + cfg.Bridge
		ids := map[string]string{KeyLocalnetPort: lport}
		out = append(out,
			PortSpec{Bridge: cfg.Bridge, Name: in, Type: "patch", Options: map[string]string{"peer": ex}, ExternalIDs: ids},
			PortSpec{Bridge: br, Name: ex, Type: "patch", Options: map[string]string{"peer": in}, ExternalIDs: ids})
	}
	return out
}

// SyncPorts returns the operations that make the ports the chassis owns
// (those whose Port external_ids carry one of ownerKeys) equal to want:
// missing ones are added, changed interfaces updated, others removed.
// Ports on bridges that do not exist are skipped.
func SyncPorts(ovs *replica.DB, want []PortSpec, ownerKeys ...string) []ovsdb.Operation {
	type have struct {
		bridge, port, iface string
		row                 ovsdb.Row
	}
	existing := map[string]have{}
	bridges := map[string]string{}
	for _, br := range ovs.Sorted("Bridge") {
		bname := replica.Str(br, "name")
		bridges[bname] = replica.UUID(br)
		for _, pu := range replica.Refs(br, "ports") {
			p := ovs.Row("Port", pu)
			if p == nil {
				continue
			}
			owned := false
			for _, k := range ownerKeys {
				if v, _ := replica.MapValue(p, "external_ids", k); v != "" {
					owned = true
				}
			}
			if !owned {
				continue
			}
			var iu string
			var irow ovsdb.Row
			if refs := replica.Refs(p, "interfaces"); len(refs) > 0 {
				iu, irow = refs[0], ovs.Row("Interface", refs[0])
			}
			existing[bname+"/"+replica.Str(p, "name")] = have{bridge: bname, port: pu, iface: iu, row: irow}
		}
	}
	var ops []ovsdb.Operation
	seen := map[string]bool{}
	n := 0
	for _, w := range want {
		key := w.Bridge + "/" + w.Name
		seen[key] = true
		buuid, ok := bridges[w.Bridge]
		if !ok {
			continue
		}
		h, ok := existing[key]
		if !ok {
			n++
			in, pn := fmt.Sprintf("i%d", n), fmt.Sprintf("p%d", n)
			irow := ovsdb.Row{"name": w.Name, "type": w.Type, "options": omap(w.Options)}
			if w.BFD != nil {
				irow["bfd"] = omap(w.BFD)
			}
			ops = append(ops,
				ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Interface", UUIDName: in, Row: irow},
				ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Port", UUIDName: pn, Row: ovsdb.Row{
					"name": w.Name, "interfaces": set(ovsdb.UUID{GoUUID: in}), "external_ids": omap(w.ExternalIDs)}},
				ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Bridge", Where: where(buuid), Mutations: []ovsdb.Mutation{
					{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: set(ovsdb.UUID{GoUUID: pn})}}})
			continue
		}
		if h.row == nil {
			continue
		}
		bfd := w.BFD
		if bfd == nil {
			bfd = map[string]string{}
		}
		if replica.Str(h.row, "type") != w.Type || !reflect.DeepEqual(replica.Map(h.row, "options"), nonNil(w.Options)) ||
			!reflect.DeepEqual(replica.Map(h.row, "bfd"), bfd) {
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Interface", Where: where(h.iface), Row: ovsdb.Row{
				"type": w.Type, "options": omap(w.Options), "bfd": omap(bfd)}})
		}
	}
	keys := make([]string, 0, len(existing))
	for k := range existing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		h := existing[k]
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Bridge", Where: where(bridges[h.bridge]), Mutations: []ovsdb.Mutation{
			{Column: "ports", Mutator: ovsdb.MutateOperationDelete, Value: set(ovsdb.UUID{GoUUID: h.port})}}})
	}
	return ops
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// TunnelPorts returns, from the integration bridge, the OpenFlow port
// and BFD state of each tunnel by remote chassis name.
func TunnelPorts(ovs *replica.DB, bridge string) map[string]TunnelState {
	out := map[string]TunnelState{}
	br := findByName(ovs, "Bridge", bridge)
	if br == nil {
		return out
	}
	for _, pu := range replica.Refs(br, "ports") {
		p := ovs.Row("Port", pu)
		if p == nil {
			continue
		}
		id, _ := replica.MapValue(p, "external_ids", KeyChassisID)
		ch, _, _ := strings.Cut(id, "@")
		if ch == "" {
			continue
		}
		for _, iu := range replica.Refs(p, "interfaces") {
			i := ovs.Row("Interface", iu)
			if i == nil {
				continue
			}
			st := replica.Map(i, "bfd_status")
			en := replica.Map(i, "bfd")["enable"] == "true"
			out[ch] = TunnelState{OFPort: int(replica.Int(i, "ofport")), Type: replica.Str(i, "type"),
				BFDEnabled: en, BFDUp: en && st["state"] == "up" && st["forwarding"] == "true"}
		}
	}
	return out
}

// TunnelState is a tunnel port as Open_vSwitch reports it.
type TunnelState struct {
	OFPort     int
	Type       string
	BFDEnabled bool
	BFDUp      bool
}

// LocalnetOFPorts returns the OpenFlow port of the integration bridge's
// patch towards each localnet logical port.
func LocalnetOFPorts(ovs *replica.DB, bridge string) map[string]int {
	out := map[string]int{}
	br := findByName(ovs, "Bridge", bridge)
	if br == nil {
		return out
	}
	for _, pu := range replica.Refs(br, "ports") {
		p := ovs.Row("Port", pu)
		if p == nil {
			continue
		}
		lp := replica.Map(p, "external_ids")[KeyLocalnetPort]
		if lp == "" {
			continue
		}
		for _, iu := range replica.Refs(p, "interfaces") {
			if i := ovs.Row("Interface", iu); i != nil && replica.Int(i, "ofport") > 0 {
				out[lp] = int(replica.Int(i, "ofport"))
			}
		}
	}
	return out
}

// NeededChassis returns the chassis this one needs tunnels to: every
// chassis of its own site (as ovn-controller's full mesh, so a new port
// there needs no new tunnel), and across sites those with ports bound in
// its local datapaths (VIFs, l3gateway ports), the gateway chassis of
// their chassisredirect ports, and its BFD peers. A chassis with ports in
// a datapath local here also has that datapath local, so the relation is
// symmetric and both ends build the tunnel.
func NeededChassis(sb *replica.DB, me, site string, localDPs map[string]bool, gws Gateways) map[string]bool {
	names := chassisNames(sb)
	out := map[string]bool{}
	for _, ch := range sb.Table("Chassis") {
		if replica.Map(ch, "external_ids")["site"] == site {
			out[replica.Str(ch, "name")] = true
		}
	}
	for u, r := range sb.Table("Port_Binding") {
		if !localDPs[replica.Ref(r, "datapath")] {
			continue
		}
		if c := names[replica.Ref(r, "chassis")]; c != "" {
			out[c] = true
		}
		if c := replica.Map(r, "options")["l3gateway-chassis"]; c != "" {
			out[c] = true
		}
		for _, m := range gws.Members[u] {
			out[m] = true
		}
	}
	for p := range gws.Peers {
		out[p] = true
	}
	delete(out, me)
	return out
}
