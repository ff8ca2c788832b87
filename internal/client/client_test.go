package client

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/ovstest"
)

const nb = "OVN_Northbound"

func startNB(t *testing.T) *ovstest.OVSDBServer {
	return ovstest.StartOVSDBServer(t, ovstest.SchemaPath(t, "ovn-nb.ovsschema"))
}

func dial(t *testing.T, remote string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, remote, Options{Database: nb, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// recorder collects monitor updates and lets a test wait for a condition on them.
type recorder struct {
	mu   sync.Mutex
	rows map[string]ovsdb.Row // uuid -> current row (Logical_Switch)
	log  []string             // "kind name-or-uuid"
	wake chan struct{}
}

func newRecorder() *recorder {
	return &recorder{rows: map[string]ovsdb.Row{}, wake: make(chan struct{}, 1)}
}

func (r *recorder) handle(u TableUpdates) {
	r.mu.Lock()
	for uuid, ru := range u["Logical_Switch"] {
		switch ru.Kind {
		case Initial, Insert:
			r.rows[uuid] = ru.Row
			r.log = append(r.log, ru.Kind+" "+ru.Row["name"].(string))
		case Modify:
			for k, v := range ru.Row {
				r.rows[uuid][k] = v
			}
			r.log = append(r.log, "modify "+r.rows[uuid]["name"].(string))
		case Delete:
			r.log = append(r.log, "delete "+r.rows[uuid]["name"].(string))
			delete(r.rows, uuid)
		}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) names() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for _, row := range r.rows {
		out[row["name"].(string)] = true
	}
	return out
}

// waitFor polls cond each time an update arrives, until the deadline.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-r.wake:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; updates seen: %v", what, r.log)
		}
	}
}

func insertLS(t *testing.T, c *Client, name string) string {
	t.Helper()
	res, err := c.Transact(ctx(t), nb, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": name}})
	if err != nil {
		t.Fatalf("insert %s: %v", name, err)
	}
	return res[0].UUID.GoUUID
}

func TestTransactAndMonitor(t *testing.T) {
	srv := startNB(t)
	c := dial(t, srv.Remote())
	insertLS(t, c, "before")
	rec := newRecorder()
	if _, err := c.Monitor(ctx(t), nb, map[string]MonitorRequest{"Logical_Switch": {Columns: []string{"name", "other_config"}}}, rec.handle); err != nil {
		t.Fatal(err)
	}
	// The initial contents are processed before Monitor returns.
	if !rec.names()["before"] {
		t.Fatalf("initial state missing: %v", rec.log)
	}
	uuid := insertLS(t, c, "sw0")
	rec.waitFor(t, "insert of sw0", func() bool { return rec.names()["sw0"] })
	_, err := c.Transact(ctx(t), nb, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Logical_Switch",
		Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: uuid}}},
		Row:   ovsdb.Row{"name": "sw1"}})
	if err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "rename to sw1", func() bool { n := rec.names(); return n["sw1"] && !n["sw0"] })
	_, err = c.Transact(ctx(t), nb, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "Logical_Switch",
		Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "sw1"}}})
	if err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "delete of sw1", func() bool { return !rec.names()["sw1"] })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"initial before", "insert sw0", "modify sw1", "delete sw1"}
	if len(rec.log) != len(want) {
		t.Fatalf("updates %v, want %v", rec.log, want)
	}
	for i := range want {
		if rec.log[i] != want[i] {
			t.Fatalf("updates %v, want %v", rec.log, want)
		}
	}
}

