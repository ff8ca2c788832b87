package replica

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"hcnet/internal/metrics"
	"hcnet/internal/ovsdb"
	"hcnet/internal/ovsdb/storage"
)

// The history monitor_cond_since resumes from keeps at most HistoryLen
// commits and HistoryRows changed rows (old rows are kept alive by it).
const (
	HistoryLen  = 1000
	HistoryRows = 20000
)

// A log entry carries a batch of transactions (group commit). Positions
// order them: the entry's log index shifted left by subBits, plus the
// transaction's place in the batch. A fully applied entry's position has all
// sub bits set.
const (
	subBits  = 12
	maxBatch = 1<<subBits - 1
)

func position(index uint64, sub int) uint64 { return index<<subBits | uint64(sub) }
func endOf(index uint64) uint64             { return index<<subBits | maxBatch }

// Commit is one applied transaction that changed rows.
type Commit struct {
	Index   uint64 // position: log index << 12 | place in the entry's batch
	TxnID   string // the id monitor_cond_since reports; equal on every replica
	Changes *ovsdb.ChangeSet
}

// ZeroTxnID is reported before the first commit.
const ZeroTxnID = "00000000-0000-0000-0000-000000000000"

// TxnIDFor derives the transaction id of the transaction at position pos
// in shard; every replica derives the same.
func TxnIDFor(shard, pos uint64) string {
	var u [16]byte
	binary.BigEndian.PutUint32(u[0:4], uint32(shard))
	binary.BigEndian.PutUint16(u[4:6], uint16(pos>>60))
	binary.BigEndian.PutUint16(u[6:8], 0x4000|uint16(pos>>48)&0x0fff)
	binary.BigEndian.PutUint64(u[8:16], pos&0x0000ffffffffffff|0x8000000000000000)
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// DB is one served database.
type DB struct {
	name    string
	schema  *ovsdb.Schema
	shardID uint64
	log     *slog.Logger

	shard *storage.Shard // nil for local DBs

	mu          sync.RWMutex // guards everything below
	db          *ovsdb.Database
	applied     uint64 // position of the last transaction committed in memory
	txnID       string
	pending     []*Commit // committed in memory, not yet published
	history     []*Commit
	historyRows int // changed rows in history
	watchers    map[*watcher]struct{}
	changed     chan struct{} // closed and replaced on every publication
	loadRows    []loadRow
	dedup       map[[16]byte][]byte
	dedupQ      [][16]byte
	traced      [][16]byte // applied since the last publication (tracing only)

	metrics *Metrics  // nil: none
	trace   *txnTrace // nil unless HCNET_TXN_TRACE is set

	bmu      sync.Mutex // guards waiting, inflight, stopped
	waiting  []*pending // transactions queued for the next proposal
	inflight int
	stopped  bool
}

type watcher struct {
	start uint64
	fn    func(*Commit)
}

// NewLocal returns an in-memory database (no log, no disk).
func NewLocal(s *ovsdb.Schema, log *slog.Logger) *DB {
	return newDB(s, 0, log)
}

// New returns a database to be driven by a storage shard: pass DB as the
// shard's Applier, then Attach the started shard.
func New(s *ovsdb.Schema, shardID uint64, log *slog.Logger) *DB {
	return newDB(s, shardID, log)
}

func newDB(s *ovsdb.Schema, shardID uint64, log *slog.Logger) *DB {
	if log == nil {
		log = slog.Default()
	}
	return &DB{
		name: s.Name, schema: s, shardID: shardID, log: log.With("db", s.Name),
		db: ovsdb.NewDatabase(s), txnID: ZeroTxnID,
		watchers: map[*watcher]struct{}{}, changed: make(chan struct{}),
		dedup: map[[16]byte][]byte{},
		trace: traceFromEnv(),
	}
}

// Attach connects the started shard; writes go through it from now on.
func (d *DB) Attach(s *storage.Shard) { d.shard = s }

// Close stops proposing; transactions still queued fail.
func (d *DB) Close() {
	d.bmu.Lock()
	defer d.bmu.Unlock()
	d.stopped = true
	for _, p := range d.waiting {
		p.done <- proposed{err: ErrStopped}
	}
	d.waiting = nil
}

// Name is the database name.
func (d *DB) Name() string { return d.name }

// Schema is the database schema.
func (d *DB) Schema() *ovsdb.Schema { return d.schema }

// Clustered reports whether the database is backed by a Raft shard.
func (d *DB) Clustered() bool { return d.shard != nil }

// Shard returns the storage shard (nil for local DBs).
func (d *DB) Shard() *storage.Shard { return d.shard }

// ShardID returns the shard id (0 for local DBs).
func (d *DB) ShardID() uint64 { return d.shardID }

// Index returns the last applied log index.
func (d *DB) Index() uint64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.applied >> subBits
}

