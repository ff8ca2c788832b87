package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/internal/ovsdb/replica"
)

// session is one client connection.
type session struct {
	srv  *Server
	nc   net.Conn
	conn *jsonrpc.Conn
	log  *slog.Logger

	qmu     sync.Mutex // guards queue, qbytes, qclosed, writing
	queue   [][]byte
	qbytes  int
	qclosed bool
	writing bool // a write to the connection is in progress
	qsig    chan struct{}
	raw     syscall.RawConn // nil when the connection has no descriptor (TLS)

	done      chan struct{}
	closeOnce sync.Once
	txns      chan queuedTxn

	mu       sync.Mutex // guards monitors, locks, blocked
	monitors map[string]*monitor
	locks    map[string]bool // requested locks; true when held
	blocked  map[string]context.CancelFunc

	lastRecv    atomic.Int64 // unix nanos
	echoPending atomic.Bool
}

func newSession(srv *Server, nc net.Conn) *session {
	var raw syscall.RawConn
	if sc, ok := nc.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	return &session{
		raw: raw,
		srv: srv, nc: nc,
		conn:     jsonrpc.NewConn(nc, jsonrpc.ConnOptions{MaxMessageSize: srv.cfg.MaxMessageSize}),
		log:      srv.log.With("remote", remoteName(nc)),
		qsig:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		txns:     make(chan queuedTxn, srv.cfg.MaxOutstanding),
		monitors: map[string]*monitor{},
		locks:    map[string]bool{},
		blocked:  map[string]context.CancelFunc{},
	}
}

func remoteName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.Network() + ":" + a.String()
	}
	return nc.LocalAddr().Network() + ":" + nc.LocalAddr().String()
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.qmu.Lock()
		s.qclosed = true
		s.qmu.Unlock()
		s.conn.Close()
	})
}

// enqueue sends one encoded message. When nothing is queued or being
// written, the caller writes it to the socket itself without blocking (a
// commit's notifications go out from the apply path without waking one
// goroutine per session); what the socket does not take is queued for the
// session's writer. A client whose backlog exceeds the bound is
// disconnected.
func (s *session) enqueue(b []byte) {
	s.qmu.Lock()
	if s.qclosed {
		s.qmu.Unlock()
		return
	}
	if s.raw != nil && !s.writing && len(s.queue) == 0 {
		s.writing = true
		s.qmu.Unlock()
		n, err := s.tryWrite(b)
		s.qmu.Lock()
		s.writing = false
		if err != nil {
			s.qmu.Unlock()
			s.close()
			return
		}
		if n == len(b) {
			pending := len(s.queue) > 0
			s.qmu.Unlock()
			if pending {
				s.signal()
			}
			return
		}
		// The rest goes ahead of anything queued meanwhile.
		s.queue = append(s.queue, nil)
		copy(s.queue[1:], s.queue)
		s.queue[0] = b[n:]
		s.qbytes += len(b) - n
		over := s.qbytes > s.srv.cfg.MaxBacklog
		s.qmu.Unlock()
		s.afterQueue(over)
		return
	}
	s.queue = append(s.queue, b)
	s.qbytes += len(b)
	over := s.qbytes > s.srv.cfg.MaxBacklog
	s.qmu.Unlock()
	s.afterQueue(over)
}

func (s *session) afterQueue(over bool) {
	if over {
		s.log.Warn("client too slow, disconnecting", "backlog", s.qbytes)
		s.close()
		return
	}
	s.signal()
}

func (s *session) signal() {
	select {
	case s.qsig <- struct{}{}:
	default:
	}
}

// tryWrite writes as much of b as the socket takes now, never waiting.
func (s *session) tryWrite(b []byte) (n int, err error) {
	werr := s.raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				err = fmt.Errorf("write to %s: %w", remoteName(s.nc), e)
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if err == nil && werr != nil {
		err = werr
	}
	return n, err
}

