package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/jsonrpc"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrDisconnected: the connection was lost while a call was under way.
	// The call may or may not have taken effect on the server.
	ErrDisconnected = errors.New("client: disconnected")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("client: closed")
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// Logger receives connection events. Default: discard.
	Logger *slog.Logger
	// Database is the database LeaderOnly checks in _Server.
	Database string
	// LeaderOnly makes the client accept only a server whose _Server
	// database says it is connected to its cluster and is the leader of
	// Database, as ovn-nbctl's default does. Standalone servers qualify.
	LeaderOnly bool
	// MinBackoff and MaxBackoff bound the wait between two rounds of
	// connection attempts over the remote list. Defaults 50 ms and 2 s.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one connection attempt. Default 2 s.
	DialTimeout time.Duration
	// Probe is the inactivity probe: after Probe without a message the
	// client sends an echo, after twice that it drops the connection and
	// reconnects. Default 5 s; negative disables.
	Probe time.Duration
	// MaxMessageSize bounds one received message, in bytes. Default
	// jsonrpc.DefaultMaxMessageSize.
	MaxMessageSize int
}

func (o *Options) fillDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.Probe == 0 {
		o.Probe = 5 * time.Second
	}
}

// Client is a connection to one of a list of OVSDB servers that survives the
// loss of any of them. It is safe for concurrent use.
type Client struct {
	remotes []Remote
	opts    Options
	log     *slog.Logger
	events  *eventQueue

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	nextID atomic.Uint64

	mu       sync.Mutex // guards the fields below
	sess     *session   // nil while disconnected
	ready    chan struct{}
	monitors map[string]*Monitor
	locks    map[string]*Lock
	next     int // index of the next remote to try
}

// Dial connects to the first reachable server of remotes (a comma-separated
// list, see ParseRemotes) and keeps a connection to one of them until Close.
// It returns once connected, or with ctx's error if no server could be
// reached before ctx ended.
func Dial(ctx context.Context, remotes string, opts Options) (*Client, error) {
	rs, err := ParseRemotes(remotes)
	if err != nil {
		return nil, err
	}
	opts.fillDefaults()
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		remotes:  rs,
		opts:     opts,
		log:      opts.Logger,
		events:   newEventQueue(),
		ctx:      cctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		ready:    make(chan struct{}),
		monitors: map[string]*Monitor{},
		locks:    map[string]*Lock{},
	}
	go c.events.run()
	s, err := c.connectLoop(ctx)
	if err != nil {
		cancel()
		c.events.stop()
		return nil, err
	}
	c.install(s)
	go c.run(s)
	return c, nil
}

// Close disconnects and stops reconnecting. Calls under way return ErrClosed.
func (c *Client) Close() error {
	c.cancel()
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.close()
	}
	<-c.done
	c.events.stop()
	return nil
}

// Remote returns the server the client is connected to, or "" while it is not.
func (c *Client) Remote() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return ""
	}
	return c.sess.remote.String()
}

// Connected returns a channel closed once the client is connected (at once
// if it is now).
func (c *Client) Connected() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// run reconnects whenever the current session dies, until Close.
func (c *Client) run(s *session) {
	defer close(c.done)
	for {
		select {
		case <-s.dead:
		case <-c.ctx.Done():
			s.close()
			return
		}
		c.mu.Lock()
		c.sess = nil
		c.ready = make(chan struct{})
		for _, l := range c.locks {
			l.set(false) // a lock does not outlive its session
		}
		c.mu.Unlock()
		c.log.Info("disconnected", "remote", s.remote.String(), "err", s.err())
		var err error
		s, err = c.connectLoop(c.ctx)
		if err != nil {
			return // closed
		}
		c.install(s)
		c.restore(s)
	}
}

func (c *Client) install(s *session) {
	c.mu.Lock()
	c.sess = s
	close(c.ready)
	c.mu.Unlock()
	c.log.Info("connected", "remote", s.remote.String())
}

