package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

// tableLogIngress is where a packet enters a logical datapath's ingress
// pipeline (internal/lflow's TableLogIngress).
const tableLogIngress = 8

// PeriodicRA is the unsolicited router advertisement of one router port
// with ipv6_ra_configs:send_periodic (ovn-nb(5)), as ovn-northd describes
// it in the router port's Port_Binding options (ipv6_ra_send_periodic,
// ipv6_ra_src_eth, ipv6_ra_src_addr, ipv6_ra_address_mode, ipv6_ra_mtu,
// ipv6_ra_prefixes, ipv6_ra_prf, ipv6_ra_rdnss, ipv6_ra_dnssl,
// ipv6_ra_route_info, ipv6_ra_min_interval, ipv6_ra_max_interval). It is
// sent into the ingress pipeline of the router port's peer switch as if
// the peer port had received it, for this chassis's ports only, to all
// nodes (ff02::1).
type PeriodicRA struct {
	Datapath uint32 // the peer switch's datapath tunnel key
	Port     uint32 // the peer switch port's tunnel key
	SrcMAC   [6]byte
	SrcIP    netip.Addr
	// opts are the options in put_nd_ra_opts' encoding.
	opts     string
	Min, Max time.Duration
}

// ParsePeriodicRA reads a router port's Port_Binding options. It returns
// false when the port does not send periodic advertisements, and an
// error naming the option that does not parse.
func ParsePeriodicRA(opts map[string]string) (PeriodicRA, bool, error) {
	if opts["ipv6_ra_send_periodic"] != "true" {
		return PeriodicRA{}, false, nil
	}
	var ra PeriodicRA
	mac, err := parseMAC(opts["ipv6_ra_src_eth"])
	if err != nil {
		return ra, false, fmt.Errorf("pinctrl: ipv6_ra_src_eth %q", opts["ipv6_ra_src_eth"])
	}
	ra.SrcMAC = mac
	if ra.SrcIP, err = netip.ParseAddr(opts["ipv6_ra_src_addr"]); err != nil || !ra.SrcIP.Is6() {
		return ra, false, fmt.Errorf("pinctrl: ipv6_ra_src_addr %q", opts["ipv6_ra_src_addr"])
	}
	// The RFC 4861 defaults ovn-nb(5) documents: max 600 s, min a third
	// of max.
	max, min := 600.0, 0.0
	if v, ok := opts["ipv6_ra_max_interval"]; ok {
		if max, err = strconv.ParseFloat(v, 64); err != nil || max <= 0 {
			return ra, false, fmt.Errorf("pinctrl: ipv6_ra_max_interval %q", v)
		}
	}
	min = max / 3
	if v, ok := opts["ipv6_ra_min_interval"]; ok {
		if min, err = strconv.ParseFloat(v, 64); err != nil || min < 0 || min > max {
			return ra, false, fmt.Errorf("pinctrl: ipv6_ra_min_interval %q (max %v)", v, max)
		}
	}
	ra.Min, ra.Max = time.Duration(min*float64(time.Second)), time.Duration(max*float64(time.Second))

	var b []byte
	tlv := func(code uint16, v []byte) {
		b = binary.BigEndian.AppendUint16(b, code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	mode := opts["ipv6_ra_address_mode"]
	if mode == "" {
		mode = "slaac"
	}
	tlv(raAddrMode, []byte(mode))
	tlv(raSLLA, mac[:])
	if v := opts["ipv6_ra_mtu"]; v != "" {
		mtu, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return ra, false, fmt.Errorf("pinctrl: ipv6_ra_mtu %q", v)
		}
		tlv(raMTU, binary.BigEndian.AppendUint32(nil, uint32(mtu)))
	}
	if v := opts["ipv6_ra_prf"]; v != "" {
		tlv(raPreference, []byte(v))
	}
	var prefixes []byte
	for _, p := range strings.Fields(opts["ipv6_ra_prefixes"]) {
		pf, err := netip.ParsePrefix(p)
		if err != nil || !pf.Addr().Is6() {
			return ra, false, fmt.Errorf("pinctrl: ipv6_ra_prefixes entry %q", p)
		}
		a := pf.Addr().As16()
		prefixes = append(append(prefixes, a[:]...), byte(pf.Bits()))
	}
	if len(prefixes) > 0 {
		tlv(raPrefix, prefixes)
	}
	if v := opts["ipv6_ra_rdnss"]; v != "" {
		var addrs []byte
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is6() {
				return ra, false, fmt.Errorf("pinctrl: ipv6_ra_rdnss %q", v)
			}
			a16 := a.As16()
			addrs = append(addrs, a16[:]...)
		}
		tlv(raRDNSS, addrs)
	}
	if v := opts["ipv6_ra_dnssl"]; v != "" {
		tlv(raDNSSL, []byte(v))
	}
	if v := opts["ipv6_ra_route_info"]; v != "" {
		tlv(raRouteInfo, []byte(v))
	}
	ra.opts = string(b)
	if _, err := raMessage(b); err != nil {
		return ra, false, err
	}
	return ra, true, nil
}

