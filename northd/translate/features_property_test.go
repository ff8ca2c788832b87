package translate_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/northd/engine"
	"hcnet/northd/nbscript"
	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// featuresBase is the starting NB of TestFeaturesIncrementalEqualsRecompute:
// a gateway router, a router with a distributed gateway port, and switches.
const featuresBase = `
ls s0
ls s1
ls pub
lr gr opt:chassis=gw1
lrp gr gr-s0 00:00:00:00:ee:01 10.0.0.1/24
lrp gr gr-pub 00:00:00:00:ee:03 172.16.0.2/24
link s0 gr-s0
link pub gr-pub
lr dr
lrp dr dr-s1 00:00:00:00:dd:01 10.0.1.1/24 2001:db8:1::1/64
lrp dr dr-pub 00:00:00:00:dd:03 172.16.0.1/24 2001:db8:ff::1/64
link s1 dr-s1
link pub dr-pub
gw dr-pub gw1 10
lsp pub ln type=localnet addresses=unknown opt:network_name=physnet
lsp s0 a addresses="00:00:00:00:00:01 10.0.0.11"
lsp s1 b addresses="00:00:00:00:01:01 10.0.1.11 2001:db8:1::11"
`

// featureCommand returns one random nbscript command over the NB tables and
// columns northd-features translates (router load balancers and their
// options, ECMP, source and route-table routes, reroute policies with
// several nexthops, distributed, stateless and IPv6 NAT, gateway_mtu, IPv6
// addresses and routes, DHCPv6, router advertisements), mixed with port
// churn, so that changes often touch the same rows.
func featureCommand(r *rand.Rand, dnsBFD bool) string {
	if dnsBFD && r.IntN(8) == 0 {
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("lbg g%d %s lb%d lb%d", r.IntN(2), []string{"s0", "gr", "dr"}[r.IntN(3)], r.IntN(3), r.IntN(3))
		case 1:
			return fmt.Sprintf("dns d%d s%d h%d.example.org=10.0.0.%d", r.IntN(2), r.IntN(2), r.IntN(3), 2+r.IntN(9))
		}
		return fmt.Sprintf("bfd dr 192.168.%d.0/24 172.16.0.%d %s%s", r.IntN(2), 200+r.IntN(3), []string{"up", "down", "admin_down"}[r.IntN(3)],
			[]string{"", " port=dr-pub", " port=dr-s1"}[r.IntN(3)])
	}
	if dnsBFD && r.IntN(4) == 0 {
		return healthCommand(r)
	}
	if dnsBFD && r.IntN(10) == 0 {
		return mcastCommand(r)
	}
	if r.IntN(10) == 0 {
		return garpCommand(r)
	}
	if r.IntN(10) == 0 {
		return vportCommand(r)
	}
	router := []string{"gr", "dr"}[r.IntN(2)]
	ip := fmt.Sprintf("10.0.%d.%d", r.IntN(2), 2+r.IntN(20))
	vip := fmt.Sprintf("172.16.0.%d", 100+r.IntN(4))
	switch r.IntN(12) {
	case 0, 1:
		opt := ""
		switch r.IntN(6) {
		case 0:
			opt = " opt:skip_snat=true"
		case 1:
			opt = " opt:affinity_timeout=60"
		case 2:
			opt = " sel=ip_dst"
		case 3:
			opt = " opt:neighbor_responder=" + []string{"all", "none", "reachable"}[r.IntN(3)]
		}
		if r.IntN(4) == 0 {
			return fmt.Sprintf("lrlb lb%d dr [2001:db8:ff::%x]:80 [2001:db8:1::%x]:8080%s", r.IntN(3), 0x100+r.IntN(3), 2+r.IntN(9), opt)
		}
		if r.IntN(6) == 0 {
			return fmt.Sprintf("lrlb lb%d %s %s:81 \"\"%s", r.IntN(3), router, vip, []string{"", " opt:reject=true"}[r.IntN(2)])
		}
		if r.IntN(2) == 0 {
			return fmt.Sprintf("lrlb lb%d %s %s:80 %s:8080,10.0.1.11:8080%s", r.IntN(3), router, vip, ip, opt)
		}
		return fmt.Sprintf("lrlb lb%d %s %s %s proto=udp%s", r.IntN(3), router, vip, ip, opt)
	case 2:
		return fmt.Sprintf("del lb lb%d", r.IntN(3))
	case 3:
		return fmt.Sprintf("lr gr opt:chassis=gw1 opt:lb_force_snat_ip=%s opt:dnat_force_snat_ip=%s",
			[]string{"router_ip", "172.16.0.9", ""}[r.IntN(3)], []string{"", "172.16.0.9", "172.16.0.8"}[r.IntN(3)])
	case 4, 5:
		extra := []string{"", "", " policy=src-ip", " table=rtb1", " table=rtb2"}[r.IntN(5)]
		if r.IntN(4) == 0 {
			return fmt.Sprintf("lrp dr dr-s1 00:00:00:00:dd:01 10.0.1.1/24 2001:db8:1::1/64 opt:route_table=rtb%d", 1+r.IntN(2))
		}
		if r.IntN(3) == 0 {
			return fmt.Sprintf("route dr 2001:db8:%x::/48 2001:db8:ff::%x%s", 0x70+r.IntN(2), 0xfe-r.IntN(3), extra)
		}
		if r.IntN(6) == 0 {
			return fmt.Sprintf("route %s 192.168.%d.0/24 discard%s", router, r.IntN(2), extra)
		}
		return fmt.Sprintf("route %s 192.168.%d.0/24 172.16.0.%d%s", router, r.IntN(2), 200+r.IntN(3), extra)
	case 6:
		if r.IntN(2) == 0 {
			nhs := []string{"172.16.0.210", "172.16.0.211,172.16.0.212", "2001:db8:ff::a1,2001:db8:ff::a2", "10.9.9.9"}[r.IntN(4)]
			return fmt.Sprintf("policy dr %d \"ip4.src == 10.0.1.%d\" reroute %s", 100+r.IntN(3), 2+r.IntN(5), nhs)
		}
		return fmt.Sprintf("del route %s 192.168.%d.0/24 172.16.0.%d", router, r.IntN(2), 200+r.IntN(3))
	case 7:
		if r.IntN(3) == 0 {
			return fmt.Sprintf("nat dr dnat_and_snat 172.16.0.%d 10.0.1.%d port=p%d mac=00:00:00:00:aa:%02x%s", 60+r.IntN(3), 2+r.IntN(20), r.IntN(6), r.IntN(4),
				[]string{"", "", " allowed=as0", " exempted=as1"}[r.IntN(4)])
		}
		if r.IntN(4) == 0 {
			return fmt.Sprintf("del nat dr dnat_and_snat 172.16.0.%d 10.0.1.%d", 60+r.IntN(3), 2+r.IntN(20))
		}
		if r.IntN(4) == 0 {
			return fmt.Sprintf("nat dr %s 2001:db8:ff::%x 2001:db8:1::%x", []string{"snat", "dnat_and_snat"}[r.IntN(2)], 0x50+r.IntN(3), 2+r.IntN(20))
		}
		if r.IntN(5) == 0 {
			return fmt.Sprintf("nat %s dnat_and_snat 172.16.0.%d %s stateless=true", router, 70+r.IntN(3), ip)
		}
		if r.IntN(5) == 0 {
			return fmt.Sprintf("nat %s %s 172.16.0.%d %s %s=as%d", router, []string{"snat", "dnat_and_snat", "dnat"}[r.IntN(3)], 80+r.IntN(3), ip,
				[]string{"allowed", "exempted"}[r.IntN(2)], r.IntN(2))
		}
		if r.IntN(8) == 0 {
			return fmt.Sprintf("as as%d 8.8.8.%d 9.9.9.9", r.IntN(2), r.IntN(9))
		}
		if r.IntN(5) == 0 {
			return fmt.Sprintf("lrp dr dr-pub 00:00:00:00:dd:03 172.16.0.1/24 2001:db8:ff::1/64 opt:gateway_mtu=%d", []int{0, 1400, 1300}[r.IntN(3)])
		}
		return fmt.Sprintf("nat %s %s 172.16.0.%d %s", router, []string{"snat", "dnat_and_snat", "dnat"}[r.IntN(3)], 50+r.IntN(3), ip)
	case 8:
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("lsp s1 p%d addresses=\"00:00:00:00:01:%02x 10.0.1.%d 2001:db8:1::%x\" dhcp6=d6", r.IntN(6), r.IntN(256), 2+r.IntN(20), 2+r.IntN(20))
		case 1:
			return []string{"dhcp d6 2001:db8:1::/64 server_id=00:00:00:00:06:ff dns_server=2001:db8::53",
				"dhcp d6 2001:db8:1::/64 server_id=00:00:00:00:06:fe dhcpv6_stateless=true", "del lsp b"}[r.IntN(3)]
		case 2:
			return fmt.Sprintf("lrp dr dr-s1 00:00:00:00:dd:01 10.0.1.1/24 2001:db8:1::1/64 opt:ra:address_mode=%s opt:ra:mtu=%d opt:ra:send_periodic=%v",
				[]string{"slaac", "dhcpv6_stateless", "off"}[r.IntN(3)], 1280+r.IntN(200), r.IntN(2) == 0)
		}
		return fmt.Sprintf("lsp s%d p%d addresses=\"00:00:00:00:0%d:%02x %s\"", r.IntN(2), r.IntN(6), r.IntN(2), r.IntN(256), ip)
	case 9:
		return fmt.Sprintf("del lsp p%d", r.IntN(6))
	case 10:
		return fmt.Sprintf("gw dr-pub gw%d %d", 1+r.IntN(2), r.IntN(20))
	default:
		return fmt.Sprintf("nbcfg %d", r.IntN(100))
	}
}