func (s *session) writer() {
	var batch [][]byte
	var buf []byte
	for {
		select {
		case <-s.done:
			return
		case <-s.qsig:
		}
		for {
			s.qmu.Lock()
			if s.writing {
				// A direct write is in progress; it signals when done.
				s.qmu.Unlock()
				break
			}
			batch, s.queue = s.queue, batch[:0]
			s.qbytes = 0
			s.writing = len(batch) > 0
			s.qmu.Unlock()
			if len(batch) == 0 {
				break
			}
			out := batch[0]
			if len(batch) > 1 {
				buf = buf[:0]
				for _, b := range batch {
					buf = append(buf, b...)
				}
				out = buf
			}
			err := s.conn.WriteRaw(out)
			s.qmu.Lock()
			s.writing = false
			s.qmu.Unlock()
			if err != nil {
				s.close()
				return
			}
			for i := range batch {
				batch[i] = nil
			}
		}
	}
}

func (s *session) send(m *jsonrpc.Message) {
	b, err := m.MarshalJSON()
	if err != nil {
		s.log.Error("encode message", "err", err)
		return
	}
	s.enqueue(b)
}

// reply sends a successful response. The result is our own valid JSON, so
// it is framed by hand rather than re-validated by encoding/json (monitor
// replies can be megabytes).
func (s *session) reply(id json.RawMessage, result json.RawMessage) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	b := make([]byte, 0, len(id)+len(result)+32)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	b = append(b, `,"error":null}`...)
	s.enqueue(b)
}

func (s *session) replyErr(id json.RawMessage, kind, details string) {
	s.send(jsonrpc.NewErrorResponse(id, kind, details))
}

// replyErr2 sends an error that is a bare string, as ovsdb-server does for
// unknown methods and monitors.
func (s *session) replyErr2(id json.RawMessage, kind string) {
	e, _ := json.Marshal(kind)
	s.send(&jsonrpc.Message{ID: id, Error: e})
}

func (s *session) notify(method string, params ...json.RawMessage) {
	s.enqueue(notification(method, params...))
}

// notification encodes a JSON-RPC notification.
func notification(method string, params ...json.RawMessage) []byte {
	n := 64
	for _, p := range params {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"id":null,"method":"`...)
	b = append(b, method...)
	b = append(b, `","params":[`...)
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return append(b, "]}"...)
}

func (s *session) run(ctx context.Context) {
	s.lastRecv.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.writer() }()
	go func() { defer wg.Done(); s.txnWorker(ctx) }()
	go func() { defer wg.Done(); s.prober() }()
	s.log.Debug("client connected")
	s.reader(ctx)
	s.close()
	wg.Wait()
	s.cleanup()
	s.log.Debug("client disconnected")
}

func (s *session) cleanup() {
	s.mu.Lock()
	mons := s.monitors
	s.monitors = map[string]*monitor{}
	locks := s.locks
	s.locks = map[string]bool{}
	for _, c := range s.blocked {
		c()
	}
	s.mu.Unlock()
	for _, m := range mons {
		m.stop()
	}
	for name := range locks {
		if next := s.srv.locks.unlock(name, s); next != nil {
			next.gotLock(name)
		}
	}
}

func (s *session) prober() {
	p := s.srv.cfg.InactivityProbe
	if p < 0 {
		return
	}
	t := time.NewTicker(p / 2)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, s.lastRecv.Load()))
		switch {
		case s.echoPending.Load() && idle > 2*p:
			s.log.Info("no answer to inactivity probe, disconnecting", "idle", idle)
			s.close()
			return
		case !s.echoPending.Load() && idle > p:
			s.echoPending.Store(true)
			s.enqueue([]byte(`{"id":"echo","method":"echo","params":[]}`))
		}
	}
}

