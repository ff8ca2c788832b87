// Package pinctrl is the chassis's controller path: it turns a packet-in
// whose userdata carries one of internal/lflow's controller opcodes into
// what the switch or the southbound must receive: an ARP request, IPv6
// neighbour solicitation or advertisement, or ICMP error generated from
// the packet and sent back through the pipeline
// (packet-out running the flow's nested actions), a DHCPv4 reply built
// from put_dhcp_opts' options (resume of the paused packet with the
// result bit set), or a MAC_Binding learned from put_arp or put_nd.
//
// Packet building and the decision are pure (Handle); package chassis
// owns the OpenFlow connection and the southbound writes.
package pinctrl
