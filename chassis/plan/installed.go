package plan

import (
	"strconv"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/replica"
)

// External-id keys ovn-controller(8) sets on an Interface once every
// OpenFlow operation for it has been processed by ovs-vswitchd; cloud
// management systems wait for them before they report a VM's port ready.
const (
	KeyOVNInstalled   = "ovn-installed"
	KeyOVNInstalledTS = "ovn-installed-ts"
)

// Installed returns the Open_vSwitch mutations that mark the local
// interfaces whose Port_Binding is in installed (by UUID; the bindings
// whose flows the switch has just acknowledged) with
// external_ids:ovn-installed=true and ovn-installed-ts=nowMillis, and that
// remove both keys from interfaces on bridge whose port is no longer bound
// here. Interfaces already in the wanted state get no operation.
func Installed(ovs, sb *replica.DB, bridge string, installed map[string]bool, nowMillis int64) []ovsdb.Operation {
	br := findByName(ovs, "Bridge", bridge)
	if br == nil {
		return nil
	}
	// The logical ports just installed; the loop below visits every
	// interface of the bridge each round, so it must not allocate.
	names := make(map[string]bool, len(installed))
	for u, ok := range installed {
		if pb := sb.Row("Port_Binding", u); ok && pb != nil {
			names[replica.Str(pb, "logical_port")] = true
		}
	}
	var ops []ovsdb.Operation
	for _, pu := range replica.Refs(br, "ports") {
		p := ovs.Row("Port", pu)
		if p == nil {
			continue
		}
		for _, iu := range replica.Refs(p, "interfaces") {
			i := ovs.Row("Interface", iu)
			if i == nil {
				continue
			}
			id, _ := replica.MapValue(i, "external_ids", "iface-id")
			want := id != "" && names[id] && replica.Int(i, "ofport") > 0
			inst, has := replica.MapValue(i, "external_ids", KeyOVNInstalled)
			switch {
			case want && inst != "true":
				ops = append(ops,
					ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface", Where: where(iu), Mutations: []ovsdb.Mutation{
						{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{KeyOVNInstalled, KeyOVNInstalledTS}}},
					}},
					ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface", Where: where(iu), Mutations: []ovsdb.Mutation{
						{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: map[any]any{
							KeyOVNInstalled: "true", KeyOVNInstalledTS: strconv.FormatInt(nowMillis, 10)}}},
					}})
			case !want && has:
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface", Where: where(iu), Mutations: []ovsdb.Mutation{
					{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{KeyOVNInstalled, KeyOVNInstalledTS}}},
				}})
			}
		}
	}
	return ops
}
