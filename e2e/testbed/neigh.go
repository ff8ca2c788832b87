package testbed

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// SetNeighbor installs a permanent ARP entry ip -> mac on the VM's eth0, so
// a measurement does not include ARP resolution.
func (vm *VM) SetNeighbor(ip, mac string) error {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return fmt.Errorf("vm %s: neighbor mac %q: %w", vm.Spec.Name, mac, err)
	}
	addr := net.ParseIP(ip)
	if addr == nil {
		return fmt.Errorf("vm %s: neighbor ip %q: not an address", vm.Spec.Name, ip)
	}
	h, err := nsHandle(vm.NS)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("vm %s: find eth0: %w", vm.Spec.Name, err)
	}
	n := &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT, IP: addr, HardwareAddr: hw}
	if err := h.NeighSet(n); err != nil {
		return fmt.Errorf("vm %s: set neighbor %s -> %s: %w", vm.Spec.Name, ip, mac, err)
	}
	return nil
}

// Neighbor returns the MAC the VM's kernel resolved ip to ("" if none).
func (vm *VM) Neighbor(ip string) (string, error) {
	h, err := nsHandle(vm.NS)
	if err != nil {
		return "", err
	}
	defer h.Close()
	neighs, err := h.NeighList(0, netlink.FAMILY_V4)
	if err != nil {
		return "", fmt.Errorf("vm %s: list neighbors: %w", vm.Spec.Name, err)
	}
	for _, n := range neighs {
		if n.IP.String() == ip && n.HardwareAddr != nil && n.State&(netlink.NUD_REACHABLE|netlink.NUD_STALE|netlink.NUD_DELAY|netlink.NUD_PROBE|netlink.NUD_PERMANENT) != 0 {
			return n.HardwareAddr.String(), nil
		}
	}
	return "", nil
}

// EchoRequestsReceived returns the namespace's Icmp InEchos counter: how
// many echo requests reached the VM's kernel.
func (vm *VM) EchoRequestsReceived() (int, error) {
	out, err := vm.Exec(10*time.Second, "cat", "/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	return snmpCounter(out, "Icmp", "InEchos")
}

// snmpCounter extracts one counter from /proc/net/snmp text, where each
// protocol has a header line of names followed by a line of values.
func snmpCounter(snmp, proto, name string) (int, error) {
	lines := strings.Split(snmp, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names := strings.Fields(lines[i])
		values := strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != proto+":" || len(values) != len(names) || values[0] != proto+":" {
			continue
		}
		for j, n := range names {
			if n == name {
				v, err := strconv.Atoi(values[j])
				if err != nil {
					return 0, fmt.Errorf("snmp %s %s: %q: %w", proto, name, values[j], err)
				}
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("snmp: no counter %s %s", proto, name)
}
