package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hcnet/e2e/testbed"
)

// BFD for static routes (ovn-nb(5) BFD and Logical_Router_Static_Route
// bfd, ovn-sb(5) BFD): the chassis where the route's output port resides
// runs the BFD session to the next hop; the translator keeps the route out
// of the router while the session is down. The next hop here is a VM
// running a small BFD responder (RFC 5880 asynchronous mode, answering
// each control packet, RFC 5881 single hop).

func init() {
	extraScenarios = append(extraScenarios, scenario{"static-route-bfd", testStaticRouteBFD})
}

const (
	bfdNextHop = "10.0.12.21" // vmbn on ls-bfd2, the route's next hop
	bfdDst     = "10.12.0.1"  // behind the next hop (on its loopback)
)

// bfdResponder answers BFD control packets to UDP 3784 in a VM: its own
// session state follows RFC 5880 section 6.8.6 (down -> init on the
// peer's down, -> up on its init or up; down again when the peer says
// down or admin down); every packet is answered at once (from a source
// port in 49152-65535, TTL 255), detect multiplier 3, 300 ms intervals.
type bfdResponder struct {
	rx, tx *net.UDPConn
	disc   uint32
	mu     sync.Mutex
	state  byte
	last   *net.UDPAddr // the session's peer, once heard
	lastD  uint32       // and its discriminator
	rxN    int          // control packets received
	done   chan struct{}
	once   sync.Once
}

func startBFDResponder(t *testing.T, v *testbed.VM, disc uint32) *bfdResponder {
	t.Helper()
	r := &bfdResponder{disc: disc, state: 1, done: make(chan struct{})}
	if err := v.Do(func() error {
		var err error
		if r.rx, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 3784}); err != nil {
			return fmt.Errorf("listen on udp 3784: %w", err)
		}
		if r.tx, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 49200}); err != nil {
			r.rx.Close()
			return fmt.Errorf("listen on udp 49200: %w", err)
		}
		sc, err := r.tx.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := sc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_TTL, 255) }); err != nil {
			return err
		}
		return serr
	}); err != nil {
		t.Fatalf("bfd responder: %v", err)
	}
	go r.serve()
	t.Cleanup(r.stop)
	return r
}

