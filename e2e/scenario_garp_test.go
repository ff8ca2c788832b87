package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hcnet/e2e/testbed"
)

// Gratuitous ARPs from a gateway (ovn-controller(8), ovn-sb(5)
// Port_Binding nat_addresses): when the standby gateway takes over a
// distributed gateway port, it announces the port's NAT addresses on the
// external network, so switches and hosts there learn where they live now.

func init() {
	extraScenarios = append(extraScenarios, scenario{"gateway-failover-garp", testGatewayFailoverGARP})
}

// garp is a gratuitous ARP seen on the external network.
type garp struct {
	at  time.Time
	mac net.HardwareAddr
	ip  netip.Addr
}

// captured is a frame seen by capture and when.
type captured struct {
	at    time.Time
	frame []byte
}

// capture opens a packet socket for ethertype in v's namespace and sends
// the frames it receives (not those it sends) to the returned channel
// until the test ends.
func capture(t *testing.T, v *testbed.VM, ethertype uint16) <-chan captured {
	t.Helper()
	proto := ethertype<<8 | ethertype>>8 // network byte order
	var fd int
	if err := v.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(proto))
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto})
	}); err != nil {
		t.Fatal(err)
	}
	out := make(chan captured, 256)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); unix.Close(fd) })
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(out)
		buf := make([]byte, 9000)
		for {
			select {
			case <-done:
				return
			default:
			}
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			select {
			case out <- captured{at: time.Now(), frame: append([]byte(nil), buf[:n]...)}:
			default:
			}
		}
	}()
	return out
}

// captureGARPs sends each gratuitous ARP (sender IP = target IP) the
// external namespace sees to the returned channel until the test ends.
func captureGARPs(t *testing.T, ext *testbed.VM) <-chan garp {
	t.Helper()
	frames := capture(t, ext, unix.ETH_P_ARP)
	out := make(chan garp, 64)
	go func() {
		defer close(out)
		for c := range frames {
			if len(c.frame) < 42 || binary.BigEndian.Uint16(c.frame[12:]) != 0x0806 {
				continue
			}
			a := c.frame[14:]
			if binary.BigEndian.Uint16(a[6:]) != 1 {
				continue
			}
			spa, tpa := netip.AddrFrom4([4]byte(a[14:18])), netip.AddrFrom4([4]byte(a[24:28]))
			if spa != tpa {
				continue
			}
			select {
			case out <- garp{at: c.at, mac: net.HardwareAddr(append([]byte(nil), a[8:14]...)), ip: spa}:
			default:
			}
		}
	}()
	return out
}

// testGatewayFailoverGARP kills the active gateway of lr-a's distributed
// gateway port (gw1) and checks that the external network sees
// gratuitous ARPs for the port's NAT addresses with the port's MAC after
// the kill: the standby (gw2) announces them when it takes over.
func testGatewayFailoverGARP(t *testing.T, s *suite) {
	tenantAGateway(t, s)
	vm1 := s.tb.VM("vm1")
	const active = "gw1"
	deadline := time.Now().Add(60 * time.Second)
	for got := activeGateway(t, s); got != active; got = activeGateway(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("cr-lr-a-ext is bound to %q, want the priority-20 gateway %s", got, active)
		}
		time.Sleep(200 * time.Millisecond)
	}
	mustPing(t, vm1, testbed.ExternalHostIP, 30*time.Second)
	gw := s.tb.Chassis(active)
	garps := captureGARPs(t, s.tb.ExternalHost())
	restart := func() {
		if err := gw.StartSwitch(); err != nil {
			t.Error(err)
		}
		if err := gw.StartDaemon(); err != nil {
			t.Error(err)
		}
	}
	if err := gw.KillSwitch(); err != nil {
		t.Fatal(err)
	}
	if err := gw.KillDaemon(); err != nil {
		restart()
		t.Fatal(err)
	}
	killed := time.Now()
	defer restart()
	routerMAC, _ := net.ParseMAC("00:00:00:00:ff:03")
	want := map[netip.Addr]bool{netip.MustParseAddr(snatIP): true, netip.MustParseAddr(fipIP): true}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case g := <-garps:
			if g.at.Before(killed) || g.mac.String() != routerMAC.String() || !want[g.ip] {
				continue
			}
			s.figure(t, "gateway-failover-garp: first gratuitous ARP for a NAT address after killing gw1", fmt.Sprintf("%s (%s)", g.at.Sub(killed).Round(10*time.Millisecond), g.ip))
			// Traffic moved too (the announcement is not all there is).
			mustPing(t, vm1, testbed.ExternalHostIP, 30*time.Second)
			return
		case <-timeout:
			t.Fatalf("no gratuitous ARP for %s or %s from %s on the external network within 30 s of killing %s (cr-lr-a-ext now on %q)",
				snatIP, fipIP, routerMAC, active, activeGateway(t, s))
		}
	}
}