// Read runs fn with the database under the read lock.
func (d *DB) Read(fn func(db *ovsdb.Database)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	fn(d.db)
}

// View is the state a watcher starts from.
type View struct {
	DB    *ovsdb.Database
	TxnID string
	Index uint64
	d     *DB
}

// Since returns the commits after txnID, oldest first, and whether txnID is
// known (the current id or one in the bounded history).
func (v View) Since(txnID string) ([]*Commit, bool) {
	if txnID == v.TxnID {
		return nil, txnID != ZeroTxnID
	}
	h := v.d.history
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].TxnID == txnID {
			var out []*Commit
			for _, c := range h[i+1:] {
				if c.Index <= v.Index {
					out = append(out, c)
				}
			}
			return out, true
		}
	}
	return nil, false
}

// Watch runs init with the current state, then delivers every later commit
// to fn, in commit order, until cancel is called. fn runs on the apply path:
// it must not block and must not call back into the DB.
func (d *DB) Watch(init func(View), fn func(*Commit)) (cancel func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if init != nil {
		init(View{DB: d.db, TxnID: d.txnID, Index: d.applied, d: d})
	}
	w := &watcher{start: d.applied, fn: fn}
	d.watchers[w] = struct{}{}
	return func() {
		d.mu.Lock()
		delete(d.watchers, w)
		d.mu.Unlock()
	}
}

// Changed returns a channel closed at the next publication.
func (d *DB) Changed() <-chan struct{} {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.changed
}

// Request is one transaction from a client.
type Request struct {
	Ops         json.RawMessage // the transact params after the database name
	Locks       map[string]bool // locks the session holds
	WaitExpired bool
	// Shortcut lets a transaction that changes nothing on the current state
	// (a read, or one that fails) be answered without a log entry. Use it only
	// when the session has no transaction in flight.
	Shortcut bool
}

// Response is a transaction's outcome.
type Response struct {
	Reply   json.RawMessage // the transact result array
	Blocked bool            // a wait with a timeout does not hold yet
}

// Metrics are the DB's instruments (see internal/metrics); any may be nil.
type Metrics struct {
	Transactions *metrics.Counter   // transactions answered
	Failed       *metrics.Counter   // transactions that returned an error (not an operation error)
	Latency      *metrics.Histogram // seconds from Transact to the local apply
}

// SetMetrics installs instruments; call it before the DB serves.
func (d *DB) SetMetrics(m *Metrics) { d.metrics = m }

// Transact runs one transaction and returns once it is applied locally.
func (d *DB) Transact(ctx context.Context, r Request) (Response, error) {
	m := d.metrics
	if m == nil {
		return d.transact(ctx, r)
	}
	start := time.Now()
	resp, err := d.transact(ctx, r)
	if m.Transactions != nil {
		m.Transactions.Inc()
	}
	if err != nil && m.Failed != nil {
		m.Failed.Inc()
	}
	if m.Latency != nil {
		m.Latency.Since(start)
	}
	return resp, err
}

func (d *DB) transact(ctx context.Context, r Request) (Response, error) {
	var e entry
	if _, err := rand.Read(e.ID[:]); err != nil {
		return Response{}, err
	}
	if _, err := rand.Read(e.Seed[:]); err != nil {
		return Response{}, err
	}
	e.WaitExpired = r.WaitExpired
	e.Locks = sortedLocks(r.Locks)
	e.Ops = r.Ops
	d.trace.mark(e.ID, func(t *txnTimes, now time.Time) { t.received = now })
	if d.shard == nil {
		return d.transactLocal(&e), nil
	}
	if r.Shortcut {
		d.mu.RLock()
		res := d.db.Execute(ovsdb.Txn{Ops: e.Ops, Seed: e.Seed, WaitExpired: e.WaitExpired, Locks: r.Locks})
		d.mu.RUnlock()
		if res.Blocked {
			// Nothing to log until the wait can hold (or times out).
			return Response{Blocked: true}, nil
		}
		if res.Changes == nil || res.Changes.Empty() {
			return Response{Reply: res.Reply}, nil
		}
	}
	return d.propose(ctx, &e)
}

