package client

import "sync"

// eventQueue runs callbacks in order on one goroutine, so that handlers see
// notifications in the order the server sent them and may call the client
// (Transact, Change) without blocking the connection's reader.
type eventQueue struct {
	mu      sync.Mutex
	items   []func()
	wake    chan struct{}
	stopped chan struct{}
	quit    chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1), stopped: make(chan struct{}), quit: make(chan struct{})}
}

func (q *eventQueue) push(fn func()) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.stopped)
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		for _, fn := range items {
			fn()
		}
		if len(items) > 0 {
			continue
		}
		select {
		case <-q.wake:
		case <-q.quit:
			return
		}
	}
}

func (q *eventQueue) stop() {
	select {
	case <-q.quit:
	default:
		close(q.quit)
	}
	<-q.stopped
}
