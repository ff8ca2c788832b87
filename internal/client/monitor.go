package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/jsonrpc"
)

// MonitorRequest asks for one table's rows (ovsdb-server(5) <monitor-cond-request>).
type MonitorRequest struct {
	// Columns to receive; nil means all.
	Columns []string
	// Where selects rows: ovsdb.Condition values or the literals true and
	// false. nil means all rows; []any{false} none.
	Where []any
	// Select restricts the kinds of update; nil means all.
	Select *ovsdb.MonitorSelect
}

// MarshalJSON writes the request as ovsdb-server expects it.
func (r MonitorRequest) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if r.Columns != nil {
		m["columns"] = r.Columns
	}
	if r.Where != nil {
		m["where"] = r.Where
	}
	if r.Select != nil {
		m["select"] = r.Select
	}
	return json.Marshal(m)
}

// Kinds of row update.
const (
	Initial = "initial"
	Insert  = "insert"
	Modify  = "modify"
	Delete  = "delete"
)

// RowUpdate is one row's change (update2 format, ovsdb-server(5)).
type RowUpdate struct {
	// Kind is Initial, Insert, Modify or Delete.
	Kind string
	// Row holds every monitored column for Initial and Insert, the
	// changed columns as an update2 diff for Modify (sets: the symmetric
	// difference; maps: the changed pairs), and nothing for Delete.
	Row ovsdb.Row
}

// TableUpdates maps table names to row UUIDs to row updates.
type TableUpdates map[string]map[string]RowUpdate

// Handler receives a monitor's updates, in the order the server committed
// them, on one goroutine per client. It may call the client, but must not
// call Monitor or Close.
type Handler func(TableUpdates)

// Monitor is a monitor registered with Client.Monitor.
type Monitor struct {
	c  *Client
	id json.RawMessage
	db string
	h  Handler

	mu      sync.Mutex // guards reqs and lastTxn
	reqs    map[string]MonitorRequest
	lastTxn string

	// known holds the rows the handler has been told about; only the
	// event goroutine touches it.
	known map[string]map[string]struct{}
}

const zeroTxn = "00000000-0000-0000-0000-000000000000"

// Monitor starts monitoring db. It returns once the handler has processed
// the initial contents. The monitor survives reconnections.
func (c *Client) Monitor(ctx context.Context, db string, reqs map[string]MonitorRequest, h Handler) (*Monitor, error) {
	m := &Monitor{
		c:     c,
		id:    json.RawMessage(strconv.Quote("hcnet-" + string(c.newID()))),
		db:    db,
		h:     h,
		reqs:  copyReqs(reqs),
		known: map[string]map[string]struct{}{},
	}
	c.mu.Lock()
	c.monitors[string(m.id)] = m
	c.mu.Unlock()
	for {
		s, err := c.session(ctx)
		if err == nil {
			err = m.establish(ctx, s)
		}
		if err == nil {
			return m, nil
		}
		if errors.Is(err, ErrDisconnected) && ctx.Err() == nil {
			continue // the reconnection will have re-established it, or we try again
		}
		c.mu.Lock()
		delete(c.monitors, string(m.id))
		c.mu.Unlock()
		return nil, err
	}
}

func copyReqs(reqs map[string]MonitorRequest) map[string]MonitorRequest {
	out := make(map[string]MonitorRequest, len(reqs))
	for k, v := range reqs {
		out[k] = v
	}
	return out
}