func (d *DB) transactLocal(e *entry) Response {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.applied = endOf(d.applied>>subBits + 1)
	res := d.applyLocked(d.applied, e)
	d.publishLocked()
	return Response{Reply: res.Reply, Blocked: res.Blocked}
}

// applyLocked executes and commits one transaction in memory at pos.
func (d *DB) applyLocked(pos uint64, e *entry) ovsdb.Result {
	locks := map[string]bool{}
	for _, l := range e.Locks {
		locks[l] = true
	}
	res := d.db.Execute(ovsdb.Txn{Ops: e.Ops, Seed: e.Seed, WaitExpired: e.WaitExpired, Locks: locks})
	if !res.Blocked && res.Changes != nil && !res.Changes.Empty() {
		d.db.Commit(res.Changes)
		c := &Commit{Index: pos, TxnID: TxnIDFor(d.shardID, pos), Changes: res.Changes}
		d.txnID = c.TxnID
		d.pending = append(d.pending, c)
		d.history = append(d.history, c)
		d.historyRows += res.Changes.Len()
		drop := 0
		for len(d.history)-drop > 1 && (len(d.history)-drop > HistoryLen || d.historyRows > HistoryRows) {
			d.historyRows -= d.history[drop].Changes.Len()
			drop++
		}
		if drop > 0 {
			d.history = append(d.history[:0:0], d.history[drop:]...)
		}
	}
	d.applied = pos
	return res
}

// publishLocked hands pending commits to watchers and wakes waiters.
func (d *DB) publishLocked() {
	for _, c := range d.pending {
		for w := range d.watchers {
			if c.Index > w.start {
				w.fn(c)
			}
		}
	}
	d.pending = d.pending[:0]
	close(d.changed)
	d.changed = make(chan struct{})
}

// ---- storage.Applier ----

// Row keys: table name, 0x00, the 16 UUID bytes. The meta key holds the
// index of the last commit that changed rows (the current transaction id).
var metaTxn = []byte{0x01, 't'}

func rowKey(table string, u ovsdb.UUID) []byte {
	k := make([]byte, 0, len(table)+17)
	k = append(k, table...)
	k = append(k, 0)
	return append(k, u[:]...)
}

type loadRow struct {
	table string
	uuid  ovsdb.UUID
	data  []byte
}

// Reset implements storage.Applier.
func (d *DB) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.db = ovsdb.NewDatabase(d.schema)
	d.loadRows = nil
	d.history = nil
	d.historyRows = 0
	d.txnID = ZeroTxnID
}

// Load implements storage.Applier.
func (d *DB) Load(key, value []byte) error {
	if string(key) == string(metaTxn) {
		if len(value) != 8 {
			return fmt.Errorf("bad transaction index of %d bytes", len(value))
		}
		d.mu.Lock()
		d.txnID = TxnIDFor(d.shardID, binary.BigEndian.Uint64(value))
		d.mu.Unlock()
		return nil
	}
	i := len(key) - 17
	if i < 1 || key[i] != 0 {
		return fmt.Errorf("bad row key %q", key)
	}
	var u ovsdb.UUID
	copy(u[:], key[i+1:])
	d.loadRows = append(d.loadRows, loadRow{table: string(key[:i]), uuid: u, data: value})
	return nil
}

// Loaded implements storage.Applier.
func (d *DB) Loaded(index uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rows := d.loadRows
	d.loadRows = nil
	if err := loadDatabase(d.db, d.schema, rows); err != nil {
		return fmt.Errorf("load %s: %w", d.name, err)
	}
	d.applied = endOf(index)
	d.log.Info("database loaded", "rows", len(rows), "index", index)
	return nil
}

