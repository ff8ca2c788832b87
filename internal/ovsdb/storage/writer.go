package storage

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble"
)

// writer commits the applied entries' writes to Pebble on its own goroutine,
// in apply order, so that encoding rows and inserting them into the memtable
// is not on the apply path (the apply goroutine is the serial stage of a
// commit: under a batched load it was busy most of the time, a third of it
// on these writes). Each job is one Update: its entries' writes and the
// applied index go into one batch.
type writer struct {
	db  *pebble.DB
	log *slog.Logger
	ch  chan writeJob

	mu        sync.Mutex
	cond      *sync.Cond
	submitted uint64 // jobs handed over
	written   uint64 // jobs committed (or failed)
	err       error  // the first failure; later Updates return it
	closed    bool
	exited    chan struct{}
}

type writeJob struct {
	applied []Applied
	last    uint64 // the last applied index of the Update
	keys    int    // about how many keys it writes
}

// inlineKeys: a job this small is committed by the caller itself when the
// writer is idle (handing it over would cost more than it saves).
const inlineKeys = 64

// writerQueue bounds the Updates waiting for the writer: the apply path
// blocks when the store falls this far behind.
const writerQueue = 64

func newWriter(db *pebble.DB, log *slog.Logger) *writer {
	w := &writer{db: db, log: log, ch: make(chan writeJob, writerQueue), exited: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.run()
	return w
}

func (w *writer) submit(j writeJob) {
	w.mu.Lock()
	idle := w.written == w.submitted
	w.submitted++
	if idle && j.keys <= inlineKeys {
		// Nothing queued: committing here keeps the order. The counters
		// make drain wait for it like for a queued job.
		w.mu.Unlock()
		err := w.commit(j)
		w.mu.Lock()
		w.done(j, err)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.ch <- j
}

// done records a committed job; w.mu is held.
func (w *writer) done(j writeJob, err error) {
	if err != nil && w.err == nil {
		w.err = err
		w.log.Error("store write failed", "index", j.last, "err", err)
	}
	w.written++
	w.cond.Broadcast()
}

func (w *writer) run() {
	defer close(w.exited)
	for j := range w.ch {
		err := w.commit(j)
		w.mu.Lock()
		w.done(j, err)
		w.mu.Unlock()
	}
}

func (w *writer) commit(j writeJob) error {
	b := w.db.NewBatch()
	defer b.Close()
	var err error
	put := func(kv KV) {
		if err != nil {
			return
		}
		if kv.Value == nil {
			err = b.Delete(dataKey(kv.Key), nil)
		} else {
			err = b.Set(dataKey(kv.Key), kv.Value, nil)
		}
	}
	for _, a := range j.applied {
		for _, kv := range a.Writes {
			put(kv)
		}
		if a.Encode != nil {
			a.Encode(put)
		}
	}
	if err != nil {
		return fmt.Errorf("storage: batch up to %d: %w", j.last, err)
	}
	var ib [8]byte
	binary.BigEndian.PutUint64(ib[:], j.last)
	if err := b.Set(metaApplied, ib[:], nil); err != nil {
		return fmt.Errorf("storage: batch index: %w", err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("storage: commit batch up to %d: %w", j.last, err)
	}
	return nil
}

// drain waits until every job submitted so far is in Pebble.
func (w *writer) drain() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.submitted
	for w.written < target {
		w.cond.Wait()
	}
	return w.err
}

// failed returns the first write failure, if any.
func (w *writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// close drains the queue and stops the goroutine.
func (w *writer) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.err
	}
	w.closed = true
	w.mu.Unlock()
	close(w.ch)
	<-w.exited
	return w.failed()
}
