package pinctrl

import (
	"net/netip"
	"reflect"
	"testing"

	"hcnet/chassis/ofconn"
)

func TestMemberships(t *testing.T) {
	g1, g2, g3 := []byte{239, 1, 1, 1}, []byte{239, 2, 2, 2}, []byte{239, 3, 3, 3}
	m6 := netip.MustParseAddr("ff05::1:3").AsSlice()
	igmp := func(b ...byte) []byte { return ipv4(vm4, [4]byte{224, 0, 0, 22}, 2, b) }
	rec := func(typ byte, group []byte, sources ...[]byte) []byte {
		r := []byte{typ, 0, 0, byte(len(sources))}
		r = append(r, group...)
		for _, s := range sources {
			r = append(r, s...)
		}
		return r
	}
	v3 := append([]byte{0x22, 0, 0, 0, 0, 0, 0, 4}, rec(2, g1)...) // IS_EXCLUDE {}: join
	v3 = append(v3, rec(3, g2)...)                                 // TO_INCLUDE {}: leave
	v3 = append(v3, rec(1, g3, []byte{10, 0, 0, 1})...)            // IS_INCLUDE {S}: per source, ignored
	v3 = append(v3, rec(5, g3, []byte{10, 0, 0, 2})...)            // ALLOW {S}: join
	mldv2 := append([]byte{143, 0, 0, 0, 0, 0, 0, 1}, rec(4, m6)...)
	j := func(g []byte, join bool) Membership {
		a, _ := netip.AddrFromSlice(g)
		return Membership{Datapath: 3, Port: 2, Group: a, Join: join}
	}
	for _, c := range []struct {
		name string
		pkt  []byte
		want []Membership
	}{
		{"igmpv2 report", igmp(append([]byte{0x16, 0, 0, 0}, g1...)...), []Membership{j(g1, true)}},
		{"igmpv1 report", igmp(append([]byte{0x12, 0, 0, 0}, g1...)...), []Membership{j(g1, true)}},
		{"igmpv2 leave", igmp(append([]byte{0x17, 0, 0, 0}, g1...)...), []Membership{j(g1, false)}},
		{"igmp query", igmp(append([]byte{0x11, 0, 0, 0}, 0, 0, 0, 0)...), nil},
		{"igmpv3 report", igmp(v3...), []Membership{j(g1, true), j(g2, false), j(g3, true)}},
		{"mldv1 report", ipv6Frame(routerMAC, vmMAC, vm6, netip.MustParseAddr("ff05::1:3"), append([]byte{131, 0, 0, 0, 0, 0, 0, 0}, m6...), protoICMPv6), []Membership{j(m6, true)}},
		{"mldv1 done", ipv6Frame(routerMAC, vmMAC, vm6, netip.MustParseAddr("ff02::2"), append([]byte{132, 0, 0, 0, 0, 0, 0, 0}, m6...), protoICMPv6), []Membership{j(m6, false)}},
		{"mldv2 report", ipv6Frame(routerMAC, vmMAC, vm6, netip.MustParseAddr("ff02::16"), mldv2, protoICMPv6), []Membership{j(m6, true)}},
	} {
		ud := punted(t, "igmp;")
		res, err := HandleWith(&ofconn.PacketIn{Packet: c.pkt, Metadata: []ofconn.OXM{
			{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
			{Header: ofconn.FieldReg(14), Value: []byte{0, 0, 0, 2}},
		}, Userdata: ud}, 1, nil)
		if err != nil || len(res.Send) != 0 {
			t.Fatalf("%s: err %v, %d messages", c.name, err, len(res.Send))
		}
		if !reflect.DeepEqual(res.Multicast, c.want) {
			t.Fatalf("%s: %+v, want %+v", c.name, res.Multicast, c.want)
		}
	}
	if _, err := Memberships(igmp(0x22, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0), 3, 2); err == nil {
		t.Fatal("truncated IGMPv3 report accepted")
	}
	if _, err := Memberships(ipv4(vm4, far4, protoUDP, udpSeg(1, 2, "")), 3, 2); err == nil {
		t.Fatal("UDP accepted as IGMP")
	}
}