// healthCommand returns a random command about load balancer health
// checks: switch load balancers, health checks of switch and router VIPs,
// ip_port_mappings to existing and missing ports, the status the chassis
// reports, ports going up, down and disabled, and svc_monitor_mac.
func healthCommand(r *rand.Rand) string {
	ip := fmt.Sprintf("10.0.%d.%d", r.IntN(2), 10+r.IntN(3))
	if r.IntN(3) > 0 {
		ip = fmt.Sprintf("10.0.%d.11", r.IntN(2))
	}
	// Mostly the port that has the address, so that mappings and
	// statuses meet.
	port := map[string]string{"10.0.0.11": "a", "10.0.1.11": "b", "10.0.0.10": "p0", "10.0.1.12": "p1"}[ip]
	if port == "" || r.IntN(5) == 0 {
		port = []string{"a", "b", "p0", "p1", "p2", "nope"}[r.IntN(6)]
	}
	vip := []string{"10.0.0.200:80", "10.0.0.200:80", "172.16.0.100:80", "172.16.0.101:80"}[r.IntN(4)]
	lb := r.IntN(3)
	if r.IntN(2) == 0 {
		lb = 0 // mostly one load balancer, so that its parts meet
	}
	switch r.IntN(9) {
	case 0:
		return fmt.Sprintf("lb lb%d s%d 10.0.0.200:80 %s:8080,10.0.1.11:8080,10.0.0.11:8080%s", lb, r.IntN(2), ip,
			[]string{"", "", " sel=ip_src,tp_dst", " opt:hairpin_snat_ip=10.0.0.254"}[r.IntN(4)])
	case 1:
		return fmt.Sprintf("hc lb%d %s opt:interval=%d", lb, vip, 1+r.IntN(3))
	case 2:
		return fmt.Sprintf("del hc lb%d %s", lb, vip)
	case 3, 4:
		return fmt.Sprintf("ipmap lb%d %s=%s:10.0.%d.%d", lb, ip, port, r.IntN(2), 250+r.IntN(3))
	case 5, 6:
		return fmt.Sprintf("svcmon tcp %s 8080 %s %s", ip, port, []string{"online", "offline", "error", "none"}[r.IntN(4)])
	case 7:
		if r.IntN(2) == 0 {
			return fmt.Sprintf("svcmac 0a:00:00:00:fe:%02x", r.IntN(3))
		}
		return fmt.Sprintf("lsp s0 a addresses=\"00:00:00:00:00:01 10.0.0.11\" up=%v", r.IntN(2) == 0)
	}
	return fmt.Sprintf("lsp s%d %s addresses=\"00:00:00:00:0%d:%02x %s\" enabled=%v up=%v", r.IntN(2), port, r.IntN(2), r.IntN(256), ip,
		r.IntN(3) > 0, r.IntN(2) == 0)
}

