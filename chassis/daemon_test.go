package chassis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/plan"
	"hcnet/internal/client"
	"hcnet/internal/ovstest"
)

// TestDaemonAgainstOVSDBServers runs the daemon against real ovsdb-servers
// for the local Open_vSwitch and the southbound databases, without a
// switch (no root needed): it must create br-int, register the chassis,
// build a tunnel to the other chassis, bind and release a local VIF, and
// unregister on a clean exit. Flow installation fails (no ovs-vswitchd)
// and must not stop the rest.
func TestDaemonAgainstOVSDBServers(t *testing.T) {
	ovsSrv := ovstest.StartOVSDBServer(t, "/usr/share/openvswitch/vswitch.ovsschema")
	sbSrv := ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-sb.ovsschema"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ovs, err := client.Dial(ctx, ovsSrv.Remote(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ovs.Close()
	sb, err := client.Dial(ctx, sbSrv.Remote(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	must := func(c *client.Client, db string, ops ...ovsdb.Operation) []ovsdb.OperationResult {
		t.Helper()
		res, err := c.Transact(ctx, db, ops...)
		if err != nil {
			t.Fatalf("transact %s: %v", db, err)
		}
		return res
	}
	omap := func(kv ...string) ovsdb.OvsMap {
		m := map[any]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return ovsdb.OvsMap{GoMap: m}
	}
	must(ovs, "Open_vSwitch", ovsdb.Operation{Op: "insert", Table: "Open_vSwitch", Row: ovsdb.Row{"external_ids": omap(
		"system-id", "hv1", "ovn-remote", sbSrv.Remote(), "ovn-encap-ip", "192.0.2.1",
		"ovn-bridge-datapath-type", "netdev", "site", "paris")}})
	must(sb, "OVN_Southbound",
		ovsdb.Operation{Op: "insert", Table: "Encap", UUIDName: "e", Row: ovsdb.Row{"type": "geneve", "ip": "192.0.2.2", "chassis_name": "hv2"}},
		ovsdb.Operation{Op: "insert", Table: "Chassis", UUIDName: "hv2", Row: ovsdb.Row{"name": "hv2", "encaps": ovsdb.UUID{GoUUID: "e"}}},
		ovsdb.Operation{Op: "insert", Table: "Datapath_Binding", UUIDName: "dp", Row: ovsdb.Row{"tunnel_key": 1, "external_ids": omap("name", "ls1")}},
		ovsdb.Operation{Op: "insert", Table: "Port_Binding", Row: ovsdb.Row{"logical_port": "vm1", "tunnel_key": 1, "datapath": ovsdb.UUID{GoUUID: "dp"}}},
		ovsdb.Operation{Op: "insert", Table: "Port_Binding", Row: ovsdb.Row{"logical_port": "vm2", "tunnel_key": 2, "datapath": ovsdb.UUID{GoUUID: "dp"},
			"chassis": ovsdb.UUID{GoUUID: "hv2"}}},
	)

	dctx, dcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(dctx, Options{OVSDB: ovsSrv.Remote(), OVSRundir: t.TempDir(), Hostname: "host1", HeartbeatInterval: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))})
	}()
	stopped := false
	defer func() {
		if !stopped {
			dcancel()
			<-done
		}
	}()

	sel := func(c *client.Client, db, table string, where ...ovsdb.Condition) []ovsdb.Row {
		t.Helper()
		res := must(c, db, ovsdb.Operation{Op: "select", Table: table, Where: where})
		return res[0].Rows
	}
	eq := func(col string, v any) ovsdb.Condition {
		return ovsdb.Condition{Column: col, Function: ovsdb.ConditionEqual, Value: v}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var brUUID string
	waitFor("br-int in Open_vSwitch", func() bool {
		rows := sel(ovs, "Open_vSwitch", "Bridge", eq("name", "br-int"))
		if len(rows) == 1 && rows[0]["fail_mode"] == "secure" && rows[0]["datapath_type"] == "netdev" {
			brUUID = rows[0]["_uuid"].(ovsdb.UUID).GoUUID
			return true
		}
		return false
	})
	var chUUID string
	waitFor("Chassis hv1 with its Encap and Chassis_Private", func() bool {
		rows := sel(sb, "OVN_Southbound", "Chassis", eq("name", "hv1"))
		if len(rows) != 1 || rows[0]["hostname"] != "host1" {
			return false
		}
		chUUID = rows[0]["_uuid"].(ovsdb.UUID).GoUUID
		enc := sel(sb, "OVN_Southbound", "Encap", eq("chassis_name", "hv1"))
		priv := sel(sb, "OVN_Southbound", "Chassis_Private", eq("name", "hv1"))
		return len(enc) == 1 && enc[0]["ip"] == "192.0.2.1" && enc[0]["type"] == "geneve" && len(priv) == 1
	})
	// The heartbeat: external_ids:hcnet-heartbeat refreshed with the time,
	// next to the interval, and other keys left alone.
	must(sb, "OVN_Southbound", ovsdb.Operation{Op: "mutate", Table: "Chassis_Private", Where: []ovsdb.Condition{eq("name", "hv1")},
		Mutations: []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: omap("operator", "note")}}})
	var beats []int64
	waitFor("two heartbeats", func() bool {
		priv := sel(sb, "OVN_Southbound", "Chassis_Private", eq("name", "hv1"))
		if len(priv) != 1 {
			return false
		}
		ids, _ := priv[0]["external_ids"].(ovsdb.OvsMap)
		ms, err := strconv.ParseInt(fmt.Sprint(ids.GoMap[plan.HeartbeatKey]), 10, 64)
		if err != nil || ids.GoMap[plan.HeartbeatIntervalKey] != "200" || ids.GoMap["operator"] != "note" {
			return false
		}
		if len(beats) == 0 || beats[len(beats)-1] != ms {
			beats = append(beats, ms)
		}
		return len(beats) >= 2
	})
	if d := time.Since(time.UnixMilli(beats[1])); d < -time.Second || d > 10*time.Second {
		t.Fatalf("heartbeat %d is not the current time (%s off)", beats[1], d)
	}
	// No tunnel yet: hv1 shares no datapath with hv2 until vm1 is here.
	if rows := sel(ovs, "Open_vSwitch", "Interface", eq("name", "ovn-hv2-0")); len(rows) != 0 {
		t.Fatalf("tunnel to hv2 before any shared datapath: %v", rows)
	}

	// Plug vm1 (ofport set by hand: there is no ovs-vswitchd to do it).
	res := must(ovs, "Open_vSwitch",
		ovsdb.Operation{Op: "insert", Table: "Interface", UUIDName: "i", Row: ovsdb.Row{"name": "tap1", "ofport": 7, "external_ids": omap("iface-id", "vm1")}},
		ovsdb.Operation{Op: "insert", Table: "Port", UUIDName: "p", Row: ovsdb.Row{"name": "tap1", "interfaces": ovsdb.UUID{GoUUID: "i"}}},
		ovsdb.Operation{Op: "mutate", Table: "Bridge", Where: []ovsdb.Condition{eq("_uuid", ovsdb.UUID{GoUUID: brUUID})},
			Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "p"}}}}}},
	)
	portUUID := res[1].UUID.GoUUID
	bound := func(want bool) func() bool {
		return func() bool {
			rows := sel(sb, "OVN_Southbound", "Port_Binding", eq("logical_port", "vm1"))
			if len(rows) != 1 {
				return false
			}
			ch, _ := rows[0]["chassis"].(ovsdb.UUID)
			return (ch.GoUUID == chUUID) == want && (ch.GoUUID == "") == !want
		}
	}
	// Bound, but not up: up=true waits for the port's flows, which
	// cannot be installed without a switch.
	notUp := func() {
		t.Helper()
		rows := sel(sb, "OVN_Southbound", "Port_Binding", eq("logical_port", "vm1"))
		if up, _ := rows[0]["up"].(bool); up {
			t.Fatalf("vm1 up with no flows installed: %v", rows[0])
		}
	}
	waitFor("vm1 bound to hv1", bound(true))
	notUp()
	waitFor("geneve tunnel to hv2, which hosts vm2 on vm1's switch", func() bool {
		rows := sel(ovs, "Open_vSwitch", "Interface", eq("name", "ovn-hv2-0"))
		if len(rows) != 1 || rows[0]["type"] != "geneve" {
			return false
		}
		opts := rows[0]["options"].(ovsdb.OvsMap).GoMap
		return opts["remote_ip"] == "192.0.2.2" && opts["key"] == "flow"
	})
	notUp()
	must(ovs, "Open_vSwitch", ovsdb.Operation{Op: "mutate", Table: "Bridge", Where: []ovsdb.Condition{eq("_uuid", ovsdb.UUID{GoUUID: brUUID})},
		Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: portUUID}}}}}})
	waitFor("vm1 released", bound(false))
	waitFor("tunnel to hv2 removed", func() bool {
		return len(sel(ovs, "Open_vSwitch", "Interface", eq("name", "ovn-hv2-0"))) == 0
	})

	// A clean exit removes the registration.
	dcancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stopped = true
	if rows := sel(sb, "OVN_Southbound", "Chassis", eq("name", "hv1")); len(rows) != 0 {
		t.Fatalf("Chassis hv1 still registered after exit: %v", rows)
	}
	if rows := sel(sb, "OVN_Southbound", "Chassis_Private", eq("name", "hv1")); len(rows) != 0 {
		t.Fatal(fmt.Sprint("Chassis_Private hv1 still there: ", rows))
	}
}
