package chassis

import (
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/plan"
	"hcnet/internal/client"
)

// quiet reports whether a monitor update changes nothing a round decides
// from: the echoes of the chassis's own bookkeeping writes, which come
// back on every port-up. They are applied to the replica like any other
// update but do not wake the loop (a round recomputes every local
// port's flows, several milliseconds of CPU on the host the new port's
// first packets need).
//
//   - Interface: only external_ids keys ovn-installed and
//     ovn-installed-ts (plan.Installed reads them from the replica when
//     a round runs anyway);
//   - Bridge: only external_ids keys ct-zone-* (zones are read from the
//     replica once, then kept by the loop);
//   - Port_Binding: only up (MarkUp reads it from the replica);
//   - Chassis_Private: only nb_cfg, nb_cfg_timestamp and the heartbeat
//     key of external_ids;
//
// besides _version, which ovsdb-server sends with every modification
// (nothing a round decides reads it of these tables).
func quiet(table string, ru client.RowUpdate) bool {
	if ru.Kind != client.Modify || len(ru.Row) == 0 {
		return false
	}
	for col, v := range ru.Row {
		switch {
		case col == "_version":
		case table == "Interface" && col == "external_ids":
			if !mapKeysOnly(v, func(k string) bool { return k == plan.KeyOVNInstalled || k == plan.KeyOVNInstalledTS }) {
				return false
			}
		case table == "Bridge" && col == "external_ids":
			if !mapKeysOnly(v, func(k string) bool { return strings.HasPrefix(k, "ct-zone-") }) {
				return false
			}
		case table == "Port_Binding" && col == "up":
		case table == "Chassis_Private" && (col == "nb_cfg" || col == "nb_cfg_timestamp"):
		case table == "Chassis_Private" && col == "external_ids":
			if !mapKeysOnly(v, func(k string) bool { return k == plan.HeartbeatKey || k == plan.HeartbeatIntervalKey }) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// mapKeysOnly reports whether v is a map (an update2 map difference)
// whose keys all satisfy ok.
func mapKeysOnly(v any, ok func(string) bool) bool {
	var m map[any]any
	switch x := v.(type) {
	case ovsdb.OvsMap:
		m = x.GoMap
	case *ovsdb.OvsMap:
		m = x.GoMap
	default:
		return false
	}
	for k := range m {
		s, isStr := k.(string)
		if !isStr || !ok(s) {
			return false
		}
	}
	return true
}
