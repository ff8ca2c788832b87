package chassis

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/pinctrl"
)

// TestAnnouncements: which gratuitous ARPs a chassis sends for which
// rows: through localnet ports of mapped networks only, for its own VIFs
// (RARP without an IPv4 address), the nat_addresses of l3gateway ports
// residing here, and those of patch ports whose is_chassis_resident port
// is bound here; nothing for other chassis's ports.
func TestAnnouncements(t *testing.T) {
	sb := sbReplica(t)
	const me, other = "c0000000-0000-0000-0000-000000000001", "c0000000-0000-0000-0000-000000000002"
	const ext, unmapped = "d0000000-0000-0000-0000-000000000001", "d0000000-0000-0000-0000-000000000002"
	mustApplyRow(t, sb, "Datapath_Binding", ext, ovsdb.Row{"tunnel_key": 5})
	mustApplyRow(t, sb, "Datapath_Binding", unmapped, ovsdb.Row{"tunnel_key": 6})
	n := 0
	pb := func(dp, name, typ, chassis string, row ovsdb.Row) {
		n++
		row["logical_port"], row["type"], row["datapath"], row["tunnel_key"] = name, typ, ovsdb.UUID{GoUUID: dp}, n
		if chassis != "" {
			row["chassis"] = ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: chassis}}}
		}
		mustApplyRow(t, sb, "Port_Binding", fmt.Sprintf("b0000000-0000-0000-0000-%012d", n), row)
	}
	set := func(s ...any) ovsdb.OvsSet { return ovsdb.OvsSet{GoSet: s} }
	opts := func(kv ...string) ovsdb.OvsMap {
		m := map[any]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return ovsdb.OvsMap{GoMap: m}
	}
	pb(ext, "ln-ext", "localnet", "", ovsdb.Row{"options": opts("network_name", "physnet")})                                                            // key 1
	pb(unmapped, "ln-other", "localnet", "", ovsdb.Row{"options": opts("network_name", "elsewhere")})                                                   // key 2
	pb(ext, "cr-lr-a-ext", "chassisredirect", me, ovsdb.Row{})                                                                                          // key 3
	pb(ext, "cr-lr-b-ext", "chassisredirect", other, ovsdb.Row{})                                                                                       // key 4
	pb(ext, "ls-ext-lr-a", "patch", "", ovsdb.Row{"nat_addresses": set(`00:00:00:00:ff:03 172.16.0.1 172.16.0.50 is_chassis_resident("cr-lr-a-ext")`)}) // 5
	pb(ext, "ls-ext-lr-b", "patch", "", ovsdb.Row{"nat_addresses": set(`00:00:00:00:ff:04 172.16.0.2 is_chassis_resident("cr-lr-b-ext")`)})             // 6
	pb(ext, "ls-ext-gr", "l3gateway", "", ovsdb.Row{"options": opts("l3gateway-chassis", "gw1"), "nat_addresses": set("00:00:00:00:fe:03 172.16.0.3")}) // 7
	pb(ext, "vm-ext", "", me, ovsdb.Row{"mac": set("0a:00:00:00:00:07 172.16.0.7 fd00::7")})                                                            // 8
	pb(ext, "vm-noip", "", me, ovsdb.Row{"mac": set("0a:00:00:00:00:08")})                                                                              // 9
	pb(unmapped, "vm-unmapped", "", me, ovsdb.Row{"mac": set("0a:00:00:00:00:09 10.9.9.9")})
	got := announcements(sb, me, "gw1", map[string]string{"physnet": "br-ex"})
	ip := netip.MustParseAddr
	want := []pinctrl.Announcement{
		{Datapath: 5, Port: 1, MAC: [6]byte{0, 0, 0, 0, 0xff, 3}, IP: ip("172.16.0.1")},
		{Datapath: 5, Port: 1, MAC: [6]byte{0, 0, 0, 0, 0xff, 3}, IP: ip("172.16.0.50")},
		{Datapath: 5, Port: 1, MAC: [6]byte{0, 0, 0, 0, 0xfe, 3}, IP: ip("172.16.0.3")},
		{Datapath: 5, Port: 1, MAC: [6]byte{0x0a, 0, 0, 0, 0, 7}, IP: ip("172.16.0.7")},
		{Datapath: 5, Port: 1, MAC: [6]byte{0x0a, 0, 0, 0, 0, 8}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("announcements\n got %v\nwant %v", got, want)
	}
	if got := announcements(sb, me, "gw1", nil); got != nil {
		t.Fatalf("without bridge mappings: %v", got)
	}
	if got := announcements(sb, other, "gw2", map[string]string{"physnet": "br-ex"}); len(got) != 1 || got[0].IP != ip("172.16.0.2") {
		t.Fatalf("the other chassis announces %v, want only lr-b's 172.16.0.2", got)
	}
}