func (s *session) reader(ctx context.Context) {
	for {
		m, err := s.conn.Read()
		if err != nil {
			if errors.Is(err, jsonrpc.ErrInvalid) {
				s.lastRecv.Store(time.Now().UnixNano())
				s.replyErr(json.RawMessage("null"), "invalid JSON-RPC message", err.Error())
				continue
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Info("read failed, disconnecting", "err", err)
				if errors.Is(err, jsonrpc.ErrSyntax) || errors.Is(err, jsonrpc.ErrTooLarge) {
					s.replyErr(json.RawMessage("null"), "syntax error", err.Error())
				}
			}
			return
		}
		s.lastRecv.Store(time.Now().UnixNano())
		s.echoPending.Store(false)
		if m.IsResponse() {
			continue // answers to our echo probes
		}
		if m.IsNotification() {
			if m.Method == "cancel" {
				s.cancelTxn(m.Params)
			}
			continue
		}
		if !s.dispatch(ctx, m) {
			return
		}
	}
}

// params decodes a request's params array.
func params(m *jsonrpc.Message, min, max int) ([]json.RawMessage, error) {
	var p []json.RawMessage
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return nil, fmt.Errorf("%s: params must be an array", m.Method)
	}
	if len(p) < min || (max >= 0 && len(p) > max) {
		return nil, fmt.Errorf("%s: %d parameters given", m.Method, len(p))
	}
	return p, nil
}

func stringParam(r json.RawMessage, what string) (string, error) {
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", fmt.Errorf("%s must be a string", what)
	}
	return s, nil
}

// dispatch handles one request. It returns false to end the session.
func (s *session) dispatch(ctx context.Context, m *jsonrpc.Message) bool {
	switch m.Method {
	case "echo":
		p := m.Params
		if len(p) == 0 {
			p = json.RawMessage("[]")
		}
		s.reply(m.ID, p)
	case "list_dbs":
		b, _ := json.Marshal(s.srv.names)
		s.reply(m.ID, b)
	case "get_schema":
		p, err := params(m, 1, 1)
		if err != nil {
			s.replyErr(m.ID, "syntax error", err.Error())
			break
		}
		d, err := s.database(p[0])
		if err != nil {
			s.replyErr(m.ID, "unknown database", err.Error())
			break
		}
		s.reply(m.ID, d.Schema().JSON())
	case "transact":
		// Register the cancel function now, so a "cancel" that follows at once
		// finds the transaction even before the worker starts it.
		tctx, cancel := context.WithCancel(ctx)
		key := string(m.ID)
		s.mu.Lock()
		s.blocked[key] = cancel
		s.mu.Unlock()
		select {
		case s.txns <- queuedTxn{m: m, ctx: tctx, cancel: cancel}:
		case <-s.done:
			cancel()
			return false
		}
	case "cancel":
		s.cancelTxn(m.Params)
	case "monitor", "monitor_cond", "monitor_cond_since":
		s.monitor(m)
	case "monitor_cond_change":
		s.monitorCondChange(m)
	case "monitor_cancel":
		s.monitorCancel(m)
	case "lock", "steal", "unlock":
		s.lockMethod(m)
	case "set_db_change_aware":
		s.reply(m.ID, json.RawMessage("{}"))
	default:
		s.replyErr2(m.ID, "unknown method")
	}
	return true
}

func (s *session) database(r json.RawMessage) (*replica.DB, error) {
	name, err := stringParam(r, "database name")
	if err != nil {
		return nil, err
	}
	d, ok := s.srv.dbs[name]
	if !ok {
		return nil, fmt.Errorf("%s", name)
	}
	return d, nil
}

// ---- transactions ----

// queuedTxn is a transaction waiting for the session's worker.
type queuedTxn struct {
	m      *jsonrpc.Message
	ctx    context.Context // cancelled by "cancel" or the session's end
	cancel context.CancelFunc
}

func (s *session) txnWorker(ctx context.Context) {
	for {
		select {
		case <-s.done:
			return
		case q := <-s.txns:
			s.transact(ctx, q)
		}
	}
}

