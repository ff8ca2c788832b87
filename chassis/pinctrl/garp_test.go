package pinctrl

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"hcnet/internal/openflow"
)

var annGARP = Announcement{Datapath: 4, Port: 1, MAC: [6]byte{0, 0, 0, 0, 0xff, 3}, IP: netip.MustParseAddr("172.16.0.1")}

func TestAnnouncementFrames(t *testing.T) {
	garp := annGARP.Frame()
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 3, 0x08, 0x06, // broadcast, from the MAC, ARP
		0, 1, 8, 0, 6, 4, 0, 1, // Ethernet/IPv4 request
		0, 0, 0, 0, 0xff, 3, 172, 16, 0, 1, // sender: the MAC and the IP
		0, 0, 0, 0, 0, 0, 172, 16, 0, 1, // target: the same IP
	}
	if !bytes.Equal(garp, want) {
		t.Fatalf("GARP\n got %x\nwant %x", garp, want)
	}
	rarp := Announcement{MAC: annGARP.MAC}.Frame()
	want = []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 3, 0x80, 0x35, // broadcast RARP
		0, 1, 8, 0, 6, 4, 0, 3, // reverse request
		0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0,
		0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0,
	}
	if !bytes.Equal(rarp, want) {
		t.Fatalf("RARP\n got %x\nwant %x", rarp, want)
	}
	acts, pkt := packetOutParts(t, annGARP.PacketOut(7))
	wantActs := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(4), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg15"), Value: openflow.U64(1), Mask: openflow.Ones(32)},
		openflow.Resubmit{Table: tableLocalOutput},
	})
	if !bytes.Equal(acts, wantActs) || !bytes.Equal(pkt, garp) {
		t.Fatalf("packet-out actions %x packet %x", acts, pkt)
	}
}

// TestAnnouncerSchedule: an announcement is sent when it becomes wanted,
// then 1, 2, 4 and 8 s later, then not again; one that goes and comes
// back starts over.
func TestAnnouncerSchedule(t *testing.T) {
	a := NewAnnouncer()
	b := annGARP
	b.IP = netip.MustParseAddr("172.16.0.50")
	if !a.Sync([]Announcement{annGARP}, t0) {
		t.Fatal("new announcement not reported")
	}
	var sent []time.Duration
	for ms := 0; ms <= 60_000; ms += 100 {
		now := t0.Add(time.Duration(ms) * time.Millisecond)
		if ms == 2000 {
			// A second address appears later: its own schedule.
			if !a.Sync([]Announcement{annGARP, b}, now) {
				t.Fatal("second announcement not reported")
			}
		}
		for _, x := range a.Due(now) {
			if x == annGARP {
				sent = append(sent, now.Sub(t0))
			}
		}
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second}
	if !reflect.DeepEqual(sent, want) {
		t.Fatalf("sent at %v, want %v", sent, want)
	}
	if !a.Next().IsZero() {
		t.Fatalf("next %v after the schedule ended", a.Next())
	}
	if a.Sync([]Announcement{annGARP, b}, t0) {
		t.Fatal("unchanged set reported new")
	}
	a.Sync(nil, t0)
	if !a.Sync([]Announcement{annGARP}, t0.Add(time.Minute)) {
		t.Fatal("an announcement wanted again is new")
	}
	if got := a.Due(t0.Add(time.Minute)); len(got) != 1 || got[0] != annGARP {
		t.Fatalf("due %v", got)
	}
}
