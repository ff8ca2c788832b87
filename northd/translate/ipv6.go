package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// routerIPv6 returns a router port's IPv6 addresses: its global networks'
// addresses, then its link-local address.
func routerIPv6(p *routerPort) []netip.Addr {
	var out []netip.Addr
	for _, n := range p.V6 {
		if !n.Addr().IsLinkLocalUnicast() {
			out = append(out, n.Addr())
		}
	}
	if p.LLA.IsValid() {
		out = append(out, p.LLA)
	}
	return out
}

// routerIPv6Input adds lr_in_ip_input's flows for a router port's IPv6
// addresses (ovn-northd(8)): neighbor advertisements for solicitations of
// each address, echo replies, and dropping the rest of what is addressed to
// the router.
func (x *Index) routerIPv6Input(f *flowSet, p *routerPort, resident string) {
	addrs := routerIPv6(p)
	if len(addrs) == 0 {
		return
	}
	name := quote(p.Row.Name)
	for _, a := range addrs {
		f.add(lrInIPInput, 90, fmt.Sprintf("inport == %s && ip6.dst == {%s, %s} && nd_ns && nd.target == %s%s", name, a, solicitedNode(a), a, resident),
			"nd_na_router { eth.src = xreg0[0..47]; ip6.src = nd.target; nd.tll = xreg0[0..47]; outport = inport; flags.loopback = 1; output; };")
	}
	var set []string
	for _, a := range addrs {
		set = append(set, a.String())
	}
	all := "{" + strings.Join(set, ", ") + "}"
	// DHCPv6 replies to the router (prefix delegation) go to the controller.
	for _, a := range addrs {
		f.addf(lrInIPInput, 100, fmt.Sprintf("ip6.dst == %s && udp.src == 547 && udp.dst == 546", a), "reg0 = 0; handle_dhcpv6_reply;")
	}
	echo := all // ovn-northd writes a single address without braces here
	if len(set) == 1 {
		echo = set[0]
	}
	f.add(lrInIPInput, 90, fmt.Sprintf("ip6.dst == %s && icmp6.type == 128 && icmp6.code == 0", echo),
		"ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ")
	f.add(lrInIPInput, 60, "ip6.dst == "+all, "drop;")
}

// ndRAFlows answers router solicitations on a port with ipv6_ra_configs
// (lr_in_nd_ra_options, lr_in_nd_ra_response): ovn-controller builds the
// router advertisement from put_nd_ra_opts' options.
func (x *Index) ndRAFlows(f *flowSet, p *routerPort) {
	cfg := p.Row.Ipv6RaConfigs
	mode := cfg["address_mode"]
	if !p.enabled() || !p.LLA.IsValid() || (mode != "slaac" && mode != "dhcpv6_stateful" && mode != "dhcpv6_stateless") {
		return
	}
	var prefixes []string
	for _, n := range p.V6 {
		if !n.Addr().IsLinkLocalUnicast() {
			prefixes = append(prefixes, networkOf(n).String())
		}
	}
	if len(prefixes) == 0 {
		return
	}
	ra := raConfig(p)
	opts := []string{fmt.Sprintf("addr_mode = %s", strconv.Quote(mode)), "slla = " + p.MAC}
	if ra.MTU > 0 {
		opts = append(opts, fmt.Sprintf("mtu = %d", ra.MTU))
	}
	if ra.Preference != "MEDIUM" {
		opts = append(opts, fmt.Sprintf("router_preference = %s", strconv.Quote(ra.Preference)))
	}
	if ra.RDNSS.IsValid() {
		opts = append(opts, "rdnss = "+ra.RDNSS.String())
	}
	if ra.DNSSL != "" {
		opts = append(opts, fmt.Sprintf("dnssl = %s", strconv.Quote(ra.DNSSL)))
	}
	for _, pf := range prefixes {
		opts = append(opts, "prefix = "+pf)
	}
	name := quote(p.Row.Name)
	f.addf(routerIngress[10], 50, fmt.Sprintf("inport == %s && ip6.dst == ff02::2 && nd_rs", name),
		"reg0[5] = put_nd_ra_opts(%s); next;", strings.Join(opts, ", "))
	f.addf(routerIngress[11], 50, fmt.Sprintf("inport == %s && ip6.dst == ff02::2 && nd_ra && reg0[5]", name),
		"eth.dst = eth.src; eth.src = %s; ip6.dst = ip6.src; ip6.src = %s; outport = inport; flags.loopback = 1; output;", p.MAC, p.LLA)
}

