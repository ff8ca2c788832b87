package hostnet

import (
	"errors"
	"fmt"

	"net/netip"

	"github.com/vishvananda/netlink"
)

// ErrNoDefaultRoute means the namespace has no IPv4 default route.
var ErrNoDefaultRoute = errors.New("hostnet: no IPv4 default route")

// DefaultAddr returns the address tunnels should use when none is
// configured: the preferred source of the IPv4 default route, else the
// first IPv4 address of its interface.
func DefaultAddr() (netip.Addr, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("hostnet: list routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.String() != "0.0.0.0/0" {
			continue
		}
		if a, ok := netip.AddrFromSlice(r.Src.To4()); ok && r.Src != nil {
			return a, nil
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("hostnet: default route link %d: %w", r.LinkIndex, err)
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("hostnet: addresses of %s: %w", link.Attrs().Name, err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
				return ip, nil
			}
		}
		return netip.Addr{}, fmt.Errorf("hostnet: default route interface %s has no IPv4 address", link.Attrs().Name)
	}
	return netip.Addr{}, ErrNoDefaultRoute
}

// MTUOf returns the name and MTU of the interface that holds addr.
func MTUOf(addr netip.Addr) (string, int, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return "", 0, fmt.Errorf("hostnet: list links: %w", err)
	}
	for _, l := range links {
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr.Unmap() {
				return l.Attrs().Name, l.Attrs().MTU, nil
			}
		}
	}
	return "", 0, fmt.Errorf("hostnet: no interface holds %s", addr)
}

// Tunnel header overheads on an IPv4 underlay, in bytes: outer Ethernet
// is not counted (it is outside the MTU); outer IPv4 20, UDP 8, then
// Geneve 8 plus OVN's 8-byte option, or VXLAN 8, then the inner Ethernet
// header 14.
const (
	GeneveOverhead = 20 + 8 + 8 + 8 + 14
	VXLANOverhead  = 20 + 8 + 8 + 14
)

// TunnelPayloadMTU is the largest inner IP packet a tunnel of encap type
// carries over an underlay interface of the given MTU.
func TunnelPayloadMTU(underlayMTU int, encap string) int {
	if encap == "vxlan" {
		return underlayMTU - VXLANOverhead
	}
	return underlayMTU - GeneveOverhead
}
