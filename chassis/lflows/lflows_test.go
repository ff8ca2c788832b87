package lflows

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/physical"
	"hcnet/chassis/replica"
	"hcnet/schema"
)

func uuid(tag string) string {
	h := fmt.Sprintf("%x", tag)
	for len(h) < 32 {
		h += "0"
	}
	h = h[:32]
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func ref(tag string) any { return []any{"uuid", uuid(tag)} }

func sb(t *testing.T, content map[string]map[string]map[string]any) *replica.DB {
	t.Helper()
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	db := replica.New(&s)
	u := map[string]map[string]map[string]any{}
	for table, rs := range content {
		u[table] = map[string]map[string]any{}
		for tag, cols := range rs {
			u[table][uuid(tag)] = map[string]any{"initial": cols}
		}
	}
	b, _ := json.Marshal(u)
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(b, &tu); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(tu); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestCompileLocalDatapathsGroupsMeters(t *testing.T) {
	lf := func(dp string, group bool, table, prio int, match, actions string) map[string]any {
		r := map[string]any{"pipeline": "ingress", "table_id": table, "priority": prio, "match": match, "actions": actions}
		if group {
			r["logical_dp_group"] = ref(dp)
		} else {
			r["logical_datapath"] = ref(dp)
		}
		return r
	}
	db := sb(t, map[string]map[string]map[string]any{
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}, "sw9": {"tunnel_key": 9}},
		"Logical_DP_Group": {"g": {"datapaths": []any{"set", []any{ref("sw0"), ref("sw9")}}}},
		"Logical_Flow": {
			"l2":     lf("sw0", false, 25, 50, `eth.dst == 0a:00:00:00:00:01`, `outport = "vm1"; output;`),
			"shared": lf("g", true, 0, 100, `vlan.present`, `drop;`),
			"meter":  lf("sw0", false, 5, 100, `inport == "vm1"`, `set_meter(1000, 100); next;`),
			"bad":    lf("sw0", false, 6, 100, `inport == "vm1"`, `no_such_action;`),
			"remote": lf("sw9", false, 25, 50, `eth.dst == 0a:00:00:00:00:09`, `outport = "vm9"; output;`),
		},
	})
	in := Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true}, Physical: physical.Input{
		Chassis: "hv1",
		Ports: map[string]physical.Port{
			"pb1": {UUID: "pb1", Name: "vm1", Datapath: uuid("sw0"), Key: 1, Chassis: "hv1", OFPort: 3},
		},
	}}
	c := New()
	out := c.Compile(in)
	var lines []string
	for owner, fs := range out.Flows {
		for _, f := range fs {
			lines = append(lines, owner[:4]+" "+f.String())
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"table=33, priority=50,metadata=0x1,eth_dst=0a:00:00:00:00:01 actions=set_field:0x1->reg15,resubmit(,37)",
		"table=8, priority=100,metadata=0x1,vlan_tci=0x1000/0x1000 actions=drop",
		"meter:1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "metadata=0x9") {
		t.Errorf("flows of a remote datapath compiled:\n%s", got)
	}
	if len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Error(), "no_such_action") {
		t.Errorf("errors %v", out.Errors)
	}
	if out.Meters[1] != "kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100" {
		t.Errorf("meters %v", out.Meters)
	}
	// A second compilation of the same input comes from the cache and is
	// equal.
	n := c.Compiled
	out2 := c.Compile(in)
	if fmt.Sprint(out2.Flows) != fmt.Sprint(out.Flows) {
		t.Error("second compilation differs")
	}
	if c.Compiled != n {
		t.Errorf("unchanged input recompiled %d flows", c.Compiled-n)
	}
	// A new port in the datapath recompiles only the flows that name it.
	in.Physical.Ports["pb9"] = physical.Port{UUID: "pb9", Name: "vm9", Datapath: uuid("sw0"), Key: 9}
	c.Compile(in)
	if c.Compiled != n {
		t.Errorf("an unreferenced new port recompiled %d flows", c.Compiled-n)
	}
	p := in.Physical.Ports["pb1"]
	p.Key = 5
	in.Physical.Ports["pb1"] = p
	out3 := c.Compile(in)
	if c.Compiled-n != 3 { // l2 (outport), meter and bad (inport): bad fails again
		t.Errorf("re-keying vm1 recompiled %d flows, want 3", c.Compiled-n)
	}
	if !strings.Contains(fmt.Sprint(out3.Flows), "set_field:0x5->reg15") {
		t.Errorf("new key not used: %v", out3.Flows)
	}
}

