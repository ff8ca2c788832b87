package storage

import (
	"context"
	"sync"
	"time"
)

// faults are failures injected on a node's send path, by peer address:
// tests partition and slow down members without network namespaces.
type faults struct {
	mu    sync.Mutex
	rules map[string]fault
}

// fault is what happens to everything sent to one peer.
type fault struct {
	drop  bool          // discard it (as if the network lost it)
	delay time.Duration // hold each batch or chunk this long first
}

func newFaults() *faults { return &faults{rules: map[string]fault{}} }

// set installs the rule for sends to peer; the zero fault removes it.
func (f *faults) set(peer string, r fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r == (fault{}) {
		delete(f.rules, peer)
		return
	}
	f.rules[peer] = r
}

// delayOrDrop applies the rule for peer: it waits out a delay (or until
// ctx ends) and reports whether the send is to be dropped.
func (f *faults) delayOrDrop(ctx context.Context, peer string) bool {
	f.mu.Lock()
	r, ok := f.rules[peer]
	f.mu.Unlock()
	if !ok {
		return false
	}
	if r.delay > 0 {
		t := time.NewTimer(r.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return true
		}
	}
	return r.drop
}
