package translate

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"hcnet/schema/nb"
)

// Load balancer health checks (ovn-nb(5) Load_Balancer_Health_Check and
// Load_Balancer ip_port_mappings, ovn-sb(5) Service_Monitor), as
// ovn-northd 23.03 translates them:
//
//   - a VIP whose key is the vip of one of its load balancer's health
//     checks is health-checked: each of its backends with an
//     ip_port_mappings entry naming an existing logical switch port
//     ("PORT:SRC_IP") gets an SB Service_Monitor row (one per backend
//     address, port, protocol and logical port, whatever the number of
//     load balancers naming it), unless the port is disabled;
//   - such a VIP balances only over the backends that have a monitor whose
//     status is online or not yet set; with none left it gets the "no
//     backends" treatment (drop, or reject with options:reject);
//   - the switch of each mapped port answers ARP (IPv4) or neighbour
//     solicitations (IPv6) for the probe's source address with
//     options:svc_monitor_mac, priority 110 in ls_in_arp_rsp;
//   - every switch passes frames to and from $svc_monitor_mac around
//     conntrack and ACLs, and sends the backends' answers to the
//     controller (handle_svc_check) in ls_in_l2_lkup.
//
// Service_Monitor.status is the chassis's: it comes back as NB.ServiceStatus
// (table ServiceMonitorTable in engine changes), read by the datapaths
// whose VIPs name the backend and by nothing else.

// ServiceMonitorTable is the table name of ServiceStatus changes: the SB
// Service_Monitor status northd reads back, fed to the engine like an NB
// table.
const ServiceMonitorTable = "Service_Monitor"

// SvcKey identifies a Service_Monitor row, as its schema index does.
type SvcKey struct {
	IP          string // backend address, without brackets
	Port        int
	Protocol    string // tcp or udp
	LogicalPort string
}

// String renders the key; it is the key of NB.ServiceStatus.
func (k SvcKey) String() string {
	return fmt.Sprintf("%s/%s/%d/%s", k.Protocol, k.IP, k.Port, k.LogicalPort)
}

// ServiceStatus is the status an SB Service_Monitor row reports ("online",
// "offline", "error" or "" when not yet probed).
type ServiceStatus struct {
	Key    SvcKey
	Status string
}

// ServiceMonitor is a desired SB Service_Monitor row. PortUp tells the
// writer whether the logical port is up (Logical_Switch_Port.up): an
// online monitor of a port that is not up is set offline, as ovn-northd
// does.
type ServiceMonitor struct {
	Key     SvcKey
	SrcIP   string
	SrcMAC  string
	Options map[string]string
	PortUp  bool
}

// svcBackend is one health-checked backend of one VIP of one load
// balancer, whose ip_port_mappings entry names an existing switch port.
type svcBackend struct {
	LB     string // NB load balancer UUID
	VIP    string // the vips key
	HC     *nb.LoadBalancerHealthCheck
	Key    SvcKey
	Addr   netip.AddrPort // backend address and port, as in the VIP's backends
	SrcIP  netip.Addr
	Port   *switchPort
	Switch string // the port's switch UUID
}

// svcIndex holds the health-check view of NB, built by buildSvc.
type svcIndex struct {
	// byLB maps a load balancer UUID to its health-checked VIPs (vips
	// key → backends with a usable mapping; a VIP present with no
	// backends has a health check that covers none of them).
	byLB map[string]map[string][]svcBackend
	// bySwitch lists the backends whose logical port is on a switch.
	bySwitch map[string][]svcBackend
}

// svcMonitorMAC returns NB_Global options:svc_monitor_mac, else
// NB.SvcMonitorMACDefault, or "".
func (x *Index) svcMonitorMAC() string {
	if x.NB.Global != nil {
		if la, ok := parseLSPAddress(x.NB.Global.Options["svc_monitor_mac"]); ok {
			return la.MAC
		}
	}
	if la, ok := parseLSPAddress(x.NB.SvcMonitorMACDefault); ok {
		return la.MAC
	}
	return ""
}

// healthCheckFor returns the health check of lb whose vip is key, or nil.
func (x *Index) healthCheckFor(lb *nb.LoadBalancer, key string) *nb.LoadBalancerHealthCheck {
	for _, u := range lb.HealthCheck {
		if hc := x.NB.HealthChecks[u]; hc != nil && hc.Vip == key {
			return hc
		}
	}
	return nil
}

