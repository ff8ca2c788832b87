package pinctrl

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

// Announcement is one gratuitous ARP (or, without an IP, one RARP) a
// chassis sends out a localnet port so that the physical network learns
// where an address lives: a gateway's NAT and router addresses when it
// becomes active, a VIF's addresses when it is bound.
type Announcement struct {
	Datapath uint32 // tunnel key of the localnet port's datapath
	Port     uint32 // tunnel key of the localnet port
	MAC      [6]byte
	IP       netip.Addr // IPv4; invalid for a RARP
}

func (a Announcement) String() string {
	ip := "rarp"
	if a.IP.IsValid() {
		ip = a.IP.String()
	}
	return fmt.Sprintf("%d/%d %s %s", a.Datapath, a.Port, macString(a.MAC[:]), ip)
}

// Frame is the Ethernet frame of a: a broadcast ARP request for the
// address from itself (sender and target the same IP, target MAC zero),
// or a broadcast RARP request (RFC 903) for the MAC.
func (a Announcement) Frame() []byte {
	f := make([]byte, 0, 42)
	f = append(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	f = append(f, a.MAC[:]...)
	if !a.IP.IsValid() {
		f = append(f, 0x80, 0x35)
		f = append(f, 0, 1, 8, 0, 6, 4, 0, 3) // Ethernet, IPv4, reverse request
		f = append(f, a.MAC[:]...)
		f = append(f, 0, 0, 0, 0)
		f = append(f, a.MAC[:]...)
		return append(f, 0, 0, 0, 0)
	}
	ip := a.IP.As4()
	f = append(f, 0x08, 0x06)
	f = append(f, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	f = append(f, a.MAC[:]...)
	f = append(f, ip[:]...)
	f = append(f, 0, 0, 0, 0, 0, 0)
	return append(f, ip[:]...)
}

// PacketOut is the packet-out that sends a's frame out its localnet port:
// the logical output port set, through the local output table (as
// ovn-controller sends its announcements).
func (a Announcement) PacketOut(xid uint32) []byte {
	acts := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(uint64(a.Datapath)), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg15"), Value: openflow.U64(uint64(a.Port)), Mask: openflow.Ones(32)},
		openflow.Resubmit{Table: tableLocalOutput},
	})
	return ofconn.PacketOut(xid, a.Frame(), acts)
}

// Announcement schedule: sent at once, then after 1, 2, 4 and 8 more
// seconds, then no more while the announcement stays wanted.
const (
	announceFirstBackoff = time.Second
	announceMaxBackoff   = 8 * time.Second
)

// Announcer schedules announcements: each one that becomes wanted is sent
// at once and then a few more times with a doubling backoff (a switch or
// host that missed the first still learns soon), then rests until it
// stops being wanted and becomes wanted again (a gateway that lost its
// port and got it back announces again). Pure; not safe for concurrent
// use.
type Announcer struct {
	ents map[Announcement]*announceState
}

type announceState struct {
	next    time.Time // zero when done
	backoff time.Duration
}

// NewAnnouncer returns an empty schedule.
func NewAnnouncer() *Announcer { return &Announcer{ents: map[Announcement]*announceState{}} }

// Sync sets the wanted announcements: new ones are due now, gone ones
// forgotten. It reports whether any is new.
func (a *Announcer) Sync(want []Announcement, now time.Time) bool {
	seen := make(map[Announcement]bool, len(want))
	added := false
	for _, w := range want {
		seen[w] = true
		if _, ok := a.ents[w]; !ok {
			a.ents[w] = &announceState{next: now, backoff: announceFirstBackoff}
			added = true
		}
	}
	for w := range a.ents {
		if !seen[w] {
			delete(a.ents, w)
		}
	}
	return added
}

// Due returns the announcements to send at now, in a stable order, and
// schedules their next sending.
func (a *Announcer) Due(now time.Time) []Announcement {
	var out []Announcement
	for w, st := range a.ents {
		if st.next.IsZero() || now.Before(st.next) {
			continue
		}
		out = append(out, w)
		if st.backoff > announceMaxBackoff {
			st.next = time.Time{}
			continue
		}
		st.next = now.Add(st.backoff)
		st.backoff *= 2
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Next is when Due has something to send next (zero: nothing).
func (a *Announcer) Next() time.Time {
	var t time.Time
	for _, st := range a.ents {
		if !st.next.IsZero() && (t.IsZero() || st.next.Before(t)) {
			t = st.next
		}
	}
	return t
}