// TestControllerMeter: a logical flow's controller_meter (CoPP) meters
// its controller actions with the named SB meter.
func TestControllerMeter(t *testing.T) {
	db := sb(t, map[string]map[string]map[string]any{
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Meter":            {"m": {"name": "copp-arp", "unit": "pktps", "bands": []any{"set", []any{ref("b")}}}},
		"Meter_Band":       {"b": {"action": "drop", "rate": 10}},
		"Logical_Flow": {"arp": {"pipeline": "ingress", "table_id": 10, "priority": 100, "match": "ip4",
			"actions": `arp { eth.dst = ff:ff:ff:ff:ff:ff; output; };`, "logical_datapath": ref("sw0"),
			"controller_meter": "copp-arp"}},
	})
	out := New().Compile(Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true}, Physical: physical.Input{Chassis: "hv1"}})
	if len(out.Errors) > 0 {
		t.Fatal(out.Errors)
	}
	got := fmt.Sprint(out.Flows)
	if !strings.Contains(got, "meter_id=1") {
		t.Fatalf("controller action not metered by copp-arp (meter 1):\n%s", got)
	}
	if out.Meters[1] != "pktps,stats,bands=type=drop,rate=10" {
		t.Fatalf("meters %v", out.Meters)
	}
}

// TestTemplateVariables: ^NAME in a logical flow is this chassis's
// Chassis_Template_Var value, and a change of the variables recompiles the
// flow (incrementally too).
func TestTemplateVariables(t *testing.T) {
	db := sb(t, map[string]map[string]map[string]any{
		"Datapath_Binding":     {"sw0": {"tunnel_key": 1}},
		"Chassis_Template_Var": {"t1": {"chassis": "hv1", "variables": []any{"map", []any{[]any{"vip", "10.0.0.100"}}}}, "t2": {"chassis": "hv2", "variables": []any{"map", []any{[]any{"vip", "10.0.0.200"}}}}},
		"Logical_Flow": {"lb": {"pipeline": "ingress", "table_id": 10, "priority": 100, "match": "ip4.dst == ^vip",
			"actions": "drop;", "logical_datapath": ref("sw0")}},
	})
	db.TrackChanges()
	c := New()
	in := Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true}, Physical: physical.Input{Chassis: "hv1"}}
	if got := fmt.Sprint(c.Compile(in).Flows); !strings.Contains(got, "ip_dst=10.0.0.100") {
		t.Fatalf("hv1's ^vip not expanded to 10.0.0.100:\n%s", got)
	}
	db.TakeChanged()
	if err := db.ApplyRow("Chassis_Template_Var", uuid("t1"), "insert", ovsdb.Row{"chassis": "hv1",
		"variables": ovsdb.OvsMap{GoMap: map[any]any{"vip": "10.0.0.101"}}}); err != nil {
		t.Fatal(err)
	}
	in.Changed = db.TakeChanged()
	if got := fmt.Sprint(c.Compile(in).Flows); !strings.Contains(got, "ip_dst=10.0.0.101") {
		t.Fatalf("changed ^vip not recompiled:\n%s", got)
	}
}

