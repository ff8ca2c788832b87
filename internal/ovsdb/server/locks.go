package server

import "sync"

// lockTable holds the server's named locks (RFC 7047 §4.1.8–4.1.10). Each
// lock has an owner and a queue of waiting sessions.
type lockTable struct {
	mu    sync.Mutex            // guards locks
	locks map[string][]*session // [0] owns the lock; the rest wait
}

func newLockTable() *lockTable { return &lockTable{locks: map[string][]*session{}} }

// lock queues s for name and reports whether s owns it now.
func (t *lockTable) lock(name string, s *session) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.locks[name]
	t.locks[name] = append(q, s)
	return len(q) == 0
}

// steal makes s the owner of name and returns the previous owner (nil if
// none or s itself). The previous owner keeps waiting.
func (t *lockTable) steal(name string, s *session) (prev *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.locks[name]
	var rest []*session
	for _, w := range q {
		if w != s {
			rest = append(rest, w)
		}
	}
	if len(q) > 0 && q[0] != s {
		prev = q[0]
	}
	t.locks[name] = append([]*session{s}, rest...)
	return prev
}

// unlock removes s from name's queue and returns the new owner, if s owned
// the lock and someone was waiting.
func (t *lockTable) unlock(name string, s *session) (next *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.locks[name]
	for i, w := range q {
		if w != s {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if len(q) == 0 {
			delete(t.locks, name)
			return nil
		}
		t.locks[name] = q
		if i == 0 {
			return q[0]
		}
		return nil
	}
	return nil
}

// owner returns the lock's owner.
func (t *lockTable) owner(name string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	if q := t.locks[name]; len(q) > 0 {
		return q[0]
	}
	return nil
}
