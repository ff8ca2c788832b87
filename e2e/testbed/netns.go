package testbed

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// createNamespace creates the named network namespace and brings its
// loopback up. The calling goroutine's thread stays in its own namespace.
func createNamespace(name string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("create netns %s: get current: %w", name, err)
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		// NewNamed may have switched the thread before failing.
		_ = netns.Set(orig)
		return fmt.Errorf("create netns %s: %w", name, err)
	}
	h.Close()
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the new namespace: keep it locked so the
		// runtime discards it when this goroutine ends.
		runtime.LockOSThread()
		return fmt.Errorf("create netns %s: return to original namespace: %w", name, err)
	}
	nl, err := nsHandle(name)
	if err != nil {
		return err
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns %s: find lo: %w", name, err)
	}
	if err := nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netns %s: set lo up: %w", name, err)
	}
	return nil
}

// deleteNamespace removes the named namespace; it is not an error if it is
// already gone.
func deleteNamespace(name string) error {
	if err := netns.DeleteNamed(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

// nsHandle returns a netlink handle operating inside the named namespace.
func nsHandle(name string) (*netlink.Handle, error) {
	ns, err := netns.GetFromName(name)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", name, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in netns %s: %w", name, err)
	}
	return h, nil
}

// inNamespace runs fn on a thread switched into the named namespace. Sockets
// fn creates belong to that namespace for their whole life.
func inNamespace(name string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: get current: %w", name, err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime ends it with the goroutine.
		return fmt.Errorf("leave netns %s: %w", name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// vethPair creates a veth pair with end a in namespace nsA and end b in
// namespace nsB, both up, and with transmit checksum offload left to the
// caller (see disableTxOffload).
func vethPair(nsA, a, nsB, b string) error {
	ha, err := nsHandle(nsA)
	if err != nil {
		return err
	}
	defer ha.Close()
	hb, err := nsHandle(nsB)
	if err != nil {
		return err
	}
	defer hb.Close()
	target, err := netns.GetFromName(nsB)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsB, err)
	}
	defer target.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b}
	if err := ha.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s/%s in netns %s: %w", a, b, nsA, err)
	}
	peer, err := ha.LinkByName(b)
	if err != nil {
		return fmt.Errorf("find veth peer %s in netns %s: %w", b, nsA, err)
	}
	if err := ha.LinkSetNsFd(peer, int(target)); err != nil {
		return fmt.Errorf("move veth %s to netns %s: %w", b, nsB, err)
	}
	if err := setUp(ha, nsA, a); err != nil {
		return err
	}
	return setUp(hb, nsB, b)
}

func setUp(h *netlink.Handle, ns, dev string) error {
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("find %s in netns %s: %w", dev, ns, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in netns %s: %w", dev, ns, err)
	}
	return nil
}

// linuxBridge creates a Linux bridge in ns, up.
func linuxBridge(ns, name string) error {
	h, err := nsHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		return fmt.Errorf("add bridge %s in netns %s: %w", name, ns, err)
	}
	return setUp(h, ns, name)
}

// enslave attaches dev to the Linux bridge br in ns.
func enslave(ns, dev, br string) error {
	h, err := nsHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("find %s in netns %s: %w", dev, ns, err)
	}
	b, err := h.LinkByName(br)
	if err != nil {
		return fmt.Errorf("find bridge %s in netns %s: %w", br, ns, err)
	}
	if err := h.LinkSetMasterByIndex(l, b.Attrs().Index); err != nil {
		return fmt.Errorf("attach %s to %s in netns %s: %w", dev, br, ns, err)
	}
	return nil
}

// configureLink sets an optional MAC, MTU and address (CIDR) on dev in ns and
// brings it up.
func configureLink(ns, dev string, mac net.HardwareAddr, mtu int, cidr string) error {
	h, err := nsHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("find %s in netns %s: %w", dev, ns, err)
	}
	if mac != nil {
		if err := h.LinkSetHardwareAddr(l, mac); err != nil {
			return fmt.Errorf("set mac %s on %s in netns %s: %w", mac, dev, ns, err)
		}
	}
	if mtu > 0 {
		if err := h.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("set mtu %d on %s in netns %s: %w", mtu, dev, ns, err)
		}
	}
	if cidr != "" {
		addr, err := netlink.ParseAddr(cidr)
		if err != nil {
			return fmt.Errorf("parse address %q: %w", cidr, err)
		}
		if err := h.AddrAdd(l, addr); err != nil {
			return fmt.Errorf("add %s on %s in netns %s: %w", cidr, dev, ns, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in netns %s: %w", dev, ns, err)
	}
	return nil
}

// defaultRoute adds a default route via gw in ns.
func defaultRoute(ns, gw string) error {
	h, err := nsHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	ip := net.ParseIP(gw)
	if ip == nil {
		return fmt.Errorf("default route in netns %s: bad gateway %q", ns, gw)
	}
	if err := h.RouteAdd(&netlink.Route{Gw: ip}); err != nil {
		return fmt.Errorf("default route via %s in netns %s: %w", gw, ns, err)
	}
	return nil
}

// waitLink polls until dev exists in ns (ovs-vswitchd creates internal ports
// asynchronously).
func waitLink(ns, dev string, timeout time.Duration) error {
	h, err := nsHandle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := h.LinkByName(dev); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s in netns %s: %w", dev, ns, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setSysctl writes value to /proc/sys/<key> inside ns (key like
// "net/ipv4/ip_forward").
func setSysctl(ns, key, value string) error {
	return inNamespace(ns, func() error {
		if err := os.WriteFile("/proc/sys/"+key, []byte(value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s in netns %s: %w", key, value, ns, err)
		}
		return nil
	})
}