// Frame is the advertisement: from the port's MAC and link-local address
// to all nodes (33:33:00:00:00:01, ff02::1).
func (r PeriodicRA) Frame() []byte {
	msg, err := raMessage([]byte(r.opts))
	if err != nil {
		panic(fmt.Sprintf("pinctrl: periodic RA options checked by ParsePeriodicRA do not build: %v", err))
	}
	src := r.SrcIP.As16()
	dst := netip.IPv6LinkLocalAllNodes().As16()
	f := &frame{ethDst: []byte{0x33, 0x33, 0, 0, 0, 1}, ethSrc: r.SrcMAC[:], v6: true, l3: []byte{0x60, 0, 0, 0}, src: src[:], dst: dst[:]}
	return f.build(false, protoICMPv6, 255, msg, 2)
}

// PacketOut is the packet-out that runs the advertisement through the
// peer switch's ingress pipeline from the peer port, kept on this chassis
// (the other chassis send their own).
func (r PeriodicRA) PacketOut(xid uint32) []byte {
	acts := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(uint64(r.Datapath)), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg14"), Value: openflow.U64(uint64(r.Port)), Mask: openflow.Ones(32)},
		openflow.SetField{Field: openflow.MustField("reg10"), Value: openflow.U64(flagLocalOnly), Mask: openflow.U64(flagLocalOnly)},
		openflow.Resubmit{Table: tableLogIngress},
	})
	return ofconn.PacketOut(xid, r.Frame(), acts)
}

// RAScheduler sends each periodic advertisement when it appears (or
// changes), then at a random interval between its Min and Max (RFC 4861
// 6.2.4). Pure: time is passed in, randomness injected; not safe for
// concurrent use.
type RAScheduler struct {
	rand func() uint32
	ras  map[string]*raState
}

type raState struct {
	ra   PeriodicRA
	next time.Time
}

// NewRAScheduler returns an empty schedule drawing intervals from rand.
func NewRAScheduler(rand func() uint32) *RAScheduler {
	return &RAScheduler{rand: rand, ras: map[string]*raState{}}
}

// Sync sets the advertisements by router port name; new or changed ones
// are due now. It reports whether any is.
func (s *RAScheduler) Sync(want map[string]PeriodicRA, now time.Time) bool {
	due := false
	for name, ra := range want {
		if st, ok := s.ras[name]; ok && st.ra == ra {
			continue
		}
		s.ras[name] = &raState{ra: ra, next: now}
		due = true
	}
	for name := range s.ras {
		if _, ok := want[name]; !ok {
			delete(s.ras, name)
		}
	}
	return due
}

// Due returns the advertisements to send at now, by port name order, and
// schedules their next ones.
func (s *RAScheduler) Due(now time.Time) []PeriodicRA {
	names := make([]string, 0, len(s.ras))
	for n, st := range s.ras {
		if !now.Before(st.next) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]PeriodicRA, 0, len(names))
	for _, n := range names {
		st := s.ras[n]
		out = append(out, st.ra)
		span := st.ra.Max - st.ra.Min
		wait := st.ra.Min
		if span > 0 {
			wait += time.Duration(float64(span) * float64(s.rand()) / (1 << 32))
		}
		st.next = now.Add(max(wait, 100*time.Millisecond))
	}
	return out
}

// Next is when Due has something to send next (zero: nothing).
func (s *RAScheduler) Next() time.Time {
	var t time.Time
	for _, st := range s.ras {
		if t.IsZero() || st.next.Before(t) {
			t = st.next
		}
	}
	return t
}
