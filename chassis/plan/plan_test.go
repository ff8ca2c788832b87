package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/config"
	"hcnet/chassis/replica"
	"hcnet/schema"
)

// uuid makes a valid UUID from a short tag, so tests read like names.
func uuid(tag string) string {
	h := fmt.Sprintf("%x", tag)
	for len(h) < 32 {
		h += "0"
	}
	h = h[:32]
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func ref(tag string) any { return []any{"uuid", uuid(tag)} }

func refs(tags ...string) any {
	var s []any
	for _, t := range tags {
		s = append(s, ref(t))
	}
	return []any{"set", s}
}

func omapJSON(kv ...string) any {
	var pairs []any
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, []any{kv[i], kv[i+1]})
	}
	return []any{"map", pairs}
}

type rows map[string]map[string]map[string]any // table -> tag -> column -> JSON value

func sbDB(t *testing.T, content rows) *replica.DB {
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

// topology: sw0 (vm1 on hv1, vm2 on hv2) — lr0 — sw1 (vm3 on hv2); sw9
// unrelated; lr0 has a distributed gateway port with gw1 (prio 20) and
// gw2 (prio 10).
func topology(t *testing.T) *replica.DB {
	pb := func(name, typ, dp string, key int, extra ...any) map[string]any {
		r := map[string]any{"logical_port": name, "type": typ, "datapath": ref(dp), "tunnel_key": key}
		for i := 0; i+1 < len(extra); i += 2 {
			r[extra[i].(string)] = extra[i+1]
		}
		return r
	}
	return sbDB(t, rows{
		"Chassis": {
			"hv1": {"name": "hv1"}, "hv2": {"name": "hv2", "encaps": refs("e-hv2")},
			"gw1": {"name": "gw1", "encaps": refs("e-gw1")}, "gw2": {"name": "gw2", "encaps": refs("e-gw2")},
		},
		"Encap": {
			"e-hv2": {"type": "geneve", "ip": "192.0.2.2", "chassis_name": "hv2"},
			"e-gw1": {"type": "geneve", "ip": "192.0.2.11", "chassis_name": "gw1"},
			"e-gw2": {"type": "vxlan", "ip": "192.0.2.12", "chassis_name": "gw2"},
		},
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}, "sw1": {"tunnel_key": 2}, "lr0": {"tunnel_key": 3}, "sw9": {"tunnel_key": 9}, "pub": {"tunnel_key": 4}},
		"HA_Chassis_Group": {"hag": {"name": "lr0-pub", "ha_chassis": refs("ha1", "ha2")}},
		"HA_Chassis":       {"ha1": {"chassis": ref("gw1"), "priority": 20}, "ha2": {"chassis": ref("gw2"), "priority": 10}},
		"Port_Binding": {
			"vm1":     pb("vm1", "", "sw0", 1),
			"vm2":     pb("vm2", "", "sw0", 2, "chassis", ref("hv2")),
			"sw0-lr0": pb("sw0-lr0", "patch", "sw0", 3, "options", omapJSON("peer", "lr0-sw0")),
			"lr0-sw0": pb("lr0-sw0", "patch", "lr0", 1, "options", omapJSON("peer", "sw0-lr0")),
			"lr0-sw1": pb("lr0-sw1", "patch", "lr0", 2, "options", omapJSON("peer", "sw1-lr0")),
			"sw1-lr0": pb("sw1-lr0", "patch", "sw1", 1, "options", omapJSON("peer", "lr0-sw1")),
			"vm3":     pb("vm3", "", "sw1", 2, "chassis", ref("hv2")),
			"vm9":     pb("vm9", "", "sw9", 1, "chassis", ref("hv1"), "up", true),
			"lr0-pub": pb("lr0-pub", "patch", "lr0", 4, "options", omapJSON("peer", "pub-lr0")),
			"pub-lr0": pb("pub-lr0", "patch", "pub", 1, "options", omapJSON("peer", "lr0-pub")),
			"ln":      pb("ln", "localnet", "pub", 2, "options", omapJSON("network_name", "physnet")),
			"cr":      pb("cr-lr0-pub", "chassisredirect", "lr0", 5, "options", omapJSON("distributed-port", "lr0-pub"), "ha_chassis_group", ref("hag")),
		},
	})
}

