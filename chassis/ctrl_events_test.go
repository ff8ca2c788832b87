package chassis

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/replica"
)

const (
	evMe   = "c0000000-0000-0000-0000-000000000001"
	evDP   = "d0000000-0000-0000-0000-000000000001"
	evVM1  = "b0000000-0000-0000-0000-000000000001"
	evVM2  = "b0000000-0000-0000-0000-000000000002"
	evVIP  = "b0000000-0000-0000-0000-000000000003"
	evVirt = "b0000000-0000-0000-0000-000000000004"
)

// eventsSB: datapath key 5 with vm1 (key 1), vm2 (key 2), a virtual port
// vip (key 3) and a plain port (key 4).
func eventsSB(t *testing.T) *replica.DB {
	sb := sbReplica(t)
	mustApplyRow(t, sb, "Datapath_Binding", evDP, ovsdb.Row{"tunnel_key": 5})
	for _, p := range []struct {
		u, name, typ string
		key          int
	}{{evVM1, "vm1", "", 1}, {evVM2, "vm2", "", 2}, {evVIP, "vip", "virtual", 3}, {evVirt, "plain", "", 4}} {
		mustApplyRow(t, sb, "Port_Binding", p.u, ovsdb.Row{"logical_port": p.name, "type": p.typ, "tunnel_key": p.key,
			"datapath": ovsdb.UUID{GoUUID: evDP}})
	}
	return sb
}

// TestVportOps: bind_vport sets the virtual port's virtual_parent (the
// last report wins); a port that is not virtual, an unknown parent and
// an unchanged parent write nothing.
func TestVportOps(t *testing.T) {
	sb := eventsSB(t)
	ops := vportOps(sb, []pinctrl.VirtualBinding{
		{Datapath: 5, Virtual: 3, Parent: 1},
		{Datapath: 5, Virtual: 3, Parent: 2},  // moved: vm2 wins
		{Datapath: 5, Virtual: 4, Parent: 1},  // not virtual
		{Datapath: 5, Virtual: 3, Parent: 99}, // unknown parent
	})
	if len(ops) != 1 || ops[0].Where[0].Value != (ovsdb.UUID{GoUUID: evVIP}) ||
		ops[0].Row["virtual_parent"].(ovsdb.OvsSet).GoSet[0] != "vm2" {
		t.Fatalf("ops %+v", ops)
	}
	if err := sb.ApplyRow("Port_Binding", evVIP, "modify", ovsdb.Row{"virtual_parent": ovsdb.OvsSet{GoSet: []any{"vm2"}}}); err != nil {
		t.Fatal(err)
	}
	if ops := vportOps(sb, []pinctrl.VirtualBinding{{Datapath: 5, Virtual: 3, Parent: 2}}); len(ops) != 0 {
		t.Fatalf("unchanged parent wrote %+v", ops)
	}
}

