package plan

import (
	"reflect"
	"sort"
	"strconv"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/config"
	"hcnet/chassis/replica"
)

func where(uuid string) []ovsdb.Condition {
	return []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: uuid}}}
}

func set(atoms ...any) ovsdb.OvsSet {
	if atoms == nil {
		atoms = []any{}
	}
	return ovsdb.OvsSet{GoSet: atoms}
}

func omap(m map[string]string) ovsdb.OvsMap {
	g := make(map[any]any, len(m))
	for k, v := range m {
		g[k] = v
	}
	return ovsdb.OvsMap{GoMap: g}
}

// ChassisRow is the desired content of this chassis's registration.
type ChassisRow struct {
	Name        string
	Hostname    string
	Encaps      []EncapRow
	ExternalIDs map[string]string
	OtherConfig map[string]string
}

// EncapRow is one Encap.
type EncapRow struct {
	Type, IP string
	Options  map[string]string
}

// DesiredChassis derives the registration from the configuration.
func DesiredChassis(cfg config.Config, hostname string) ChassisRow {
	c := ChassisRow{
		Name:        cfg.SystemID,
		Hostname:    hostname,
		ExternalIDs: map[string]string{},
		OtherConfig: map[string]string{
			"datapath-type":       cfg.BridgeDatapathType,
			"ovn-bridge-mappings": config.FormatBridgeMappings(cfg.BridgeMappings),
			"is-interconn":        "false",
			"ct-no-masked-label":  "true",
			// ct_lb_mark's skip_snat/force_snat options are compiled
			// (internal/lflow): without this ovn-northd leaves them out
			// and relies on ct_mark bits nothing then sets.
			"ovn-ct-lb-related": "true",
		},
	}
	if cfg.Hostname != "" {
		c.Hostname = cfg.Hostname
	}
	if cfg.CMSOptions != "" {
		c.OtherConfig["ovn-cms-options"] = cfg.CMSOptions
	}
	if cfg.Site != "" {
		c.ExternalIDs["site"] = cfg.Site
		c.OtherConfig["site"] = cfg.Site
	}
	for _, t := range cfg.EncapTypes {
		c.Encaps = append(c.Encaps, EncapRow{Type: t, IP: cfg.EncapIP, Options: map[string]string{"csum": "true"}})
	}
	return c
}

// Register returns the operations that make the southbound hold c, its
// Encaps and its Chassis_Private row; none when it already does.
func Register(sb *replica.DB, c ChassisRow) []ovsdb.Operation {
	var ops []ovsdb.Operation
	existing := findByName(sb, "Chassis", c.Name)
	encapsOK := existing != nil && sameEncaps(sb, existing, c)
	var chassisRef ovsdb.UUID
	var encapRefs []any
	if !encapsOK {
		for i, e := range c.Encaps {
			name := "encap" + string(rune('a'+i))
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Encap", UUIDName: name, Row: ovsdb.Row{
				"type": e.Type, "ip": e.IP, "chassis_name": c.Name, "options": omap(e.Options),
			}})
			encapRefs = append(encapRefs, ovsdb.UUID{GoUUID: name})
		}
	}
	row := ovsdb.Row{
		"hostname":     c.Hostname,
		"external_ids": omap(c.ExternalIDs),
		"other_config": omap(c.OtherConfig),
	}
	if existing == nil {
		row["name"] = c.Name
		row["encaps"] = set(encapRefs...)
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Chassis", UUIDName: "chassis", Row: row})
		chassisRef = ovsdb.UUID{GoUUID: "chassis"}
	} else {
		chassisRef = ovsdb.UUID{GoUUID: replica.UUID(existing)}
		changed := !encapsOK || replica.Str(existing, "hostname") != c.Hostname ||
			!reflect.DeepEqual(replica.Map(existing, "external_ids"), c.ExternalIDs) ||
			!reflect.DeepEqual(replica.Map(existing, "other_config"), c.OtherConfig)
		if changed {
			if !encapsOK {
				row["encaps"] = set(encapRefs...)
			}
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Chassis", Where: where(chassisRef.GoUUID), Row: row})
		}
	}
	priv := findByName(sb, "Chassis_Private", c.Name)
	if priv == nil {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Chassis_Private", Row: ovsdb.Row{
			"name": c.Name, "chassis": chassisRef,
		}})
	} else if replica.Ref(priv, "chassis") != chassisRef.GoUUID {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Chassis_Private", Where: where(replica.UUID(priv)),
			Row: ovsdb.Row{"chassis": chassisRef}})
	}
	return ops
}

func sameEncaps(sb *replica.DB, ch ovsdb.Row, c ChassisRow) bool {
	refs := replica.Refs(ch, "encaps")
	if len(refs) != len(c.Encaps) {
		return false
	}
	var have, want []string
	for _, u := range refs {
		e := sb.Row("Encap", u)
		if e == nil {
			return false
		}
		have = append(have, replica.Str(e, "type")+"|"+replica.Str(e, "ip")+"|"+replica.Str(e, "chassis_name")+"|"+config.FormatBridgeMappings(replica.Map(e, "options")))
	}
	for _, e := range c.Encaps {
		want = append(want, e.Type+"|"+e.IP+"|"+c.Name+"|"+config.FormatBridgeMappings(e.Options))
	}
	sort.Strings(have)
	sort.Strings(want)
	return reflect.DeepEqual(have, want)
}

