package pinctrl

import (
	"sort"
	"time"
)

// BFDSpec is one southbound BFD row this chassis runs (its logical_port
// resides here): the endpoint, the row's timers (milliseconds) and
// discriminator, and the row's current status.
type BFDSpec struct {
	UUID     string
	Endpoint BFDEndpoint
	Disc     uint32
	MinTx    uint32 // ms
	MinRx    uint32 // ms
	Mult     uint8
	SBStatus string
}

// BFDSend is one control packet due: its endpoint and contents.
type BFDSend struct {
	UUID     string
	Endpoint BFDEndpoint
	Control  BFDControl
}

// PacketOut is the packet-out of s (see BFDPacketOut).
func (s BFDSend) PacketOut(xid uint32) ([]byte, error) {
	f, err := BFDFrame(s.Endpoint, s.Control)
	if err != nil {
		return nil, err
	}
	return BFDPacketOut(s.Endpoint, f, xid), nil
}

// BFDChange is a status for a southbound BFD row.
type BFDChange struct {
	UUID   string
	Status string
}

// BFDSessions runs the BFD sessions of the southbound rows this chassis
// owns (RFC 5880 section 6.8.6 state machine, asynchronous mode, no echo,
// no authentication), as ovn-controller does:
//   - a session whose row says admin_down is admin down: it sends
//     nothing and never writes a status; any other row status starts it
//     down;
//   - down → init when the peer says down, down → up when it says init,
//     init → up when it says init or up, init or up → down when it says
//     down or admin down;
//   - no packet from the peer for the detection time (the peer's detect
//     multiplier × the larger of its Desired Min TX and our Required Min
//     RX) takes an init or up session down;
//   - control packets go out every max(our min_tx, the peer's Required
//     Min RX), less up to 25% at random (RFC 5880 section 6.8.7), not
//     while the peer asks for demand mode or no packets (Required Min RX
//     0); a packet with Poll is answered at once with Final.
//
// Time is passed in; the caller sends the packets and writes the
// statuses (Changes: only states that differ from the row's).
type BFDSessions struct {
	rand func(n int64) int64 // uniform in [0, n)
	ses  map[string]*bfdSession
}

type bfdSession struct {
	spec        BFDSpec
	state       BFDState
	remoteDisc  uint32
	remoteMinRx uint32 // ms
	demand      bool
	detect      time.Duration // 0 until the peer is heard
	lastRx      time.Time
	next        time.Time
	asked       string // status last returned by Changes for this row status
}

// NewBFDSessions returns no sessions; rand(n) is uniform in [0, n) and
// jitters the transmit interval.
func NewBFDSessions(rand func(n int64) int64) *BFDSessions {
	return &BFDSessions{rand: rand, ses: map[string]*bfdSession{}}
}

// Sync replaces the set of sessions with specs: new ones start (down,
// sending at once, unless their row is admin_down), gone ones stop, a
// row that turned admin_down stops its session, one that left admin_down
// starts it again, and timer changes apply from the next packet. It
// reports whether anything may need sending sooner.
func (b *BFDSessions) Sync(specs []BFDSpec, now time.Time) bool {
	changed := false
	seen := make(map[string]bool, len(specs))
	for _, sp := range specs {
		seen[sp.UUID] = true
		s, ok := b.ses[sp.UUID]
		if !ok || s.spec.Endpoint != sp.Endpoint || s.spec.Disc != sp.Disc {
			s = &bfdSession{spec: sp, state: BFDDown, remoteMinRx: 1, next: now, lastRx: now}
			if sp.SBStatus == "admin_down" {
				s.state = BFDAdminDown
			}
			b.ses[sp.UUID] = s
			changed = true
			continue
		}
		if sp.SBStatus != s.spec.SBStatus {
			s.asked = ""
		}
		switch {
		case sp.SBStatus == "admin_down" && s.state != BFDAdminDown:
			s.state, s.remoteDisc, s.detect = BFDAdminDown, 0, 0
		case sp.SBStatus != "admin_down" && s.state == BFDAdminDown:
			s.state, s.remoteDisc, s.detect, s.remoteMinRx = BFDDown, 0, 0, 1
			s.next, s.lastRx = now, now
			changed = true
		}
		s.spec = sp
	}
	for u := range b.ses {
		if !seen[u] {
			delete(b.ses, u)
			changed = true
		}
	}
	return changed
}

// control is the packet s sends now.
func (s *bfdSession) control(final bool) BFDControl {
	return BFDControl{State: s.state, Final: final, Mult: s.spec.Mult, MyDisc: s.spec.Disc, YourDisc: s.remoteDisc,
		MinTx: s.spec.MinTx * 1000, MinRx: s.spec.MinRx * 1000}
}