// dhcpv6OptionsFor returns the DHCPv6 options of a switch port
// (dhcpv6_options) with the port's MAC and the address it leases (invalid
// for a stateless server), if the row is usable: a valid IPv6 cidr, a
// server_id MAC, and, unless dhcpv6_stateless, a port address in the cidr.
func (x *Index) dhcpv6OptionsFor(p *switchPort) (opts map[string]string, mac string, ip netip.Addr, ok bool) {
	if p.Row.Dhcpv6Options == nil {
		return nil, "", netip.Addr{}, false
	}
	d := x.NB.DHCPOptions[*p.Row.Dhcpv6Options]
	if d == nil {
		return nil, "", netip.Addr{}, false
	}
	cidr, err := netip.ParsePrefix(d.Cidr)
	if err != nil || !cidr.Addr().Is6() {
		return nil, "", netip.Addr{}, false
	}
	if _, ok := parseMAC(d.Options["server_id"]); !ok {
		return nil, "", netip.Addr{}, false
	}
	stateless := d.Options["dhcpv6_stateless"] == "true"
	for _, a := range p.Addrs {
		if stateless {
			return d.Options, a.MAC, netip.Addr{}, true
		}
		for _, ip := range a.IPv6 {
			if cidr.Contains(ip) {
				return d.Options, a.MAC, ip, true
			}
		}
	}
	return nil, "", netip.Addr{}, false
}

// dhcpv6Flows answers a port's DHCPv6 requests from the controller
// (ls_in_dhcp_options, ls_in_dhcp_response; ovn-northd(8)).
func (x *Index) dhcpv6Flows(f *flowSet, p *switchPort) {
	if !p.enabled() {
		return
	}
	opts, mac, ip, ok := x.dhcpv6OptionsFor(p)
	if !ok {
		return
	}
	var args []string
	if ip.IsValid() {
		args = append(args, "ia_addr = "+ip.String())
	}
	for _, k := range sortedKeys(opts) {
		v := opts[k]
		switch k {
		case "dhcpv6_stateless":
			continue
		case "domain_search":
			v = strconv.Quote(v)
		}
		args = append(args, k+" = "+v)
	}
	server, _ := parseMAC(opts["server_id"])
	serverMAC := formatMAC(server)
	name := quote(p.Row.Name)
	match := fmt.Sprintf("inport == %s && eth.src == %s && ip6.dst == ff02::1:2 && udp.src == 546 && udp.dst == 547", name, mac)
	f.addf(lsInDHCPOptions, 100, match, "reg0[3] = put_dhcpv6_opts(%s); next;", strings.Join(args, ", "))
	f.addf(lsInDHCPResponse, 100, match+" && reg0[3]",
		"eth.dst = eth.src; eth.src = %s; ip6.dst = ip6.src; ip6.src = %s; udp.src = 547; udp.dst = 546; outport = inport; flags.loopback = 1; output;",
		serverMAC, linkLocal(serverMAC))
}

