package testbed

import (
	"fmt"
	"time"
)

// Do runs fn on an OS thread switched into the VM's namespace: sockets fn
// opens (listeners, dialers, UDP sockets) belong to that namespace for
// their whole life, so fn may hand them to other goroutines.
func (vm *VM) Do(fn func() error) error {
	if err := inNamespace(vm.NS, fn); err != nil {
		return fmt.Errorf("in %s: %w", vm.where(), err)
	}
	return nil
}

// SNMPCounter returns one counter of the VM namespace's /proc/net/snmp,
// e.g. ("Udp", "NoPorts"): how many datagrams reached a closed port.
func (vm *VM) SNMPCounter(proto, name string) (int, error) {
	out, err := vm.Exec(10*time.Second, "cat", "/proc/net/snmp")
	if err != nil {
		return 0, fmt.Errorf("%s: read /proc/net/snmp: %w", vm.Spec.Name, err)
	}
	n, err := snmpCounter(out, proto, name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", vm.Spec.Name, err)
	}
	return n, nil
}

// Groups dumps br-int's OpenFlow groups in OpenFlow 1.5, which shows a
// select group's selection_method and fields (OpenFlow 1.3 hides them).
func (c *Chassis) Groups() (string, error) {
	out, err := run(c.tb.ctx, 30*time.Second, "", nil, "ovs-ofctl", "-O", "OpenFlow15", "dump-groups", c.BrIntMgmt())
	if err != nil {
		return out, fmt.Errorf("chassis %s: %w", c.Name, err)
	}
	return out, nil
}