// txnOps splits transact params into the database and the operations, and
// finds the shortest wait timeout (ms; -1 when no wait has one) and whether
// the operations write.
func txnOps(m *jsonrpc.Message, lookup func(json.RawMessage) (*replica.DB, error)) (db *replica.DB, ops json.RawMessage, waitMS int64, writes bool, err error) {
	p, err := arrayElements(m.Params)
	if err != nil || len(p) < 1 {
		return nil, nil, 0, false, fmt.Errorf("transact: params must be an array starting with the database name")
	}
	if db, err = lookup(p[0]); err != nil {
		return nil, nil, 0, false, err
	}
	waitMS = -1
	rebuilt := false
	for i, op := range p[1:] {
		name, _ := member(op, "op")
		switch string(name) {
		case `"select"`, `"comment"`, `"assert"`, `"commit"`, `"abort"`:
		case `"wait"`:
			var o struct {
				Table   string          `json:"table"`
				Timeout *float64        `json:"timeout"`
				Columns json.RawMessage `json:"columns"`
			}
			if json.Unmarshal(op, &o) != nil {
				continue // the executor reports it
			}
			if o.Timeout != nil && *o.Timeout > 0 && (waitMS < 0 || int64(*o.Timeout) < waitMS) {
				waitMS = int64(*o.Timeout)
			}
			if o.Columns == nil {
				p[i+1] = waitAllColumns(db, o.Table, op)
				rebuilt = true
			}
		default:
			writes = true // insert, update, mutate, delete (or bad: the executor says)
		}
	}
	if len(p) == 1 {
		return db, json.RawMessage("[]"), waitMS, writes, nil
	}
	if !rebuilt {
		// The operations as sent: from the second element to the array's end.
		start := cap(m.Params) - cap(p[1])
		b := make([]byte, 0, len(m.Params)-start+1)
		b = append(b, '[')
		b = append(b, m.Params[start:]...)
		return db, b, waitMS, writes, nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, op := range p[1:] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(op)
	}
	b.WriteByte(']')
	return db, b.Bytes(), waitMS, writes, nil
}

// waitAllColumns gives a "wait" without "columns" every column of its
// table, as ovsdb-server does (the OVS IDL omits the member). This stays
// here until the executor accepts the omission itself.
func waitAllColumns(db *replica.DB, table string, op json.RawMessage) json.RawMessage {
	ts, ok := db.Schema().Tables[table]
	if !ok {
		return op
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(op, &obj) != nil {
		return op
	}
	var cols []string
	for _, c := range ts.ColumnList() {
		cols = append(cols, c.Name)
	}
	obj["columns"], _ = json.Marshal(cols)
	out, err := json.Marshal(obj)
	if err != nil {
		return op
	}
	return out
}

func (s *session) heldLocks() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.locks))
	for k, v := range s.locks {
		if v {
			out[k] = true
		}
	}
	return out
}

