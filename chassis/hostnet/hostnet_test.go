package hostnet

import "testing"

func TestTunnelPayloadMTU(t *testing.T) {
	// TESTBED.md: Geneve with a 32-bit option on a 1500-byte underlay
	// carries at most 1442-byte inner IP packets.
	if got := TunnelPayloadMTU(1500, "geneve"); got != 1442 {
		t.Fatalf("geneve over 1500 = %d, want 1442", got)
	}
	if got := TunnelPayloadMTU(1500, "vxlan"); got != 1450 {
		t.Fatalf("vxlan over 1500 = %d, want 1450", got)
	}
}

func TestDefaultAddrLoopbackOnly(t *testing.T) {
	// On a host (or namespace) without a default route DefaultAddr says
	// so; with one it returns an IPv4 address. Either way no panic.
	a, err := DefaultAddr()
	if err == nil && !a.Is4() {
		t.Fatalf("DefaultAddr = %v, want IPv4", a)
	}
}