// mappingFor returns the ip_port_mappings entry of backend address a:
// logical port name and probe source address.
func mappingFor(lb *nb.LoadBalancer, a netip.Addr) (string, netip.Addr, bool) {
	v, ok := lb.IPPortMappings[a.String()]
	if !ok && a.Is6() {
		v, ok = lb.IPPortMappings["["+a.String()+"]"]
	}
	if !ok {
		return "", netip.Addr{}, false
	}
	port, src, ok := strings.Cut(v, ":")
	if !ok || port == "" {
		return "", netip.Addr{}, false
	}
	src = strings.TrimSuffix(strings.TrimPrefix(src, "["), "]")
	ip, err := netip.ParseAddr(src)
	if err != nil {
		return "", netip.Addr{}, false
	}
	return port, ip.Unmap(), true
}

// buildSvc fills x.svc from the load balancers with health checks.
func (x *Index) buildSvc() {
	x.svc = svcIndex{byLB: map[string]map[string][]svcBackend{}, bySwitch: map[string][]svcBackend{}}
	for _, lbU := range slices.Sorted(maps.Keys(x.NB.LoadBalancers)) {
		lb := x.NB.LoadBalancers[lbU]
		if len(lb.HealthCheck) == 0 {
			continue
		}
		proto := "tcp"
		if lb.Protocol != nil && *lb.Protocol != "" {
			proto = *lb.Protocol
		}
		for _, key := range slices.Sorted(maps.Keys(lb.Vips)) {
			hc := x.healthCheckFor(lb, key)
			if hc == nil {
				continue
			}
			v, ok := parseVIP(key, lb.Vips[key], proto)
			if !ok || v.Port == 0 {
				continue
			}
			vips := x.svc.byLB[lbU]
			if vips == nil {
				vips = map[string][]svcBackend{}
				x.svc.byLB[lbU] = vips
			}
			vips[key] = nil
			for _, b := range strings.Split(v.Backends, ",") {
				ap, err := netip.ParseAddrPort(b)
				if err != nil {
					continue
				}
				name, src, ok := mappingFor(lb, ap.Addr())
				if !ok {
					continue
				}
				sp := x.SwitchPorts[name]
				if sp == nil {
					continue
				}
				sb := svcBackend{LB: lbU, VIP: key, HC: hc, Addr: ap, SrcIP: src, Port: sp, Switch: sp.Switch,
					Key: SvcKey{IP: ap.Addr().String(), Port: int(ap.Port()), Protocol: proto, LogicalPort: name}}
				vips[key] = append(vips[key], sb)
				x.svc.bySwitch[sp.Switch] = append(x.svc.bySwitch[sp.Switch], sb)
			}
		}
	}
}

// svcStatusOK reports whether a monitored backend may receive connections:
// its monitor's status is online or not yet set.
func (x *Index) svcStatusOK(k SvcKey) bool {
	s := x.NB.ServiceStatus[k.String()]
	return s == nil || s.Status == "" || s.Status == "online"
}

// healthFilter leaves out of v's backends those a health check excludes,
// when lbU's VIP key is health-checked: backends without a usable
// mapping, on a disabled port, or whose monitor is not online.
func (x *Index) healthFilter(lbU, key string, v *vip) {
	vips, ok := x.svc.byLB[lbU]
	if !ok {
		return
	}
	checked, ok := vips[key]
	if !ok {
		return
	}
	var keep []string
	for _, b := range strings.Split(v.Backends, ",") {
		ap, err := netip.ParseAddrPort(b)
		if err != nil {
			continue
		}
		for _, sb := range checked {
			if sb.Addr == ap && sb.Port.enabled() && x.svcStatusOK(sb.Key) {
				keep = append(keep, b)
				break
			}
		}
	}
	v.Backends = strings.Join(keep, ",")
}

// ServiceMonitors returns the desired SB Service_Monitor rows, sorted by
// key: none until NB_Global has options:svc_monitor_mac (the daemon
// generates it). When load balancers disagree on a backend's probe
// source or options, the first by load balancer UUID and VIP wins.
func (x *Index) ServiceMonitors() []ServiceMonitor {
	mac := x.svcMonitorMAC()
	if mac == "" || len(x.svc.byLB) == 0 {
		return nil
	}
	seen := map[SvcKey]bool{}
	var out []ServiceMonitor
	for _, lbU := range slices.Sorted(maps.Keys(x.svc.byLB)) {
		vips := x.svc.byLB[lbU]
		for _, key := range slices.Sorted(maps.Keys(vips)) {
			for _, sb := range vips[key] {
				if seen[sb.Key] || !sb.Port.enabled() {
					continue
				}
				seen[sb.Key] = true
				up := false
				// The index may hold an earlier version of the port's
				// row (up changes do not rebuild it).
				row := sb.Port.Row
				if cur := x.NB.SwitchPorts[row.UUID]; cur != nil {
					row = cur
				}
				if row.Up != nil {
					up = *row.Up
				}
				opts := maps.Clone(sb.HC.Options)
				if opts == nil {
					opts = map[string]string{}
				}
				out = append(out, ServiceMonitor{Key: sb.Key, SrcIP: sb.SrcIP.String(), SrcMAC: mac, Options: opts, PortUp: up})
			}
		}
	}
	slices.SortFunc(out, func(a, b ServiceMonitor) int { return cmp.Compare(a.Key.String(), b.Key.String()) })
	return out
}