func (r *bfdResponder) serve() {
	defer close(r.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := r.rx.ReadFromUDP(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		if n < 24 || b[0]>>5 != 1 || b[2] == 0 {
			continue
		}
		peer := b[1] >> 6
		peerDisc := binary.BigEndian.Uint32(b[4:])
		r.mu.Lock()
		r.rxN++
		switch {
		case peer == 0 || (peer == 1 && r.state == 3):
			r.state = 1
		case r.state == 1 && peer == 1:
			r.state = 2
		case r.state == 1 && peer == 2, r.state == 2 && peer >= 2:
			r.state = 3
		}
		out := make([]byte, 24)
		out[0] = 1 << 5
		out[1] = r.state << 6
		if b[1]&0x20 != 0 { // poll: answer with final
			out[1] |= 0x10
		}
		out[2], out[3] = 3, 24
		binary.BigEndian.PutUint32(out[4:], r.disc)
		binary.BigEndian.PutUint32(out[8:], peerDisc)
		binary.BigEndian.PutUint32(out[12:], 300000)
		binary.BigEndian.PutUint32(out[16:], 300000)
		r.last, r.lastD = &net.UDPAddr{IP: from.IP, Port: 3784}, peerDisc
		r.mu.Unlock()
		_, _ = r.tx.WriteToUDP(out, &net.UDPAddr{IP: from.IP, Port: 3784})
	}
}

// shutdown tells the peer the session is administratively down (RFC
// 5880 section 6.8.16), then stops.
func (r *bfdResponder) shutdown() {
	r.mu.Lock()
	to, disc := r.last, r.lastD
	r.mu.Unlock()
	if to != nil {
		out := make([]byte, 24)
		out[0], out[1], out[2], out[3] = 1<<5, 0, 3, 24
		binary.BigEndian.PutUint32(out[4:], r.disc)
		binary.BigEndian.PutUint32(out[8:], disc)
		binary.BigEndian.PutUint32(out[12:], 300000)
		binary.BigEndian.PutUint32(out[16:], 300000) // 0 would ask for no more packets
		for range 3 {
			_, _ = r.tx.WriteToUDP(out, to)
		}
	}
	r.stop()
}

// stop closes the responder's sockets: the peer goes silent.
func (r *bfdResponder) stop() {
	r.once.Do(func() {
		r.rx.Close()
		r.tx.Close()
		<-r.done
	})
}

// bfdStatus is the northbound BFD row's status for the next hop (the
// translator copies the chassis's southbound status there).
func bfdStatus(t *testing.T, s *suite) string {
	t.Helper()
	return strings.TrimSpace(nbctl(t, s, "--bare", "--columns=status", "find", "BFD", fmt.Sprintf(`dst_ip="%s"`, bfdNextHop)))
}

// waitBFDStatus polls the northbound BFD status until it is want; it
// returns how long that took.
func waitBFDStatus(t *testing.T, s *suite, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := bfdStatus(t, s)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			sb, _ := s.tb.SBCtl("list", "BFD")
			var flows []string
			out, err := s.tb.Chassis("gw1").Ofctl("dump-flows")
			if err != nil {
				flows = append(flows, err.Error())
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "3784") {
					flows = append(flows, l)
				}
			}
			for _, ch := range []string{"gw1", "hv2"} {
				dp, err := s.tb.Chassis(ch).Appctl("dpctl/dump-flows")
				if err != nil {
					flows = append(flows, err.Error())
				}
				for _, l := range strings.Split(dp, "\n") {
					if strings.Contains(l, "3784") || strings.Contains(l, "dst=10.0.12.21") {
						flows = append(flows, ch+" datapath: "+l)
					}
				}
			}
			var lflows []string
			out, _ = s.tb.SBCtl("--columns=match,actions", "list", "Logical_Flow")
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "3784") {
					lflows = append(lflows, l)
				}
			}
			t.Fatalf("BFD to %s is %q after %s, want %q; southbound BFD rows:\n%s\nlogical flows for UDP 3784:\n%s\ngw1's flows for UDP 3784:\n%s",
				bfdNextHop, got, timeout, want, sb, strings.Join(lflows, "\n"), strings.Join(flows, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testStaticRouteBFD: gateway router gr-bfd (options:chassis=gw1) joins
// ls-bfd1 (client vmbc on hv1) and ls-bfd2 (next hop vmbn, on hv2) and
// routes 10.12.0.0/24 via vmbn with BFD. The session crosses a tunnel on
// which gateway HA (an earlier scenario) may have turned on the switch's
// own BFD: the tunnel's bfd:check_tnl_key=true keeps the overlay's UDP
// 3784 out of it, as ovn-controller sets it. With vmbn's responder running the
// session goes up and the client reaches 10.12.0.1; when the responder
// stops the session goes down and the route is withdrawn; when it starts
// again the session and the route come back.
func testStaticRouteBFD(t *testing.T, s *suite) {
	nbctl(t, s, "--may-exist", "lr-add", "gr-bfd")
	nbctl(t, s, "set", "Logical_Router", "gr-bfd", "options:chassis=gw1")
	routerPort(t, s, "gr-bfd", "gr-bfd-ls1", "00:00:00:00:fb:01", "10.0.11.1/24", "ls-bfd1")
	routerPort(t, s, "gr-bfd", "gr-bfd-ls2", "00:00:00:00:fb:02", "10.0.12.1/24", "ls-bfd2")
	addPort(t, s, "ls-bfd1", "vmbc", "0a:00:00:00:0b:11", "10.0.11.11")
	addPort(t, s, "ls-bfd2", "vmbn", "0a:00:00:00:0c:21", bfdNextHop)
	client := vm(t, s, testbed.VMSpec{Name: "vmbc", Chassis: "hv1", MAC: "0a:00:00:00:0b:11", CIDR: "10.0.11.11/24", Gateway: "10.0.11.1"})
	hop := vm(t, s, testbed.VMSpec{Name: "vmbn", Chassis: "hv2", MAC: "0a:00:00:00:0c:21", CIDR: bfdNextHop + "/24", Gateway: "10.0.12.1"})
	if out, err := hop.Exec(10*time.Second, "ip", "addr", "replace", bfdDst+"/32", "dev", "lo"); err != nil {
		t.Fatalf("vmbn: add %s: %v: %s", bfdDst, err, out)
	}
	// The next hop is reachable (directly connected) before BFD.
	mustPing(t, client, bfdNextHop, 60*time.Second)

	resp := startBFDResponder(t, hop, 0x5eed0001)
	if bfdStatus(t, s) == "" {
		nbctl(t, s, "--id=@b", "create", "BFD", "logical_port=gr-bfd-ls2", fmt.Sprintf(`dst_ip="%s"`, bfdNextHop),
			"--", "--id=@r", "create", "Logical_Router_Static_Route", `ip_prefix="10.12.0.0/24"`, fmt.Sprintf(`nexthop="%s"`, bfdNextHop), "bfd=@b",
			"--", "add", "Logical_Router", "gr-bfd", "static_routes", "@r")
		t.Cleanup(func() {
			_, _ = s.tb.NBCtl("--if-exists", "lr-route-del", "gr-bfd", "10.12.0.0/24")
			for _, u := range strings.Fields(strings.TrimSpace(nbctl(t, s, "--bare", "--columns=_uuid", "find", "BFD", fmt.Sprintf(`dst_ip="%s"`, bfdNextHop)))) {
				_, _ = s.tb.NBCtl("destroy", "BFD", u)
			}
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			resp.mu.Lock()
			t.Logf("the first responder received %d control packets", resp.rxN)
			resp.mu.Unlock()
		}
	})
	up := waitBFDStatus(t, s, "up", 60*time.Second)
	s.figure(t, "static-route-bfd: route added -> BFD up", up.Round(100*time.Millisecond))
	mustPing(t, client, bfdDst, 30*time.Second)

	resp.shutdown()
	stopped := time.Now()
	down := waitBFDStatus(t, s, "down", 30*time.Second)
	s.figure(t, "static-route-bfd: next hop admin down -> BFD down", down.Round(100*time.Millisecond))
	deadline := time.Now().Add(20 * time.Second)
	for client.PingOnce(bfdDst, 300*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(client.Explain(bfdDst, "still answered 20s after the route's BFD session went down (route not withdrawn?)"))
		}
	}
	if err := client.ExpectNoReply(bfdDst, 3); err != nil {
		t.Fatal(err)
	}
	s.figure(t, "static-route-bfd: next hop admin down -> route withdrawn", time.Since(stopped).Round(100*time.Millisecond))

	resp = startBFDResponder(t, hop, 0x5eed0002)
	again := waitBFDStatus(t, s, "up", 60*time.Second)
	s.figure(t, "static-route-bfd: next hop back -> BFD up", again.Round(100*time.Millisecond))
	mustPing(t, client, bfdDst, 30*time.Second)

	// A next hop that goes silent: the detection time (3 x 1 s) takes
	// the session down. ovn-controller 23.03 kept such a session up (its
	// status stayed "up" 30 s after the peer went silent), so this part
	// runs with our chassis only.
	if s.combo.Chassis != testbed.Ours {
		return
	}
	resp.stop()
	down = waitBFDStatus(t, s, "down", 30*time.Second)
	s.figure(t, "static-route-bfd: next hop silent -> BFD down", down.Round(100*time.Millisecond))
	deadline = time.Now().Add(20 * time.Second)
	for client.PingOnce(bfdDst, 300*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(client.Explain(bfdDst, "still answered 20s after the route's BFD session timed out (route not withdrawn?)"))
		}
	}
	startBFDResponder(t, hop, 0x5eed0003)
	waitBFDStatus(t, s, "up", 60*time.Second)
	mustPing(t, client, bfdDst, 30*time.Second)
}