// establish sends the monitor request on s and waits until the handler has
// processed the reply.
func (m *Monitor) establish(ctx context.Context, s *session) error {
	m.mu.Lock()
	reqs := copyReqs(m.reqs)
	last := m.lastTxn
	m.mu.Unlock()
	if last == "" {
		last = zeroTxn
	}
	done := make(chan struct{})
	var perr error
	if !s.noSince.Load() {
		_, err := s.call(ctx, "monitor_cond_since", []any{m.db, m.id, reqs, last}, func(r *jsonrpc.Message) {
			if r.Error != nil {
				return
			}
			var reply []json.RawMessage
			if err := json.Unmarshal(r.Result, &reply); err != nil || len(reply) != 3 {
				perr = fmt.Errorf("monitor_cond_since reply %s: want [found, last-txn-id, updates]", r.Result)
				close(done)
				return
			}
			var found bool
			var txn string
			_ = json.Unmarshal(reply[0], &found)
			_ = json.Unmarshal(reply[1], &txn)
			u, err := decodeUpdates2(reply[2])
			if err != nil {
				perr = err
				close(done)
				return
			}
			m.mu.Lock()
			m.lastTxn = txn
			m.mu.Unlock()
			m.c.events.push(func() {
				if found {
					m.deliver(u)
				} else {
					m.resync(u)
				}
				close(done)
			})
		})
		var rerr *Error
		switch {
		case err == nil:
			return m.wait(ctx, done, &perr)
		case errors.As(err, &rerr) && rerr.Kind == "unknown method":
			s.noSince.Store(true)
		default:
			return fmt.Errorf("monitor %s: %w", m.db, err)
		}
	}
	_, err := s.call(ctx, "monitor_cond", []any{m.db, m.id, reqs}, func(r *jsonrpc.Message) {
		if r.Error != nil {
			return
		}
		u, err := decodeUpdates2(r.Result)
		if err != nil {
			perr = err
			close(done)
			return
		}
		m.c.events.push(func() {
			m.resync(u)
			close(done)
		})
	})
	if err != nil {
		return fmt.Errorf("monitor %s: %w", m.db, err)
	}
	return m.wait(ctx, done, &perr)
}

func (m *Monitor) wait(ctx context.Context, done chan struct{}, perr *error) error {
	select {
	case <-done:
		return *perr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notification handles update2 and update3 notifications for this monitor.
func (m *Monitor) notification(method string, params []json.RawMessage) {
	var raw json.RawMessage
	switch {
	case method == "update3" && len(params) == 3:
		var txn string
		if err := json.Unmarshal(params[1], &txn); err == nil {
			m.mu.Lock()
			m.lastTxn = txn
			m.mu.Unlock()
		}
		raw = params[2]
	case method == "update2" && len(params) == 2:
		raw = params[1]
	default:
		m.c.log.Warn("unexpected monitor notification", "method", method, "db", m.db)
		return
	}
	u, err := decodeUpdates2(raw)
	if err != nil {
		m.c.log.Warn("bad monitor notification", "db", m.db, "err", err)
		return
	}
	m.c.events.push(func() { m.deliver(u) })
}

// deliver passes updates to the handler, tracking which rows it knows.
func (m *Monitor) deliver(u TableUpdates) {
	for table, rows := range u {
		k := m.known[table]
		if k == nil {
			k = map[string]struct{}{}
			m.known[table] = k
		}
		for uuid, ru := range rows {
			if ru.Kind == Delete {
				delete(k, uuid)
			} else {
				k[uuid] = struct{}{}
			}
		}
	}
	if len(u) > 0 {
		m.h(u)
	}
}

// resync replaces the handler's view with a full snapshot: rows it knew
// that the snapshot lacks are delivered as deletions.
func (m *Monitor) resync(u TableUpdates) {
	for table, k := range m.known {
		for uuid := range k {
			if _, ok := u[table][uuid]; ok {
				continue
			}
			if u[table] == nil {
				u[table] = map[string]RowUpdate{}
			}
			u[table][uuid] = RowUpdate{Kind: Delete}
		}
	}
	m.deliver(u)
}

// Change replaces the conditions (and columns) of some tables' requests
// with monitor_cond_change. Updates that follow from it arrive through the
// handler.
func (m *Monitor) Change(ctx context.Context, reqs map[string]MonitorRequest) error {
	m.mu.Lock()
	for t, r := range reqs {
		m.reqs[t] = r
	}
	m.mu.Unlock()
	s, err := m.c.session(ctx)
	if err != nil {
		return err
	}
	upd := make(map[string][]MonitorRequest, len(reqs))
	for t, r := range reqs {
		where := r.Where
		if where == nil {
			where = []any{true}
		}
		upd[t] = []MonitorRequest{{Columns: r.Columns, Where: where}}
	}
	if _, err := s.call(ctx, "monitor_cond_change", []any{m.id, m.id, upd}, nil); err != nil {
		return fmt.Errorf("monitor_cond_change %s: %w", m.db, err)
	}
	return nil
}

// Cancel stops the monitor.
func (m *Monitor) Cancel(ctx context.Context) error {
	m.c.mu.Lock()
	delete(m.c.monitors, string(m.id))
	m.c.mu.Unlock()
	s, err := m.c.session(ctx)
	if err != nil {
		return err
	}
	_, err = s.call(ctx, "monitor_cancel", []any{m.id}, nil)
	return err
}

// LastTxnID returns the id of the last transaction the monitor saw (update3),
// or "" if the server does not send them.
func (m *Monitor) LastTxnID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastTxn
}