func (s *session) transact(ctx context.Context, q queuedTxn) {
	m, tctx := q.m, q.ctx
	key := string(m.ID)
	defer func() {
		q.cancel()
		s.mu.Lock()
		if s.blocked[key] != nil {
			delete(s.blocked, key)
		}
		s.mu.Unlock()
	}()
	var unknown error
	d, ops, waitMS, writes, err := txnOps(m, func(r json.RawMessage) (*replica.DB, error) {
		d, err := s.database(r)
		unknown = err
		return d, err
	})
	if unknown != nil {
		s.replyErr(m.ID, "unknown database", unknown.Error())
		return
	}
	if err != nil {
		s.replyErr(m.ID, "syntax error", err.Error())
		return
	}
	if d == s.srv.server && writes {
		s.replyErr(m.ID, "not allowed", "the _Server database is read-only")
		return
	}
	var deadline <-chan time.Time
	if waitMS >= 0 {
		t := time.NewTimer(time.Duration(waitMS) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	// A read-only transaction is answered from the local state; one that
	// writes goes straight to the log (its executing twice would only cost).
	req := replica.Request{Ops: ops, Locks: s.heldLocks(), Shortcut: !writes || waitMS >= 0}
	for {
		changed := d.Changed()
		resp, err := d.Transact(tctx, req)
		if err != nil {
			if tctx.Err() != nil {
				return // cancelled: like ovsdb-server, no reply
			}
			s.replyErr(m.ID, "internal error", err.Error())
			return
		}
		if !resp.Blocked {
			s.reply(m.ID, resp.Reply)
			return
		}
		select {
		case <-changed:
		case <-deadline:
			req.WaitExpired = true
		case <-s.done:
			return
		case <-tctx.Done():
			return // cancelled: like ovsdb-server, no reply
		}
		req.Locks = s.heldLocks()
	}
}

func (s *session) cancelTxn(p json.RawMessage) {
	var ids []json.RawMessage
	if json.Unmarshal(p, &ids) != nil || len(ids) != 1 {
		return
	}
	s.mu.Lock()
	c := s.blocked[string(ids[0])]
	s.mu.Unlock()
	if c != nil {
		c()
	}
}

// ---- locks ----

func (s *session) lockMethod(m *jsonrpc.Message) {
	p, err := params(m, 1, 1)
	if err != nil {
		s.replyErr(m.ID, "syntax error", err.Error())
		return
	}
	name, err := stringParam(p[0], "lock name")
	if err != nil || name == "" {
		s.replyErr(m.ID, "syntax error", "lock name must be a non-empty string")
		return
	}
	s.mu.Lock()
	_, have := s.locks[name]
	s.mu.Unlock()
	switch m.Method {
	case "lock", "steal":
		if have {
			s.replyErr(m.ID, "syntax error", fmt.Sprintf("must unlock %q before %s", name, m.Method))
			return
		}
	}
	switch m.Method {
	case "lock":
		got := s.srv.locks.lock(name, s)
		s.mu.Lock()
		s.locks[name] = got
		s.mu.Unlock()
		s.reply(m.ID, lockedJSON(got))
	case "steal":
		prev := s.srv.locks.steal(name, s)
		s.mu.Lock()
		s.locks[name] = true
		s.mu.Unlock()
		// The loser hears of it before our client does, so a client
		// that acts on the reply finds the notification already sent.
		if prev != nil {
			prev.lostLock(name)
		}
		s.reply(m.ID, lockedJSON(true))
	case "unlock":
		if !have {
			s.replyErr(m.ID, "syntax error", fmt.Sprintf("unlock of %q without lock or steal", name))
			return
		}
		s.mu.Lock()
		delete(s.locks, name)
		s.mu.Unlock()
		next := s.srv.locks.unlock(name, s)
		if next != nil {
			next.gotLock(name)
		}
		s.reply(m.ID, json.RawMessage("{}"))
	}
}

func lockedJSON(b bool) json.RawMessage {
	if b {
		return json.RawMessage(`{"locked":true}`)
	}
	return json.RawMessage(`{"locked":false}`)
}

func (s *session) gotLock(name string) {
	s.mu.Lock()
	if _, ok := s.locks[name]; ok {
		s.locks[name] = true
	}
	s.mu.Unlock()
	n, _ := json.Marshal(name)
	s.notify("locked", n)
}

func (s *session) lostLock(name string) {
	s.mu.Lock()
	if _, ok := s.locks[name]; ok {
		s.locks[name] = false
	}
	s.mu.Unlock()
	n, _ := json.Marshal(name)
	s.notify("stolen", n)
}

// monitorKey canonicalises a monitor id.
func monitorKey(id json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, id) != nil {
		return strings.TrimSpace(string(id))
	}
	return b.String()
}