func TestWantedLocalDatapathsClaims(t *testing.T) {
	sb := topology(t)
	ifaces := map[string]Iface{"vm1": {Name: "tap1", IfaceID: "vm1", OFPort: 5}}
	wanted := Wanted(sb, "hv1", ifaces, nil)
	if !reflect.DeepEqual(wanted, map[string]bool{uuid("vm1"): true}) {
		t.Fatalf("wanted %v", wanted)
	}
	dps := LocalDatapaths(sb, wanted)
	want := map[string]bool{uuid("sw0"): true, uuid("lr0"): true, uuid("sw1"): true, uuid("pub"): true}
	if !reflect.DeepEqual(dps, want) {
		t.Fatalf("local datapaths %v want %v (sw9 must not be local)", dps, want)
	}
	ops := Claims(sb, uuid("hv1"), wanted)
	var got []string
	for _, op := range ops {
		b, _ := json.Marshal(op)
		got = append(got, string(b))
	}
	j := strings.Join(got, "\n")
	if len(ops) != 2 || !strings.Contains(got[0], uuid("vm1")) || !strings.Contains(got[0], `"up":false`) ||
		!strings.Contains(got[1], uuid("vm9")) || !strings.Contains(got[1], `"chassis":["set",[]]`) {
		t.Fatalf("claims:\n%s", j)
	}
	// up=true follows the flows: only for ports bound here (or claimed
	// just now), conditional on the binding, and not twice.
	if ops := MarkUp(sb, uuid("hv1"), wanted, nil); len(ops) != 0 {
		t.Fatalf("up before the claim: %v", ops)
	}
	ops = MarkUp(sb, uuid("hv1"), wanted, map[string]bool{uuid("vm1"): true})
	if b, _ := json.Marshal(ops); len(ops) != 1 || !strings.Contains(string(b), `"up":true`) || !strings.Contains(string(b), `["chassis","==",["uuid","`+uuid("hv1")) {
		t.Fatalf("mark up: %s", b)
	}
	if ops := MarkUp(sb, uuid("hv1"), map[string]bool{uuid("vm9"): true}, nil); len(ops) != 0 {
		t.Fatalf("vm9 is up already: %v", ops)
	}
}

func TestGatewaysFollowPriorityAndLiveness(t *testing.T) {
	sb := topology(t)
	cr := uuid("cr")
	for _, tc := range []struct {
		name, me string
		alive    map[string]bool
		active   string
	}{
		{"gw1 sees itself", "gw1", nil, "gw1"},
		{"gw2 sees gw1 up", "gw2", map[string]bool{"gw1": true}, "gw1"},
		{"gw2 takes over when gw1 is down", "gw2", map[string]bool{}, "gw2"},
		{"host sees gw1 down", "hv1", map[string]bool{"gw2": true}, "gw2"},
		{"host sees none", "hv1", map[string]bool{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := DecideGateways(sb, tc.me, func(c string) bool { return tc.alive[c] })
			if g.Active[cr] != tc.active {
				t.Fatalf("active %q want %q", g.Active[cr], tc.active)
			}
			if !reflect.DeepEqual(g.Members[cr], []string{"gw1", "gw2"}) {
				t.Fatalf("members %v", g.Members[cr])
			}
			if g.Gateway != (tc.me != "hv1") {
				t.Fatalf("gateway %v", g.Gateway)
			}
		})
	}
	// The active gateway claims the chassisredirect port and makes the
	// router and its provider switch local.
	g := DecideGateways(sb, "gw1", func(string) bool { return false })
	w := Wanted(sb, "gw1", nil, g.Active)
	if !w[cr] {
		t.Fatalf("gw1 does not want %s: %v", cr, w)
	}
}

