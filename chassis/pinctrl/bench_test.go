package pinctrl

import (
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"hcnet/chassis/ofconn"
)

// BenchmarkHandleWith measures one packet-in to the messages it answers
// with, per action.
func BenchmarkHandleWith(b *testing.B) {
	dns := DNS{}
	dns.Add([]uint32{3}, map[string]string{"vm1.ovn.org": "10.0.0.4 aef0::4"})
	in := &Input{DNS: dns}
	for _, c := range []struct {
		name, actions string
		pkt           []byte
	}{
		{"put_dhcp_opts", `reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, router = 10.0.0.1, netmask = 255.255.255.0, server_id = 10.0.0.1, lease_time = 3600, dns_server = {8.8.8.8, 8.8.4.4}, domain_name = "ovn.org");`, buildDHCP(dhcpDiscover, nil)},
		{"put_dhcpv6_opts", `reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, server_id = 00:00:00:00:10:02, dns_server = {ae70::1});`, dhcp6Msg(dhcp6Solicit, nil)},
		{"dns_lookup", `reg0[4] = dns_lookup();`, ipv4(vm4, [4]byte{10, 0, 1, 1}, protoUDP, udpSeg(33333, 53, string(dnsQuery(b, "vm1.ovn.org.", dnsmessage.TypeA))))},
		{"reject", `reject { next; };`, ipv4(vm4, far4, protoUDP, udpSeg(5000, 9, "xy"))},
	} {
		var ud []byte
		if c.name == "reject" {
			ud = punted(b, c.actions)
		} else {
			ud = userdataOf(b, c.actions)
		}
		pi := &ofconn.PacketIn{Packet: c.pkt, Metadata: md3, Userdata: ud, Continuation: make([]byte, 200)}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := HandleWith(pi, 1, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
