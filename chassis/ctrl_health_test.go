package chassis

import (
	"encoding/json"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/replica"
	"hcnet/schema"
)

func sbReplica(t testing.TB) *replica.DB {
	t.Helper()
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	return replica.New(&s)
}

func mustApplyRow(t *testing.T, sb *replica.DB, table, uuid string, row ovsdb.Row) {
	t.Helper()
	if err := sb.ApplyRow(table, uuid, "insert", row); err != nil {
		t.Fatalf("%s %s: %v", table, uuid, err)
	}
}

// TestSvcSpecs: the Service_Monitor rows whose logical_port is bound to
// this chassis become probe specs (the port's MAC for the monitored IP,
// its keys, the row's source and options); rows of ports bound elsewhere,
// IPv6 services and rows that do not parse are left out.
func TestSvcSpecs(t *testing.T) {
	sb := sbReplica(t)
	const me, other = "c0000000-0000-0000-0000-000000000001", "c0000000-0000-0000-0000-000000000002"
	const dp = "d0000000-0000-0000-0000-000000000001"
	mustApplyRow(t, sb, "Datapath_Binding", dp, ovsdb.Row{"tunnel_key": 7})
	pb := func(u, name, ch string, key int, macs ...any) {
		mustApplyRow(t, sb, "Port_Binding", u, ovsdb.Row{"logical_port": name, "datapath": ovsdb.UUID{GoUUID: dp},
			"tunnel_key": key, "chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: ch}}}, "mac": ovsdb.OvsSet{GoSet: macs}})
	}
	pb("b0000000-0000-0000-0000-000000000001", "vm1", me, 3, "0a:00:00:00:00:01 10.0.0.5", "0a:00:00:00:00:11 10.0.0.11 fd00::11")
	pb("b0000000-0000-0000-0000-000000000002", "vm2", other, 4, "0a:00:00:00:00:02 10.0.0.12")
	sm := func(u, port, ip, proto string, opts map[string]string, status string) {
		row := ovsdb.Row{"logical_port": port, "ip": ip, "port": 80, "src_ip": "10.0.0.254", "src_mac": "0a:00:00:00:fe:fe",
			"options": ovsdb.OvsMap{GoMap: map[any]any{}}}
		for k, v := range opts {
			row["options"].(ovsdb.OvsMap).GoMap[k] = v
		}
		if proto != "" {
			row["protocol"] = ovsdb.OvsSet{GoSet: []any{proto}}
		}
		if status != "" {
			row["status"] = ovsdb.OvsSet{GoSet: []any{status}}
		}
		mustApplyRow(t, sb, "Service_Monitor", u, row)
	}
	sm("a0000000-0000-0000-0000-000000000001", "vm1", "10.0.0.11", "", map[string]string{"interval": "2", "failure_count": "3"}, "online")
	sm("a0000000-0000-0000-0000-000000000002", "vm2", "10.0.0.12", "tcp", nil, "") // bound elsewhere
	sm("a0000000-0000-0000-0000-000000000003", "vm1", "fd00::11", "tcp", nil, "")  // IPv6
	sm("a0000000-0000-0000-0000-000000000004", "vm1", "10.0.0.99", "udp", nil, "") // IP not in the port's addresses: first MAC
	sm("a0000000-0000-0000-0000-000000000005", "vm9", "10.0.0.11", "tcp", nil, "") // no such port
	got := svcSpecs(sb, me)
	src := netip.MustParseAddr("10.0.0.254")
	want := []pinctrl.SvcSpec{
		{UUID: "a0000000-0000-0000-0000-000000000001", SBStatus: "online",
			Options: pinctrl.SvcOptions{Interval: 2 * time.Second, Timeout: 3 * time.Second, SuccessCount: 1, FailureCount: 3},
			Monitor: pinctrl.Monitor{Datapath: 7, Port: 3, PortMAC: [6]byte{0x0a, 0, 0, 0, 0, 0x11}, SrcMAC: [6]byte{0x0a, 0, 0, 0, 0xfe, 0xfe},
				SrcIP: src, IP: netip.MustParseAddr("10.0.0.11"), Protocol: "tcp", L4Port: 80}},
		{UUID: "a0000000-0000-0000-0000-000000000004",
			Options: pinctrl.ParseSvcOptions(nil),
			Monitor: pinctrl.Monitor{Datapath: 7, Port: 3, PortMAC: [6]byte{0x0a, 0, 0, 0, 0, 0x01}, SrcMAC: [6]byte{0x0a, 0, 0, 0, 0xfe, 0xfe},
				SrcIP: src, IP: netip.MustParseAddr("10.0.0.99"), Protocol: "udp", L4Port: 80}},
	}
	if len(got) != len(want) {
		t.Fatalf("specs %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("spec %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if s := svcSpecs(sb, ""); s != nil {
		t.Fatalf("unregistered chassis runs %+v", s)
	}
}

// TestSvcStatusOps: a decided status becomes one update of the row's
// status; nothing is written while the southbound agrees.
func TestSvcStatusOps(t *testing.T) {
	sb := sbReplica(t)
	const me = "c0000000-0000-0000-0000-000000000001"
	const dp = "d0000000-0000-0000-0000-000000000001"
	const smUUID = "a0000000-0000-0000-0000-000000000001"
	mustApplyRow(t, sb, "Chassis", me, ovsdb.Row{"name": "hv1"})
	mustApplyRow(t, sb, "Datapath_Binding", dp, ovsdb.Row{"tunnel_key": 7})
	mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-000000000001", ovsdb.Row{"logical_port": "vm1",
		"datapath": ovsdb.UUID{GoUUID: dp}, "tunnel_key": 3, "chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: me}}},
		"mac": ovsdb.OvsSet{GoSet: []any{"0a:00:00:00:00:11 10.0.0.11"}}})
	mustApplyRow(t, sb, "Service_Monitor", smUUID, ovsdb.Row{"logical_port": "vm1", "ip": "10.0.0.11", "port": 80,
		"src_ip": "10.0.0.254", "src_mac": "0a:00:00:00:fe:fe"})
	d := &daemon{sb: sb, log: slog.New(slog.DiscardHandler)}
	d.cfg.SystemID = "hv1"
	if ops := d.svcStatusOpsLocked(); len(ops) != 0 {
		t.Fatalf("undecided wrote %+v", ops)
	}
	hc := d.ctrl.health
	ps := hc.Due(time.Now())
	if len(ps) != 1 {
		t.Fatalf("probes %+v", ps)
	}
	hc.Answer(pinctrl.SvcStatus{IP: ps[0].Monitor.IP, Protocol: "tcp", L4Port: 80, ProbePort: ps[0].SrcPort, Ack: ps[0].Seq + 1})
	ops := d.svcStatusOpsLocked()
	if len(ops) != 1 || ops[0].Table != "Service_Monitor" || ops[0].Row["status"] != "offline" ||
		ops[0].Where[0].Value != (ovsdb.UUID{GoUUID: smUUID}) {
		t.Fatalf("ops %+v", ops)
	}
	if err := sb.ApplyRow("Service_Monitor", smUUID, "modify", ovsdb.Row{"status": ovsdb.OvsSet{GoSet: []any{"offline"}}}); err != nil {
		t.Fatal(err)
	}
	if ops := d.svcStatusOpsLocked(); len(ops) != 0 {
		t.Fatalf("southbound agrees, wrote %+v", ops)
	}
}
