package pinctrl

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hcnet/chassis/ofconn"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files in testdata")

// hexdump renders bytes 16 per line, for readable golden diffs.
func hexdump(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 16 {
		sb.WriteString(hex.EncodeToString(b[i:min(i+16, len(b))]))
		sb.WriteByte('\n')
	}
	return sb.String()
}

func golden(t *testing.T, name, comment string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	text := "# " + comment + "\n" + hexdump(got)
	if *rewrite {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs (rerun with -rewrite and read the diff):\n--- got\n%s--- want\n%s", name, text, want)
	}
}

var (
	vmMAC     = []byte{0x0a, 0, 0, 0, 0x01, 0x11}
	routerMAC = []byte{0, 0, 0, 0, 0xff, 0x01}
)

// ipv4 builds Ethernet+IPv4 around payload.
func ipv4(src, dst [4]byte, proto byte, payload []byte) []byte {
	p := append([]byte{}, routerMAC...)
	p = append(p, vmMAC...)
	p = append(p, 0x08, 0x00)
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(payload)))
	ip[8], ip[9] = 64, proto
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	return append(append(p, ip...), payload...)
}

func buildDHCP(msgType byte, requested []byte) []byte {
	d := make([]byte, 240)
	d[0], d[1], d[2] = 1, 1, 6
	copy(d[4:8], []byte{0xde, 0xad, 0xbe, 0xef})
	copy(d[28:34], vmMAC)
	copy(d[236:], dhcpMagic)
	d = append(d, 53, 1, msgType)
	if requested != nil {
		d = append(d, 50, 4)
		d = append(d, requested...)
	}
	d = append(d, 255)
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], 68)
	binary.BigEndian.PutUint16(udp[2:], 67)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(d)))
	p := ipv4([4]byte{0, 0, 0, 0}, [4]byte{255, 255, 255, 255}, 17, append(udp, d...))
	copy(p[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	return p
}

// OVN-style options: offerip 10.0.1.11, netmask /24, router 10.0.1.1,
// server_id 10.0.1.1, lease_time 3600, mtu 1400.
var dhcpOpts = []byte{
	0, 4, 10, 0, 1, 11,
	1, 4, 255, 255, 255, 0,
	3, 4, 10, 0, 1, 1,
	54, 4, 10, 0, 1, 1,
	51, 4, 0, 0, 0x0e, 0x10,
	26, 2, 0x05, 0x78,
}

func TestDHCPReplyGolden(t *testing.T) {
	offer, err := DHCPReply(buildDHCP(dhcpDiscover, nil), dhcpOpts)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dhcp-offer.golden", "DHCPOFFER for a DISCOVER from 0a:00:00:00:01:11: yiaddr 10.0.1.11, options 53,1,3,54,51,26", offer)
	ack, err := DHCPReply(buildDHCP(dhcpRequest, []byte{10, 0, 1, 11}), dhcpOpts)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dhcp-ack.golden", "DHCPACK for a REQUEST of 10.0.1.11", ack)
	nak, err := DHCPReply(buildDHCP(dhcpRequest, []byte{10, 0, 1, 99}), dhcpOpts)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dhcp-nak.golden", "DHCPNAK for a REQUEST of 10.0.1.99 (offer is 10.0.1.11): only 53 and 54", nak)
	inform := buildDHCP(dhcpInform, nil)
	copy(inform[14+20+8+12:], []byte{10, 0, 1, 11})
	ack2, err := DHCPReply(inform, dhcpOpts)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dhcp-inform-ack.golden", "DHCPACK for an INFORM from 10.0.1.11: ciaddr kept, no yiaddr, no netmask or lease time (options 53,3,54,26)", ack2)
	if d := ack2[14+20+8:]; !equal(d[12:16], []byte{10, 0, 1, 11}) || !equal(d[16:20], []byte{0, 0, 0, 0}) || d[242] != dhcpAck {
		t.Fatalf("inform ack ciaddr %v yiaddr %v type %d", d[12:16], d[16:20], d[242])
	}
	// Structural checks that do not depend on the golden file.
	d := offer[14+20+8:]
	if d[0] != 2 || !equal(d[16:20], []byte{10, 0, 1, 11}) || d[242] != dhcpOffer {
		t.Fatalf("offer op %d yiaddr %v type %d", d[0], d[16:20], d[242])
	}
	if checksum(offer[14:34]) != 0 {
		t.Fatal("bad IPv4 header checksum")
	}
}

func TestARPRequestGolden(t *testing.T) {
	pkt := ipv4([4]byte{10, 0, 1, 11}, [4]byte{172, 16, 0, 100}, 1, make([]byte, 8))
	arp, err := ARPRequest(pkt)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "arp-request.golden", "ARP request built from an IPv4 packet 10.0.1.11 -> 172.16.0.100 (MACs 0a:00:00:00:01:11 -> 00:00:00:00:ff:01 unchanged)", arp)
	if _, err := ARPRequest(arp); err == nil {
		t.Fatal("arp action on an ARP packet accepted")
	}
}

func TestHandle(t *testing.T) {
	md := []ofconn.OXM{
		{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
		{Header: ofconn.FieldReg(14), Value: []byte{0, 0, 0, 2}},
		{Header: ofconn.FieldReg(0), Value: []byte{172, 16, 0, 100}},
	}
	arpReply := append(append([]byte{}, routerMAC...), 0x0a, 0xbb, 0, 0, 0, 0x64)
	arpReply = append(arpReply, make([]byte, 30)...)
	res, err := Handle(&ofconn.PacketIn{Packet: arpReply, Metadata: md, Userdata: []byte{0, 0, 0, OpPutARP, 0, 0, 0, 0}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Learned
	if l == nil || l.Datapath != 3 || l.Port != 2 || l.IP != netip.MustParseAddr("172.16.0.100") || l.MAC != "0a:bb:00:00:00:64" {
		t.Fatalf("learned %+v", l)
	}

	// put_dhcp_opts: resume with the result bit (reg0[3]) set.
	ud := []byte{0, 0, 0, OpPutDHCPOpts, 0, 0, 0, 0}
	ud = binary.BigEndian.AppendUint32(ud, ofconn.FieldReg(0))
	ud = append(ud, 0, 3, 0, 1)
	ud = append(ud, dhcpOpts...)
	res, err = Handle(&ofconn.PacketIn{Packet: buildDHCP(dhcpDiscover, nil), Metadata: md[:2], Userdata: ud, Continuation: []byte{1, 2, 3}}, 7)
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("send %d err %v", len(res.Send), err)
	}
	golden(t, "dhcp-resume.golden", "NXT_RESUME for a DISCOVER: OFFER packet, metadata with reg0 bit 3 set, continuation 010203", res.Send[0])

	if _, err := Handle(&ofconn.PacketIn{Userdata: []byte{0, 0, 0, 99, 0, 0, 0, 0}}, 1); err == nil {
		t.Fatal("unknown opcode accepted")
	}
}
