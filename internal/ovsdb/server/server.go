package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"hcnet/internal/ovsdb/replica"
)

// Config configures a Server.
type Config struct {
	// Listen holds the listen addresses: "ptcp:PORT[:IP]" or "punix:PATH".
	Listen []string
	// Logger receives connection events. Default slog.Default().
	Logger *slog.Logger
	// MaxMessageSize bounds one request, in bytes. Default 256 MiB.
	MaxMessageSize int
	// MaxOutstanding bounds the transactions queued per connection; the
	// reader stops reading while the bound is reached. Default 1024.
	MaxOutstanding int
	// MaxMonitors bounds the monitors per connection. Default 1024.
	MaxMonitors int
	// MaxBacklog bounds the bytes queued for one connection; a client that
	// falls further behind is disconnected. Default 256 MiB.
	MaxBacklog int
	// InactivityProbe: after this long without a message from the client the
	// server sends an echo request, and disconnects after as long again
	// without an answer. Default 5s; negative disables.
	InactivityProbe time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 256 << 20
	}
	if c.MaxOutstanding <= 0 {
		c.MaxOutstanding = 1024
	}
	if c.MaxMonitors <= 0 {
		c.MaxMonitors = 1024
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = 256 << 20
	}
	if c.InactivityProbe == 0 {
		c.InactivityProbe = 5 * time.Second
	}
}

// ParseListen turns "ptcp:PORT[:IP]" or "punix:PATH" into a network and an
// address for net.Listen.
func ParseListen(s string) (network, addr string, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("listen address %q: want ptcp:PORT[:IP] or punix:PATH", s)
	}
	switch kind {
	case "punix":
		return "unix", rest, nil
	case "ptcp":
		port, ip, _ := strings.Cut(rest, ":")
		if strings.HasPrefix(rest, "[") || strings.Count(rest, ":") > 1 {
			// ptcp:PORT:IPv6
			port, ip, _ = strings.Cut(rest, ":")
			ip = strings.Trim(ip, "[]")
		}
		if port == "" {
			return "", "", fmt.Errorf("listen address %q: missing port", s)
		}
		return "tcp", net.JoinHostPort(ip, port), nil
	}
	return "", "", fmt.Errorf("listen address %q: unknown kind %q (want ptcp or punix)", s, kind)
}

// Server serves OVSDB databases.
type Server struct {
	cfg    Config
	log    *slog.Logger
	dbs    map[string]*replica.DB
	names  []string // sorted, including _Server
	server *replica.DB
	locks  *lockTable
	// updates holds each database's updateCache (fixed at New).
	updates map[*replica.DB]*updateCache

	mu        sync.Mutex // guards listeners, sessions, closed
	listeners []net.Listener
	sessions  map[*session]struct{}
	closed    bool
	wg        sync.WaitGroup
	cancel    context.CancelFunc
}

// New returns a server for dbs. It adds _Server.
func New(cfg Config, dbs ...*replica.DB) (*Server, error) {
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, dbs: map[string]*replica.DB{}, locks: newLockTable(),
		sessions: map[*session]struct{}{}}
	for _, d := range dbs {
		if _, dup := s.dbs[d.Name()]; dup || d.Name() == ServerDBName {
			return nil, fmt.Errorf("server: database %q given twice", d.Name())
		}
		s.dbs[d.Name()] = d
	}
	s.server = replica.NewLocal(ServerSchema(), cfg.Logger)
	s.dbs[ServerDBName] = s.server
	s.updates = make(map[*replica.DB]*updateCache, len(s.dbs))
	for _, d := range s.dbs {
		s.updates[d] = &updateCache{}
	}
	for n := range s.dbs {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
	if err := s.fillServerDB(); err != nil {
		return nil, err
	}
	return s, nil
}

