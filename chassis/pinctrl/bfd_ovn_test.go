package pinctrl

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hcnet/internal/openflow/ovstest"
)

// TestRootBFDMatchesOVNController compares our BFD control packet with
// ovn-controller's: a gateway router on this chassis has a static route
// whose next hop (172.16.0.50, out a port whose switch reaches a provider
// bridge) is watched by BFD; ovn-controller sends its down-state packets
// through the router pipeline, and the frame that leaves the provider
// bridge, with the Ethernet destination the router resolved put back to
// broadcast, must equal BFDFrame for the row's src_port and disc and the
// row's timers.
func TestRootBFDMatchesOVNController(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ovstest.Require(t)
	o := startOVN(t)
	sw := providerSwitch(t, o)
	sw.Vsctl("set", "bridge", "br-phys", "fail_mode=standalone")
	nbctl := func(args ...string) string {
		t.Helper()
		return o.run("ovn-nbctl", append([]string{"--db=" + o.nb, "--timeout=60"}, args...)...)
	}
	for _, c := range [][]string{
		{"ls-add", "pub"},
		{"lsp-add", "pub", "ln"}, {"lsp-set-type", "ln", "localnet"}, {"lsp-set-addresses", "ln", "unknown"},
		{"lsp-set-options", "ln", "network_name=physnet"},
		{"lr-add", "gr"}, {"set", "Logical_Router", "gr", "options:chassis=ch1"},
		{"lrp-add", "gr", "gr-pub", "00:00:00:00:fe:03", "172.16.0.3/24"},
		{"lsp-add", "pub", "pub-gr"}, {"lsp-set-type", "pub-gr", "router"}, {"lsp-set-addresses", "pub-gr", "router"},
		{"lsp-set-options", "pub-gr", "router-port=gr-pub"},
		{"--id=@b", "create", "BFD", "logical_port=gr-pub", `dst_ip="172.16.0.50"`,
			"--", "--id=@r", "create", "Logical_Router_Static_Route", `ip_prefix="10.9.0.0/24"`, `nexthop="172.16.0.50"`, "bfd=@b",
			"--", "add", "Logical_Router", "gr", "static_routes", "@r"},
	} {
		nbctl(c...)
	}
	if out, err := exec.Command("ip", "netns", "exec", sw.NetNS, "ip", "link", "set", "ext0", "up").CombinedOutput(); err != nil {
		t.Fatalf("ext0 up: %v: %s", err, out)
	}
	port := openRaw(t, sw.NetNS, "ext0")

	ctlDir := startOVNController(t, sw)

	// The next hop: answer the router's ARP for it, collect the first
	// BFD packet.
	hopMAC := []byte{0x0a, 0, 0, 0, 0, 0x50}
	hop := netip.MustParseAddr("172.16.0.50").As4()
	var theirs []byte
	deadline := time.Now().Add(30 * time.Second)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) && theirs == nil {
		tv := unix.NsecToTimeval(int64(500 * time.Millisecond))
		unix.SetsockoptTimeval(port.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, from, err := unix.Recvfrom(port.fd, buf, 0)
		if err != nil || n < 42 {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		f := buf[:n]
		switch binary.BigEndian.Uint16(f[12:]) {
		case 0x0806:
			if binary.BigEndian.Uint16(f[20:]) == 1 && bytes.Equal(f[38:42], hop[:]) {
				reply := append([]byte(nil), f[6:12]...)
				reply = append(reply, hopMAC...)
				reply = append(reply, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2)
				reply = append(reply, hopMAC...)
				reply = append(reply, hop[:]...)
				reply = append(reply, f[22:32]...)
				if err := unix.Sendto(port.fd, reply, 0, &unix.SockaddrLinklayer{Ifindex: port.ifindex, Halen: 6}); err != nil {
					t.Fatal(err)
				}
			}
		case 0x0800:
			if n >= 42 && f[23] == protoUDP && binary.BigEndian.Uint16(f[36:]) == BFDPort {
				theirs = append([]byte(nil), f...)
			}
		}
	}
	row := o.run("ovn-sbctl", "--db="+o.sb, "--bare", "--columns=src_port,disc,status", "list", "BFD")
	if theirs == nil {
		log, _ := os.ReadFile(filepath.Join(ctlDir, "ovn-controller.log"))
		t.Fatalf("no BFD packet from ovn-controller in 30 s; SB BFD: %s\n%s", row, log)
	}
	f := strings.Fields(row)
	if len(f) < 2 {
		t.Fatalf("SB BFD row %q", row)
	}
	srcPort, _ := strconv.Atoi(f[0])
	disc, _ := strconv.ParseUint(f[1], 10, 32)
	e := BFDEndpoint{MAC: [6]byte{0, 0, 0, 0, 0xfe, 3}, SrcIP: netip.MustParseAddr("172.16.0.3"),
		DstIP: netip.MustParseAddr("172.16.0.50"), SrcPort: uint16(srcPort)}
	ours, err := BFDFrame(e, BFDControl{State: BFDDown, Mult: 5, MyDisc: uint32(disc), MinTx: 1000000, MinRx: 1000000})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(theirs[:6], hopMAC) {
		t.Errorf("ovn-controller's BFD packet went to %x, want the next hop %x", theirs[:6], hopMAC)
	}
	copy(theirs[:6], ours[:6]) // the router resolved the broadcast destination
	if len(theirs) > len(ours) && bytes.Count(theirs[len(ours):], []byte{0}) == len(theirs)-len(ours) {
		theirs = theirs[:len(ours)]
	}
	if !bytes.Equal(theirs, ours) {
		t.Errorf("BFD packet:\novn-controller: %x\nours:           %x", theirs, ours)
	}
}
