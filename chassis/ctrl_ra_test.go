package chassis

import (
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// TestPeriodicRAs: a router port that advertises periodically is sent
// for by the chassis that has a port bound on its peer switch, into that
// switch from the peer port; other chassis and ports without the option
// send nothing.
func TestPeriodicRAs(t *testing.T) {
	sb := sbReplica(t)
	const me, other = "c0000000-0000-0000-0000-000000000001", "c0000000-0000-0000-0000-000000000002"
	const sw, rtr = "d0000000-0000-0000-0000-000000000001", "d0000000-0000-0000-0000-000000000002"
	mustApplyRow(t, sb, "Datapath_Binding", sw, ovsdb.Row{"tunnel_key": 5})
	mustApplyRow(t, sb, "Datapath_Binding", rtr, ovsdb.Row{"tunnel_key": 6})
	opts := func(kv ...string) ovsdb.OvsMap {
		m := map[any]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return ovsdb.OvsMap{GoMap: m}
	}
	mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-000000000001", ovsdb.Row{"logical_port": "r0-sw0", "type": "patch",
		"datapath": ovsdb.UUID{GoUUID: rtr}, "tunnel_key": 1, "options": opts("peer", "sw0-r0", "ipv6_ra_send_periodic", "true",
			"ipv6_ra_src_eth", "00:00:00:00:ff:01", "ipv6_ra_src_addr", "fe80::200:ff:fe00:ff01", "ipv6_ra_prefixes", "fd00::/64",
			"ipv6_ra_max_interval", "4", "ipv6_ra_min_interval", "3")})
	mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-000000000002", ovsdb.Row{"logical_port": "sw0-r0", "type": "patch",
		"datapath": ovsdb.UUID{GoUUID: sw}, "tunnel_key": 7, "options": opts("peer", "r0-sw0")})
	mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-000000000003", ovsdb.Row{"logical_port": "vm1",
		"datapath": ovsdb.UUID{GoUUID: sw}, "tunnel_key": 2, "chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: me}}}})
	got, errs := periodicRAs(sb, me)
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("advertisements %v errors %v", got, errs)
	}
	if ra := got["r0-sw0"]; ra.Datapath != 5 || ra.Port != 7 || ra.SrcMAC != [6]byte{0, 0, 0, 0, 0xff, 1} {
		t.Fatalf("advertisement %+v: want into datapath 5 from port 7", ra)
	}
	if got, _ := periodicRAs(sb, other); len(got) != 0 {
		t.Fatalf("a chassis without ports on sw0 advertises %v", got)
	}
}
