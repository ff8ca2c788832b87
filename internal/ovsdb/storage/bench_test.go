package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkPropose measures proposals of benchPayload-byte entries from
// benchWriters goroutines
// through the Raft log to a trivial applier.
func BenchmarkPropose(b *testing.B) {
	n, s, _ := startKV(&testing.T{}, b.TempDir(), 0)
	defer n.Close()
	payload := make([]byte, benchPayload)
	for i := range payload {
		payload[i] = 'x'
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/benchWriters + 1
	for w := 0; w < benchWriters; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				cmd := append([]byte(fmt.Sprintf("k%d-%d=", w, i)), payload...)
				if _, err := s.Propose(context.Background(), cmd); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.ReportMetric(float64(per*benchWriters)/time.Since(start).Seconds(), "entries/s")
}

var benchPayload, benchWriters = 100, 8