// stableUUID derives a UUID string from a name.
func stableUUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// fillServerDB inserts one _Server.Database row per database.
func (s *Server) fillServerDB() error {
	var ops []any
	for _, n := range s.names {
		d := s.dbs[n]
		info := dbInfo{Name: n, Clustered: d.Clustered(), Schema: d.Schema().JSON(), Index: d.Index()}
		if d.Clustered() {
			info.Leader, info.Connected = leaderState(d)
			info.CID = stableUUID("cid", n, fmt.Sprint(d.ShardID()))
			info.SID = stableUUID("sid", n, fmt.Sprint(d.ShardID()), fmt.Sprint(d.Shard().ReplicaID()))
		}
		ops = append(ops, map[string]any{"op": "insert", "table": "Database", "row": serverRow(info)})
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	resp, err := s.server.Transact(context.Background(), replica.Request{Ops: b})
	if err != nil {
		return fmt.Errorf("server: fill _Server: %w", err)
	}
	if strings.Contains(string(resp.Reply), `"error"`) {
		return fmt.Errorf("server: fill _Server: %s", resp.Reply)
	}
	return nil
}

// _Server's leader and connected columns follow the databases within
// serverDBLeaderPoll (leader-only clients reconnect on a change); the index
// column at most every serverDBRefresh.
const (
	serverDBRefresh    = time.Second
	serverDBLeaderPoll = 20 * time.Millisecond
)

// leaderState reports whether this replica leads d and whether it knows a
// leader at all (connected to its cluster).
func leaderState(d *replica.DB) (leader, connected bool) {
	id, _, ok := d.Shard().LeaderInfo()
	return ok && id == d.Shard().ReplicaID(), ok
}

// refreshServerDB keeps _Server.Database's index and leader up to date for
// clustered databases, so that clients checking for stale replicas see the
// progress (at most serverDBRefresh behind; the index only grows).
func (s *Server) refreshServerDB(ctx context.Context) {
	defer s.wg.Done()
	type state struct {
		index             uint64
		leader, connected bool
	}
	last := map[string]state{}
	var indexed time.Time
	t := time.NewTicker(serverDBLeaderPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ops []any
		indexDue := time.Since(indexed) >= serverDBRefresh
		if indexDue {
			indexed = time.Now()
		}
		for _, n := range s.names {
			d := s.dbs[n]
			if !d.Clustered() {
				continue
			}
			st := state{index: last[n].index}
			st.leader, st.connected = leaderState(d)
			if indexDue {
				st.index = d.Index()
			}
			if last[n] == st {
				continue
			}
			last[n] = st
			ops = append(ops, map[string]any{"op": "update", "table": "Database",
				"where": []any{[]any{"name", "==", n}},
				"row":   map[string]any{"index": int64(st.index), "leader": st.leader, "connected": st.connected}})
		}
		if len(ops) == 0 {
			continue
		}
		b, _ := json.Marshal(ops)
		if _, err := s.server.Transact(ctx, replica.Request{Ops: b}); err != nil && ctx.Err() == nil {
			s.log.Warn("update _Server", "err", err)
		}
	}
}

// Start opens the listeners and serves until Close. ctx bounds only the
// start itself.
func (s *Server) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.refreshServerDB(ctx)
	for _, l := range s.cfg.Listen {
		network, addr, err := ParseListen(l)
		if err != nil {
			s.Close()
			return err
		}
		if network == "unix" {
			if fi, err := os.Stat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
				os.Remove(addr) // stale socket of an earlier run
			}
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			s.Close()
			return fmt.Errorf("server: listen on %s: %w", l, err)
		}
		s.mu.Lock()
		s.listeners = append(s.listeners, ln)
		s.mu.Unlock()
		s.log.Info("listening", "addr", l, "local", ln.Addr().String())
		s.wg.Add(1)
		go s.accept(ctx, ln)
	}
	return nil
}

// Addrs returns the listeners' addresses in the form clients dial
// ("tcp:IP:PORT", "unix:PATH").
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.listeners {
		a := l.Addr()
		out = append(out, a.Network()+":"+a.String())
	}
	return out
}

func (s *Server) accept(ctx context.Context, ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		ss := newSession(s, c)
		s.sessions[ss] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ss.run(ctx)
			s.mu.Lock()
			delete(s.sessions, ss)
			s.mu.Unlock()
		}()
	}
}

// Close stops listening, disconnects every client and waits for the
// connection goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, l := range s.listeners {
		l.Close()
		if ul, ok := l.(*net.UnixListener); ok {
			_ = ul // net removes the socket file on Close
		}
	}
	for ss := range s.sessions {
		ss.close()
	}
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Stats is a snapshot of the server's load.
type Stats struct {
	Connections int // client connections open
	Monitors    int // monitors registered over all connections
}

// Stats counts connections and monitors now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	st := Stats{Connections: len(sessions)}
	for _, ss := range sessions {
		ss.mu.Lock()
		st.Monitors += len(ss.monitors)
		ss.mu.Unlock()
	}
	return st
}

// updateCache returns d's cache of update bodies.
func (s *Server) updateCache(d *replica.DB) *updateCache { return s.updates[d] }