// svcSwitchFlows adds a switch's health-check flows: $svc_monitor_mac
// bypasses conntrack and, where ACLs apply, the ACLs; the backends'
// answers go to the controller; ARP and ND for the probe sources of the
// backends on this switch are answered with svc_monitor_mac. None until
// NB_Global has options:svc_monitor_mac: ovn-controller defines
// $svc_monitor_mac from SB_Global's copy, and does not parse a flow that
// names it again once it appears.
func (x *Index) svcSwitchFlows(f *flowSet, sw *nb.LogicalSwitch, acls bool) {
	mac := x.svcMonitorMAC()
	if mac == "" {
		return
	}
	f.add(lsInPreACL, 110, "eth.dst == $svc_monitor_mac", "next;")
	f.add(lsInPreLB, 110, "eth.dst == $svc_monitor_mac", "next;")
	f.add(lsOutPreACL, 110, "eth.src == $svc_monitor_mac", "next;")
	f.add(lsOutPreLB, 110, "eth.src == $svc_monitor_mac", "next;")
	f.add(lsInL2Lkup, 110, "eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)", "handle_svc_check(inport);")
	if acls {
		f.add(lsInACL, 34000, "eth.dst == $svc_monitor_mac", "next;")
		f.add(lsOutACL, 34000, "eth.src == $svc_monitor_mac", "next;")
	}
	seen := map[netip.Addr]bool{}
	for _, sb := range x.svc.bySwitch[sw.UUID] {
		ip := sb.SrcIP
		if seen[ip] {
			continue
		}
		seen[ip] = true
		if ip.Is4() {
			f.addf(lsInARPRsp, 110, fmt.Sprintf("arp.tpa == %s && arp.op == 1", ip),
				"eth.dst = eth.src; eth.src = %s; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = %s; arp.tpa = arp.spa; arp.spa = %s; outport = inport; flags.loopback = 1; output;",
				mac, mac, ip)
			continue
		}
		f.addf(lsInARPRsp, 110, fmt.Sprintf("nd_ns && nd.target == %s", ip),
			"nd_na { eth.dst = eth.src; eth.src = %s; ip6.src = %s; nd.target = %s; nd.tll = %s; outport = inport; flags.loopback = 1; output; };",
			mac, ip, ip, mac)
	}
}

// svcReaders adds to r what health checks make datapaths read: the
// datapaths using a health-checked load balancer read its health checks,
// the status of its backends' monitors ("svc:" + key) and the mapped
// ports ("svcport:" + name); the switch of a mapped port reads the load
// balancer, its health checks and NB_Global (svc_monitor_mac).
func (x *Index) svcReaders(r readers) {
	for lbU, vips := range x.svc.byLB {
		users := slices.Clone(r[lbU])
		lb := x.NB.LoadBalancers[lbU]
		for _, dp := range users {
			for _, u := range lb.HealthCheck {
				r.add(u, dp)
			}
			for _, bs := range vips {
				for _, sb := range bs {
					r.add("svc:"+sb.Key.String(), dp)
				}
			}
			for _, name := range lb.IPPortMappings {
				if port, _, ok := strings.Cut(name, ":"); ok {
					r.add("svcport:"+port, dp)
				}
			}
		}
		for _, bs := range vips {
			for _, sb := range bs {
				r.add(lbU, sb.Switch)
				r.add(sb.HC.UUID, sb.Switch)
				if x.NB.Global != nil {
					r.add(x.NB.Global.UUID, sb.Switch)
				}
			}
		}
	}
	// A load balancer whose VIPs are not health-checked yet reads the
	// ports its mappings name too: a health check may appear.
	for lbU, lb := range x.NB.LoadBalancers {
		if _, ok := x.svc.byLB[lbU]; ok || len(lb.HealthCheck) == 0 {
			continue
		}
		for _, dp := range slices.Clone(r[lbU]) {
			for _, u := range lb.HealthCheck {
				r.add(u, dp)
			}
			for _, name := range lb.IPPortMappings {
				if port, _, ok := strings.Cut(name, ":"); ok {
					r.add("svcport:"+port, dp)
				}
			}
		}
	}
}
