package chassis

import (
	"encoding/json"
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
