package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"hcnet/internal/jsonrpc"
	"hcnet/internal/ovsdb"
	"hcnet/internal/ovsdb/replica"
)

// sinceCatchUp bounds how long monitor_cond_since waits for this replica to
// apply the client's last transaction before answering with what it has.
const sinceCatchUp = 2 * time.Second

// selectFlags is a <monitor-select>.
type selectFlags struct {
	Initial, Insert, Delete, Modify bool
}

type monTable struct {
	ts *ovsdb.TableSchema
	// Columns reported for each kind of event: a column appears in a kind's
	// list when the request that names it selects that kind.
	initial, insert, delete, modify []string
	// sel says which events are reported at all (a request may select an
	// event with no columns: the row is then reported empty).
	sel  selectFlags
	cond *ovsdb.Conditions // nil: every row
	// condKey is the compacted JSON cond was parsed from ("" for none).
	condKey string
	// colKeys name the column lists (insert, delete, modify) in update
	// caches: monitors that report the same columns share bodies.
	colKeys [3]string
}

// setColKeys fills colKeys from the column lists.
func (t *monTable) setColKeys() {
	for i, l := range [][]string{t.insert, t.delete, t.modify} {
		t.colKeys[i] = t.ts.Name + "\x00" + strings.Join(l, "\x00")
	}
}

// updateCache shares the body of a row's update among the monitors that
// report it with the same columns, within one commit: with many clients
// monitoring the same rows, the update is encoded once rather than once
// per monitor. Monitors of the same shape (see monitor.shape) share the
// whole notification: the first of them builds it, the others send the
// same bytes. The monitors of a database are called one after another for
// each commit; the cache is kept from the second call on, so a lone
// monitor pays nothing for it.
type updateCache struct {
	mu     sync.Mutex // guards the fields below
	commit *replica.Commit
	calls  int
	bodies map[updateKey][]byte
	msgs   map[string][]byte // by monitor shape; nil value: nothing to send
}

type updateKey struct {
	id      ovsdb.UUID
	version int // 1, or 2 for update2 and update3
	kind    byte
	cols    string
}

// begin notes one monitor's call for commit c and reports whether bodies
// should be cached.
func (uc *updateCache) begin(c *replica.Commit) bool {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.commit != c {
		uc.commit, uc.calls = c, 0
		clear(uc.bodies)
		clear(uc.msgs)
	}
	uc.calls++
	return uc.calls >= 2
}

// message returns the notification a monitor of this shape got for commit
// c, if one did.
func (uc *updateCache) message(c *replica.Commit, shape string) ([]byte, bool) {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.commit != c {
		return nil, false
	}
	b, ok := uc.msgs[shape]
	return b, ok
}

// putMessage records the notification (nil: none) for monitors of shape
// in commit c.
func (uc *updateCache) putMessage(c *replica.Commit, shape string, b []byte) {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.commit != c {
		return
	}
	if uc.msgs == nil {
		uc.msgs = make(map[string][]byte)
	}
	uc.msgs[shape] = b
}

// get returns the cached body for k in commit c, building it if needed.
func (uc *updateCache) get(c *replica.Commit, k updateKey, build func() []byte) []byte {
	uc.mu.Lock()
	if uc.commit == c {
		if b, ok := uc.bodies[k]; ok {
			uc.mu.Unlock()
			return b
		}
	}
	uc.mu.Unlock()
	b := build()
	uc.mu.Lock()
	if uc.commit == c {
		if uc.bodies == nil {
			uc.bodies = make(map[updateKey][]byte)
		}
		uc.bodies[k] = b
	}
	uc.mu.Unlock()
	return b
}

func (t *monTable) match(u ovsdb.UUID, r ovsdb.Row) bool {
	return t.cond == nil || t.cond.Match(u, r)
}

// monitor is one monitor of one session.
type monitor struct {
	s       *session
	db      *replica.DB
	id      json.RawMessage
	version int // 1: update, 2: update2, 3: update3

	mu      sync.Mutex // guards tables, skip, stopped, id, shape
	tables  map[string]*monTable
	skip    uint64
	stopped bool
	cancel  func()
	// shape is everything a commit's notification to this monitor depends
	// on besides the commit: the version, the id as sent, and per table the
	// reported events and columns and the condition. Monitors of equal
	// shape get byte-identical notifications (updateCache shares them).
	shape string
}

