package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Lock is an OVSDB lock (RFC 7047 §4.1.8) the client asked for. The client
// asks for it again after every reconnection.
type Lock struct {
	c    *Client
	name string

	mu   sync.Mutex // guards held
	held bool
	ch   chan bool
}

// Lock asks for the named lock and returns at once; Acquired tells when the
// server grants it. Asking twice for the same name returns the same Lock.
func (c *Client) Lock(ctx context.Context, name string) (*Lock, error) {
	return c.lock(ctx, name, "lock")
}

// Steal takes the named lock from whoever holds it.
func (c *Client) Steal(ctx context.Context, name string) (*Lock, error) {
	return c.lock(ctx, name, "steal")
}

func (c *Client) lock(ctx context.Context, name, method string) (*Lock, error) {
	c.mu.Lock()
	l := c.locks[name]
	if l == nil {
		l = &Lock{c: c, name: name, ch: make(chan bool, 1)}
		c.locks[name] = l
	}
	c.mu.Unlock()
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.request(ctx, s, method); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lock) request(ctx context.Context, s *session, method string) error {
	m, err := s.call(ctx, method, []any{l.name}, nil)
	if err != nil {
		return fmt.Errorf("%s %q: %w", method, l.name, err)
	}
	var r struct {
		Locked bool `json:"locked"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil {
		return fmt.Errorf("%s %q reply %s: %w", method, l.name, m.Result, err)
	}
	if r.Locked {
		l.set(true)
	}
	return nil
}

// set records a change of ownership and signals it.
func (l *Lock) set(held bool) {
	l.mu.Lock()
	changed := l.held != held
	l.held = held
	if changed {
		select {
		case <-l.ch: // keep only the latest state
		default:
		}
		l.ch <- held
	}
	l.mu.Unlock()
}

// Held tells whether the client holds the lock now.
func (l *Lock) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// Acquired delivers true when the lock is granted and false when it is
// stolen or lost with the connection. Only the latest change is kept.
func (l *Lock) Acquired() <-chan bool { return l.ch }

// Unlock releases the lock and stops asking for it after reconnections.
func (l *Lock) Unlock(ctx context.Context) error {
	l.c.mu.Lock()
	delete(l.c.locks, l.name)
	l.c.mu.Unlock()
	l.set(false)
	s, err := l.c.session(ctx)
	if err != nil {
		return err
	}
	_, err = s.call(ctx, "unlock", []any{l.name}, nil)
	return err
}