// Unregister removes the chassis's Chassis and Chassis_Private rows
// (Encaps go with the Chassis; Port_Binding.chassis is a weak reference).
func Unregister(name string) []ovsdb.Operation {
	return []ovsdb.Operation{
		{Op: ovsdb.OperationDelete, Table: "Chassis_Private", Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: name}}},
		{Op: ovsdb.OperationDelete, Table: "Chassis", Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: name}}},
	}
}

// Claims returns the Port_Binding updates that bind the wanted ports to
// this chassis and release those bound here that are no longer wanted. A
// claim sets up=false: the port is up only once its flows are installed
// (MarkUp).
func Claims(sb *replica.DB, chassisUUID string, wanted map[string]bool) []ovsdb.Operation {
	if chassisUUID == "" {
		return nil
	}
	var ops []ovsdb.Operation
	for _, u := range SortedKeys(wanted) {
		r := sb.Row("Port_Binding", u)
		if r == nil || replica.Ref(r, "chassis") == chassisUUID {
			continue
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Port_Binding", Where: where(u), Row: ovsdb.Row{
			"chassis": set(ovsdb.UUID{GoUUID: chassisUUID}), "up": set(false),
		}})
	}
	for _, r := range sb.Sorted("Port_Binding") {
		u := replica.UUID(r)
		if wanted[u] || replica.Ref(r, "chassis") != chassisUUID {
			continue
		}
		// Only if still ours: another chassis may have claimed it since
		// (a gateway taking over), and must not be undone.
		w := append(where(u), ovsdb.Condition{Column: "chassis", Function: ovsdb.ConditionEqual, Value: set(ovsdb.UUID{GoUUID: chassisUUID})})
		row := ovsdb.Row{"chassis": set(), "up": set(false)}
		if replica.Str(r, "virtual_parent") != "" {
			row["virtual_parent"] = set() // its parent left this chassis
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Port_Binding", Where: w, Row: row})
	}
	return ops
}

// MarkUp returns the Port_Binding updates that set up=true on the wanted
// ports bound to this chassis (in sb, or by a claim in justClaimed that
// the server accepted) that are not up yet. The daemon sends them once the
// ports' flows are installed. Each update holds only while the port is
// still bound here.
func MarkUp(sb *replica.DB, chassisUUID string, wanted, justClaimed map[string]bool) []ovsdb.Operation {
	if chassisUUID == "" {
		return nil
	}
	var ops []ovsdb.Operation
	for _, u := range SortedKeys(wanted) {
		r := sb.Row("Port_Binding", u)
		if r == nil {
			continue
		}
		if up, ok := replica.Bool(r, "up"); ok && up && replica.Ref(r, "chassis") == chassisUUID {
			continue
		}
		if replica.Ref(r, "chassis") != chassisUUID && !justClaimed[u] {
			continue
		}
		w := append(where(u), ovsdb.Condition{Column: "chassis", Function: ovsdb.ConditionEqual, Value: set(ovsdb.UUID{GoUUID: chassisUUID})})
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Port_Binding", Where: w, Row: ovsdb.Row{"up": set(true)}})
	}
	return ops
}

// AckNbCfg returns the Chassis_Private update acknowledging nbCfg, or
// nothing when it is already acknowledged.
func AckNbCfg(sb *replica.DB, name string, nbCfg int64, nowMillis int64) []ovsdb.Operation {
	priv := findByName(sb, "Chassis_Private", name)
	if priv == nil || replica.Int(priv, "nb_cfg") == nbCfg {
		return nil
	}
	return []ovsdb.Operation{{Op: ovsdb.OperationUpdate, Table: "Chassis_Private", Where: where(replica.UUID(priv)), Row: ovsdb.Row{
		"nb_cfg": nbCfg, "nb_cfg_timestamp": nowMillis,
	}}}
}

// NbCfg returns SB_Global.nb_cfg.
func NbCfg(sb *replica.DB) int64 {
	for _, r := range sb.Table("SB_Global") {
		return replica.Int(r, "nb_cfg")
	}
	return 0
}

// HeartbeatKey is the Chassis_Private external_ids key our chassis
// refreshes with the time, in Unix milliseconds, to show it is alive;
// HeartbeatIntervalKey holds the refresh interval in milliseconds, so
// readers know when a heartbeat is overdue.
const (
	HeartbeatKey         = "hcnet-heartbeat"
	HeartbeatIntervalKey = "hcnet-heartbeat-interval"
)

// Heartbeat returns the one-operation transaction that sets the chassis's
// Chassis_Private external_ids:hcnet-heartbeat to nowMillis and
// hcnet-heartbeat-interval to intervalMillis, leaving its other keys alone;
// nothing while the row does not exist yet.
func Heartbeat(sb *replica.DB, name string, nowMillis, intervalMillis int64) []ovsdb.Operation {
	priv := findByName(sb, "Chassis_Private", name)
	if priv == nil {
		return nil
	}
	return []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Chassis_Private", Where: where(replica.UUID(priv)), Mutations: []ovsdb.Mutation{
		{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: set(HeartbeatKey, HeartbeatIntervalKey)},
		{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: map[any]any{
			HeartbeatKey:         strconv.FormatInt(nowMillis, 10),
			HeartbeatIntervalKey: strconv.FormatInt(intervalMillis, 10),
		}}},
	}}}
}