func TestRegisterIdempotent(t *testing.T) {
	cfg := config.Config{SystemID: "hv1", EncapIP: "192.0.2.1", Site: "paris"}.WithDefaults()
	want := DesiredChassis(cfg, "host1")
	sb := sbDB(t, rows{})
	ops := Register(sb, want)
	if len(ops) != 3 || ops[0].Table != "Encap" || ops[1].Table != "Chassis" || ops[2].Table != "Chassis_Private" {
		t.Fatalf("ops %v", ops)
	}
	// The same content already present: nothing to do.
	sb = sbDB(t, rows{
		"Chassis": {"hv1": {"name": "hv1", "hostname": "host1", "encaps": refs("e1"),
			"external_ids": omapJSON("site", "paris"),
			"other_config": omapJSON("datapath-type", "", "ovn-bridge-mappings", "", "is-interconn", "false", "ct-no-masked-label", "true", "ovn-ct-lb-related", "true", "site", "paris")}},
		"Encap":           {"e1": {"type": "geneve", "ip": "192.0.2.1", "chassis_name": "hv1", "options": omapJSON("csum", "true")}},
		"Chassis_Private": {"p1": {"name": "hv1", "chassis": ref("hv1")}},
	})
	if ops := Register(sb, want); len(ops) != 0 {
		t.Fatalf("second registration not empty: %v", ops)
	}
	// A new encap IP replaces the Encap.
	cfg.EncapIP = "192.0.2.99"
	ops = Register(sb, DesiredChassis(cfg, "host1"))
	if len(ops) != 2 || ops[0].Op != "insert" || ops[1].Op != "update" {
		t.Fatalf("ops %v", ops)
	}
	if ops := AckNbCfg(sb, "hv1", 7, 1000); len(ops) != 1 || ops[0].Row["nb_cfg"] != int64(7) {
		t.Fatalf("ack %v", ops)
	}
}