// Apply implements storage.Applier.
func (d *DB) Apply(index uint64, cmd []byte) (storage.Applied, error) {
	batch, err := decodeBatch(cmd)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		// A malformed entry is a bug in the proposer; skip it deterministically.
		d.log.Error("skipping malformed entry", "index", index, "err", err)
		d.applied = endOf(index)
		return storage.Applied{}, nil
	}
	var out storage.Applied
	results := make([][]byte, len(batch))
	var lastChange uint64
	var changed []*ovsdb.ChangeSet
	for i, e := range batch {
		if r, ok := d.dedup[e.ID]; ok {
			results[i] = r
			continue
		}
		pos := position(index, i)
		d.trace.mark(e.ID, func(t *txnTimes, now time.Time) { t.applyStart, t.batch = now, len(batch) })
		res := d.applyLocked(pos, e)
		d.trace.mark(e.ID, func(t *txnTimes, now time.Time) { t.applyEnd = now })
		if d.trace != nil {
			d.traced = append(d.traced, e.ID)
		}
		results[i] = encodeResult(res.Blocked, res.Reply)
		if n := len(d.pending); n > 0 && d.pending[n-1].Index == pos {
			lastChange = pos
			changed = append(changed, res.Changes)
			out.EncodeKeys += res.Changes.Len()
		}
		d.dedup[e.ID] = results[i]
		d.dedupQ = append(d.dedupQ, e.ID)
		if len(d.dedupQ) > 4096 {
			delete(d.dedup, d.dedupQ[0])
			d.dedupQ = d.dedupQ[1:]
		}
	}
	if lastChange != 0 {
		// The stored rows are encoded on the store's writer goroutine: the
		// committed change sets and their rows are never modified again.
		schema := d.schema
		out.Encode = func(put func(storage.KV)) {
			var rowBuf []byte
			for _, cs := range changed {
				cs.Each(func(table string, u ovsdb.UUID, old, new ovsdb.Row) {
					kv := storage.KV{Key: rowKey(table, u)}
					if new != nil {
						// The compact stored form (defaults left out), in one
						// buffer per entry: the Pebble batch copies values.
						start := len(rowBuf)
						rowBuf = ovsdb.AppendStoredRowJSON(rowBuf, schema.Tables[table], new)
						kv.Value = rowBuf[start:len(rowBuf):len(rowBuf)]
					}
					put(kv)
				})
			}
			var ib [8]byte
			binary.BigEndian.PutUint64(ib[:], lastChange)
			put(storage.KV{Key: metaTxn, Value: ib[:]})
		}
		out.EncodeKeys++
	}
	d.applied = endOf(index)
	out.Result = encodeResults(results)
	return out, nil
}

// Published implements storage.Applier.
func (d *DB) Published(index uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range d.traced {
		d.trace.mark(id, func(t *txnTimes, now time.Time) { t.publishing = now })
	}
	d.publishLocked()
	for _, id := range d.traced {
		d.trace.mark(id, func(t *txnTimes, now time.Time) { t.published = now })
	}
	d.traced = d.traced[:0]
}

// ErrReadOnly is returned for writes to a read-only database.
var ErrReadOnly = errors.New("replica: database is read-only")

// Exclusive runs fn with the current state while no commit is published.
// A caller that changes what it watches in fn should ignore commits with an
// index at or below View.Index afterwards (they are already in the state).
func (d *DB) Exclusive(fn func(View)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(View{DB: d.db, TxnID: d.txnID, Index: d.applied, d: d})
}

// positionOf decodes a transaction id made by TxnIDFor for shard.
func positionOf(shard uint64, txnID string) (uint64, bool) {
	var u [16]byte
	h := strings.ReplaceAll(txnID, "-", "")
	if len(h) != 32 {
		return 0, false
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return 0, false
	}
	if binary.BigEndian.Uint32(u[0:4]) != uint32(shard) || u[6]&0xf0 != 0x40 {
		return 0, false
	}
	pos := uint64(binary.BigEndian.Uint16(u[4:6]))<<60 |
		uint64(binary.BigEndian.Uint16(u[6:8])&0x0fff)<<48 |
		binary.BigEndian.Uint64(u[8:16])&0x0000ffffffffffff
	return pos, true
}

// WaitFor waits (bounded by ctx) until this replica has applied the
// transaction txnID names, when txnID is one of this database's and ahead
// of it: a client that saw it on a replica further ahead can then resume
// here with monitor_cond_since instead of resynchronising in full. It
// returns at once for unknown ids.
func (d *DB) WaitFor(ctx context.Context, txnID string) {
	if d.shard == nil || txnID == ZeroTxnID {
		return
	}
	pos, ok := positionOf(d.shardID, txnID)
	if !ok {
		return
	}
	for {
		d.mu.RLock()
		done := d.applied >= pos
		ch := d.changed
		d.mu.RUnlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}
