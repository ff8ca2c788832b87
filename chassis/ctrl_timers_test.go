package chassis

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"hcnet/chassis/pinctrl"
)

// TestRunTimers: the session's timer goroutine sends a new announcement
// at once, is woken by a kick when another is added, and stops with its
// context.
func TestRunTimers(t *testing.T) {
	d := &daemon{log: slog.New(slog.DiscardHandler), kick: make(chan struct{}, 1)}
	a1 := pinctrl.Announcement{Datapath: 1, Port: 2, MAC: [6]byte{0, 0, 0, 0, 0xff, 3}, IP: netip.MustParseAddr("172.16.0.1")}
	a2 := a1
	a2.IP = netip.MustParseAddr("172.16.0.2")
	d.ctrl.announcer = pinctrl.NewAnnouncer()
	d.ctrl.announcer.Sync([]pinctrl.Announcement{a1}, time.Now())
	sent := make(chan []byte, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.runTimers(ctx, func(m []byte) error { sent <- m; return nil })
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("runTimers did not stop with its context")
		}
	}()
	wait := func(want pinctrl.Announcement, within time.Duration) {
		t.Helper()
		frame := want.Frame()
		deadline := time.After(within)
		for {
			select {
			case m := <-sent:
				if bytes.HasSuffix(m, frame) {
					return
				}
			case <-deadline:
				t.Fatalf("announcement %v not sent within %s", want, within)
			}
		}
	}
	wait(a1, 5*time.Second)
	d.mu.Lock()
	if d.ctrl.announcer.Sync([]pinctrl.Announcement{a1, a2}, time.Now()) {
		d.ctrl.kickTimersLocked()
	}
	d.mu.Unlock()
	// Well before a1's next sending (1 s later): the kick woke it.
	wait(a2, 500*time.Millisecond)
}
