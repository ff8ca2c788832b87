package nbcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/ctl"
)

// Registry returns the nbctl command set.
func Registry() *ctl.Registry {
	reg := &ctl.Registry{
		Prog:   "nbctl",
		DBName: "OVN_Northbound",
		// Record names as ovn-nbctl documents them in its --help.
		IDRules: map[string][]ctl.IDRule{
			"ACL":                        {{Column: "name"}},
			"Address_Set":                {{Column: "name"}},
			"Chassis_Template_Var":       {{Column: "chassis"}},
			"Connection":                 {{Column: "target"}},
			"Forwarding_Group":           {{Column: "name"}},
			"HA_Chassis":                 {{Column: "chassis_name"}},
			"HA_Chassis_Group":           {{Column: "name"}},
			"Load_Balancer":              {{Column: "name"}},
			"Load_Balancer_Group":        {{Column: "name"}},
			"Load_Balancer_Health_Check": {{Column: "vip"}},
			"Logical_Router":             {{Column: "name"}, {Column: "external_ids", Key: "neutron:router_name"}},
			"Logical_Router_Port":        {{Column: "name"}},
			"Logical_Switch":             {{Column: "name"}, {Column: "external_ids", Key: "neutron:network_name"}},
			"Logical_Switch_Port":        {{Column: "name"}, {Column: "external_ids", Key: "neutron:port_name"}},
			"Meter":                      {{Column: "name"}},
			"NAT":                        {{Column: "external_ip"}},
			"Port_Group":                 {{Column: "name"}},
		},
		Singletons: map[string]bool{"NB_Global": true, "SSL": true},
		Prepare: func(t *ctl.Txn) {
			if len(t.Rows("NB_Global")) == 0 {
				t.Insert("NB_Global", "")
			}
		},
	}
	reg.Add(ctl.GenericCommands()...)
	reg.Add(switchCommands()...)
	reg.Add(routerCommands()...)
	reg.Add(aclCommands()...)
	reg.Add(lbCommands()...)
	reg.Add(miscCommands()...)
	return reg
}

// Wait prepares --wait=sb|hv: when the transaction changes something (or a
// command forces it), it bumps NB_Global.nb_cfg in the same transaction and
// returns a function that polls NB_Global until sb_cfg (or hv_cfg) reaches
// the new value.
func Wait(db ctl.DB, mode string, poll time.Duration) func(t *ctl.Txn, force bool) func(context.Context, []ovsdb.OperationResult) error {
	return func(t *ctl.Txn, force bool) func(context.Context, []ovsdb.OperationResult) error {
		if mode == "" || mode == "none" {
			return nil
		}
		ops, _, _ := t.Ops()
		if len(ops) == 0 && !force {
			return nil
		}
		nbs := t.Rows("NB_Global")
		if len(nbs) == 0 {
			return nil
		}
		nb := nbs[0]
		var where []ovsdb.Condition
		if nb.IsNew() {
			// inserted by this transaction: it is the only row
			where = []ovsdb.Condition{}
			cur, _ := t.Get(nb, "nb_cfg").Int()
			t.Set(nb, "nb_cfg", ctl.Set(cur+1))
		} else {
			where = []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: string(nb.UUID)}}}
			t.AddOp(ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: where,
				Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}})
		}
		sel := t.AddOp(ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: where, Columns: []string{"nb_cfg"}})
		col := "sb_cfg"
		if mode == "hv" {
			col = "hv_cfg"
		}
		return func(ctx context.Context, res []ovsdb.OperationResult) error {
			if sel >= len(res) || len(res[sel].Rows) == 0 {
				return fmt.Errorf("--wait: NB_Global not found after commit")
			}
			target, _ := res[sel].Rows[0]["nb_cfg"].(float64)
			for {
				r, err := db.Transact(ctx, "OVN_Northbound", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: []ovsdb.Condition{}, Columns: []string{col}})
				if err != nil {
					return fmt.Errorf("--wait=%s: read NB_Global: %w", mode, err)
				}
				if len(r) > 0 && len(r[0].Rows) > 0 {
					if v, _ := r[0].Rows[0][col].(float64); v >= target {
						return nil
					}
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(poll):
				}
			}
		}
	}
}
