package replica

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// txnTrace records, when enabled (HCNET_TXN_TRACE names a file), the moments
// along each transaction's way: received, proposed, applied (start and end),
// publishing (its commit's delivery to the watchers starts: the fan-out),
// published, answered. It is a diagnostic for finding where a transaction
// waits; Summary prints per-stage quantiles.
type txnTrace struct {
	mu   sync.Mutex
	t    map[[16]byte]*txnTimes
	done []*txnTimes
}

type txnTimes struct {
	received, proposed, applyStart, applyEnd, publishing, published, answered time.Time
	batch                                                                     int // transactions in its entry
}

func newTxnTrace() *txnTrace { return &txnTrace{t: map[[16]byte]*txnTimes{}} }

func (tr *txnTrace) mark(id [16]byte, f func(*txnTimes, time.Time)) {
	if tr == nil {
		return
	}
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tt := tr.t[id]
	if tt == nil {
		tt = &txnTimes{}
		tr.t[id] = tt
	}
	f(tt, now)
}

func (tr *txnTrace) finish(id [16]byte) {
	if tr == nil {
		return
	}
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tt := tr.t[id]; tt != nil {
		tt.answered = now
		delete(tr.t, id)
		tr.done = append(tr.done, tt)
	}
}

// WriteTraceSummary writes the stage medians of the traced transactions
// (nothing when tracing is off).
func (d *DB) WriteTraceSummary(w io.Writer) {
	tr := d.trace
	if tr == nil {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	stages := []struct {
		name string
		f    func(*txnTimes) time.Duration
	}{
		{"received->proposed", func(t *txnTimes) time.Duration { return t.proposed.Sub(t.received) }},
		{"proposed->applyStart", func(t *txnTimes) time.Duration { return t.applyStart.Sub(t.proposed) }},
		{"applyStart->applyEnd", func(t *txnTimes) time.Duration { return t.applyEnd.Sub(t.applyStart) }},
		{"applyEnd->publishing", func(t *txnTimes) time.Duration { return t.publishing.Sub(t.applyEnd) }},
		{"publishing->published", func(t *txnTimes) time.Duration { return t.published.Sub(t.publishing) }},
		{"published->answered", func(t *txnTimes) time.Duration { return t.answered.Sub(t.published) }},
		{"total", func(t *txnTimes) time.Duration { return t.answered.Sub(t.received) }},
		{"batch size", func(t *txnTimes) time.Duration { return time.Duration(t.batch) }},
	}
	fmt.Fprintf(w, "%s: %d traced transactions\n", d.name, len(tr.done))
	for _, s := range stages {
		var ds []time.Duration
		for _, t := range tr.done {
			if t.published.IsZero() || t.applyStart.IsZero() {
				continue
			}
			ds = append(ds, s.f(t))
		}
		if len(ds) == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		if s.name == "batch size" {
			fmt.Fprintf(w, "  %-22s p10 %d p50 %d p90 %d\n", s.name, int(q(.1)), int(q(.5)), int(q(.9)))
			continue
		}
		fmt.Fprintf(w, "  %-22s p10 %v p50 %v p90 %v p99 %v max %v\n", s.name, q(.1), q(.5), q(.9), q(.99), q(1))
	}
	tr.done = nil
}

func traceFromEnv() *txnTrace {
	if os.Getenv("HCNET_TXN_TRACE") == "" {
		return nil
	}
	return newTxnTrace()
}
