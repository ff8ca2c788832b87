package pinctrl

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"hcnet/chassis/ofconn"
)

var testBFDEndpoint = BFDEndpoint{
	Datapath: 3, Port: 2, MAC: [6]byte{0x00, 0x00, 0x00, 0x00, 0x20, 0x01},
	SrcIP: netip.MustParseAddr("172.16.0.1"), DstIP: netip.MustParseAddr("172.16.0.50"), SrcPort: 49152,
}

func TestBFDFrameGolden(t *testing.T) {
	c := BFDControl{State: BFDDown, Mult: 5, MyDisc: 0x01020304, MinTx: 1000000, MinRx: 1000000}
	f, err := BFDFrame(testBFDEndpoint, c)
	if err != nil {
		t.Fatal(err)
	}
	want := "ffffffffffff" + "000000002001" + "0800" +
		"45000034" + "00004000" + "ff11" + "2365" + "ac100001" + "ac100032" + // IPv4: DF, TTL 255, UDP
		"c000" + "0ec8" + "0020" + "0000" + // UDP 49152 -> 3784, no checksum
		"20" + "40" + "05" + "18" + "01020304" + "00000000" + "000f4240" + "000f4240" + "00000000"
	if got := hex.EncodeToString(f); got != want {
		t.Fatalf("frame\n got %s\nwant %s", got, want)
	}
	// The frame reads back through handle_bfd_msg's parser.
	m, err := parseBFDMsg(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Src != testBFDEndpoint.SrcIP || m.Dst != testBFDEndpoint.DstIP || m.Control != c {
		t.Fatalf("parsed %+v", m)
	}
	if _, err := BFDFrame(BFDEndpoint{SrcIP: netip.MustParseAddr("172.16.0.1"), DstIP: netip.MustParseAddr("fd00::2")}, c); err == nil {
		t.Fatal("frame built from IPv4 to IPv6")
	}
}

func TestBFDFrameIPv6(t *testing.T) {
	e := testBFDEndpoint
	e.SrcIP, e.DstIP = netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::50")
	c := BFDControl{State: BFDUp, Mult: 3, MyDisc: 1, YourDisc: 2, MinTx: 1000000, MinRx: 1000000}
	f, err := BFDFrame(e, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 14+40+8+24 || f[12] != 0x86 || f[13] != 0xdd || f[14] != 0x60 || f[20] != protoUDP || f[21] != 255 {
		t.Fatalf("frame %x", f)
	}
	// The UDP checksum verifies over the pseudo-header.
	if sum := pseudoChecksum(f[22:38], f[38:54], protoUDP, f[54:]); sum != 0 && sum != 0xffff {
		t.Fatalf("UDP checksum does not verify (%#x): %x", sum, f)
	}
	m, err := parseBFDMsg(f)
	if err != nil || m.Src != e.SrcIP || m.Dst != e.DstIP || m.Control != c {
		t.Fatalf("parsed %+v, %v", m, err)
	}
}

func TestBFDControlRoundTripAndChecks(t *testing.T) {
	c := BFDControl{Diag: 1, State: BFDUp, Poll: true, Demand: true, Mult: 3, MyDisc: 7, YourDisc: 9, MinTx: 300000, MinRx: 200000, EchoRx: 5}
	got, err := ParseBFDControl(c.Marshal())
	if err != nil || got != c {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	bad := map[string]func(b []byte) []byte{
		"short":       func(b []byte) []byte { return b[:20] },
		"version":     func(b []byte) []byte { b[0] = 2 << 5; return b },
		"length":      func(b []byte) []byte { b[3] = 30; return b },
		"auth":        func(b []byte) []byte { b[1] |= bfdFlagAuth; return b },
		"multipoint":  func(b []byte) []byte { b[1] |= bfdFlagMulti; return b },
		"mult0":       func(b []byte) []byte { b[2] = 0; return b },
		"mydisc0":     func(b []byte) []byte { copy(b[4:8], []byte{0, 0, 0, 0}); return b },
		"pollfinal":   func(b []byte) []byte { b[1] |= bfdFlagPoll | bfdFlagFinal; return b },
		"yourdisc0up": func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b },
	}
	for name, mut := range bad {
		if _, err := ParseBFDControl(mut(c.Marshal())); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	down := BFDControl{State: BFDDown, Mult: 3, MyDisc: 7}
	if _, err := ParseBFDControl(down.Marshal()); err != nil {
		t.Errorf("down without your discriminator refused: %v", err)
	}
}

func TestHandleBFDMsg(t *testing.T) {
	peer := testBFDEndpoint
	peer.SrcIP, peer.DstIP = testBFDEndpoint.DstIP, testBFDEndpoint.SrcIP
	f, _ := BFDFrame(peer, BFDControl{State: BFDInit, Mult: 3, MyDisc: 5, YourDisc: 0x01020304, MinTx: 1000, MinRx: 1000})
	ud := make([]byte, 8)
	ud[3] = OpBFDMsg
	res, err := HandleWith(&ofconn.PacketIn{Packet: f, Userdata: ud}, 1, nil)
	if err != nil || res.BFD == nil {
		t.Fatalf("result %+v, %v", res, err)
	}
	if res.BFD.Src != peer.SrcIP || res.BFD.Control.State != BFDInit || res.BFD.Control.YourDisc != 0x01020304 {
		t.Fatalf("message %+v", res.BFD)
	}
}

// bfdPeer is what a peer sends, from the session's destination.
func bfdPeer(state BFDState, yourDisc uint32) BFDMsg {
	return BFDMsg{Src: testBFDEndpoint.DstIP, Dst: testBFDEndpoint.SrcIP,
		Control: BFDControl{State: state, Mult: 3, MyDisc: 77, YourDisc: yourDisc, MinTx: 100000, MinRx: 200000}}
}

func newTestSessions(t *testing.T, status string, now time.Time) *BFDSessions {
	t.Helper()
	b := NewBFDSessions(func(int64) int64 { return 0 })
	b.Sync([]BFDSpec{{UUID: "u1", Endpoint: testBFDEndpoint, Disc: 42, MinTx: 1000, MinRx: 500, Mult: 5, SBStatus: status}}, now)
	return b
}

func wantState(t *testing.T, b *BFDSessions, want BFDState) {
	t.Helper()
	if got, _ := b.State("u1"); got != want {
		t.Fatalf("state %s, want %s", got, want)
	}
}

func TestBFDSessionUpThroughInit(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	wantState(t, b, BFDDown)
	due := b.Due(now)
	if len(due) != 1 || due[0].Control.State != BFDDown || due[0].Control.MyDisc != 42 || due[0].Control.YourDisc != 0 ||
		due[0].Control.MinTx != 1000000 || due[0].Control.MinRx != 500000 || due[0].Control.Mult != 5 {
		t.Fatalf("first packet %+v", due)
	}
	if len(b.Changes()) != 0 {
		t.Fatal("status written while it equals the row's")
	}
	// A peer that does not know us yet (your disc 0) is matched by
	// address; down -> init.
	if _, ch := b.Receive(bfdPeer(BFDDown, 0), now); !ch {
		t.Fatal("no change on peer down")
	}
	wantState(t, b, BFDInit)
	due = b.Due(now)
	if len(due) != 1 || due[0].Control.State != BFDInit || due[0].Control.YourDisc != 77 {
		t.Fatalf("init packet not sent at once: %+v", due)
	}
	if _, ch := b.Receive(bfdPeer(BFDUp, 42), now); !ch {
		t.Fatal("no change on peer up")
	}
	wantState(t, b, BFDUp)
	if ch := b.Changes(); len(ch) != 1 || ch[0] != (BFDChange{"u1", "up"}) {
		t.Fatalf("changes %+v", ch)
	}
	if len(b.Changes()) != 0 {
		t.Fatal("same change asked twice")
	}
	// The row says up: nothing more to write.
	b.Sync([]BFDSpec{{UUID: "u1", Endpoint: testBFDEndpoint, Disc: 42, MinTx: 1000, MinRx: 500, Mult: 5, SBStatus: "up"}}, now)
	if b.Unreported() {
		t.Fatal("unreported after the row caught up")
	}
}

func TestBFDSessionDownToUpOnPeerInit(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	b.Receive(bfdPeer(BFDInit, 42), now)
	wantState(t, b, BFDUp)
}

func TestBFDSessionWrongDiscriminatorIgnored(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	if _, ch := b.Receive(bfdPeer(BFDInit, 43), now); ch {
		t.Fatal("packet for another discriminator changed the session")
	}
	m := bfdPeer(BFDDown, 0)
	m.Src = netip.MustParseAddr("172.16.0.99")
	if _, ch := b.Receive(m, now); ch {
		t.Fatal("packet from another address changed the session")
	}
	wantState(t, b, BFDDown)
}

func TestBFDSessionPeerDownTakesUpDown(t *testing.T) {
	for _, peer := range []BFDState{BFDDown, BFDAdminDown} {
		now := time.Unix(1000, 0)
		b := newTestSessions(t, "down", now)
		b.Receive(bfdPeer(BFDInit, 42), now)
		wantState(t, b, BFDUp)
		b.Receive(bfdPeer(peer, 42), now)
		wantState(t, b, BFDDown)
	}
	// init -> down when the peer goes admin down; init stays on peer down.
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	b.Receive(bfdPeer(BFDDown, 0), now)
	wantState(t, b, BFDInit)
	b.Receive(bfdPeer(BFDDown, 42), now)
	wantState(t, b, BFDInit)
	b.Receive(bfdPeer(BFDAdminDown, 42), now)
	wantState(t, b, BFDDown)
}

func TestBFDSessionDetectionTimeout(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	b.Receive(bfdPeer(BFDInit, 42), now)
	wantState(t, b, BFDUp)
	// Detection time: peer's mult 3 × max(peer min_tx 100 ms, our
	// min_rx 500 ms) = 1.5 s.
	if next := b.Next(); next.After(now.Add(1500 * time.Millisecond)) {
		t.Fatalf("next %v after the detection time", next.Sub(now))
	}
	b.Due(now.Add(1499 * time.Millisecond))
	wantState(t, b, BFDUp)
	b.Receive(bfdPeer(BFDUp, 42), now.Add(1400*time.Millisecond))
	b.Due(now.Add(2800 * time.Millisecond))
	wantState(t, b, BFDUp)
	due := b.Due(now.Add(2900 * time.Millisecond))
	wantState(t, b, BFDDown)
	for _, d := range due {
		if d.Control.State != BFDDown || d.Control.YourDisc != 0 {
			t.Fatalf("after timeout sent %+v", d.Control)
		}
	}
	if ch := b.Changes(); len(ch) != 0 {
		t.Fatalf("row says down already, changes %+v", ch)
	}
}

func TestBFDSessionAdminDown(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "admin_down", now)
	wantState(t, b, BFDAdminDown)
	if due := b.Due(now); len(due) != 0 {
		t.Fatalf("admin down session sent %+v", due)
	}
	if _, ch := b.Receive(bfdPeer(BFDInit, 42), now); ch {
		t.Fatal("admin down session changed on a packet")
	}
	if !b.Next().IsZero() || len(b.Changes()) != 0 {
		t.Fatal("admin down session has work")
	}
	// The row leaves admin_down: the session starts, down.
	spec := BFDSpec{UUID: "u1", Endpoint: testBFDEndpoint, Disc: 42, MinTx: 1000, MinRx: 500, Mult: 5, SBStatus: "down"}
	if !b.Sync([]BFDSpec{spec}, now) {
		t.Fatal("restart not reported")
	}
	wantState(t, b, BFDDown)
	if due := b.Due(now); len(due) != 1 {
		t.Fatalf("restarted session sent %d", len(due))
	}
	b.Receive(bfdPeer(BFDInit, 42), now)
	wantState(t, b, BFDUp)
	// And back to admin_down: stops, without a status write.
	spec.SBStatus = "admin_down"
	b.Sync([]BFDSpec{spec}, now)
	wantState(t, b, BFDAdminDown)
	if len(b.Changes()) != 0 || len(b.Due(now.Add(time.Hour))) != 0 {
		t.Fatal("admin down session writes or sends")
	}
	// Gone from the southbound: forgotten.
	b.Sync(nil, now)
	if _, ok := b.State("u1"); ok {
		t.Fatal("session kept")
	}
}

func TestBFDSessionTransmitSchedule(t *testing.T) {
	now := time.Unix(1000, 0)
	var asked []int64
	b := NewBFDSessions(func(n int64) int64 { asked = append(asked, n); return n - 1 })
	b.Sync([]BFDSpec{{UUID: "u1", Endpoint: testBFDEndpoint, Disc: 42, MinTx: 1000, MinRx: 500, Mult: 5, SBStatus: "down"}}, now)
	if len(b.Due(now)) != 1 {
		t.Fatal("not sent at once")
	}
	// max(1000 ms, remote 1 ms) jittered by up to 25%.
	if len(asked) != 1 || asked[0] != int64(250*time.Millisecond) {
		t.Fatalf("jitter range %v", asked)
	}
	next := b.Next()
	if d := next.Sub(now); d <= 750*time.Millisecond || d > 1000*time.Millisecond {
		t.Fatalf("next in %v", d)
	}
	if len(b.Due(next.Add(-time.Millisecond))) != 0 || len(b.Due(next)) != 1 {
		t.Fatal("not sent exactly when due")
	}
	// The peer asks for 2 s between packets: the interval follows.
	m := bfdPeer(BFDDown, 0)
	m.Control.MinRx = 2000000
	m.Control.Mult = 10 // detection time (5 s) after the next packet
	b.Receive(m, next)
	if len(b.Due(next)) != 1 { // state change: sent at once
		t.Fatal("state change not sent at once")
	}
	if d := b.Next().Sub(next); d <= 1500*time.Millisecond || d > 2*time.Second {
		t.Fatalf("interval %v after the peer asked for 2 s", d)
	}
	// A peer asking for no packets gets none.
	m = bfdPeer(BFDDown, 42)
	m.Control.MinRx = 0
	b.Receive(m, next)
	if len(b.Due(next.Add(time.Hour))) != 0 {
		t.Fatal("sent with remote min rx 0")
	}
}

func TestBFDSessionPollAnsweredWithFinal(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTestSessions(t, "down", now)
	m := bfdPeer(BFDDown, 0)
	m.Control.Poll = true
	fin, _ := b.Receive(m, now)
	if fin == nil || !fin.Control.Final || fin.Control.Poll || fin.Control.State != BFDInit {
		t.Fatalf("final %+v", fin)
	}
	if _, err := fin.PacketOut(1); err != nil {
		t.Fatal(err)
	}
}
