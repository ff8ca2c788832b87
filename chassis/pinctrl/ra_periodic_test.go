package pinctrl

import (
	"net/netip"
	"testing"
	"time"
)

func TestParsePeriodicRA(t *testing.T) {
	base := map[string]string{"ipv6_ra_send_periodic": "true", "ipv6_ra_src_eth": "00:00:00:00:ff:01",
		"ipv6_ra_src_addr": "fe80::200:ff:fe00:ff01", "ipv6_ra_address_mode": "slaac", "ipv6_ra_prefixes": "fd00::/64"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		opts     map[string]string
		ok       bool
		err      bool
		min, max time.Duration
	}{
		{"not periodic", with("ipv6_ra_send_periodic", "false"), false, false, 0, 0},
		{"default intervals", base, true, false, 200 * time.Second, 600 * time.Second},
		{"intervals", with("ipv6_ra_max_interval", "4", "ipv6_ra_min_interval", "3"), true, false, 3 * time.Second, 4 * time.Second},
		{"min above max", with("ipv6_ra_max_interval", "4", "ipv6_ra_min_interval", "5"), false, true, 0, 0},
		{"bad source MAC", with("ipv6_ra_src_eth", "x"), false, true, 0, 0},
		{"bad prefix", with("ipv6_ra_prefixes", "10.0.0.0/24"), false, true, 0, 0},
		{"bad mode", with("ipv6_ra_address_mode", "magic"), false, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ra, ok, err := ParsePeriodicRA(tc.opts)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("ok %v err %v, want ok %v err %v", ok, err, tc.ok, tc.err)
			}
			if ok && (ra.Min != tc.min || ra.Max != tc.max) {
				t.Fatalf("intervals %v..%v, want %v..%v", ra.Min, ra.Max, tc.min, tc.max)
			}
		})
	}
	ra, _, _ := ParsePeriodicRA(with("ipv6_ra_mtu", "1400"))
	f := verify(t, ra.Frame())
	all := netip.IPv6LinkLocalAllNodes().As16()
	if !f.v6 || f.l4[0] != 134 || string(f.dst) != string(all[:]) || f.ttl() != 255 {
		t.Fatalf("frame %x", ra.Frame())
	}
}

// TestRAScheduler: an advertisement goes out when it appears and when it
// changes, then every Min..Max; a removed one stops.
func TestRAScheduler(t *testing.T) {
	r := uint32(0)
	s := NewRAScheduler(func() uint32 { return r })
	ra := PeriodicRA{Datapath: 1, Port: 2, Min: 3 * time.Second, Max: 4 * time.Second}
	if !s.Sync(map[string]PeriodicRA{"lrp": ra}, t0) {
		t.Fatal("new advertisement not due")
	}
	if got := s.Due(t0); len(got) != 1 {
		t.Fatalf("due %v", got)
	}
	if next := s.Next(); !next.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("next %v, want min interval with rand 0", next.Sub(t0))
	}
	r = 1 << 31 // half way
	if got := s.Due(t0.Add(3 * time.Second)); len(got) != 1 {
		t.Fatalf("due %v", got)
	}
	if next := s.Next(); !next.Equal(t0.Add(6500 * time.Millisecond)) {
		t.Fatalf("next %v, want 3.5 s later", next.Sub(t0))
	}
	if s.Sync(map[string]PeriodicRA{"lrp": ra}, t0) {
		t.Fatal("unchanged advertisement due again")
	}
	ra.Port = 3
	if !s.Sync(map[string]PeriodicRA{"lrp": ra}, t0.Add(4*time.Second)) || len(s.Due(t0.Add(4*time.Second))) != 1 {
		t.Fatal("changed advertisement not sent at once")
	}
	s.Sync(nil, t0)
	if !s.Next().IsZero() || len(s.Due(t0.Add(time.Hour))) != 0 {
		t.Fatal("removed advertisement still scheduled")
	}
}
