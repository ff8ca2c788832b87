package pinctrl

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hcnet/internal/openflow/ovstest"
)

// TestRootGARPMatchesOVNController compares our gratuitous ARPs with
// ovn-controller's: a gateway router on this chassis whose external
// port's switch has a localnet port (nat-addresses=router, a SNAT and a
// DNAT address) makes ovn-controller announce those addresses out the
// provider bridge; each frame it sends must equal Announcement.Frame for
// the same MAC and IP, and the set of addresses must be the port's
// nat_addresses.
func TestRootGARPMatchesOVNController(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ovstest.Require(t)
	o := startOVN(t)
	sw := providerSwitch(t, o)
	sw.Vsctl("set", "bridge", "br-phys", "fail_mode=standalone") // a plain L2 switch, as a provider bridge is
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
		{"lsp-set-options", "pub-gr", "router-port=gr-pub", "nat-addresses=router"},
		{"lr-nat-add", "gr", "snat", "172.16.0.3", "10.0.0.0/24"},
		{"lr-nat-add", "gr", "dnat_and_snat", "172.16.0.60", "10.0.0.60"},
	} {
		nbctl(c...)
	}
	if out, err := exec.Command("ip", "netns", "exec", sw.NetNS, "ip", "link", "set", "ext0", "up").CombinedOutput(); err != nil {
		t.Fatalf("ext0 up: %v: %s", err, out)
	}
	port := openRaw(t, sw.NetNS, "ext0")

	ctlDir := startOVNController(t, sw)

	// ovn-controller announces each address at once and then with a
	// growing backoff: collect the distinct ones for a while.
	mac := [6]byte{0, 0, 0, 0, 0xfe, 3}
	seen := map[netip.Addr][]byte{}
	deadline := time.Now().Add(20 * time.Second)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) && len(seen) < 2 {
		tv := unix.NsecToTimeval(int64(500 * time.Millisecond))
		unix.SetsockoptTimeval(port.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, _, err := unix.Recvfrom(port.fd, buf, 0)
		if err != nil || n < 42 || binary.BigEndian.Uint16(buf[12:]) != 0x0806 {
			continue
		}
		f := append([]byte(nil), buf[:n]...)
		spa, tpa := netip.AddrFrom4([4]byte(f[28:32])), netip.AddrFrom4([4]byte(f[38:42]))
		if spa == tpa && bytes.Equal(f[6:12], mac[:]) {
			seen[spa] = f
		}
	}
	var got []string
	for ip := range seen {
		got = append(got, ip.String())
	}
	sort.Strings(got)
	if len(got) != 2 || got[0] != "172.16.0.3" || got[1] != "172.16.0.60" {
		log, _ := os.ReadFile(filepath.Join(ctlDir, "ovn-controller.log"))
		nat := o.run("ovn-sbctl", "--db="+o.sb, "--columns=logical_port,type,chassis,nat_addresses", "list", "Port_Binding")
		t.Fatalf("ovn-controller announced %v, want 172.16.0.3 and 172.16.0.60\n%s\n%s\n%s", got, nat, sw.Vsctl("show"), log)
	}
	for ip, theirs := range seen {
		ours := Announcement{MAC: mac, IP: ip}.Frame()
		// ovn-controller's frame may be padded to the Ethernet minimum.
		if len(theirs) > len(ours) && bytes.Count(theirs[len(ours):], []byte{0}) == len(theirs)-len(ours) {
			theirs = theirs[:len(ours)]
		}
		if !bytes.Equal(theirs, ours) {
			t.Errorf("GARP for %s:\novn-controller: %x\nours:           %x", ip, theirs, ours)
		}
	}
}