// TestResidenceIncremental: a port becoming resident here (bound to a
// local interface) revisits only the flows that name it, directly or
// through a port group it belongs to, and the result equals a fresh
// compilation's.
func TestResidenceIncremental(t *testing.T) {
	lf := func(table, prio int, match, actions string) map[string]any {
		return map[string]any{"pipeline": "ingress", "table_id": table, "priority": prio, "match": match,
			"actions": actions, "logical_datapath": ref("sw0")}
	}
	db := sb(t, map[string]map[string]map[string]any{
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Port_Group":       {"pg": {"name": "pg1", "ports": []any{"set", []any{"vm2"}}}},
		"Logical_Flow": {
			"res":   lf(10, 100, `is_chassis_resident("vm2")`, `next;`),
			"named": lf(11, 100, `inport == "vm1"`, `next;`),
			"group": lf(12, 100, `inport == @pg1`, `next;`),
			"plain": lf(13, 100, `ip4`, `next;`),
		},
	})
	ports := func(vm2Here bool) map[string]physical.Port {
		p2 := physical.Port{UUID: "pb2", Name: "vm2", Datapath: uuid("sw0"), Key: 2}
		if vm2Here {
			p2.Chassis, p2.OFPort = "hv1", 4
		}
		return map[string]physical.Port{
			"pb1": {UUID: "pb1", Name: "vm1", Datapath: uuid("sw0"), Key: 1, Chassis: "hv1", OFPort: 3},
			"pb2": p2,
		}
	}
	in := Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true}, Changed: map[string]map[string]struct{}{},
		Physical: physical.Input{Chassis: "hv1", Ports: ports(false)}}
	c := New()
	c.Compile(Input{SB: db, LocalDPs: in.LocalDPs, Physical: in.Physical}) // fresh
	if got := fmt.Sprint(c.Compile(in).Flows); strings.Contains(got, "table=18,") {
		t.Fatalf("vm2 not resident, yet its is_chassis_resident flow compiled: %s", got)
	}
	visited := c.Visited
	in.Physical.Ports = ports(true)
	got := c.Compile(in)
	if n := c.Visited - visited; n != 2 { // res (names vm2) and group (pg1 holds vm2)
		t.Errorf("vm2 becoming resident revisited %d flows, want 2", n)
	}
	want := New().Compile(Input{SB: db, LocalDPs: in.LocalDPs, Physical: in.Physical})
	if fmt.Sprint(got.Flows) != fmt.Sprint(want.Flows) {
		t.Errorf("incremental after a residence change\n%v\nfresh\n%v", got.Flows, want.Flows)
	}
	if !strings.Contains(fmt.Sprint(got.Flows), "table=18,") {
		t.Errorf("vm2 resident, but its is_chassis_resident flow is missing: %v", got.Flows)
	}
	// And back.
	in.Physical.Ports = ports(false)
	got = c.Compile(in)
	want = New().Compile(Input{SB: db, LocalDPs: in.LocalDPs, Physical: in.Physical})
	if fmt.Sprint(got.Flows) != fmt.Sprint(want.Flows) {
		t.Errorf("incremental after vm2 left\n%v\nfresh\n%v", got.Flows, want.Flows)
	}
}

// TestSvcMonitorMAC: $svc_monitor_mac is SB_Global options:svc_monitor_mac,
// as ovn-controller defines it (ovn-northd's health-check flows match it).
func TestSvcMonitorMAC(t *testing.T) {
	db := sb(t, map[string]map[string]map[string]any{
		"SB_Global":        {"g": {"options": []any{"map", []any{[]any{"svc_monitor_mac", "e2:09:35:7f:03:29"}}}}},
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Logical_Flow": {"svc": {"pipeline": "ingress", "table_id": 25, "priority": 110, "logical_datapath": ref("sw0"),
			"match": `eth.dst == $svc_monitor_mac`, "actions": `handle_svc_check(inport);`}},
	})
	in := Input{SB: db, LocalDPs: map[string]bool{uuid("sw0"): true}, Physical: physical.Input{Chassis: "hv1"}}
	out := New().Compile(in)
	if len(out.Errors) != 0 || !strings.Contains(fmt.Sprint(out.Flows), "eth_dst=e2:09:35:7f:03:29") {
		t.Fatalf("flows %v, errors %v", out.Flows, out.Errors)
	}
}
