package translate

import (
	"fmt"
	"net/netip"
	"strings"

	"hcnet/schema/nb"
)

// bindVportFlows adds, for a virtual port p (ovn-nb(5) Logical_Switch_Port
// type virtual), what ovn-northd 23.03 puts in ls_in_arp_rsp instead of ARP
// answers for it: an ARP from one of its options:virtual-parents (on the
// same switch) that claims options:virtual-ip (a gratuitous request or any
// reply from that address; for an IPv6 virtual-ip a neighbor solicitation
// or advertisement for it) binds the virtual port through that parent
// (bind_vport, ovn-sb(5) Port_Binding virtual_parent). Without a valid
// virtual-ip or any parent there are no flows.
func (x *Index) bindVportFlows(f *flowSet, sw *nb.LogicalSwitch, p *switchPort) {
	vip, err := netip.ParseAddr(p.Row.Options["virtual-ip"])
	if err != nil {
		return
	}
	claim := fmt.Sprintf("((arp.op == 1 && arp.spa == %s && arp.tpa == %s) || (arp.op == 2 && arp.spa == %s))", vip, vip, vip)
	if !vip.Is4() {
		claim = fmt.Sprintf("((nd_ns && ip6.dst == {%s, %s} && nd.target == %s) ||(nd_na && nd.target == %s))", vip, solicitedNode(vip), vip, vip)
	}
	for _, parent := range strings.Split(p.Row.Options["virtual-parents"], ",") {
		vp := x.SwitchPorts[parent]
		if parent == "" || vp == nil || vp.Switch != sw.UUID {
			continue
		}
		f.addf(lsInARPRsp, 100, fmt.Sprintf("inport == %s && %s", quote(parent), claim), "bind_vport(%s, inport); next;", quote(p.Row.Name))
	}
}

// VirtualParentTable is the table name of NB.VirtualParents changes: the
// SB Port_Binding virtual_parent the chassis set, fed to the engine like
// an NB table.
const VirtualParentTable = "Virtual_Parent"

// VirtualParent says that virtual port Port is claimed (bound to a
// chassis) through its parent Parent.
type VirtualParent struct {
	Port, Parent string
}

// vportNeighbor returns how routers on a virtual port's switch resolve its
// options:virtual-ip (ovn-northd(8) lr_in_arp_resolve): to the first MAC
// of its virtual parent when the port is claimed, else to
// 00:00:00:00:00:00, so that the router asks with ARP instead of trusting
// a MAC_Binding that may be stale. IPv4 only, as ovn-northd 23.03.
func (x *Index) vportNeighbor(p *switchPort) (neighbor, bool) {
	vip, err := netip.ParseAddr(p.Row.Options["virtual-ip"])
	if err != nil || !vip.Is4() || p.Row.Options["virtual-parents"] == "" {
		return neighbor{}, false
	}
	if vp := x.NB.VirtualParents[p.Row.Name]; vp != nil && vp.Parent != "" {
		parent := x.SwitchPorts[vp.Parent]
		if parent == nil {
			return neighbor{}, false
		}
		for _, a := range parent.Addrs {
			if a.MAC != "" {
				return neighbor{vip, a.MAC}, true
			}
		}
		return neighbor{}, false
	}
	return neighbor{vip, "00:00:00:00:00:00"}, true
}
