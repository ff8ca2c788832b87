package chassis

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
)

// TestBFDSpecs: the BFD rows whose logical_port is a gateway router's
// l3gateway port claimed by or pinned to this chassis, or a distributed
// gateway port whose chassisredirect port is bound here, become sessions
// from the port's MAC and IPv4 address; ports elsewhere, without a peer,
// unknown ports and peers of a family the port has no address of are
// left out.
func TestBFDSpecs(t *testing.T) {
	sb := sbReplica(t)
	const me, other = "c0000000-0000-0000-0000-000000000001", "c0000000-0000-0000-0000-000000000002"
	const dp = "d0000000-0000-0000-0000-000000000001"
	mustApplyRow(t, sb, "Datapath_Binding", dp, ovsdb.Row{"tunnel_key": 7})
	n := 0
	pb := func(name, typ, ch string, key int, opts map[string]string, macs ...any) {
		n++
		row := ovsdb.Row{"logical_port": name, "type": typ, "datapath": ovsdb.UUID{GoUUID: dp}, "tunnel_key": key,
			"mac": ovsdb.OvsSet{GoSet: macs}, "options": ovsdb.OvsMap{GoMap: map[any]any{}}}
		if ch != "" {
			row["chassis"] = ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: ch}}}
		}
		for k, v := range opts {
			row["options"].(ovsdb.OvsMap).GoMap[k] = v
		}
		mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-00000000000"+string(rune('0'+n)), row)
	}
	pb("gw-ext", "l3gateway", "", 1, map[string]string{"peer": "ext-gw", "l3gateway-chassis": "hv1"}, "00:00:00:00:20:01 172.16.0.1/24")
	pb("ext-gw", "l3gateway", "", 2, map[string]string{"peer": "gw-ext", "l3gateway-chassis": "hv1"}, "router")
	pb("lr-dgp", "patch", "", 3, map[string]string{"peer": "ls-dgp"}, "00:00:00:00:30:01 fd00::1/64 172.17.0.1/24")
	pb("ls-dgp", "patch", "", 4, map[string]string{"peer": "lr-dgp"}, "router")
	pb("cr-lr-dgp", "chassisredirect", me, 5, nil, "00:00:00:00:30:01 172.17.0.1/24")
	pb("gw2-ext", "l3gateway", other, 6, map[string]string{"peer": "ext-gw", "l3gateway-chassis": "hv2"}, "00:00:00:00:40:01 172.18.0.1/24")
	pb("lonely", "l3gateway", me, 8, nil, "00:00:00:00:50:01 172.19.0.1/24")
	bfd := func(u, port, dst string, srcPort, disc int) {
		mustApplyRow(t, sb, "BFD", u, ovsdb.Row{"logical_port": port, "dst_ip": dst, "src_port": srcPort, "disc": disc,
			"min_tx": 1000, "min_rx": 900, "detect_mult": 5, "status": "down"})
	}
	bfd("a0000000-0000-0000-0000-000000000001", "gw-ext", "172.16.0.50", 49152, 11)
	bfd("a0000000-0000-0000-0000-000000000002", "lr-dgp", "172.17.0.50", 49153, 12)
	bfd("a0000000-0000-0000-0000-000000000003", "gw2-ext", "172.18.0.50", 49154, 13) // elsewhere
	bfd("a0000000-0000-0000-0000-000000000004", "lonely", "172.19.0.50", 49155, 14)  // no peer
	bfd("a0000000-0000-0000-0000-000000000005", "nope", "172.19.0.50", 49156, 15)    // no port
	bfd("a0000000-0000-0000-0000-000000000006", "lr-dgp", "fd00::50", 49157, 16)     // IPv6
	bfd("a0000000-0000-0000-0000-000000000007", "gw-ext", "fd00::50", 49158, 17)     // no IPv6 address
	got := bfdSpecs(sb, me, "hv1")
	want := []pinctrl.BFDSpec{
		{UUID: "a0000000-0000-0000-0000-000000000001", Disc: 11, MinTx: 1000, MinRx: 900, Mult: 5, SBStatus: "down",
			Endpoint: pinctrl.BFDEndpoint{Datapath: 7, Port: 1, MAC: [6]byte{0, 0, 0, 0, 0x20, 1},
				SrcIP: netip.MustParseAddr("172.16.0.1"), DstIP: netip.MustParseAddr("172.16.0.50"), SrcPort: 49152}},
		{UUID: "a0000000-0000-0000-0000-000000000002", Disc: 12, MinTx: 1000, MinRx: 900, Mult: 5, SBStatus: "down",
			Endpoint: pinctrl.BFDEndpoint{Datapath: 7, Port: 3, MAC: [6]byte{0, 0, 0, 0, 0x30, 1},
				SrcIP: netip.MustParseAddr("172.17.0.1"), DstIP: netip.MustParseAddr("172.17.0.50"), SrcPort: 49153}},
		{UUID: "a0000000-0000-0000-0000-000000000006", Disc: 16, MinTx: 1000, MinRx: 900, Mult: 5, SBStatus: "down",
			Endpoint: pinctrl.BFDEndpoint{Datapath: 7, Port: 3, MAC: [6]byte{0, 0, 0, 0, 0x30, 1},
				SrcIP: netip.MustParseAddr("fd00::1"), DstIP: netip.MustParseAddr("fd00::50"), SrcPort: 49157}},
	}
	if len(got) != len(want) {
		t.Fatalf("specs %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("spec %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if s := bfdSpecs(sb, "", "hv1"); s != nil {
		t.Fatalf("unregistered chassis runs %+v", s)
	}
}

// TestBFDStatusOps: a session going up becomes one update of the row's
// status; nothing is written while the southbound agrees, nor for a row
// that says admin_down.
func TestBFDStatusOps(t *testing.T) {
	sb := sbReplica(t)
	const me = "c0000000-0000-0000-0000-000000000001"
	const dp = "d0000000-0000-0000-0000-000000000001"
	const bfdUUID = "a0000000-0000-0000-0000-000000000001"
	mustApplyRow(t, sb, "Chassis", me, ovsdb.Row{"name": "hv1"})
	mustApplyRow(t, sb, "Datapath_Binding", dp, ovsdb.Row{"tunnel_key": 7})
	for i, name := range []string{"gw-ext", "ext-gw"} {
		peer := []string{"ext-gw", "gw-ext"}[i]
		mustApplyRow(t, sb, "Port_Binding", "b0000000-0000-0000-0000-00000000000"+string(rune('1'+i)), ovsdb.Row{"logical_port": name,
			"type": "l3gateway", "datapath": ovsdb.UUID{GoUUID: dp}, "tunnel_key": i + 1,
			"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: me}}},
			"options": ovsdb.OvsMap{GoMap: map[any]any{"peer": peer}},
			"mac":     ovsdb.OvsSet{GoSet: []any{"00:00:00:00:20:01 172.16.0.1/24"}}})
	}
	mustApplyRow(t, sb, "BFD", bfdUUID, ovsdb.Row{"logical_port": "gw-ext", "dst_ip": "172.16.0.50", "src_port": 49152, "disc": 11,
		"min_tx": 1000, "min_rx": 1000, "detect_mult": 5, "status": "down"})
	d := &daemon{sb: sb, log: slog.New(slog.DiscardHandler)}
	d.cfg.SystemID = "hv1"
	if ops := d.bfdStatusOpsLocked(); len(ops) != 0 {
		t.Fatalf("down session wrote %+v", ops)
	}
	b := d.ctrl.bfd
	if due := b.Due(time.Now()); len(due) != 1 {
		t.Fatalf("sent %+v", due)
	}
	peer := pinctrl.BFDMsg{Src: netip.MustParseAddr("172.16.0.50"), Dst: netip.MustParseAddr("172.16.0.1"),
		Control: pinctrl.BFDControl{State: pinctrl.BFDInit, Mult: 3, MyDisc: 99, YourDisc: 11, MinTx: 1000000, MinRx: 1000000}}
	if msgs := d.bfdReceive(peer, 1); len(msgs) != 0 {
		t.Fatalf("answered a packet without poll: %d", len(msgs))
	}
	ops := d.bfdStatusOpsLocked()
	if len(ops) != 1 || ops[0].Table != "BFD" || ops[0].Row["status"] != "up" || ops[0].Where[0].Value != (ovsdb.UUID{GoUUID: bfdUUID}) {
		t.Fatalf("ops %+v", ops)
	}
	if err := sb.ApplyRow("BFD", bfdUUID, "modify", ovsdb.Row{"status": "up"}); err != nil {
		t.Fatal(err)
	}
	if ops := d.bfdStatusOpsLocked(); len(ops) != 0 {
		t.Fatalf("southbound agrees, wrote %+v", ops)
	}
	if err := sb.ApplyRow("BFD", bfdUUID, "modify", ovsdb.Row{"status": "admin_down"}); err != nil {
		t.Fatal(err)
	}
	if ops := d.bfdStatusOpsLocked(); len(ops) != 0 {
		t.Fatalf("admin_down row written %+v", ops)
	}
	if st, _ := b.State(bfdUUID); st != pinctrl.BFDAdminDown {
		t.Fatalf("state %s after admin_down", st)
	}
}
