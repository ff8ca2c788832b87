package e2e

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Periodic router advertisements (ovn-nb(5) ipv6_ra_configs:send_periodic):
// the chassis sends a router port's advertisement unsolicited, to all
// nodes, at intervals between min_interval and max_interval.

func init() {
	extraScenarios = append(extraScenarios, scenario{"ipv6-periodic-ra", testPeriodicRA})
}

// testPeriodicRA turns on periodic advertisements on lr-v6-ls1 (every 3
// to 4 s) and checks that vmv1 receives two unsolicited ones (to
// ff02::1, from the router port's MAC) no further apart than the maximum
// interval allows, then that they stop when turned off.
func testPeriodicRA(t *testing.T, s *suite) {
	vmv1, _ := ipv6Net(t, s)
	ras := capture(t, vmv1, unix.ETH_P_IPV6)
	isRA := func(f []byte) bool {
		// Ethernet to 33:33:00:00:00:01 from the port's MAC, IPv6 to
		// ff02::1, ICMPv6 type 134.
		return len(f) >= 14+40+16 && bytes.Equal(f[0:6], []byte{0x33, 0x33, 0, 0, 0, 1}) &&
			bytes.Equal(f[6:12], []byte{0, 0, 0, 0, 0xf6, 1}) && binary.BigEndian.Uint16(f[12:]) == 0x86dd &&
			f[14+6] == 58 && f[14+24] == 0xff && f[14+25] == 0x02 && f[14+39] == 1 && f[14+40] == 134
	}
	nbctl(t, s, "set", "Logical_Router_Port", "lr-v6-ls1", "ipv6_ra_configs:send_periodic=true",
		"ipv6_ra_configs:max_interval=4", "ipv6_ra_configs:min_interval=3")
	t.Cleanup(func() {
		_, _ = s.tb.NBCtl("remove", "Logical_Router_Port", "lr-v6-ls1", "ipv6_ra_configs", "send_periodic", "max_interval", "min_interval")
	})
	start := time.Now()
	var seen []time.Time
	timeout := time.After(30 * time.Second)
	for len(seen) < 3 {
		select {
		case c := <-ras:
			if c.at.After(start) && isRA(c.frame) {
				seen = append(seen, c.at)
			}
		case <-timeout:
			t.Fatalf("vmv1 received %d unsolicited router advertisements in 30 s, want 3 (lr-v6-ls1 sends every 3-4 s)", len(seen))
		}
	}
	// The first may be the one sent when the configuration arrived; the
	// gap between the next two follows the intervals (with slack for a
	// loaded machine).
	gap := seen[2].Sub(seen[1])
	s.figure(t, "ipv6-periodic-ra: first unsolicited RA after enabling; gap between two", []time.Duration{seen[0].Sub(start).Round(10 * time.Millisecond), gap.Round(10 * time.Millisecond)})
	if gap < 2*time.Second || gap > 6*time.Second {
		t.Fatalf("advertisements %s apart, want 3-4 s", gap)
	}
	nbctl(t, s, "--wait=hv", "set", "Logical_Router_Port", "lr-v6-ls1", "ipv6_ra_configs:send_periodic=false")
	stopped := time.Now()
	quiet := time.After(9 * time.Second)
	for {
		select {
		case c := <-ras:
			// One may have been on its way when the change landed.
			if c.at.After(stopped.Add(time.Second)) && isRA(c.frame) {
				t.Fatalf("unsolicited router advertisement %s after turning them off", c.at.Sub(stopped).Round(10*time.Millisecond))
			}
		case <-quiet:
			return
		}
	}
}
