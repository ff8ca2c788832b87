package pinctrl

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

var svcMon = Monitor{Datapath: 3, Port: 2, PortMAC: [6]byte{0x0a, 0, 0, 0, 1, 0x11}, SrcMAC: [6]byte{0x0a, 0, 0, 0, 0xfe, 0xfe},
	SrcIP: netip.MustParseAddr("10.0.1.254"), IP: netip.MustParseAddr("10.0.1.11"), Protocol: "tcp", L4Port: 8080}

// packetOutParts splits an OFPT_PACKET_OUT into its actions and packet.
func packetOutParts(t *testing.T, m []byte) (actions, pkt []byte) {
	t.Helper()
	if len(m) < 24 || m[1] != ofconn.TypePacketOut {
		t.Fatalf("not a packet-out: %x", m[:min(len(m), 16)])
	}
	n := int(binary.BigEndian.Uint16(m[16:]))
	return m[24 : 24+n], m[24+n:]
}

func TestHealthCheck(t *testing.T) {
	wantActs := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(3), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg15"), Value: openflow.U64(2), Mask: openflow.Ones(32)},
		openflow.SetField{Field: openflow.MustField("reg10"), Value: openflow.U64(flagLocalOnly), Mask: openflow.U64(flagLocalOnly)},
		openflow.Resubmit{Table: tableLocalOutput},
	})
	po, err := Probe(svcMon, 40000, 1000, 9)
	if err != nil {
		t.Fatal(err)
	}
	acts, syn := packetOutParts(t, po)
	if !bytes.Equal(acts, wantActs) {
		t.Fatalf("probe actions %x", acts)
	}
	golden(t, "svc-tcp-probe.golden", "TCP health check probe 10.0.1.254:40000 -> 10.0.1.11:8080 (SYN, seq 1000, TTL 63) from 0a:00:00:00:fe:fe to the port's MAC", syn)
	f := verify(t, syn)
	if f.ttl() != 63 || f.l4[13] != tcpSYN || binary.BigEndian.Uint32(f.l4[4:]) != 1000 || !bytes.Equal(f.ethDst, svcMon.PortMAC[:]) {
		t.Fatalf("probe %x", f.l3)
	}

	// The backend answers SYN+ACK: online, and we reset.
	synack := ipv4([4]byte{10, 0, 1, 11}, [4]byte{10, 0, 1, 254}, protoTCP, tcpHeader(8080, 40000, 5555, 1001, tcpSYN|tcpACK))
	res, err := Handle(&ofconn.PacketIn{Packet: synack, Metadata: md3, Userdata: punted(t, "handle_svc_check(inport);")}, 1)
	if err != nil || res.Svc == nil {
		t.Fatalf("svc %+v err %v", res.Svc, err)
	}
	st := *res.Svc
	if !st.Online || st.IP != svcMon.IP || st.Protocol != "tcp" || st.L4Port != 8080 || st.ProbePort != 40000 {
		t.Fatalf("status %+v", st)
	}
	_, rst := packetOutParts(t, Reset(svcMon, st, 10))
	f = verify(t, rst)
	if f.l4[13] != tcpRST|tcpACK || binary.BigEndian.Uint32(f.l4[4:]) != 1001 || binary.BigEndian.Uint32(f.l4[8:]) != 5556 {
		t.Fatalf("reset %x", f.l4)
	}

	// Refused: offline.
	rstIn := ipv4([4]byte{10, 0, 1, 11}, [4]byte{10, 0, 1, 254}, protoTCP, tcpHeader(8080, 40000, 0, 1001, tcpRST|tcpACK))
	if st, err := SvcReply(rstIn); err != nil || st.Online || st.IP != svcMon.IP {
		t.Fatalf("RST: %+v %v", st, err)
	}

	// UDP: the backend's port unreachable quoting the probe: offline.
	udp := svcMon
	udp.Protocol, udp.L4Port = "udp", 53
	po, err = Probe(udp, 40001, 0, 11)
	if err != nil {
		t.Fatal(err)
	}
	_, probe := packetOutParts(t, po)
	verify(t, probe)
	unreach, err := ICMP(probe, true, true)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := SvcReply(unreach); err != nil || st.Online || st.IP != udp.IP || st.Protocol != "udp" || st.L4Port != 53 {
		t.Fatalf("ICMP: %+v %v", st, err)
	}
	if _, err := Probe(Monitor{IP: netip.MustParseAddr("fd00::1"), SrcIP: netip.MustParseAddr("fd00::2"), Protocol: "tcp"}, 1, 1, 1); err == nil {
		t.Fatal("IPv6 probe built")
	}
	if _, err := SvcReply(ipv4(vm4, far4, protoUDP, udpSeg(1, 2, ""))); err == nil {
		t.Fatal("UDP accepted as an answer")
	}
}