func TestMonitorCondChange(t *testing.T) {
	srv := startNB(t)
	c := dial(t, srv.Remote())
	rec := newRecorder()
	m, err := c.Monitor(ctx(t), nb, map[string]MonitorRequest{"Logical_Switch": {
		Columns: []string{"name"},
		Where:   []any{ovsdb.Condition{Column: "name", Function: ovsdb.ConditionEqual, Value: "a"}},
	}}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	insertLS(t, c, "b")
	insertLS(t, c, "a")
	rec.waitFor(t, "a", func() bool { return rec.names()["a"] })
	if rec.names()["b"] {
		t.Fatalf("b is outside the condition but was delivered: %v", rec.log)
	}
	err = m.Change(ctx(t), map[string]MonitorRequest{"Logical_Switch": {
		Where: []any{ovsdb.Condition{Column: "name", Function: ovsdb.ConditionEqual, Value: "b"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "b in, a out", func() bool { n := rec.names(); return n["b"] && !n["a"] })
	// A condition that matches nothing.
	if err := m.Change(ctx(t), map[string]MonitorRequest{"Logical_Switch": {Where: []any{false}}}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "nothing", func() bool { return len(rec.names()) == 0 })
}

func TestLockHandover(t *testing.T) {
	srv := startNB(t)
	c1 := dial(t, srv.Remote())
	c2 := dial(t, srv.Remote())
	l1, err := c1.Lock(ctx(t), "ovn_northd")
	if err != nil {
		t.Fatal(err)
	}
	if !l1.Held() {
		t.Fatal("first client did not get a free lock")
	}
	l2, err := c2.Lock(ctx(t), "ovn_northd")
	if err != nil {
		t.Fatal(err)
	}
	if l2.Held() {
		t.Fatal("second client holds a lock the first one has")
	}
	c1.Close() // the server releases the lock with the session
	select {
	case held := <-l2.Acquired():
		if !held {
			t.Fatal("got a lost signal, want locked")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second client never got the lock after the first one left")
	}
	// Stealing takes it back and tells the loser.
	c3 := dial(t, srv.Remote())
	if _, err := c3.Steal(ctx(t), "ovn_northd"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for l2.Held() {
		select {
		case <-l2.Acquired():
		case <-deadline:
			t.Fatal("holder was not told the lock was stolen")
		}
	}
}

func TestErrors(t *testing.T) {
	srv := startNB(t)
	c := dial(t, srv.Remote())
	_, err := c.Transact(ctx(t), "No_Such_DB", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "x"})
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Kind != "unknown database" {
		t.Fatalf("unknown database: got %v", err)
	}
	_, err = c.Transact(ctx(t), nb, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "ACL", Row: ovsdb.Row{
		"action": "bogus", "direction": "to-lport", "match": "1", "priority": 1}})
	var operr *OpError
	if !errors.As(err, &operr) || operr.Kind != "constraint violation" || operr.Index != 0 {
		t.Fatalf("bad enum: got %#v", err)
	}
	if _, err := ParseRemotes("tcp:nohostport"); err == nil {
		t.Fatal("tcp remote without a port accepted")
	}
	if _, err := ParseRemotes("ssl:1.2.3.4:6641"); err == nil {
		t.Fatal("ssl remote accepted")
	}
}

// TestReconnectResync restarts the server with a database changed while it
// was down: the monitor comes back by itself and the handler's view is
// corrected (a deletion for the row that went, the new row).
func TestReconnectResync(t *testing.T) {
	srv := startNB(t)
	c := dial(t, srv.Remote())
	insertLS(t, c, "stays")
	insertLS(t, c, "goes")
	rec := newRecorder()
	if _, err := c.Monitor(ctx(t), nb, map[string]MonitorRequest{"Logical_Switch": {Columns: []string{"name"}}}, rec.handle); err != nil {
		t.Fatal(err)
	}
	l, err := c.Lock(ctx(t), "L")
	if err != nil || !l.Held() {
		t.Fatalf("lock: %v held=%v", err, l != nil && l.Held())
	}
	srv.Stop()
	out, err := exec.Command("ovsdb-tool", "transact", srv.DBs[0], `["OVN_Northbound",
		{"op":"delete","table":"Logical_Switch","where":[["name","==","goes"]]},
		{"op":"insert","table":"Logical_Switch","row":{"name":"new"}}]`).CombinedOutput()
	if err != nil {
		t.Fatalf("ovsdb-tool transact: %v: %s", err, out)
	}
	srv.Start(t)
	rec.waitFor(t, "resync after restart", func() bool {
		n := rec.names()
		return n["stays"] && n["new"] && !n["goes"]
	})
	// The lock is asked for again on the new connection.
	deadline := time.After(10 * time.Second)
	for !l.Held() {
		select {
		case <-l.Acquired():
		case <-deadline:
			t.Fatal("lock not re-acquired after reconnect")
		}
	}
	// And the client transacts on the new connection.
	insertLS(t, c, "after")
	rec.waitFor(t, "insert after reconnect", func() bool { return rec.names()["after"] })
}