// connectLoop walks the remote list, with backoff between rounds, until one
// server accepts or ctx ends.
func (c *Client) connectLoop(ctx context.Context) (*session, error) {
	backoff := c.opts.MinBackoff
	for {
		for range c.remotes {
			c.mu.Lock()
			r := c.remotes[c.next%len(c.remotes)]
			c.next++
			c.mu.Unlock()
			s, err := c.connect(ctx, r)
			if err == nil {
				c.mu.Lock()
				c.next-- // stay on this remote next time
				c.mu.Unlock()
				return s, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.log.Debug("connect failed", "remote", r.String(), "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-c.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
	}
}

func (c *Client) connect(ctx context.Context, r Remote) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	nc, err := r.dial(dctx)
	if err != nil {
		return nil, err
	}
	s := newSession(c, r, jsonrpc.NewConn(nc, jsonrpc.ConnOptions{MaxMessageSize: c.opts.MaxMessageSize}))
	go s.read()
	if c.opts.Probe > 0 {
		go s.probe(c.opts.Probe)
	}
	if c.opts.LeaderOnly && c.opts.Database != "" {
		ok, err := c.watchLeader(dctx, s)
		if err != nil || !ok {
			s.close()
			if err == nil {
				err = fmt.Errorf("%s is not the leader of %s", r, c.opts.Database)
			}
			return nil, err
		}
	}
	return s, nil
}

// restore re-establishes monitors and locks on a new session.
func (c *Client) restore(s *session) {
	c.mu.Lock()
	mons := make([]*Monitor, 0, len(c.monitors))
	for _, m := range c.monitors {
		mons = append(mons, m)
	}
	locks := make([]*Lock, 0, len(c.locks))
	for _, l := range c.locks {
		locks = append(locks, l)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	for _, m := range mons {
		if err := m.establish(ctx, s); err != nil {
			c.log.Warn("monitor not restored", "db", m.db, "err", err)
			s.close()
			return
		}
	}
	for _, l := range locks {
		l.set(false)
		if err := l.request(ctx, s, "lock"); err != nil {
			c.log.Warn("lock not restored", "lock", l.name, "err", err)
			s.close()
			return
		}
	}
}

// session returns the current session, waiting for one until ctx ends.
func (c *Client) session(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		s, ready := c.sess, c.ready
		c.mu.Unlock()
		if s != nil {
			select {
			case <-s.dead:
				// Lost, and the reconnection loop is about to notice: do not
				// fail calls on it in a tight loop meanwhile.
				select {
				case <-time.After(time.Millisecond):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				continue
			default:
				return s, nil
			}
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// Call sends a request and decodes its result into result (which may be
// nil). A JSON-RPC error reply returns *Error.
func (c *Client) Call(ctx context.Context, method string, params []any, result any) error {
	s, err := c.session(ctx)
	if err != nil {
		return err
	}
	m, err := s.call(ctx, method, params, nil)
	if err != nil {
		return err
	}
	if result != nil && m.Result != nil {
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("%s reply: %w", method, err)
		}
	}
	return nil
}

// Echo sends an echo request and waits for its reply.
func (c *Client) Echo(ctx context.Context) error {
	var out []any
	return c.Call(ctx, "echo", []any{"hcnet"}, &out)
}

// ListDBs returns the names of the databases the server has.
func (c *Client) ListDBs(ctx context.Context) ([]string, error) {
	var out []string
	err := c.Call(ctx, "list_dbs", nil, &out)
	return out, err
}

// GetSchema returns a database's schema.
func (c *Client) GetSchema(ctx context.Context, db string) (*ovsdb.DatabaseSchema, error) {
	raw, err := c.GetSchemaJSON(ctx, db)
	if err != nil {
		return nil, err
	}
	var s ovsdb.DatabaseSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", db, err)
	}
	return &s, nil
}

// GetSchemaJSON returns a database's schema as the server sent it.
func (c *Client) GetSchemaJSON(ctx context.Context, db string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Call(ctx, "get_schema", []any{db}, &raw)
	return raw, err
}

// Transact runs ops as one transaction on db. When an operation failed, it
// returns the results together with an *OpError for the first failure.
func (c *Client) Transact(ctx context.Context, db string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	return s.transact(ctx, db, ops...)
}

// TransactJSON runs a transaction given as raw JSON operations and returns
// the raw result array, for callers that build operations themselves.
func (c *Client) TransactJSON(ctx context.Context, db string, ops ...json.RawMessage) (json.RawMessage, error) {
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	params := make([]any, 0, len(ops)+1)
	params = append(params, db)
	for _, op := range ops {
		params = append(params, op)
	}
	m, err := s.call(ctx, "transact", params, nil)
	if err != nil {
		return nil, err
	}
	return m.Result, nil
}

// Error is a JSON-RPC level error reply (for example "unknown database").
type Error struct {
	Method  string
	Kind    string
	Details string
}

func (e *Error) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Method, e.Kind, e.Details)
	}
	return fmt.Sprintf("%s: %s", e.Method, e.Kind)
}

// OpError is the first failed operation of a transaction. Index equals the
// number of operations for errors found at commit (constraint violations,
// referential integrity).
type OpError struct {
	Index   int
	Op      string
	Kind    string
	Details string
}

func (e *OpError) Error() string {
	where := fmt.Sprintf("operation %d (%s)", e.Index, e.Op)
	if e.Op == "" {
		where = "commit"
	}
	if e.Details != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Kind, e.Details)
	}
	return fmt.Sprintf("%s: %s", where, e.Kind)
}

func rpcError(method string, raw json.RawMessage) error {
	var e struct {
		Error   string `json:"error"`
		Details string `json:"details"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
		return &Error{Method: method, Kind: string(raw)}
	}
	return &Error{Method: method, Kind: e.Error, Details: e.Details}
}

func (c *Client) newID() json.RawMessage {
	return json.RawMessage(strconv.FormatUint(c.nextID.Add(1), 10))
}