func TestTunnelsAndBFD(t *testing.T) {
	sb := topology(t)
	cfg := config.Config{SystemID: "hv1", EncapTypes: []string{"geneve", "vxlan"}}.WithDefaults()
	specs := Tunnels(sb, cfg, nil, map[string]bool{"gw1": true}, 100, 100)
	var got []string
	for _, s := range specs {
		got = append(got, fmt.Sprintf("%s %s %s bfd=%v/%v %v", s.Name, s.Type, s.Options["remote_ip"], s.BFD["enable"], s.BFD["check_tnl_key"], s.ExternalIDs[KeyChassisID]))
	}
	// check_tnl_key keeps overlay BFD (tunnel key != 0) away from the
	// switch's own tunnel BFD.
	want := []string{
		"ovn-gw1-0 geneve 192.0.2.11 bfd=true/true gw1@192.0.2.11",
		"ovn-gw2-0 vxlan 192.0.2.12 bfd=/ gw2@192.0.2.12",
		"ovn-hv2-0 geneve 192.0.2.2 bfd=/ hv2@192.0.2.2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tunnels\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAssignZonesKeepsExisting(t *testing.T) {
	z, changed := AssignZones(map[string]uint16{"a": 3, "gone": 1}, []string{"a", "b", "c"})
	if !changed || !reflect.DeepEqual(z, map[string]uint16{"a": 3, "b": 1, "c": 2}) {
		t.Fatalf("zones %v changed %v", z, changed)
	}
	if _, changed := AssignZones(z, []string{"a", "b", "c"}); changed {
		t.Fatal("stable input changed zones")
	}
}

func TestConditionsFollowLocalDatapaths(t *testing.T) {
	sb := topology(t)
	none := Conditions(sb, "hv1", nil, nil)
	if string(mustJSON(none["Logical_Flow"])) != `[["logical_dp_group","!=",["set",[]]]]` {
		t.Fatalf("no local datapaths: Logical_Flow %s", mustJSON(none["Logical_Flow"]))
	}
	c := Conditions(sb, "hv1", map[string]bool{uuid("sw0"): true}, map[string]Iface{"vm1": {}})
	lf := string(mustJSON(c["Logical_Flow"]))
	if !strings.Contains(lf, uuid("sw0")) || strings.Contains(lf, uuid("sw9")) {
		t.Fatalf("Logical_Flow %s", lf)
	}
	pb := string(mustJSON(c["Port_Binding"]))
	for _, s := range []string{`"logical_port","==","vm1"`, `"type","==","chassisredirect"`, uuid("hv1")} {
		if !strings.Contains(pb, s) {
			t.Fatalf("Port_Binding %s lacks %s", pb, s)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestNeededChassis(t *testing.T) {
	sb := topology(t)
	gws := DecideGateways(sb, "hv1", func(string) bool { return true })
	// hv1 with sw0 local only: hv2 (vm2) and the gateways (BFD peers).
	got := NeededChassis(sb, "hv1", "paris", map[string]bool{uuid("sw0"): true}, gws)
	if !reflect.DeepEqual(got, map[string]bool{"hv2": true, "gw1": true, "gw2": true}) {
		t.Fatalf("needed %v", got)
	}
	// Nothing local and no gateways: no tunnels.
	if got := NeededChassis(sb, "hv1", "paris", nil, Gateways{}); len(got) != 0 {
		t.Fatalf("needed %v", got)
	}
	// Within its own site (the topology's chassis have none) a chassis
	// keeps a full mesh.
	if got := NeededChassis(sb, "hv1", "", nil, Gateways{}); len(got) != 3 {
		t.Fatalf("same-site needed %v, want hv2, gw1, gw2", got)
	}
	cfg := config.Config{SystemID: "hv1"}.WithDefaults()
	if specs := Tunnels(sb, cfg, map[string]bool{"hv2": true}, nil, 100, 100); len(specs) != 1 || specs[0].Name != "ovn-hv2-0" {
		t.Fatalf("tunnels %v", specs)
	}
}

func TestHeartbeatMutatesOnlyItsKey(t *testing.T) {
	if ops := Heartbeat(sbDB(t, rows{}), "hv1", 1000, 10000); len(ops) != 0 {
		t.Fatalf("heartbeat before registration: %v", ops)
	}
	sb := sbDB(t, rows{"Chassis_Private": {"p1": {"name": "hv1", "external_ids": omapJSON("other", "x")}}})
	ops := Heartbeat(sb, "hv1", 1795248000000, 10000)
	if len(ops) != 1 || ops[0].Op != ovsdb.OperationMutate || ops[0].Table != "Chassis_Private" || len(ops[0].Mutations) != 2 {
		t.Fatalf("ops %v", ops)
	}
	del, ins := ops[0].Mutations[0], ops[0].Mutations[1]
	if del.Mutator != ovsdb.MutateOperationDelete || !reflect.DeepEqual(del.Value, ovsdb.OvsSet{GoSet: []any{HeartbeatKey, HeartbeatIntervalKey}}) {
		t.Fatalf("delete mutation %v", del)
	}
	if ins.Mutator != ovsdb.MutateOperationInsert || !reflect.DeepEqual(ins.Value, ovsdb.OvsMap{GoMap: map[any]any{HeartbeatKey: "1795248000000", HeartbeatIntervalKey: "10000"}}) {
		t.Fatalf("insert mutation %v", ins)
	}
}

// ovsSchema is the part of Open_vSwitch's schema the port planning reads.
const ovsSchema = `{"name":"Open_vSwitch","version":"8.3.0","tables":{
 "Open_vSwitch":{"columns":{"bridges":{"type":{"key":{"type":"uuid","refTable":"Bridge"},"min":0,"max":"unlimited"}},
   "external_ids":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}}}},
 "Bridge":{"columns":{"name":{"type":"string"},"ports":{"type":{"key":{"type":"uuid","refTable":"Port"},"min":0,"max":"unlimited"}},
   "external_ids":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}}}},
 "Port":{"columns":{"name":{"type":"string"},"interfaces":{"type":{"key":{"type":"uuid","refTable":"Interface"},"min":1,"max":"unlimited"}},
   "external_ids":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}}}},
 "Interface":{"columns":{"name":{"type":"string"},"type":{"type":"string"},"ofport":{"type":{"key":"integer","min":0,"max":1}},
   "options":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
   "bfd":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
   "external_ids":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}}}}}}`

func ovsDB(t *testing.T, content rows) *replica.DB {
	t.Helper()
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(ovsSchema), &s); err != nil {
		t.Fatal(err)
	}
	db := replica.New(&s)
	applyRows(t, db, "initial", content)
	return db
}

func applyRows(t *testing.T, db *replica.DB, kind string, content rows) {
	t.Helper()
	u := map[string]map[string]map[string]any{}
	for table, rs := range content {
		u[table] = map[string]map[string]any{}
		for tag, cols := range rs {
			u[table][uuid(tag)] = map[string]any{kind: cols}
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
}

// TestPortInsertNotRepeatedBeforeItIsSeen reproduces the double insert of
// a provider patch port: the transaction inserting it is answered before
// the Open_vSwitch monitor's update reaches the replica, so a plan made in
// between inserts the same named port again (the server then refuses the
// whole second transaction on Interface's name index). InFlight holds
// planning back until the replica shows the inserted rows.
func TestPortInsertNotRepeatedBeforeItIsSeen(t *testing.T) {
	ovs := ovsDB(t, rows{
		"Open_vSwitch": {"root": {"bridges": refs("br-int", "br-ex")}},
		"Bridge":       {"br-int": {"name": "br-int"}, "br-ex": {"name": "br-ex"}},
	})
	sb := topology(t)
	cfg := config.Config{SystemID: "gw1", Bridge: "br-int", BridgeMappings: map[string]string{"physnet": "br-ex"}}
	specs := LocalnetPatches(sb, cfg, map[string]bool{uuid("pub"): true})
	if len(specs) != 2 {
		t.Fatalf("localnet patches %+v, want the pair of ln", specs)
	}
	first := SyncPorts(ovs, specs, KeyChassisID, KeyLocalnetPort)
	inserts := func(ops []ovsdb.Operation) []string {
		var names []string
		for _, op := range ops {
			if op.Op == ovsdb.OperationInsert && op.Table == "Interface" {
				names = append(names, op.Row["name"].(string))
			}
		}
		return names
	}
	want := []string{"patch-br-int-to-ln", "patch-ln-to-br-int"}
	if got := inserts(first); !reflect.DeepEqual(got, want) {
		t.Fatalf("first plan inserts %v, want %v", got, want)
	}
	// The server committed the transaction and answered with the new
	// rows' UUIDs; the replica has not seen the update yet.
	results := make([]ovsdb.OperationResult, len(first))
	for i, op := range first {
		if op.Op == ovsdb.OperationInsert {
			results[i].UUID = ovsdb.UUID{GoUUID: uuid(op.UUIDName)}
		}
	}
	// The bug: planning again from this replica repeats the inserts.
	if got := inserts(SyncPorts(ovs, specs, KeyChassisID, KeyLocalnetPort)); !reflect.DeepEqual(got, want) {
		t.Fatalf("second plan inserts %v; this test expects the stale replica to repeat the inserts", got)
	}
	var f InFlight
	now := time.Unix(1000, 0)
	f.Record(first, results, now)
	if !f.Pending(ovs, now.Add(10*time.Millisecond)) {
		t.Fatal("not pending while the replica lacks the inserted rows")
	}
	// The update arrives: both ports, their interfaces, the bridges'
	// port sets.
	applyRows(t, ovs, "insert", rows{
		"Interface": {
			"i1": {"name": "patch-br-int-to-ln", "type": "patch", "options": omapJSON("peer", "patch-ln-to-br-int")},
			"i2": {"name": "patch-ln-to-br-int", "type": "patch", "options": omapJSON("peer", "patch-br-int-to-ln")},
		},
		"Port": {
			"p1": {"name": "patch-br-int-to-ln", "interfaces": refs("i1"), "external_ids": omapJSON(KeyLocalnetPort, "ln")},
			"p2": {"name": "patch-ln-to-br-int", "interfaces": refs("i2"), "external_ids": omapJSON(KeyLocalnetPort, "ln")},
		},
	})
	applyRows(t, ovs, "modify", rows{"Bridge": {"br-int": {"ports": refs("p1")}, "br-ex": {"ports": refs("p2")}}})
	if f.Pending(ovs, now.Add(20*time.Millisecond)) {
		t.Fatal("still pending after the replica shows every inserted row")
	}
	if ops := SyncPorts(ovs, specs, KeyChassisID, KeyLocalnetPort); len(ops) != 0 {
		t.Fatalf("plan after the update: %v, want nothing", ops)
	}
	// A row that never shows up (deleted at once by someone else) holds
	// planning back only until the deadline.
	f.Record([]ovsdb.Operation{{Op: ovsdb.OperationInsert, Table: "Port"}}, []ovsdb.OperationResult{{UUID: ovsdb.UUID{GoUUID: uuid("gone")}}}, now)
	if !f.Pending(ovs, now.Add(time.Second)) || f.Pending(ovs, now.Add(inFlightWait+time.Millisecond)) {
		t.Fatal("a missing row must hold planning back until the deadline, and no longer")
	}
}

// TestWaitingInterfaces: an interface whose iface-id names no port of a
// local datapath waits (its packets go to the controller until its port
// is bound); one bound here, or a zone user, does not. Zones go only to
// interfaces bound to a port.
func TestWaitingInterfaces(t *testing.T) {
	sb := topology(t)
	ifaces := map[string]Iface{
		"vm1":     {Name: "tap1", IfaceID: "vm1", OFPort: 5},
		"pending": {Name: "tap2", IfaceID: "pending", OFPort: 6},
	}
	dps := LocalDatapaths(sb, Wanted(sb, "hv1", ifaces, nil))
	in := Physical(PhysInput{Me: "hv1", SB: sb, LocalDPs: dps, Ifaces: ifaces})
	if !reflect.DeepEqual(in.Waiting, []int{6}) {
		t.Fatalf("waiting %v, want [6]", in.Waiting)
	}
	if p := in.Ports[uuid("vm1")]; p.OFPort != 5 || p.Chassis != "hv1" {
		t.Fatalf("vm1 %+v", p)
	}
	for _, z := range ZoneNames(sb, dps, ifaces) {
		if z == "pending" {
			t.Fatalf("zone users %v: pending is bound to no port", ZoneNames(sb, dps, ifaces))
		}
	}
	if z := ZoneNames(sb, dps, ifaces); !strings.Contains(strings.Join(z, ","), "vm1") {
		t.Fatalf("zone users %v: want vm1", z)
	}
}

// TestVirtualPortThroughParent: a virtual port whose virtual_parent is a
// local VIF is wanted here and delivered on the parent's interface; once
// the parent is gone its release clears virtual_parent too.
func TestVirtualPortThroughParent(t *testing.T) {
	sb := sbDB(t, rows{
		"Chassis":          {"hv1": {"name": "hv1"}},
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Port_Binding": {
			"vm1": {"logical_port": "vm1", "type": "", "datapath": ref("sw0"), "tunnel_key": 1},
			"vip": {"logical_port": "vip", "type": "virtual", "datapath": ref("sw0"), "tunnel_key": 2, "virtual_parent": "vm1"},
		},
	})
	ifaces := map[string]Iface{"vm1": {Name: "tap1", IfaceID: "vm1", OFPort: 5}}
	wanted := Wanted(sb, "hv1", ifaces, nil)
	if !wanted[uuid("vip")] || !wanted[uuid("vm1")] {
		t.Fatalf("wanted %v: want vm1 and its virtual port", wanted)
	}
	in := Physical(PhysInput{Me: "hv1", SB: sb, LocalDPs: LocalDatapaths(sb, wanted), Ifaces: ifaces})
	if p := in.Ports[uuid("vip")]; p.OFPort != 5 || p.Chassis != "hv1" || p.Parent != "vm1" {
		t.Fatalf("virtual port %+v: want ofport 5 through parent vm1", p)
	}
	if len(in.Waiting) != 0 {
		t.Fatalf("waiting %v", in.Waiting)
	}
	// The parent leaves: the virtual port (bound here) is released and
	// its virtual_parent cleared.
	bound := sbDB(t, rows{
		"Chassis":          {"hv1": {"name": "hv1"}},
		"Datapath_Binding": {"sw0": {"tunnel_key": 1}},
		"Port_Binding": {
			"vip": {"logical_port": "vip", "type": "virtual", "datapath": ref("sw0"), "tunnel_key": 2,
				"virtual_parent": "vm1", "chassis": ref("hv1")},
		},
	})
	if w := Wanted(bound, "hv1", nil, nil); len(w) != 0 {
		t.Fatalf("wanted without the parent: %v", w)
	}
	ops := Claims(bound, uuid("hv1"), nil)
	b, _ := json.Marshal(ops)
	if len(ops) != 1 || !strings.Contains(string(b), `"virtual_parent":["set",[]]`) {
		t.Fatalf("release: %s", b)
	}
}
