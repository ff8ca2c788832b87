// Package hostnet reads what the chassis needs from the host's network
// stack through netlink: the underlay address to use for tunnels when
// ovn-encap-ip is not configured (the source of the default route), and
// the MTU of the interface holding the tunnel address, from which the
// largest inner packet a tunnel carries follows.
//
// Lookup functions touch netlink; TunnelPayloadMTU is pure.
package hostnet
