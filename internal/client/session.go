package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/jsonrpc"
)

// session is one connection to one server. It dies once; the client then
// makes a new one.
type session struct {
	c        *Client
	remote   Remote
	conn     *jsonrpc.Conn
	lastRecv atomic.Int64 // unix nanoseconds of the last message received

	mu      sync.Mutex // guards pending and cause
	pending map[string]*pendingCall
	cause   error

	dead     chan struct{}
	killOnce sync.Once

	// What the server turned out not to support, learnt on this connection.
	noSince atomic.Bool

	// leaderWatch is what _Server says about a leader-only client's
	// database (nil unless watched).
	leaderWatch atomic.Pointer[leaderState]
}

type pendingCall struct {
	reply chan *jsonrpc.Message
	// onReply, when set, runs on the reader goroutine before the next
	// message is read, so that what it queues precedes later notifications.
	onReply func(*jsonrpc.Message)
}

func newSession(c *Client, r Remote, conn *jsonrpc.Conn) *session {
	s := &session{c: c, remote: r, conn: conn, pending: map[string]*pendingCall{}, dead: make(chan struct{})}
	s.lastRecv.Store(time.Now().UnixNano())
	return s
}

func (s *session) kill(err error) {
	s.killOnce.Do(func() {
		s.mu.Lock()
		s.cause = err
		pend := s.pending
		s.pending = nil
		s.mu.Unlock()
		_ = s.conn.Close()
		close(s.dead)
		for _, p := range pend {
			close(p.reply)
		}
	})
}

func (s *session) close() { s.kill(ErrClosed) }

func (s *session) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

func (s *session) read() {
	for {
		m, err := s.conn.Read()
		if err != nil {
			s.kill(fmt.Errorf("read from %s: %w", s.remote, err))
			return
		}
		s.lastRecv.Store(time.Now().UnixNano())
		switch {
		case m.IsResponse():
			s.mu.Lock()
			p := s.pending[string(m.ID)]
			delete(s.pending, string(m.ID))
			s.mu.Unlock()
			if p == nil {
				continue // a reply to an echo probe, or to a call given up on
			}
			if p.onReply != nil {
				p.onReply(m)
			}
			p.reply <- m
		case m.IsRequest():
			if m.Method == "echo" {
				_ = s.conn.Write(&jsonrpc.Message{Result: m.Params, ID: m.ID})
				continue
			}
			_ = s.conn.Write(jsonrpc.NewErrorResponse(m.ID, "unknown method", m.Method))
		default:
			s.notify(m)
		}
	}
}

// notify dispatches a notification from the server.
func (s *session) notify(m *jsonrpc.Message) {
	var params []json.RawMessage
	if err := json.Unmarshal(m.Params, &params); err != nil || len(params) == 0 {
		s.c.log.Warn("bad notification", "method", m.Method, "params", string(m.Params))
		return
	}
	switch m.Method {
	case "update", "update2", "update3":
		if m.Method == "update2" && string(params[0]) == leaderWatchID && len(params) == 2 {
			s.leaderUpdate(params[1])
			return
		}
		s.c.mu.Lock()
		mon := s.c.monitors[string(params[0])]
		s.c.mu.Unlock()
		if mon == nil {
			return
		}
		mon.notification(m.Method, params)
	case "locked", "stolen":
		var name string
		if err := json.Unmarshal(params[0], &name); err != nil {
			return
		}
		s.c.mu.Lock()
		l := s.c.locks[name]
		s.c.mu.Unlock()
		if l != nil {
			l.set(m.Method == "locked")
		}
	default:
		s.c.log.Debug("ignored notification", "method", m.Method)
	}
}

// call sends a request and waits for its reply. A JSON-RPC error reply
// returns *Error.
func (s *session) call(ctx context.Context, method string, params []any, onReply func(*jsonrpc.Message)) (*jsonrpc.Message, error) {
	id := s.c.newID()
	req, err := jsonrpc.NewRequest(json.RawMessage(id), method, params...)
	if err != nil {
		return nil, err
	}
	p := &pendingCall{reply: make(chan *jsonrpc.Message, 1), onReply: onReply}
	s.mu.Lock()
	if s.pending == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%s to %s: %w", method, s.remote, ErrDisconnected)
	}
	s.pending[string(id)] = p
	s.mu.Unlock()
	if err := s.conn.Write(req); err != nil {
		s.kill(fmt.Errorf("write to %s: %w", s.remote, err))
		return nil, fmt.Errorf("%s to %s: %w", method, s.remote, ErrDisconnected)
	}
	select {
	case m, ok := <-p.reply:
		if !ok {
			return nil, fmt.Errorf("%s to %s: %w", method, s.remote, ErrDisconnected)
		}
		if m.Error != nil {
			return m, rpcError(method, m.Error)
		}
		return m, nil
	case <-ctx.Done():
		s.mu.Lock()
		if s.pending != nil {
			delete(s.pending, string(id))
		}
		s.mu.Unlock()
		return nil, fmt.Errorf("%s to %s: %w", method, s.remote, ctx.Err())
	}
}

func (s *session) transact(ctx context.Context, db string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	params := make([]any, 0, len(ops)+1)
	params = append(params, db)
	for _, op := range ops {
		params = append(params, op)
	}
	m, err := s.call(ctx, "transact", params, nil)
	if err != nil {
		return nil, err
	}
	var res []ovsdb.OperationResult
	if err := json.Unmarshal(m.Result, &res); err != nil {
		return nil, fmt.Errorf("transact reply: %w", err)
	}
	for i, r := range res {
		if r.Error == "" {
			continue
		}
		e := &OpError{Index: i, Kind: r.Error, Details: r.Details}
		if i < len(ops) {
			e.Op = ops[i].Op
		}
		return res, e
	}
	return res, nil
}

// probe sends an echo after an idle interval and drops a connection that
// stays silent for two.
func (s *session) probe(interval time.Duration) {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-s.dead:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, s.lastRecv.Load()))
		switch {
		case idle > 2*interval:
			s.kill(fmt.Errorf("%s: no message for %v", s.remote, idle.Round(time.Millisecond)))
			return
		case idle > interval:
			req, _ := jsonrpc.NewRequest("probe", "echo")
			_ = s.conn.Write(req)
		}
	}
}
