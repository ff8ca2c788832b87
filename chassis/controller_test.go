package chassis

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/replica"
	"hcnet/schema"
)

// TestPinInputDNS checks that the controller path's DNS view keys each
// DNS row's records by the tunnel keys of its datapaths.
func TestPinInputDNS(t *testing.T) {
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	sb := replica.New(&s)
	const dp1, dp2 = "11111111-0000-0000-0000-000000000000", "22222222-0000-0000-0000-000000000000"
	upd := `{
	 "Datapath_Binding": {"` + dp1 + `": {"initial": {"tunnel_key": 1}}, "` + dp2 + `": {"initial": {"tunnel_key": 2}}},
	 "DNS": {"33333333-0000-0000-0000-000000000000": {"initial": {
	   "datapaths": ["set", [["uuid", "` + dp1 + `"], ["uuid", "` + dp2 + `"]]],
	   "records": ["map", [["VM1.Example.", "10.0.0.4"]]]}}}}`
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal([]byte(upd), &tu); err != nil {
		t.Fatal(err)
	}
	if err := sb.Apply(tu); err != nil {
		t.Fatal(err)
	}
	want := pinctrl.DNS{1: {"vm1.example": "10.0.0.4"}, 2: {"vm1.example": "10.0.0.4"}}
	if got := pinInput(sb).DNS; !reflect.DeepEqual(got, want) {
		t.Fatalf("DNS %v, want %v", got, want)
	}
}

// TestPinInputMACBindings: the controller path's MAC_Binding view keys
// each row's MAC by its datapath's tunnel key and its IP (a row of an
// unknown datapath or with an address that does not parse is left out).
func TestPinInputMACBindings(t *testing.T) {
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	sb := replica.New(&s)
	const dp1 = "11111111-0000-0000-0000-000000000000"
	row := func(u, dp, ip, mac string) string {
		return `"` + u + `": {"initial": {"datapath": ["uuid", "` + dp + `"], "logical_port": "lrp", "ip": "` + ip + `", "mac": "` + mac + `"}}`
	}
	upd := `{
	 "Datapath_Binding": {"` + dp1 + `": {"initial": {"tunnel_key": 5}}},
	 "MAC_Binding": {` + row("a1000000-0000-0000-0000-000000000000", dp1, "10.0.0.9", "0A:00:00:00:00:09") + `,
	   ` + row("a2000000-0000-0000-0000-000000000000", dp1, "fd00::9", "0a:00:00:00:00:19") + `,
	   ` + row("a3000000-0000-0000-0000-000000000000", dp1, "10.0.0", "0a:00:00:00:00:29") + `,
	   ` + row("a4000000-0000-0000-0000-000000000000", "99999999-0000-0000-0000-000000000000", "10.0.0.7", "0a:00:00:00:00:07") + `}}`
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal([]byte(upd), &tu); err != nil {
		t.Fatal(err)
	}
	if err := sb.Apply(tu); err != nil {
		t.Fatal(err)
	}
	want := pinctrl.MACBindings{
		{Datapath: 5, IP: netip.MustParseAddr("10.0.0.9")}: "0a:00:00:00:00:09",
		{Datapath: 5, IP: netip.MustParseAddr("fd00::9")}:  "0a:00:00:00:00:19",
	}
	if got := pinInput(sb).MACBindings; !reflect.DeepEqual(got, want) {
		t.Fatalf("MAC bindings %v, want %v", got, want)
	}
}

// TestFDBOps: learned FDB entries become inserts, or updates of the port
// of the existing row with the same datapath and MAC; the last learned
// port wins; an unchanged entry writes nothing.
func TestFDBOps(t *testing.T) {
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(schema.Southbound, &s); err != nil {
		t.Fatal(err)
	}
	sb := replica.New(&s)
	if err := sb.ApplyRow("FDB", "44444444-0000-0000-0000-000000000000", "insert",
		ovsdb.Row{"dp_key": 1, "port_key": 2, "mac": "0a:00:00:00:00:01"}); err != nil {
		t.Fatal(err)
	}
	d := &daemon{sb: sb, learnedFDB: []pinctrl.FDBEntry{
		{Datapath: 1, Port: 3, MAC: "0A:00:00:00:00:01"}, // moved: update
		{Datapath: 1, Port: 5, MAC: "0a:00:00:00:00:02"}, // new, then moved again
		{Datapath: 1, Port: 6, MAC: "0a:00:00:00:00:02"},
	}}
	ops := d.fdbOpsLocked()
	if len(ops) != 2 || ops[0].Op != ovsdb.OperationUpdate || ops[0].Row["port_key"] != 3 ||
		ops[1].Op != ovsdb.OperationInsert || ops[1].Row["port_key"] != 6 || ops[1].Row["mac"] != "0a:00:00:00:00:02" {
		t.Fatalf("ops %+v", ops)
	}
	d.learnedFDB = []pinctrl.FDBEntry{{Datapath: 1, Port: 2, MAC: "0a:00:00:00:00:01"}}
	if ops := d.fdbOpsLocked(); len(ops) != 0 {
		t.Fatalf("unchanged entry wrote %+v", ops)
	}
}