// setShapeLocked computes shape from the id and tables.
func (m *monitor) setShapeLocked() {
	names := make([]string, 0, len(m.tables))
	for t := range m.tables {
		names = append(names, t)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(strconv.Itoa(m.version))
	b.WriteByte(0)
	b.Write(m.id)
	flag := func(v bool) {
		if v {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	for _, name := range names {
		t := m.tables[name]
		b.WriteByte(1)
		b.WriteString(name)
		b.WriteByte(0)
		flag(t.sel.Insert)
		flag(t.sel.Delete)
		flag(t.sel.Modify)
		for _, k := range t.colKeys {
			b.WriteByte(0)
			b.WriteString(k)
		}
		b.WriteByte(0)
		if t.cond != nil {
			b.WriteByte('c')
			b.WriteString(t.condKey)
		}
	}
	m.shape = b.String()
}

// compactJSON returns raw without insignificant white space.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func (m *monitor) stop() {
	m.mu.Lock()
	m.stopped = true
	c := m.cancel
	m.mu.Unlock()
	if c != nil {
		c()
	}
}

type monitorRequest struct {
	Columns *[]string        `json:"columns"`
	Select  *json.RawMessage `json:"select"`
	Where   json.RawMessage  `json:"where"`
}

// parseMonitorRequests parses <monitor-requests>: each table maps to one
// request object or an array of them.
func parseMonitorRequests(s *ovsdb.Schema, raw json.RawMessage, cond bool) (map[string]*monTable, error) {
	var reqs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &reqs); err != nil || reqs == nil {
		return nil, fmt.Errorf("monitor requests must be an object")
	}
	out := map[string]*monTable{}
	for table, r := range reqs {
		ts, ok := s.Tables[table]
		if !ok {
			return nil, fmt.Errorf("no table named %s", table)
		}
		var list []monitorRequest
		if len(r) > 0 && r[0] == '[' {
			if err := json.Unmarshal(r, &list); err != nil {
				return nil, fmt.Errorf("table %s: bad monitor request array: %v", table, err)
			}
		} else {
			var one monitorRequest
			if err := json.Unmarshal(r, &one); err != nil {
				return nil, fmt.Errorf("table %s: bad monitor request: %v", table, err)
			}
			list = []monitorRequest{one}
		}
		mt := &monTable{ts: ts, initial: []string{}, insert: []string{}, delete: []string{}, modify: []string{}}
		seen := map[string]bool{}
		for _, q := range list {
			sel := selectFlags{true, true, true, true}
			if q.Select != nil {
				var f struct{ Initial, Insert, Delete, Modify *bool }
				if err := json.Unmarshal(*q.Select, &f); err != nil {
					return nil, fmt.Errorf("table %s: bad select: %v", table, err)
				}
				get := func(p *bool) bool { return p == nil || *p }
				sel = selectFlags{get(f.Initial), get(f.Insert), get(f.Delete), get(f.Modify)}
			}
			mt.sel.Initial = mt.sel.Initial || sel.Initial
			mt.sel.Insert = mt.sel.Insert || sel.Insert
			mt.sel.Delete = mt.sel.Delete || sel.Delete
			mt.sel.Modify = mt.sel.Modify || sel.Modify
			var cols []string
			if q.Columns != nil {
				cols = *q.Columns
			} else {
				for _, c := range ts.ColumnList() {
					cols = append(cols, c.Name)
				}
				cols = append(cols, "_version")
			}
			for _, c := range cols {
				if _, ok := ts.Column(c); !ok || c == "_uuid" {
					return nil, fmt.Errorf("table %s has no column %s", table, c)
				}
				if seen[c] {
					if q.Columns != nil {
						return nil, fmt.Errorf("column %s mentioned more than once", c)
					}
					continue
				}
				seen[c] = true
				if sel.Initial {
					mt.initial = append(mt.initial, c)
				}
				if sel.Insert {
					mt.insert = append(mt.insert, c)
				}
				if sel.Delete {
					mt.delete = append(mt.delete, c)
				}
				if sel.Modify {
					mt.modify = append(mt.modify, c)
				}
			}
			if cond && len(q.Where) > 0 && string(q.Where) != "null" {
				c, err := ovsdb.ParseConditions(ts, q.Where)
				if err != nil {
					return nil, fmt.Errorf("table %s: %w", table, err)
				}
				mt.cond, mt.condKey = &c, compactJSON(q.Where)
			}
		}
		mt.setColKeys()
		out[table] = mt
	}
	return out, nil
}

// updates collects <table-updates> (or <table-updates2>) by table. A
// notification names few tables, so they are a list, not a map: a commit
// builds one per notified monitor.
type updates struct {
	tables []tableUpdates
	n      int
}

type tableUpdates struct {
	name string
	rows []rowUpdate
}

type rowUpdate struct {
	uuid ovsdb.UUID
	body []byte
}

func (u *updates) add(table string, uuid ovsdb.UUID, body []byte) {
	k := len(u.tables) - 1
	if k < 0 || u.tables[k].name != table {
		for k = 0; k < len(u.tables) && u.tables[k].name != table; k++ {
		}
		if k == len(u.tables) {
			u.tables = append(u.tables, tableUpdates{name: table})
		}
	}
	u.tables[k].rows = append(u.tables[k].rows, rowUpdate{uuid, body})
	u.n++
}

func (u *updates) json() []byte {
	if len(u.tables) > 1 {
		slices.SortFunc(u.tables, func(a, b tableUpdates) int { return strings.Compare(a.name, b.name) })
	}
	size := 2
	for _, t := range u.tables {
		size += len(t.name) + 6
		for _, r := range t.rows {
			size += 40 + len(r.body)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, t := range u.tables {
		if i > 0 {
			b = append(b, ',')
		}
		// Table names are identifiers (ovsdb(7)): nothing to escape.
		b = append(b, '"')
		b = append(b, t.name...)
		b = append(b, `":{`...)
		for j, r := range t.rows {
			if j > 0 {
				b = append(b, ',')
			}
			b = r.uuid.AppendQuoted(b)
			b = append(b, ':')
			b = append(b, r.body...)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// initialRow adds one row of the initial contents; the table selects
// initial rows and the row matches its condition.
func (m *monitor) initialRow(u *updates, table string, t *monTable, id ovsdb.UUID, r ovsdb.Row) {
	if m.version == 1 {
		u.add(table, id, wrap("new", ovsdb.RowJSON(t.ts, id, r, t.initial)))
		return
	}
	u.add(table, id, wrap("initial", ovsdb.InsertRowJSON(t.ts, r, t.initial, true)))
}

func wrap(key string, body []byte) []byte {
	b := make([]byte, 0, len(body)+len(key)+5)
	b = append(b, `{"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	b = append(b, body...)
	return append(b, '}')
}

// change adds the update for one changed row (old nil: insert; new nil:
// delete). With a cache (nil: none), bodies are shared within commit c.
func (m *monitor) change(u *updates, table string, t *monTable, id ovsdb.UUID, old, new ovsdb.Row, uc *updateCache, c *replica.Commit) {
	body := func(kind byte, build func() []byte) []byte {
		if uc == nil {
			return build()
		}
		v := m.version
		if v > 2 {
			v = 2
		}
		return uc.get(c, updateKey{id: id, version: v, kind: kind, cols: t.colKeys[kind]}, build)
	}
	const insert, del, modify = 0, 1, 2
	if m.version == 1 {
		switch {
		case old == nil:
			if t.sel.Insert {
				u.add(table, id, body(insert, func() []byte { return wrap("new", ovsdb.RowJSON(t.ts, id, new, t.insert)) }))
			}
		case new == nil:
			if t.sel.Delete {
				u.add(table, id, body(del, func() []byte { return wrap("old", ovsdb.RowJSON(t.ts, id, old, t.delete)) }))
			}
		default:
			if !t.sel.Modify {
				return
			}
			b := body(modify, func() []byte {
				changed := ovsdb.ColumnsChanged(t.ts, old, new, t.modify)
				if len(changed) == 0 {
					return []byte{}
				}
				b := []byte(`{"old":`)
				b = append(b, ovsdb.RowJSON(t.ts, id, old, changed)...)
				b = append(b, `,"new":`...)
				b = append(b, ovsdb.RowJSON(t.ts, id, new, t.modify)...)
				return append(b, '}')
			})
			if len(b) > 0 {
				u.add(table, id, b)
			}
		}
		return
	}
	mo := old != nil && t.match(id, old)
	mn := new != nil && t.match(id, new)
	switch {
	case mo && mn:
		if !t.sel.Modify {
			return
		}
		b := body(modify, func() []byte {
			if d, ok := update2Modify(t.ts, id, old, new, t.modify); ok {
				return wrap("modify", d)
			}
			return []byte{}
		})
		if len(b) > 0 {
			u.add(table, id, b)
		}
	case mn:
		if t.sel.Insert {
			u.add(table, id, body(insert, func() []byte { return wrap("insert", ovsdb.InsertRowJSON(t.ts, new, t.insert, true)) }))
		}
	case mo:
		if t.sel.Delete {
			u.add(table, id, []byte(`{"delete":null}`))
		}
	}
}

// onCommit runs on the apply path for every commit after the monitor started.
func (m *monitor) onCommit(c *replica.Commit) {
	m.mu.Lock()
	if m.stopped || c.Index <= m.skip {
		m.mu.Unlock()
		return
	}
	uc := m.s.srv.updateCache(m.db)
	if !uc.begin(c) {
		uc = nil
	} else if b, ok := uc.message(c, m.shape); ok {
		m.mu.Unlock()
		if b != nil {
			m.s.enqueue(b)
		}
		return
	}
	var u updates
	c.Changes.Each(func(table string, id ovsdb.UUID, old, new ovsdb.Row) {
		if t, ok := m.tables[table]; ok {
			m.change(&u, table, t, id, old, new, uc, c)
		}
	})
	var msg []byte
	if u.n > 0 {
		msg = m.message(m.id, c.TxnID, u.json())
	}
	if uc != nil {
		uc.putMessage(c, m.shape, msg)
	}
	m.mu.Unlock()
	if msg != nil {
		m.s.enqueue(msg)
	}
}

// message encodes the notification of body to the monitor.
func (m *monitor) message(id json.RawMessage, txnID string, body []byte) []byte {
	switch m.version {
	case 1:
		return notification("update", id, body)
	case 2:
		return notification("update2", id, body)
	default:
		t, _ := json.Marshal(txnID)
		return notification("update3", id, t, body)
	}
}

func (m *monitor) send(id json.RawMessage, txnID string, body []byte) {
	m.s.enqueue(m.message(id, txnID, body))
}

// monitor handles monitor, monitor_cond and monitor_cond_since.
func (s *session) monitor(msg *jsonrpc.Message) {
	version, n := 1, 3
	switch msg.Method {
	case "monitor_cond":
		version = 2
	case "monitor_cond_since":
		version, n = 3, 4
	}
	p, err := params(msg, n-1, n)
	if err != nil {
		s.replyErr(msg.ID, "syntax error", err.Error())
		return
	}
	d, err := s.database(p[0])
	if err != nil {
		s.replyErr(msg.ID, "unknown database", err.Error())
		return
	}
	var reqs json.RawMessage = json.RawMessage("{}")
	if len(p) > 2 {
		reqs = p[2]
	}
	lastTxn := replica.ZeroTxnID
	if version == 3 && len(p) > 3 {
		if lastTxn, err = stringParam(p[3], "last-txn-id"); err != nil {
			s.replyErr(msg.ID, "syntax error", err.Error())
			return
		}
	}
	tables, err := parseMonitorRequests(d.Schema(), reqs, version > 1)
	if err != nil {
		s.replyErr(msg.ID, "syntax error", err.Error())
		return
	}
	key := monitorKey(p[1])
	m := &monitor{s: s, db: d, id: p[1], version: version, tables: tables}
	m.setShapeLocked()
	s.mu.Lock()
	_, dup := s.monitors[key]
	full := len(s.monitors) >= s.srv.cfg.MaxMonitors
	if !dup && !full {
		s.monitors[key] = m
	}
	s.mu.Unlock()
	if dup {
		s.replyErr(msg.ID, "syntax error", "duplicate monitor ID "+key)
		return
	}
	if full {
		s.replyErr(msg.ID, "resources exhausted", fmt.Sprintf("more than %d monitors", s.srv.cfg.MaxMonitors))
		return
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	if version == 3 && lastTxn != replica.ZeroTxnID {
		// The client may come from a replica that is ahead of this one.
		wctx, wcancel := context.WithTimeout(context.Background(), sinceCatchUp)
		d.WaitFor(wctx, lastTxn)
		wcancel()
	}
	cancel := d.Watch(func(v replica.View) {
		var u updates
		found := false
		if version == 3 {
			var commits []*replica.Commit
			commits, found = v.Since(lastTxn)
			if found {
				m.sinceChanges(&u, commits)
			}
		}
		if !found {
			for _, t := range names {
				mt := tables[t]
				if !mt.sel.Initial {
					continue
				}
				v.DB.RowsMatching(t, func(id ovsdb.UUID, r ovsdb.Row) bool {
					m.initialRow(&u, t, mt, id, r)
					return true
				}, mt.cond)
			}
		}
		body := u.json()
		switch version {
		case 3:
			txn, _ := json.Marshal(v.TxnID)
			f := "false"
			if found {
				f = "true"
			}
			s.reply(msg.ID, json.RawMessage("["+f+","+string(txn)+","+string(body)+"]"))
		default:
			s.reply(msg.ID, body)
		}
	}, m.onCommit)
	m.mu.Lock()
	m.cancel = cancel
	stopped := m.stopped
	m.mu.Unlock()
	if stopped {
		cancel()
	}
}

// sinceChanges adds the net effect of commits, as update2 changes.
func (m *monitor) sinceChanges(u *updates, commits []*replica.Commit) {
	type net struct {
		table    string
		old, new ovsdb.Row
		first    bool
	}
	seen := map[ovsdb.UUID]*net{}
	var order []ovsdb.UUID
	for _, c := range commits {
		c.Changes.Each(func(table string, id ovsdb.UUID, old, new ovsdb.Row) {
			if _, ok := m.tables[table]; !ok {
				return
			}
			if n, ok := seen[id]; ok {
				n.new = new
				return
			}
			seen[id] = &net{table: table, old: old, new: new}
			order = append(order, id)
		})
	}
	for _, id := range order {
		n := seen[id]
		if n.old == nil && n.new == nil {
			continue
		}
		m.change(u, n.table, m.tables[n.table], id, n.old, n.new, nil, nil)
	}
}

func (s *session) monitorCancel(msg *jsonrpc.Message) {
	p, err := params(msg, 1, 1)
	if err != nil {
		s.replyErr(msg.ID, "syntax error", err.Error())
		return
	}
	key := monitorKey(p[0])
	s.mu.Lock()
	m, ok := s.monitors[key]
	delete(s.monitors, key)
	s.mu.Unlock()
	if !ok {
		s.replyErr2(msg.ID, "unknown monitor")
		return
	}
	m.stop()
	s.reply(msg.ID, json.RawMessage("{}"))
}

// monitorCondChange handles monitor_cond_change: new conditions (and
// optionally a new monitor id); rows that start matching are sent as
// inserts, rows that stop matching as deletes.
func (s *session) monitorCondChange(msg *jsonrpc.Message) {
	p, err := params(msg, 3, 3)
	if err != nil {
		s.replyErr(msg.ID, "syntax error", err.Error())
		return
	}
	oldKey, newKey := monitorKey(p[0]), monitorKey(p[1])
	s.mu.Lock()
	m, ok := s.monitors[oldKey]
	_, clash := s.monitors[newKey]
	s.mu.Unlock()
	if !ok {
		s.replyErr(msg.ID, "syntax error", "unknown monitor "+oldKey)
		return
	}
	if m.version == 1 {
		s.replyErr(msg.ID, "syntax error", "monitor_cond_change on a monitor without conditions")
		return
	}
	if clash && newKey != oldKey {
		s.replyErr(msg.ID, "syntax error", "duplicate monitor ID "+newKey)
		return
	}
	var reqs map[string][]struct {
		Columns *[]string       `json:"columns"`
		Where   json.RawMessage `json:"where"`
	}
	if err := json.Unmarshal(p[2], &reqs); err != nil {
		s.replyErr(msg.ID, "syntax error", "monitor-cond-change requests: "+err.Error())
		return
	}
	conds := map[string]*ovsdb.Conditions{}
	condKeys := map[string]string{}
	for table, list := range reqs {
		mt, ok := m.tables[table]
		if !ok {
			s.replyErr(msg.ID, "syntax error", fmt.Sprintf("table %s is not monitored", table))
			return
		}
		for _, r := range list {
			if len(r.Where) == 0 || string(r.Where) == "null" {
				continue
			}
			c, err := ovsdb.ParseConditions(mt.ts, r.Where)
			if err != nil {
				s.replyErr(msg.ID, "syntax error", fmt.Sprintf("table %s: %v", table, err))
				return
			}
			conds[table] = &c
			condKeys[table] = compactJSON(r.Where)
		}
	}
	m.db.Exclusive(func(v replica.View) {
		m.mu.Lock()
		var u updates
		names := make([]string, 0, len(conds))
		for t := range conds {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, table := range names {
			mt := m.tables[table]
			nt := *mt
			nt.cond = conds[table]
			// The rows either condition matches, and of them those whose
			// match changes.
			v.DB.RowsMatching(table, func(id ovsdb.UUID, r ovsdb.Row) bool {
				was, is := mt.match(id, r), nt.match(id, r)
				switch {
				case is && !was:
					u.add(table, id, wrap("insert", ovsdb.InsertRowJSON(nt.ts, r, nt.initial, true)))
				case was && !is:
					u.add(table, id, []byte(`{"delete":null}`))
				}
				return true
			}, mt.cond, nt.cond)
			mt.cond, mt.condKey = conds[table], condKeys[table]
		}
		m.id = p[1]
		m.skip = v.Index
		m.setShapeLocked()
		m.mu.Unlock()
		if newKey != oldKey {
			s.mu.Lock()
			delete(s.monitors, oldKey)
			s.monitors[newKey] = m
			s.mu.Unlock()
		}
		if u.n > 0 {
			m.send(p[1], v.TxnID, u.json())
		}
		s.reply(msg.ID, json.RawMessage("{}"))
	})
}
