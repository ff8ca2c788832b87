package e2e

import (
	"net"
	"strings"
	"testing"
	"time"
)

// IGMP snooping (ovn-nb(5) Logical_Switch other_config:mcast_snoop,
// ovn-sb(5) IGMP_Group): the chassis of a VM that joins a multicast group
// records the membership in the southbound.

func init() {
	extraScenarios = append(extraScenarios, scenario{"igmp-snooping-group", testIGMPGroup})
}

const igmpGroup = "239.1.2.3"

// testIGMPGroup: with snooping on ls-h, vmh1 joins igmpGroup: an
// IGMP_Group row for the group names vmh1's port binding, and datagrams
// vmh2 sends to the group reach vmh1.
func testIGMPGroup(t *testing.T, s *suite) {
	b1, b2, _ := healthNet(t, s)
	nbctl(t, s, "set", "Logical_Switch", "ls-h", "other_config:mcast_snoop=true")
	t.Cleanup(func() { _, _ = s.tb.NBCtl("remove", "Logical_Switch", "ls-h", "other_config", "mcast_snoop") })
	nbctl(t, s, "--wait=hv", "sync")
	var conn *net.UDPConn
	if err := b1.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		conn, err = net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: net.ParseIP(igmpGroup), Port: 5900})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pb, err := s.tb.SBCtl("--bare", "--columns=_uuid", "find", "Port_Binding", "logical_port=vmh1")
	if err != nil {
		t.Fatal(err)
	}
	pb = strings.TrimSpace(pb)
	rows := func() string {
		out, err := s.tb.SBCtl("--bare", "--columns=address,ports,chassis", "list", "IGMP_Group")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for out := rows(); !strings.Contains(out, igmpGroup) || !strings.Contains(out, pb); out = rows() {
		if time.Now().After(deadline) {
			t.Fatalf("no IGMP_Group %s with vmh1's port %s within 30 s of joining; rows: %q", igmpGroup, pb, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Traffic to the group from vmh2 reaches the member.
	got := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	var sender *net.UDPConn
	if err := b2.Do(func() error {
		var err error
		sender, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(igmpGroup), Port: 5900})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	deadline = time.Now().Add(20 * time.Second)
	for received := false; !received; {
		_, _ = sender.Write([]byte("hello group"))
		select {
		case <-got:
			received = true
		case <-time.After(300 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("vmh1 joined %s but received nothing vmh2 sent to it in 20 s", igmpGroup)
			}
		}
	}
	// (ovn-controller keeps a left group until it ages out, ours drops
	// it at the leave: the leave is not compared.)
}