// expire takes s down when its detection time has passed; it reports
// whether the state changed.
func (s *bfdSession) expire(now time.Time) bool {
	if (s.state != BFDInit && s.state != BFDUp) || s.detect == 0 || now.Before(s.lastRx.Add(s.detect)) {
		return false
	}
	s.state, s.remoteDisc, s.detect = BFDDown, 0, 0
	return true
}

// Due returns the control packets due at now (and takes sessions whose
// detection time passed down first).
func (b *BFDSessions) Due(now time.Time) []BFDSend {
	var out []BFDSend
	for _, u := range b.sorted() {
		s := b.ses[u]
		s.expire(now)
		if s.state == BFDAdminDown || s.remoteMinRx == 0 || s.demand || now.Before(s.next) {
			continue
		}
		out = append(out, BFDSend{UUID: u, Endpoint: s.spec.Endpoint, Control: s.control(false)})
		iv := time.Duration(max(s.spec.MinTx, s.remoteMinRx)) * time.Millisecond
		if j := int64(iv) / 4; j > 0 && b.rand != nil {
			iv -= time.Duration(b.rand(j))
		}
		s.next = now.Add(iv)
	}
	return out
}

// Next is when Due has something to do next (a packet or a detection
// timeout), zero without running sessions.
func (b *BFDSessions) Next() time.Time {
	var next time.Time
	soonest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, s := range b.ses {
		if s.state == BFDAdminDown {
			continue
		}
		if s.remoteMinRx != 0 && !s.demand {
			soonest(s.next)
		}
		if (s.state == BFDInit || s.state == BFDUp) && s.detect != 0 {
			soonest(s.lastRx.Add(s.detect))
		}
	}
	return next
}

// Receive feeds a control packet from the peer at src, sent to dst, into
// its session: the one to src whose discriminator the packet names, or,
// from a peer that does not know it yet (Your Discriminator 0), the one
// from dst to src. It returns the answer to a Poll (nil otherwise) and
// whether the session's state changed.
func (b *BFDSessions) Receive(m BFDMsg, now time.Time) (*BFDSend, bool) {
	var s *bfdSession
	var uuid string
	for _, u := range b.sorted() {
		c := b.ses[u]
		e := c.spec.Endpoint
		if e.DstIP != m.Src {
			continue
		}
		if (m.Control.YourDisc != 0 && c.spec.Disc == m.Control.YourDisc) ||
			(m.Control.YourDisc == 0 && e.SrcIP == m.Dst) {
			s, uuid = c, u
			break
		}
	}
	if s == nil || s.state == BFDAdminDown {
		return nil, false
	}
	c := m.Control
	before := s.state
	s.remoteDisc = c.MyDisc
	s.remoteMinRx = c.MinRx / 1000
	if c.MinRx != 0 && s.remoteMinRx == 0 {
		s.remoteMinRx = 1
	}
	s.detect = time.Duration(c.Mult) * time.Duration(max(c.MinTx/1000, s.spec.MinRx)) * time.Millisecond
	s.lastRx = now
	switch {
	case c.State == BFDAdminDown || (c.State == BFDDown && s.state == BFDUp):
		s.state = BFDDown
	case s.state == BFDDown && c.State == BFDDown:
		s.state = BFDInit
	case s.state == BFDDown && c.State == BFDInit:
		s.state = BFDUp
	case s.state == BFDInit && (c.State == BFDInit || c.State == BFDUp):
		s.state = BFDUp
	}
	if s.state == BFDDown {
		s.detect = 0
	}
	s.demand = s.state == BFDUp && c.Demand
	if s.state != before && s.next.After(now) && s.remoteMinRx != 0 {
		// Tell the peer at once: it waits for our new state.
		s.next = now
	}
	var final *BFDSend
	if c.Poll {
		final = &BFDSend{UUID: uuid, Endpoint: s.spec.Endpoint, Control: s.control(true)}
	}
	return final, s.state != before
}

// State is the session's state for the row uuid (false without one).
func (b *BFDSessions) State(uuid string) (BFDState, bool) {
	s, ok := b.ses[uuid]
	if !ok {
		return 0, false
	}
	return s.state, true
}

// Changes returns the statuses to write: running sessions whose state
// differs from their row's status, each once per row status.
func (b *BFDSessions) Changes() []BFDChange {
	var out []BFDChange
	for _, u := range b.sorted() {
		s := b.ses[u]
		st := s.state.String()
		if s.state == BFDAdminDown || st == s.spec.SBStatus || st == s.asked {
			continue
		}
		s.asked = st
		out = append(out, BFDChange{UUID: u, Status: st})
	}
	return out
}

// Unreported reports whether Changes has something to return.
func (b *BFDSessions) Unreported() bool {
	for _, s := range b.ses {
		st := s.state.String()
		if s.state != BFDAdminDown && st != s.spec.SBStatus && st != s.asked {
			return true
		}
	}
	return false
}

func (b *BFDSessions) sorted() []string {
	out := make([]string, 0, len(b.ses))
	for u := range b.ses {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
