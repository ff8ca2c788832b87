package pinctrl

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"hcnet/chassis/ofconn"
	"hcnet/internal/lflow"
	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

// captureOp marks the test's own controller action at the end of the
// pipeline (not an lflow opcode).
const captureOp = 0xffffffff

// TestRootControllerPathOnSwitch runs the controller path against a real
// ovs-vswitchd: logical flows compiled by internal/lflow pause or punt
// packets, HandleWith answers with resumes and packet-outs, the switch
// runs the flows after the action (address swaps and rewrites, as
// ovn-northd writes them), and the packet that reaches the end of the
// pipeline is checked: the reply the host would receive, with valid
// checksums after the switch's rewrites.
func TestRootControllerPathOnSwitch(t *testing.T) {
	sw := ovstest.Start(t)
	br := sw.AddBridge("brpc")
	c, err := ovstest.Dial(br)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const dp = 3
	lfs := []struct {
		table    uint8
		priority uint16
		match    string
		actions  string
	}{
		{0, 100, "ip6 && udp.dst == 547", `reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, server_id = 00:00:00:00:10:02, dns_server = {ae70::1}); next;`},
		{0, 100, "udp.dst == 53", `reg0[4] = dns_lookup(); next;`},
		{0, 100, "icmp6.type == 133 && icmp6.code == 0", `reg0[5] = put_nd_ra_opts(addr_mode = "slaac", slla = 00:00:00:00:10:02, prefix = aef0::/64, mtu = 1450); next;`},
		{0, 100, "ip4 && udp.dst == 9", `reject { eth.src = 00:00:00:00:10:02; next(pipeline=ingress, table=2); };`},
		{0, 100, "ip4 && tcp", `tcp_reset { eth.dst <-> eth.src; ip4.dst <-> ip4.src; next(pipeline=ingress, table=2); };`},
		{0, 100, "ip6 && udp.dst == 7", `icmp6 { eth.dst <-> eth.src; ip6.dst <-> ip6.src; icmp6.type = 1; icmp6.code = 3; next(pipeline=ingress, table=2); };`},
		{0, 100, "ip4 && udp.dst == 10", `reg0 = 10.0.9.9; arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; next(pipeline=ingress, table=2); };`},
		{0, 100, "ip4 && udp.dst == 8", `icmp4_error { eth.dst <-> eth.src; ip4.dst = ip4.src; ip4.src = 10.0.0.1; icmp4.type = 3; icmp4.code = 4; icmp4.frag_mtu = 1442; next(pipeline=ingress, table=2); };`},
		{1, 100, "reg0[3] == 1", `eth.dst = eth.src; eth.src = 00:00:00:00:10:02; ip6.dst = ip6.src; ip6.src = fe80::1; udp.src = 547; udp.dst = 546; next;`},
		{1, 100, "ip4 && reg0[4] == 1", `eth.dst <-> eth.src; ip4.src <-> ip4.dst; udp.dst = udp.src; udp.src = 53; next;`},
		{1, 100, "ip6 && reg0[4] == 1", `eth.dst <-> eth.src; ip6.src <-> ip6.dst; udp.dst = udp.src; udp.src = 53; next;`},
		{1, 100, "reg0[5] == 1", `eth.dst = eth.src; eth.src = 00:00:00:00:10:02; ip6.dst = ip6.src; ip6.src = fe80::1; next;`},
		{1, 0, "1", `next;`},
	}
	var msgs [][]byte
	msgs = append(msgs, openflow.SetConfig(0, 0xffff, 1), openflow.SetPacketInFormat(2, 2))
	xid := uint32(10)
	for _, l := range lfs {
		flows, err := lflow.Compile(lflow.LogicalFlow{Pipeline: "ingress", TableID: l.table, Priority: l.priority, Match: l.match, Actions: l.actions, Datapath: dp, Cookie: 1}, &lflow.Env{})
		if err != nil {
			t.Fatalf("%s: %v", l.actions, err)
		}
		for _, f := range flows {
			msgs = append(msgs, f.Marshal(openflow.FlowAdd, xid))
			xid++
		}
	}
	capture := openflow.Flow{Table: lflow.TableLogIngress + 2, Priority: 1, Actions: openflow.Actions{
		openflow.Controller2{Reason: 1, UserData: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}}}}
	// Released packets re-enter at the output tables: capture them there.
	captureOut := openflow.Flow{Table: tableRemoteOutput, Priority: 1, Actions: openflow.Actions{
		openflow.Controller2{Reason: 1, UserData: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}}}}
	// Health check probes go straight to the port's local output, on
	// this chassis only: capture them there, with the flag checked.
	captureProbe := openflow.Flow{Table: tableLocalOutput, Priority: 1,
		Match:   openflow.Match{{Field: openflow.MustField("reg10"), Value: openflow.U64(flagLocalOnly), Mask: openflow.U64(flagLocalOnly)}, {Field: openflow.MustField("reg15"), Value: openflow.U64(2), Mask: openflow.Ones(32)}},
		Actions: openflow.Actions{openflow.Controller2{Reason: 1, UserData: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}}}}
	msgs = append(msgs, capture.Marshal(openflow.FlowAdd, xid), captureOut.Marshal(openflow.FlowAdd, xid+1), captureProbe.Marshal(openflow.FlowAdd, xid+2))
	xid += 3
	buffer := NewBuffer()
	var queued [][]byte
	keep := func(m []byte) { queued = append(queued, m) }
	if err := c.Send(msgs, keep); err != nil {
		t.Fatal(err)
	}

	dns := DNS{}
	dns.Add([]uint32{dp}, map[string]string{"vm1.ovn.org": "10.0.0.4 aef0::4"})
	in := &Input{DNS: dns}
	// run injects pkt at ingress table 0 of the datapath, answers every
	// controller packet-in with HandleWith, and returns the packet that
	// reaches the capture flow.
	run := func(t *testing.T, pkt []byte) []byte {
		t.Helper()
		if pkt != nil { // nil: only wait for what is under way
			inject := openflow.PacketOut(openflow.PortController, openflow.Actions{
				openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(dp), Mask: openflow.Ones(64)},
				openflow.SetField{Field: openflow.MustField("reg14"), Value: openflow.U64(1), Mask: openflow.Ones(32)},
				openflow.Resubmit{Table: lflow.TableLogIngress},
			}, pkt, xid)
			xid++
			if err := c.Send([][]byte{inject}, keep); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var msg []byte
			if len(queued) > 0 {
				msg, queued = queued[0], queued[1:]
			} else {
				m, err := c.Recv(time.Until(deadline))
				if err != nil {
					t.Fatal(err)
				}
				msg = m
			}
			pi, err := ofconn.ParsePacketIn2(msg)
			if err != nil {
				continue
			}
			if binary.BigEndian.Uint32(pi.Userdata) == captureOp {
				return pi.Packet
			}
			res, herr := HandleWith(pi, xid, in)
			xid++
			if res.Hold != nil {
				buffer.Add(res.Hold, time.Now())
			}
			if herr != nil {
				t.Logf("opcode %d: %v", binary.BigEndian.Uint32(pi.Userdata), herr)
			}
			if len(res.Send) == 0 {
				t.Fatalf("opcode %d: nothing to send (%v)", binary.BigEndian.Uint32(pi.Userdata), herr)
			}
			if err := c.Send(res.Send, keep); err != nil {
				t.Fatalf("switch rejected our answer to opcode %d: %v", binary.BigEndian.Uint32(pi.Userdata), err)
			}
		}
		t.Fatal("no packet reached the end of the pipeline")
		return nil
	}
	vmLL := netip.MustParseAddr("fe80::811")
	rtrMAC := []byte{0, 0, 0, 0, 0x10, 0x02}

	t.Run("dhcpv6", func(t *testing.T) {
		out := run(t, dhcp6Msg(dhcp6Solicit, nil))
		f := verify(t, out)
		if !bytes.Equal(f.ethSrc, rtrMAC) || !bytes.Equal(f.ethDst, vmMAC) || !bytes.Equal(f.dst, vmLL.AsSlice()) ||
			binary.BigEndian.Uint16(f.l4) != 547 || binary.BigEndian.Uint16(f.l4[2:]) != 546 || f.l4[8] != dhcp6Advertise {
			t.Fatalf("reply %x", out)
		}
	})
	t.Run("dns", func(t *testing.T) {
		for _, v6 := range []bool{false, true} {
			q := udpSeg(33333, 53, string(dnsQuery(t, "vm1.ovn.org.", dnsmessage.TypeA)))
			pkt := ipv4(vm4, [4]byte{10, 0, 1, 1}, protoUDP, q)
			if v6 {
				pkt = ipv6Frame(routerMAC, vmMAC, vm6, netip.MustParseAddr("fd00::1"), q, protoUDP)
			}
			f := verify(t, run(t, pkt))
			var p dnsmessage.Parser
			if _, err := p.Start(f.l4[8:]); err != nil {
				t.Fatal(err)
			}
			p.SkipAllQuestions()
			a, err := p.AnswerHeader()
			if err != nil || binary.BigEndian.Uint16(f.l4) != 53 || binary.BigEndian.Uint16(f.l4[2:]) != 33333 || !bytes.Equal(f.ethDst, vmMAC) {
				t.Fatalf("v6 %v: answer %+v %v, ports %x", v6, a, err, f.l4[:4])
			}
		}
	})
	t.Run("ra", func(t *testing.T) {
		rs := ipv6Frame([]byte{0x33, 0x33, 0, 0, 0, 2}, vmMAC, vmLL, netip.MustParseAddr("ff02::2"),
			[]byte{133, 0, 0x7b, 0x38, 0, 0, 0, 0}, protoICMPv6)
		binary.BigEndian.PutUint16(rs[54+2:], 0)
		binary.BigEndian.PutUint16(rs[54+2:], pseudoChecksum(rs[22:38], rs[38:54], protoICMPv6, rs[54:]))
		f := verify(t, run(t, rs))
		if f.l4[0] != 134 || !bytes.Equal(f.dst, vmLL.AsSlice()) || !bytes.Equal(f.ethSrc, rtrMAC) {
			t.Fatalf("RA %x", f.l4)
		}
	})
	t.Run("reject", func(t *testing.T) {
		f := verify(t, run(t, ipv4(vm4, far4, protoUDP, udpSeg(5000, 9, "xy"))))
		if f.proto != protoICMP || f.l4[0] != 3 || f.l4[1] != 3 || !bytes.Equal(f.dst, vm4[:]) || !bytes.Equal(f.ethSrc, rtrMAC) {
			t.Fatalf("reject %x", f.l3)
		}
	})
	t.Run("tcp_reset", func(t *testing.T) {
		f := verify(t, run(t, ipv4(vm4, far4, protoTCP, tcpSeg(1000, 0, tcpSYN, ""))))
		if f.proto != protoTCP || f.l4[13] != tcpRST|tcpACK || !bytes.Equal(f.dst, vm4[:]) {
			t.Fatalf("tcp_reset %x", f.l3)
		}
	})
	t.Run("icmp6", func(t *testing.T) {
		f := verify(t, run(t, ipv6Frame(routerMAC, vmMAC, vm6, far6, udpSeg(5000, 7, "xy"), protoUDP)))
		if f.proto != protoICMPv6 || f.l4[0] != 1 || f.l4[1] != 3 || !bytes.Equal(f.dst, vm6.AsSlice()) {
			t.Fatalf("icmp6 %x", f.l3)
		}
	})
	t.Run("arp and buffered packet", func(t *testing.T) {
		orig := ipv4(vm4, far4, protoUDP, udpSeg(5000, 10, "held"))
		arp := run(t, orig)
		if len(arp) != 42 || arp[12] != 0x08 || arp[13] != 0x06 || !bytes.Equal(arp[38:42], []byte{10, 0, 9, 9}) {
			t.Fatalf("ARP request %x", arp)
		}
		if buffer.Len() != 1 {
			t.Fatalf("%d neighbours awaited", buffer.Len())
		}
		// The neighbour answers (put_arp or the southbound): the held
		// packet goes on with its MAC.
		out := buffer.Release(dp, netip.MustParseAddr("10.0.9.9"), "0a:00:00:00:09:09", xid)
		if len(out) != 1 {
			t.Fatalf("released %d packets", len(out))
		}
		if err := c.Send(out, keep); err != nil {
			t.Fatal(err)
		}
		got := run(t, nil)
		want := append([]byte{0x0a, 0, 0, 0, 9, 9}, orig[6:]...)
		if !bytes.Equal(got, want) {
			t.Fatalf("released packet %x, want %x", got, want)
		}
	})
	t.Run("health check probe", func(t *testing.T) {
		m := svcMon
		m.Datapath = dp
		po, err := Probe(m, 40000, 1000, xid)
		if err != nil {
			t.Fatal(err)
		}
		xid++
		if err := c.Send([][]byte{po}, keep); err != nil {
			t.Fatal(err)
		}
		f := verify(t, run(t, nil))
		if f.proto != protoTCP || f.l4[13] != tcpSYN || binary.BigEndian.Uint16(f.l4[2:]) != 8080 {
			t.Fatalf("probe %x", f.l3)
		}
	})
	t.Run("icmp4_error frag_mtu", func(t *testing.T) {
		f := verify(t, run(t, ipv4(vm4, far4, protoUDP, udpSeg(5000, 8, string(make([]byte, 100))))))
		if f.proto != protoICMP || f.l4[0] != 3 || f.l4[1] != 4 || binary.BigEndian.Uint16(f.l4[6:]) != 1442 ||
			!bytes.Equal(f.dst, vm4[:]) || !bytes.Equal(f.src, []byte{10, 0, 0, 1}) {
			t.Fatalf("icmp4_error %x", f.l3)
		}
	})
}
