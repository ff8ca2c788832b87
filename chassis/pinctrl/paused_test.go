package pinctrl

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/icmp"

	"hcnet/chassis/ofconn"
	"hcnet/internal/lflow"
	"hcnet/internal/openflow"
)

// userdataOf compiles a logical flow (ingress table 0 of datapath 3) with
// internal/lflow and returns the userdata of its controller action: the
// contract between the compiler and this package.
func userdataOf(t testing.TB, actions string) []byte {
	t.Helper()
	flows, err := lflow.Compile(lflow.LogicalFlow{Pipeline: "ingress", Priority: 100, Match: "1", Actions: actions, Datapath: 3}, &lflow.Env{})
	if err != nil {
		t.Fatalf("compile %q: %v", actions, err)
	}
	for _, f := range flows {
		for _, a := range f.Actions {
			if c, ok := a.(openflow.Controller2); ok {
				if !c.Pause {
					t.Fatalf("%q: controller action does not pause", actions)
				}
				return c.UserData
			}
		}
	}
	t.Fatalf("%q compiles without a controller action", actions)
	return nil
}

var md3 = []ofconn.OXM{
	{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
	{Header: ofconn.FieldReg(14), Value: []byte{0, 0, 0, 1}},
}

// resumed runs HandleWith on a paused packet-in and returns the packet
// and metadata of the NXT_RESUME it sends.
func resumed(t *testing.T, pkt, ud []byte, in *Input) ([]byte, []ofconn.OXM, error) {
	t.Helper()
	res, err := HandleWith(&ofconn.PacketIn{Packet: pkt, Metadata: md3, Userdata: ud, Continuation: []byte{7, 7}}, 9, in)
	if len(res.Send) != 1 {
		t.Fatalf("%d messages sent (err %v)", len(res.Send), err)
	}
	// Find the packet in the resume: it is the first property.
	m := res.Send[0]
	n := int(binary.BigEndian.Uint16(m[18:]))
	out := m[20 : 16+n]
	mdProp := 16 + (n+7)/8*8
	mdLen := int(binary.BigEndian.Uint16(m[mdProp+2:]))
	oxms, perr := ofconn.ParseOXMs(m[mdProp+4 : mdProp+mdLen])
	if perr != nil {
		t.Fatal(perr)
	}
	return out, oxms, err
}

func resultBit(md []ofconn.OXM, reg, bit int) bool {
	v, _ := ofconn.Uint(md, ofconn.FieldReg(reg))
	return v>>bit&1 == 1
}

// walk6 splits DHCPv6 options (code u16, length u16).
func walk6(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	m := map[uint16][]byte{}
	if err := tlv16(b, func(c uint16, v []byte) error { m[c] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func dhcp6Msg(typ byte, withServer []byte) []byte {
	m := []byte{typ, 0x12, 0x34, 0x56}
	m = appendOpt6(m, opt6ClientID, []byte{0, 3, 0, 1, 0x0a, 0, 0, 0, 1, 0x11})
	if withServer != nil {
		m = appendOpt6(m, opt6ServerID, withServer)
	}
	m = appendOpt6(m, opt6IANA, []byte{0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0})
	m = appendOpt6(m, 6, []byte{0, 23}) // ORO: DNS servers
	return ipv6Frame([]byte{0x33, 0x33, 0, 1, 0, 2}, vmMAC, netip.MustParseAddr("fe80::811"), netip.MustParseAddr("ff02::1:2"),
		udpSeg(dhcp6ClientPort, dhcp6ServerPort, string(m)), protoUDP)
}

func TestDHCPv6Golden(t *testing.T) {
	ud := userdataOf(t, `reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, server_id = 00:00:00:00:10:02, dns_server = {ae70::1, ae70::2}, domain_search = "ovn.org");`)
	serverDUID := []byte{0, 3, 0, 1, 0, 0, 0, 0, 0x10, 0x02}
	for _, c := range []struct {
		name, comment string
		req           []byte
		reply         byte
		ia            bool
	}{
		{"dhcpv6-advertise.golden", "DHCPv6 ADVERTISE for a SOLICIT (IAID 42): IA_NA aef0::4, DNS ae70::1 ae70::2, domain ovn.org", dhcp6Msg(dhcp6Solicit, nil), dhcp6Advertise, true},
		{"dhcpv6-reply.golden", "DHCPv6 REPLY for a REQUEST naming our server", dhcp6Msg(dhcp6Request, serverDUID), dhcp6Reply, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkt, md, err := resumed(t, c.req, ud, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !resultBit(md, 0, 3) {
				t.Fatal("result bit reg0[3] not set")
			}
			golden(t, c.name, c.comment, pkt)
			f := verify(t, pkt)
			if f.proto != protoUDP || int(binary.BigEndian.Uint16(f.l4[4:])) != len(f.l4) {
				t.Fatalf("UDP length %d of %d", binary.BigEndian.Uint16(f.l4[4:]), len(f.l4))
			}
			msg := f.l4[8:]
			if msg[0] != c.reply || !bytes.Equal(msg[1:4], []byte{0x12, 0x34, 0x56}) {
				t.Fatalf("message type %d transaction %x", msg[0], msg[1:4])
			}
			o := walk6(t, msg[4:])
			if !bytes.Equal(o[opt6ServerID], serverDUID) || !bytes.Equal(o[opt6ClientID], []byte{0, 3, 0, 1, 0x0a, 0, 0, 0, 1, 0x11}) {
				t.Fatalf("server id %x client id %x", o[opt6ServerID], o[opt6ClientID])
			}
			ia := o[opt6IANA]
			if len(ia) < 12 || binary.BigEndian.Uint32(ia) != 42 {
				t.Fatalf("IA_NA %x", ia)
			}
			addr := walk6(t, ia[12:])[opt6IAAddr]
			if len(addr) != 24 || netip.AddrFrom16([16]byte(addr[:16])) != netip.MustParseAddr("aef0::4") {
				t.Fatalf("IAADDR %x", addr)
			}
			dns := o[opt6DNSServers]
			if len(dns) != 32 || netip.AddrFrom16([16]byte(dns[16:])) != netip.MustParseAddr("ae70::2") {
				t.Fatalf("DNS servers %x", dns)
			}
			if !bytes.Equal(o[opt6DomainList], []byte("\x03ovn\x03org\x00")) {
				t.Fatalf("domain list %q", o[opt6DomainList])
			}
		})
	}
	// Another server's REQUEST, and a non-DHCPv6 packet: resumed unchanged, bit clear.
	for _, req := range [][]byte{dhcp6Msg(dhcp6Request, []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}), ipv4(vm4, far4, protoUDP, udpSeg(1, 2, "x"))} {
		pkt, md, err := resumed(t, req, ud, nil)
		if err == nil || resultBit(md, 0, 3) || !bytes.Equal(pkt, req) {
			t.Fatalf("err %v, bit %v, packet changed %v", err, resultBit(md, 0, 3), !bytes.Equal(pkt, req))
		}
	}
	// Release: status Success, no IA.
	pkt, _, err := resumed(t, dhcp6Msg(dhcp6Release, serverDUID), ud, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := walk6(t, verify(t, pkt).l4[8+4:])
	if o[opt6IANA] != nil || !bytes.Equal(o[opt6StatusCode], []byte{0, 0}) {
		t.Fatalf("release reply options %v", o)
	}
}

func TestRouterAdvertisementGolden(t *testing.T) {
	ud := userdataOf(t, `reg0[5] = put_nd_ra_opts(addr_mode = "slaac", slla = 00:00:00:00:10:02, prefix = aef0::/64, mtu = 1450);`)
	rs := ipv6Frame([]byte{0x33, 0x33, 0, 0, 0, 2}, vmMAC, netip.MustParseAddr("fe80::811"), netip.MustParseAddr("ff02::2"),
		[]byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x0a, 0, 0, 0, 1, 0x11}, protoICMPv6)
	pkt, md, err := resumed(t, rs, ud, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resultBit(md, 0, 5) {
		t.Fatal("result bit reg0[5] not set")
	}
	golden(t, "nd-ra.golden", "router advertisement for a solicitation from fe80::811: slaac, slla 00:00:00:00:10:02, prefix aef0::/64, mtu 1450", pkt)
	f := verify(t, pkt)
	if f.ttl() != 255 {
		t.Fatalf("hop limit %d", f.ttl())
	}
	m, err := icmp.ParseMessage(58, f.l4)
	if err != nil || m.Code != 0 || m.Type.Protocol() != 58 {
		t.Fatalf("%+v %v", m, err)
	}
	ra := f.l4
	if ra[0] != 134 || ra[4] != 255 || ra[5] != 0 || binary.BigEndian.Uint16(ra[6:]) != raRouterLifetime {
		t.Fatalf("RA header %x", ra[:16])
	}
	// Walk the ND options (type, length in 8-byte units).
	got := map[byte][]byte{}
	for o := ra[16:]; len(o) > 0; {
		if len(o) < 2 || o[1] == 0 || len(o) < int(o[1])*8 {
			t.Fatalf("bad ND option %x", o)
		}
		got[o[0]] = o[:int(o[1])*8]
		o = o[int(o[1])*8:]
	}
	if !bytes.Equal(got[1], []byte{1, 1, 0, 0, 0, 0, 0x10, 0x02}) {
		t.Fatalf("SLLA %x", got[1])
	}
	if len(got[5]) != 8 || binary.BigEndian.Uint32(got[5][4:]) != 1450 {
		t.Fatalf("MTU %x", got[5])
	}
	p := got[3]
	if len(p) != 32 || p[2] != 64 || p[3] != 0xc0 || netip.AddrFrom16([16]byte(p[16:])) != netip.MustParseAddr("aef0::") {
		t.Fatalf("prefix %x", p)
	}

	// dhcpv6_stateful: M flag, prefix not autonomous; RDNSS, DNSSL, route info.
	ud = userdataOf(t, `reg0[5] = put_nd_ra_opts(addr_mode = "dhcpv6_stateful", slla = 00:00:00:00:10:02, prefix = aef0::/64, router_preference = "HIGH", rdnss = ae70::1, dnssl = "a.org,b.org", route_info = "LOW-aef1::/48");`)
	pkt, _, err = resumed(t, rs, ud, nil)
	if err != nil {
		t.Fatal(err)
	}
	ra = verify(t, pkt).l4
	if ra[5] != 0x88 {
		t.Fatalf("flags %#x, want M and high preference", ra[5])
	}
	opts := ra[16:]
	for _, want := range [][]byte{
		{3, 4, 64, 0x80},        // prefix, on-link only
		{25, 3, 0, 0, 255, 255}, // RDNSS one address
		append([]byte{31, 3, 0, 0, 255, 255, 255, 255}, "\x01a\x03org\x00\x01b\x03org\x00"...),
		{24, 2, 48, 0x18, 255, 255, 255, 255, 0xae, 0xf1},
	} {
		if !bytes.Contains(opts, want) {
			t.Fatalf("options %x lack %x", opts, want)
		}
	}

	// A neighbour solicitation is not a router solicitation.
	ns := ipv6Frame(routerMAC, vmMAC, vm6, far6, []byte{135, 0, 0, 0, 0, 0, 0, 0}, protoICMPv6)
	if _, md, err := resumed(t, ns, ud, nil); err == nil || resultBit(md, 0, 5) {
		t.Fatal("RA built for a neighbour solicitation")
	}
}

func dnsQuery(t testing.TB, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0xbeef, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	m, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDNSGolden(t *testing.T) {
	ud := userdataOf(t, `reg0[4] = dns_lookup();`)
	dns := DNS{}
	dns.Add([]uint32{3, 4}, map[string]string{"vm1.ovn.org": "10.0.0.4 aef0::4", "vm2.ovn.org": "10.0.0.5,10.0.0.6", "4.0.0.10.in-addr.arpa": "vm1.ovn.org"})
	dns.Add([]uint32{7}, map[string]string{"other.ovn.org": "10.9.9.9"})
	in := &Input{DNS: dns}
	query := func(name string, typ dnsmessage.Type, v6 bool) []byte {
		q := udpSeg(33333, 53, string(dnsQuery(t, name, typ)))
		if v6 {
			return ipv6Frame(routerMAC, vmMAC, vm6, netip.MustParseAddr("fd00::1"), q, protoUDP)
		}
		return ipv4(vm4, [4]byte{10, 0, 1, 1}, protoUDP, q)
	}
	for _, c := range []struct {
		name, comment, q string
		typ              dnsmessage.Type
		v6               bool
		want             []string
	}{
		{"dns-a.golden", "DNS answer over IPv4 to A? VM1.ovn.org. (case-insensitive): 10.0.0.4", "VM1.ovn.org.", dnsmessage.TypeA, false, []string{"10.0.0.4"}},
		{"dns-aaaa.golden", "DNS answer over IPv6 to AAAA? vm1.ovn.org.: aef0::4", "vm1.ovn.org.", dnsmessage.TypeAAAA, true, []string{"aef0::4"}},
		{"", "", "vm2.ovn.org.", dnsmessage.TypeA, false, []string{"10.0.0.5", "10.0.0.6"}},
		{"", "", "4.0.0.10.in-addr.arpa.", dnsmessage.TypePTR, false, []string{"vm1.ovn.org."}},
	} {
		pkt, md, err := resumed(t, query(c.q, c.typ, c.v6), ud, in)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if !resultBit(md, 0, 4) {
			t.Fatalf("%s: result bit reg0[4] not set", c.q)
		}
		if c.name != "" {
			golden(t, c.name, c.comment, pkt)
		}
		f := verify(t, pkt)
		var p dnsmessage.Parser
		h, err := p.Start(f.l4[8:])
		if err != nil {
			t.Fatal(err)
		}
		if !h.Response || h.Authoritative || !h.RecursionDesired || h.ID != 0xbeef || h.RCode != dnsmessage.RCodeSuccess {
			t.Fatalf("%s: header %+v", c.q, h)
		}
		qs, err := p.AllQuestions()
		if err != nil || len(qs) != 1 || !strings.EqualFold(qs[0].Name.String(), c.q) {
			t.Fatalf("%s: questions %v %v", c.q, qs, err)
		}
		as, err := p.AllAnswers()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			if a.Header.TTL != dnsTTL || a.Header.Type != c.typ {
				t.Fatalf("%s: answer header %+v", c.q, a.Header)
			}
			switch r := a.Body.(type) {
			case *dnsmessage.AResource:
				got = append(got, netip.AddrFrom4(r.A).String())
			case *dnsmessage.AAAAResource:
				got = append(got, netip.AddrFrom16(r.AAAA).String())
			case *dnsmessage.PTRResource:
				got = append(got, r.PTR.String())
			}
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Fatalf("%s: answers %v, want %v", c.q, got, c.want)
		}
	}
	// Unknown names, a type without records, a datapath without the
	// records, no DNS input: unchanged, bit clear.
	for _, c := range []struct {
		pkt []byte
		in  *Input
	}{
		{query("nope.ovn.org.", dnsmessage.TypeA, false), in},
		{query("vm2.ovn.org.", dnsmessage.TypeAAAA, false), in},
		{query("other.ovn.org.", dnsmessage.TypeA, false), in},
		{query("vm1.ovn.org.", dnsmessage.TypeA, false), nil},
	} {
		pkt, md, err := resumed(t, c.pkt, ud, c.in)
		if err == nil || resultBit(md, 0, 4) || !bytes.Equal(pkt, c.pkt) {
			t.Fatalf("err %v bit %v changed %v", err, resultBit(md, 0, 4), !bytes.Equal(pkt, c.pkt))
		}
	}
}

// TestResultBitCleared checks that a failed paused action resumes with
// its result bit cleared even when it was set before (the flow does not
// clear it).
func TestResultBitCleared(t *testing.T) {
	ud := userdataOf(t, `reg0[4] = dns_lookup();`)
	md := []ofconn.OXM{md3[0], md3[1], {Header: ofconn.FieldReg(0), Value: []byte{0, 0, 0, 0x30}}}
	res, err := HandleWith(&ofconn.PacketIn{Packet: ipv4(vm4, far4, protoUDP, udpSeg(1, 53, "not dns")), Metadata: md, Userdata: ud, Continuation: []byte{1}}, 1, nil)
	if err == nil || len(res.Send) != 1 {
		t.Fatalf("err %v, %d messages", err, len(res.Send))
	}
	m := res.Send[0]
	n := int(binary.BigEndian.Uint16(m[18:]))
	mdProp := 16 + (n+7)/8*8
	mdLen := int(binary.BigEndian.Uint16(m[mdProp+2:]))
	oxms, err := ofconn.ParseOXMs(m[mdProp+4 : mdProp+mdLen])
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ofconn.Uint(oxms, ofconn.FieldReg(0)); v != 0x20 {
		t.Fatalf("reg0 %#x after a failed dns_lookup, want 0x20 (bit 4 cleared, bit 5 kept)", v)
	}
}