// mcastCommand returns a random command about IGMP/MLD snooping: switch
// configuration and the groups the chassis report.
func mcastCommand(r *rand.Rand) string {
	sw := fmt.Sprintf("s%d", r.IntN(2))
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("otherconfig %s mcast_snoop=%s", sw, []string{"true", "true", "false", ""}[r.IntN(4)])
	case 1:
		return fmt.Sprintf("otherconfig %s mcast_flood_unregistered=%v mcast_idle_timeout=%d", sw, r.IntN(2) == 0, 100+r.IntN(3)*100)
	}
	addr := []string{"239.1.1.1", "239.1.1.2", "ff0e::1", "10.0.0.1"}[r.IntN(4)]
	ports := []string{"", " a", " b", " a b", " p0 p1"}[r.IntN(5)]
	return fmt.Sprintf("igmp %s %s%s", sw, addr, ports)
}

// TestFeaturesIncrementalEqualsRecompute applies random changes of the
// translated features in small batches; after each batch the incremental
// engine's SB must equal a full recompute. Rerun a failure with
// NORTHD_SEED=<seed>.
func TestFeaturesIncrementalEqualsRecompute(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NORTHD_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with NORTHD_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed))
	n := translate.NewNB()
	if err := nbscript.Run(n, featuresBase); err != nil {
		t.Fatal(err)
	}
	// DNS, BFD and Load_Balancer_Group rows join the generator once the
	// engine diffs those NB tables (engine.Changes); until then their
	// changes would not reach it.
	dnsBFD := tablesDiffed(n)
	if !dnsBFD {
		t.Log("engine.Changes does not diff NB DNS, BFD and Load_Balancer_Group yet: dns/bfd/lbg commands left out")
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	steps := 300
	if testing.Short() {
		steps = 80
	}
	var history []string
	for step := 0; step < steps; step++ {
		next := translate.CloneNB(n)
		for i := 0; i < 1+r.IntN(3); i++ {
			cmd := featureCommand(r, dnsBFD)
			if err := nbscript.Apply(next, cmd); err == nil {
				history = append(history, cmd)
			}
		}
		changes := engine.Changes(n, next)
		n = next
		if _, err := e.Apply(changes); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		want := translate.Translate(translate.CloneNB(n), e.Keys()).Text()
		if got := e.SB().Text(); got != want {
			first := max(0, len(history)-40)
			t.Fatalf("seed %d step %d: incremental differs from recompute after:\n%s\n%s",
				seed, step, strings.Join(history[first:], "\n"), firstDiff(got, want))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n incremental: %s\n recompute:   %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("lengths differ: incremental %d lines, recompute %d", len(g), len(w))
}

// tablesDiffed reports whether engine.Changes sees a change of an NB DNS,
// BFD and Load_Balancer_Group row.
func tablesDiffed(n *translate.NB) bool {
	a := translate.CloneNB(n)
	b := translate.CloneNB(n)
	b.DNS["d"] = &nb.DNS{UUID: "d"}
	c := translate.CloneNB(n)
	c.BFD["b"] = &nb.BFD{UUID: "b"}
	d := translate.CloneNB(n)
	d.LoadBalancerGroups["g"] = &nb.LoadBalancerGroup{UUID: "g"}
	return len(engine.Changes(a, b)) > 0 && len(engine.Changes(a, c)) > 0 && len(engine.Changes(a, d)) > 0
}

// garpCommand returns a random command about the router-type ports'
// nat_addresses: options nat-addresses (router, a list, none) and
// exclude-lb-vips-from-garp on the public switch's router ports, the
// localnet port that a gateway router's announcements need, and a second
// distributed gateway port.
func garpCommand(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return "del lsp ln"
	case 1:
		return "lsp pub ln type=localnet addresses=unknown opt:network_name=physnet"
	case 2:
		return fmt.Sprintf("gw dr-s1 gw%d 5", 1+r.IntN(2))
	}
	rp := []string{"gr-pub", "dr-pub", "dr-s1"}[r.IntN(3)]
	sw := map[string]string{"gr-pub": "pub", "dr-pub": "pub", "dr-s1": "s1"}[rp]
	opt := []string{"", " opt:nat-addresses=router", " opt:nat-addresses=router opt:exclude-lb-vips-from-garp=true",
		` opt:nat-addresses="00:00:00:00:ee:09 172.16.0.9 172.16.0.10"`}[r.IntN(4)]
	return fmt.Sprintf("lsp %s %s-%s type=router addresses=router opt:router-port=%s%s", sw, sw, rp, rp, opt)
}

// vportCommand returns a random command about virtual ports: their
// virtual-ip and virtual-parents (parents that exist, move between
// switches, or do not), and their deletion.
func vportCommand(r *rand.Rand) string {
	v := fmt.Sprintf("v%d", r.IntN(2))
	switch r.IntN(8) {
	case 0:
		return "del lsp " + v
	case 1, 2:
		return fmt.Sprintf("vparent %s %s", v, []string{"a", "b", "p0", "nope", "none"}[r.IntN(5)])
	case 3:
		return "nbopt controller_event=" + []string{"true", "", "false"}[r.IntN(3)]
	case 4:
		// A VIP without backends: an empty_lb_backends event when
		// controller_event is on.
		cmd := []string{"lb", "lb", "lrlb", "lrlb"}[r.IntN(4)]
		dp := map[string][]string{"lb": {"s0", "s1"}, "lrlb": {"gr", "dr"}}[cmd][r.IntN(2)]
		return fmt.Sprintf("%s lb%d %s 10.0.%d.%d:80 \"\"%s", cmd, r.IntN(3), dp, r.IntN(2), 200+r.IntN(3),
			[]string{"", " proto=udp", " opt:reject=true", " opt:event=true"}[r.IntN(4)])
	}
	ip := []string{"10.0.0.50", "10.0.0.51", "10.0.1.50", "bad", "2001:db8:1::50"}[r.IntN(5)]
	parents := []string{"a", "a,p0", "p0,p1,nope", "b,p1", ""}[r.IntN(5)]
	return fmt.Sprintf("lsp s%d %s type=virtual addresses=\"00:00:00:00:05:0%d %s\" opt:virtual-ip=%s opt:virtual-parents=%s", r.IntN(2), v, r.IntN(2), ip, ip, parents)
}
