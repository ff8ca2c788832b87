package northd_test

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"hcnet/e2e/testbed"
)

// TestIPv6RouterWithOVNController_Root runs our northd with OVN's
// ovsdb-server and ovn-controller (TESTBED.md) on an IPv6-only tenant
// network: a VM learns its default route and a SLAAC address from the
// router advertisements ovn-controller sends for ipv6_ra_configs
// (put_nd_ra_opts), resolves and pings the router's IPv6 address (neighbor
// advertisement, echo reply), and pings a VM on another switch through the
// router (IPv6 routing and neighbor resolution), across chassis; a third VM
// is offered its port's address by DHCPv6 (dhcpv6_options, put_dhcpv6_opts,
// the SB DHCPv6_Options rows). Needs root and OVS/OVN; skips otherwise.
func TestIPv6RouterWithOVNController_Root(t *testing.T) {
	tb := testbed.Start(t, testbed.Config{
		Combo:   testbed.Combo{DB: testbed.OVN, Translator: testbed.Ours, Chassis: testbed.OVN},
		Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1}, {Name: "hv2", Site: 1}},
	})
	nb := func(args ...string) string { return tb.MustNBCtl(t, args...) }
	nb("lr-add", "lr0")
	for _, s := range []struct{ ls, lrp, mac, v4, v6 string }{
		{"ls1", "lr0-ls1", "00:00:00:00:ff:01", "10.0.1.1/24", "2001:db8:1::1/64"},
		{"ls2", "lr0-ls2", "00:00:00:00:ff:02", "10.0.2.1/24", "2001:db8:2::1/64"},
	} {
		nb("ls-add", s.ls)
		nb("lrp-add", "lr0", s.lrp, s.mac, s.v4, s.v6)
		lsp := s.ls + "-lr0"
		nb("lsp-add", s.ls, lsp, "--", "lsp-set-type", lsp, "router", "--", "lsp-set-addresses", lsp, "router",
			"--", "lsp-set-options", lsp, "router-port="+s.lrp)
	}
	nb("set", "Logical_Router_Port", "lr0-ls1", "ipv6_ra_configs:address_mode=slaac", "ipv6_ra_configs:mtu=1400")
	// vm1's SLAAC address is the EUI-64 one of its MAC.
	nb("lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 2001:db8:1:0:800:ff:fe00:111")
	nb("lsp-add", "ls2", "vm2", "--", "lsp-set-addresses", "vm2", "0a:00:00:00:02:12 2001:db8:2::12")
	nb("--wait=sb", "sync")
	vm1 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11"})
	vm2 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm2", Chassis: "hv2", MAC: "0a:00:00:00:02:12"})
	exec := func(vm *testbed.VM, args ...string) string {
		t.Helper()
		out, err := vm.Exec(10*time.Second, args...)
		if err != nil {
			t.Fatalf("%s: %s: %v: %s", vm.Spec.Name, strings.Join(args, " "), err, out)
		}
		return out
	}
	exec(vm2, "ip", "-6", "addr", "add", "2001:db8:2::12/64", "dev", "eth0", "nodad")
	exec(vm2, "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
	nb("--wait=hv", "sync")

	// Router advertisement: solicit one (link down/up) until the kernel
	// has a default route and an address from it.
	const slaac = "2001:db8:1:0:800:ff:fe00:111"
	deadline := time.Now().Add(60 * time.Second)
	for {
		route := exec(vm1, "ip", "-6", "route", "show", "default")
		addrs := exec(vm1, "ip", "-6", "addr", "show", "dev", "eth0")
		if strings.Contains(route, "via fe80::200:ff:fe00:ff01") && strings.Contains(route, "proto ra") && strings.Contains(addrs, slaac) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vm1 got no router advertisement from lr0-ls1 within 60s: default route %q, addresses:\n%s", route, addrs)
		}
		exec(vm1, "ip", "link", "set", "eth0", "down")
		exec(vm1, "ip", "link", "set", "eth0", "up")
		for end := time.Now().Add(6 * time.Second); time.Now().Before(end); {
			if r := exec(vm1, "ip", "-6", "route", "show", "default"); strings.Contains(r, "proto ra") {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if _, err := vm1.Ping("2001:db8:1::1", 30*time.Second); err != nil {
		t.Fatalf("vm1 to the router's IPv6 address: %v", err)
	}
	if _, err := vm1.Ping("2001:db8:2::12", 30*time.Second); err != nil {
		t.Fatalf("vm1 to vm2 through the router over IPv6: %v", err)
	}
	if _, err := vm2.Ping(slaac, 30*time.Second); err != nil {
		t.Fatalf("vm2 to vm1's SLAAC address: %v", err)
	}

	// DHCPv6: vm3's solicit is answered from dhcpv6_options
	// (put_dhcpv6_opts) with the port's address.
	dhcp := strings.TrimSpace(nb("create", "DHCP_Options", `cidr="2001:db8:1::/64"`, `options:server_id="00:00:00:00:06:ff"`))
	nb("lsp-add", "ls1", "vm3", "--", "lsp-set-addresses", "vm3", "0a:00:00:00:01:13 2001:db8:1::13", "--", "lsp-set-dhcpv6-options", "vm3", dhcp)
	vm3 := tb.MustAddVM(t, testbed.VMSpec{Name: "vm3", Chassis: "hv2", MAC: "0a:00:00:00:01:13"})
	nb("--wait=hv", "sync")
	var leased netip.Addr
	var err error
	deadline = time.Now().Add(60 * time.Second)
	for {
		if leased, err = dhcpv6Solicit(vm3.NS, "eth0", vm3.Spec.MAC, 2*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("vm3 DHCPv6 solicit: %v", err)
	}
	if leased.String() != "2001:db8:1::13" {
		t.Fatalf("vm3 was offered %s by DHCPv6, want its port address 2001:db8:1::13", leased)
	}
}

// dhcpv6Solicit sends a DHCPv6 SOLICIT (client id from mac, one IA_NA) from
// dev in network namespace ns and returns the address of the IA_NA in the
// ADVERTISE that answers it.
func dhcpv6Solicit(ns, dev, mac string, timeout time.Duration) (netip.Addr, error) {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return netip.Addr{}, err
	}
	var addr netip.Addr
	err = inNetns(ns, func() error {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{Port: 546})
		if err != nil {
			return fmt.Errorf("listen on udp 546: %w", err)
		}
		defer c.Close()
		msg := []byte{1, 0x12, 0x34, 0x56} // SOLICIT, transaction id
		msg = append(msg, 0, 1, 0, 10, 0, 3, 0, 1)
		msg = append(msg, hw...)                                           // client id: DUID-LL
		msg = append(msg, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0) // IA_NA, IAID 1
		msg = append(msg, 0, 8, 0, 2, 0, 0)                                // elapsed time
		if _, err := c.WriteToUDP(msg, &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547, Zone: dev}); err != nil {
			return fmt.Errorf("send solicit: %w", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		buf := make([]byte, 1500)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return fmt.Errorf("no advertise: %w", err)
			}
			if n < 4 || buf[0] != 2 || buf[1] != 0x12 || buf[2] != 0x34 || buf[3] != 0x56 {
				continue
			}
			if a, ok := iaAddr(buf[4:n]); ok {
				addr = a
				return nil
			}
			return fmt.Errorf("advertise without an IA_NA address: % x", buf[:n])
		}
	})
	return addr, err
}

// iaAddr finds the first IAADDR inside an IA_NA option of DHCPv6 options.
func iaAddr(opts []byte) (netip.Addr, bool) {
	for len(opts) >= 4 {
		code, l := int(opts[0])<<8|int(opts[1]), int(opts[2])<<8|int(opts[3])
		if len(opts) < 4+l {
			return netip.Addr{}, false
		}
		body := opts[4 : 4+l]
		if code == 3 && l >= 12 {
			sub := body[12:]
			for len(sub) >= 4 {
				sc, sl := int(sub[0])<<8|int(sub[1]), int(sub[2])<<8|int(sub[3])
				if len(sub) < 4+sl {
					break
				}
				if sc == 5 && sl >= 16 {
					return netip.AddrFrom16([16]byte(sub[4:20])), true
				}
				sub = sub[4+sl:]
			}
		}
		opts = opts[4+l:]
	}
	return netip.Addr{}, false
}

// inNetns runs fn on a thread in the named network namespace.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return fmt.Errorf("leave netns %s: %w", name, err) // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}