// dhcpv6ACLExemption keeps the DHCPv6 replies of northd's responder out of
// to-lport ACLs.
func (x *Index) dhcpv6ACLExemption(f *flowSet, p *switchPort) {
	if !p.enabled() {
		return
	}
	opts, _, _, ok := x.dhcpv6OptionsFor(p)
	if !ok {
		return
	}
	server, _ := parseMAC(opts["server_id"])
	serverMAC := formatMAC(server)
	f.add(lsOutACL, 34000, fmt.Sprintf("outport == %s && eth.src == %s && ip6.src == %s && udp && udp.src == 547 && udp.dst == 546",
		quote(p.Row.Name), serverMAC, linkLocal(serverMAC)), "next;")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// DHCPv6Codes returns the DHCPv6 options northd publishes in SB
// DHCPv6_Options (ovn-sb(5)), sorted by name: what put_dhcpv6_opts may set.
func DHCPv6Codes() []DHCPOptionCode {
	return []DHCPOptionCode{
		{"dns_server", 23, "ipv6"},
		{"domain_search", 24, "str"},
		{"ia_addr", 5, "ipv6"},
		{"server_id", 2, "mac"},
	}
}

// raSettings are a router port's validated ipv6_ra_configs.
type raSettings struct {
	MTU        int    // 0: not advertised
	Preference string // HIGH, MEDIUM or LOW
	RDNSS      netip.Addr
	DNSSL      string
}

func raConfig(p *routerPort) raSettings {
	cfg := p.Row.Ipv6RaConfigs
	s := raSettings{Preference: "MEDIUM"}
	if m, err := strconv.Atoi(cfg["mtu"]); err == nil && m >= 1280 {
		s.MTU = m
	}
	if pref := cfg["router_preference"]; pref == "HIGH" || pref == "LOW" {
		s.Preference = pref
	}
	if a, err := netip.ParseAddr(cfg["rdnss"]); err == nil && a.Is6() {
		s.RDNSS = a
	}
	if d := cfg["dnssl"]; d != "" && !strings.ContainsAny(d, `"\`) {
		s.DNSSL = d
	}
	return s
}

// periodicRAOptions adds to a router port's Port_Binding options what
// ovn-controller needs to send unsolicited router advertisements
// (ipv6_ra_configs send_periodic=true; ovn-sb(5) Port_Binding options
// ipv6_ra_*): intervals (max 600 s by default, min a third of it), the
// advertised prefixes, MTU, preference, DNS and the source addresses.
func periodicRAOptions(p *routerPort, opts map[string]string) {
	cfg := p.Row.Ipv6RaConfigs
	mode := cfg["address_mode"]
	if cfg["send_periodic"] != "true" || !p.LLA.IsValid() || (mode != "slaac" && mode != "dhcpv6_stateful" && mode != "dhcpv6_stateless") {
		return
	}
	var prefixes []string
	for _, n := range p.V6 {
		if !n.Addr().IsLinkLocalUnicast() {
			prefixes = append(prefixes, networkOf(n).String())
		}
	}
	maxI := 600
	if v, err := strconv.Atoi(cfg["max_interval"]); err == nil {
		maxI = min(max(v, 4), 1800)
	}
	minI := maxI / 3
	if v, err := strconv.Atoi(cfg["min_interval"]); err == nil {
		minI = v
	}
	minI = min(max(minI, 3), maxI*3/4)
	ra := raConfig(p)
	opts["ipv6_ra_send_periodic"] = "true"
	opts["ipv6_ra_address_mode"] = mode
	opts["ipv6_ra_max_interval"] = strconv.Itoa(maxI)
	opts["ipv6_ra_min_interval"] = strconv.Itoa(minI)
	opts["ipv6_ra_prefixes"] = strings.Join(prefixes, " ")
	opts["ipv6_ra_prf"] = ra.Preference
	opts["ipv6_ra_src_addr"] = p.LLA.String()
	opts["ipv6_ra_src_eth"] = p.MAC
	if ra.MTU > 0 {
		opts["ipv6_ra_mtu"] = strconv.Itoa(ra.MTU)
	}
	if ra.RDNSS.IsValid() {
		opts["ipv6_ra_rdnss"] = ra.RDNSS.String()
	}
	if ra.DNSSL != "" {
		opts["ipv6_ra_dnssl"] = ra.DNSSL
	}
}
