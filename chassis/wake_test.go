package chassis

import (
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
)

func TestQuietUpdates(t *testing.T) {
	m := func(kv ...string) ovsdb.OvsMap {
		out := map[any]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return ovsdb.OvsMap{GoMap: out}
	}
	mod := func(row ovsdb.Row) client.RowUpdate { return client.RowUpdate{Kind: client.Modify, Row: row} }
	for _, tc := range []struct {
		name  string
		table string
		ru    client.RowUpdate
		quiet bool
	}{
		{"ovn-installed marks", "Interface", mod(ovsdb.Row{"external_ids": m("ovn-installed", "true", "ovn-installed-ts", "1")}), true},
		{"iface-id bound", "Interface", mod(ovsdb.Row{"external_ids": m("iface-id", "vm1")}), false},
		{"ofport assigned", "Interface", mod(ovsdb.Row{"ofport": 5}), false},
		{"ovn-installed with ofport", "Interface", mod(ovsdb.Row{"external_ids": m("ovn-installed", "true"), "ofport": 5}), false},
		{"new interface", "Interface", client.RowUpdate{Kind: client.Insert, Row: ovsdb.Row{"external_ids": m("ovn-installed", "true")}}, false},
		{"conntrack zones", "Bridge", mod(ovsdb.Row{"external_ids": m("ct-zone-vm1", "3")}), true},
		{"bridge ports", "Bridge", mod(ovsdb.Row{"ports": ovsdb.OvsSet{}}), false},
		{"other bridge key", "Bridge", mod(ovsdb.Row{"external_ids": m("ct-zone-vm1", "3", "foo", "1")}), false},
		{"port up", "Port_Binding", mod(ovsdb.Row{"up": true}), true},
		{"port up with _version", "Port_Binding", mod(ovsdb.Row{"up": true, "_version": ovsdb.UUID{GoUUID: "v"}}), true},
		{"nb_cfg ack with _version", "Chassis_Private", mod(ovsdb.Row{"nb_cfg": 3, "_version": ovsdb.UUID{GoUUID: "v"}}), true},
		{"port claimed with _version", "Port_Binding", mod(ovsdb.Row{"chassis": ovsdb.UUID{GoUUID: "x"}, "_version": ovsdb.UUID{GoUUID: "v"}}), false},
		{"port claimed", "Port_Binding", mod(ovsdb.Row{"up": false, "chassis": ovsdb.UUID{GoUUID: "x"}}), false},
		{"nb_cfg ack", "Chassis_Private", mod(ovsdb.Row{"nb_cfg": 3, "nb_cfg_timestamp": 4}), true},
		{"heartbeat", "Chassis_Private", mod(ovsdb.Row{"external_ids": m("hcnet-heartbeat", "9")}), true},
		{"chassis of a private row", "Chassis_Private", mod(ovsdb.Row{"chassis": ovsdb.UUID{GoUUID: "x"}}), false},
		{"logical flow", "Logical_Flow", mod(ovsdb.Row{"actions": "next;"}), false},
		{"empty modify", "Interface", mod(ovsdb.Row{}), false},
	} {
		if got := quiet(tc.table, tc.ru); got != tc.quiet {
			t.Errorf("%s: quiet %v, want %v", tc.name, got, tc.quiet)
		}
	}
}