// TestEventOps: each new event is inserted once, numbered after this
// chassis's highest seq_num; one this chassis already reported (same
// type and info) is not inserted again.
func TestEventOps(t *testing.T) {
	sb := eventsSB(t)
	info := func(vip string) map[any]any {
		return map[any]any{"vip": vip, "protocol": "tcp", "load_balancer": "lb1"}
	}
	mustApplyRow(t, sb, "Controller_Event", "e0000000-0000-0000-0000-000000000001", ovsdb.Row{"event_type": "empty_lb_backends",
		"event_info": ovsdb.OvsMap{GoMap: info("10.0.0.10:80")}, "chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: evMe}}}, "seq_num": 7})
	ev := func(vip string) pinctrl.Event {
		return pinctrl.Event{Type: "empty_lb_backends", Info: map[string]string{"vip": vip, "protocol": "tcp", "load_balancer": "lb1"}}
	}
	ops := eventOps(sb, evMe, []pinctrl.Event{ev("10.0.0.10:80"), ev("10.0.0.11:80"), ev("10.0.0.11:80"), ev("10.0.0.12:80")})
	if len(ops) != 2 {
		t.Fatalf("ops %+v", ops)
	}
	for i, want := range []struct {
		vip string
		seq int
	}{{"10.0.0.11:80", 8}, {"10.0.0.12:80", 9}} {
		r := ops[i].Row
		if ops[i].Op != ovsdb.OperationInsert || r["seq_num"] != want.seq || r["event_info"].(ovsdb.OvsMap).GoMap["vip"] != want.vip ||
			r["chassis"].(ovsdb.OvsSet).GoSet[0] != (ovsdb.UUID{GoUUID: evMe}) {
			t.Fatalf("op %d %+v, want vip %s seq %d", i, ops[i], want.vip, want.seq)
		}
	}
}

// TestIGMPOps: joins and leaves become this chassis's IGMP_Group rows:
// the first member inserts the row, later ones rewrite its ports, the
// last leaving deletes it; a leave of a group never joined writes
// nothing.
func TestIGMPOps(t *testing.T) {
	sb := eventsSB(t)
	g1, g2 := netip.MustParseAddr("239.1.1.1"), netip.MustParseAddr("239.2.2.2")
	ops := igmpOps(sb, evMe, []pinctrl.Membership{
		{Datapath: 5, Port: 1, Group: g1, Join: true},
		{Datapath: 5, Port: 2, Group: g1, Join: true},
		{Datapath: 5, Port: 1, Group: g2, Join: false},
	})
	if len(ops) != 1 || ops[0].Op != ovsdb.OperationInsert || ops[0].Row["address"] != "239.1.1.1" ||
		len(ops[0].Row["ports"].(ovsdb.OvsSet).GoSet) != 2 {
		t.Fatalf("ops %+v", ops)
	}
	const row = "f0000000-0000-0000-0000-000000000001"
	r := ops[0].Row
	if err := sb.ApplyRow("IGMP_Group", row, "insert", r); err != nil {
		t.Fatal(err)
	}
	ops = igmpOps(sb, evMe, []pinctrl.Membership{{Datapath: 5, Port: 1, Group: g1, Join: false}})
	if len(ops) != 1 || ops[0].Op != ovsdb.OperationUpdate || len(ops[0].Row["ports"].(ovsdb.OvsSet).GoSet) != 1 ||
		ops[0].Row["ports"].(ovsdb.OvsSet).GoSet[0] != (ovsdb.UUID{GoUUID: evVM2}) {
		t.Fatalf("leave of one member: %+v", ops)
	}
	if ops := igmpOps(sb, evMe, []pinctrl.Membership{{Datapath: 5, Port: 1, Group: g1, Join: true}}); len(ops) != 0 {
		t.Fatalf("join of a member already in: %+v", ops)
	}
	ops = igmpOps(sb, evMe, []pinctrl.Membership{{Datapath: 5, Port: 1, Group: g1}, {Datapath: 5, Port: 2, Group: g1}})
	if len(ops) != 1 || ops[0].Op != ovsdb.OperationDelete || ops[0].Where[0].Value != (ovsdb.UUID{GoUUID: row}) {
		t.Fatalf("last member leaving: %+v", ops)
	}
	if ops := igmpOps(sb, "c0000000-0000-0000-0000-000000000002", []pinctrl.Membership{{Datapath: 5, Port: 1, Group: g1}}); len(ops) != 0 {
		t.Fatalf("another chassis's row touched: %+v", ops)
	}
}

// TestIGMPCleanupOps: ports not bound here for igmpGrace leave this
// chassis's groups; a group left without ports goes; other chassis's rows
// stay.
func TestIGMPCleanupOps(t *testing.T) {
	sb := eventsSB(t)
	if err := sb.ApplyRow("Port_Binding", evVM1, "modify", ovsdb.Row{"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: evMe}}}}); err != nil {
		t.Fatal(err)
	}
	group := func(u string, chassis string, ports ...string) {
		var refs []any
		for _, p := range ports {
			refs = append(refs, ovsdb.UUID{GoUUID: p})
		}
		mustApplyRow(t, sb, "IGMP_Group", u, ovsdb.Row{"address": "239.1.1.1", "datapath": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: evDP}}},
			"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: chassis}}}, "ports": ovsdb.OvsSet{GoSet: refs}})
	}
	const mixed, gone, others = "f0000000-0000-0000-0000-000000000001", "f0000000-0000-0000-0000-000000000002", "f0000000-0000-0000-0000-000000000003"
	group(mixed, evMe, evVM1, evVM2)
	group(gone, evMe, evVM2)
	group(others, "c0000000-0000-0000-0000-000000000002", evVM2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	unbound := map[string]time.Time{}
	if ops := igmpCleanupOps(sb, evMe, unbound, t0); len(ops) != 0 {
		t.Fatalf("dropped at once, before the grace time: %+v", ops)
	}
	if ops := igmpCleanupOps(sb, evMe, unbound, t0.Add(igmpGrace-time.Millisecond)); len(ops) != 0 {
		t.Fatalf("dropped before the grace time: %+v", ops)
	}
	ops := igmpCleanupOps(sb, evMe, unbound, t0.Add(igmpGrace))
	if len(ops) != 2 ||
		ops[0].Op != ovsdb.OperationUpdate || ops[0].Where[0].Value != (ovsdb.UUID{GoUUID: mixed}) ||
		len(ops[0].Row["ports"].(ovsdb.OvsSet).GoSet) != 1 || ops[0].Row["ports"].(ovsdb.OvsSet).GoSet[0] != (ovsdb.UUID{GoUUID: evVM1}) ||
		ops[1].Op != ovsdb.OperationDelete || ops[1].Where[0].Value != (ovsdb.UUID{GoUUID: gone}) {
		t.Fatalf("ops %+v", ops)
	}
}
