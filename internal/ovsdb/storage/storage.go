package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/client"
	"github.com/lni/dragonboat/v4/config"
	dblogger "github.com/lni/dragonboat/v4/logger"
	"github.com/lni/dragonboat/v4/plugin/tan"
	sm "github.com/lni/dragonboat/v4/statemachine"
)

// ErrClosed is returned by proposals on a shard that has been stopped.
var ErrClosed = errors.New("storage: closed")

// KV is one key written by an entry. A nil Value deletes the key.
type KV struct {
	Key   []byte
	Value []byte
}

// Applied is what an Applier produced for one entry.
type Applied struct {
	// Writes are the keys to persist, in order, in the same Pebble batch as
	// the applied index.
	Writes []KV
	// Encode, if set, produces more keys to persist after Writes. It runs
	// later on the store's writer goroutine, off the apply path, so it must
	// read only values that nothing modifies any more.
	Encode func(put func(KV))
	// EncodeKeys is about how many keys Encode produces (small updates are
	// written on the apply path when the writer is idle: no hand-over).
	EncodeKeys int
	// Result is handed back to the proposer.
	Result []byte
}

// AllWrites returns Writes followed by what Encode produces.
func (a Applied) AllWrites() []KV {
	out := append([]KV(nil), a.Writes...)
	if a.Encode != nil {
		a.Encode(func(kv KV) { out = append(out, kv) })
	}
	return out
}

// Applier is the deterministic application behind a shard. Apply is called
// from one goroutine, in log order, and must read nothing but the command and
// the state built by earlier calls. It applies the entry to its in-memory
// state before returning (later entries of the same batch see it).
// Published is called once the entries of one Update are applied (they are
// durable in the Raft log already; their writes reach Pebble in order on the
// store's writer goroutine, off the apply path), with the last index, so the
// application may notify observers in commit order.
type Applier interface {
	// Reset drops all in-memory state (before Load on open or snapshot recovery).
	Reset()
	// Load restores one persisted key.
	Load(key, value []byte) error
	// Loaded is called after the last Load, with the applied index.
	Loaded(index uint64) error
	// Apply executes the entry at index.
	Apply(index uint64, cmd []byte) (Applied, error)
	// Published reports that entries up to index are applied.
	Published(index uint64)
}

// NodeConfig configures the process-wide Raft node.
type NodeConfig struct {
	// Dir holds the Raft log and the shards' Pebble stores. Required.
	Dir string
	// RaftAddress is this node's Raft address, host:port. Default 127.0.0.1:0
	// is not allowed by Dragonboat; the default is 127.0.0.1:7000 + nothing
	// else listening is assumed. Tests pass a free port.
	RaftAddress string
	// RTT is the expected round trip between nodes; Raft timeouts are
	// multiples of it. Default 20ms (a LAN).
	RTT time.Duration
	// Logger receives storage events. Default slog.Default().
	Logger *slog.Logger
}

// Node is one Dragonboat NodeHost.
type Node struct {
	cfg   NodeConfig
	nh    *dragonboat.NodeHost
	log   *slog.Logger
	logFS *logFS            // nil with the legacy log store
	tr    *transportFactory // the Raft transport (transport.go)

	mu     sync.Mutex // guards shards
	shards map[uint64]*Shard

	closed    chan struct{}
	closeOnce sync.Once
}

var quietOnce sync.Once

// quietDragonboat lowers Dragonboat's own package loggers, which are process
// wide in that library, to warnings.
func quietDragonboat() {
	quietOnce.Do(func() {
		for _, p := range []string{"dragonboat", "raft", "rsm", "transport", "logdb", "raftpb", "config", "settings", "grpc", "tan", "registry"} {
			dblogger.GetLogger(p).SetLevel(dblogger.ERROR)
		}
		// A peer that is down is routine in a cluster: the transport would
		// log every failed reconnection.
		dblogger.GetLogger("transport").SetLevel(dblogger.CRITICAL)
	})
}

// OpenNode starts the NodeHost.
func OpenNode(cfg NodeConfig) (*Node, error) {
	if cfg.Dir == "" {
		return nil, errors.New("storage: node config: Dir is required")
	}
	if cfg.RaftAddress == "" {
		cfg.RaftAddress = "127.0.0.1:7000"
	}
	if cfg.RTT <= 0 {
		cfg.RTT = 20 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	quietDragonboat()
	raftDir := filepath.Join(cfg.Dir, "raft")
	if err := os.MkdirAll(raftDir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", raftDir, err)
	}
	logdb := config.GetTinyMemLogDBConfig()
	logdb.Shards = 1
	nhc := config.NodeHostConfig{
		NodeHostDir:    raftDir,
		WALDir:         raftDir,
		RTTMillisecond: uint64(cfg.RTT / time.Millisecond),
		RaftAddress:    cfg.RaftAddress,
		Expert: config.ExpertConfig{
			LogDB: logdb,
			Engine: config.EngineConfig{
				ExecShards: 1, CommitShards: 1, ApplyShards: 1, SnapshotShards: 1, CloseShards: 1,
			},
		},
	}
	var lfs *logFS
	if legacyLogDB(raftDir) {
		cfg.Logger.Info("raft log in pebble (data directory from an earlier version)", "dir", raftDir)
	} else {
		nhc.Expert.LogDBFactory = stateSyncFactory{tan.Factory}
		lfs = newLogFS()
		nhc.Expert.FS = lfs
		// tan keeps one scratch buffer of this size for each of its 16
		// shards (64 MiB with the tiny preset's 4 MiB, live for the whole
		// process and multiplied by the daemons' GC percent); a larger
		// update allocates its own.
		nhc.Expert.LogDB.KVWriteBufferSize = tanBuffer
	}
	tr := newTransportFactory(cfg.Logger)
	nhc.Expert.TransportFactory = tr
	nh, err := dragonboat.NewNodeHost(nhc)
	if err != nil {
		return nil, fmt.Errorf("storage: start raft node at %s (dir %s): %w", cfg.RaftAddress, raftDir, err)
	}
	return &Node{cfg: cfg, nh: nh, log: cfg.Logger, logFS: lfs, tr: tr, shards: map[uint64]*Shard{}, closed: make(chan struct{})}, nil
}

// tanBuffer is the size of tan's per-shard encoding buffers.
const tanBuffer = 512 << 10

// legacyLogDB reports whether raftDir holds a Raft log in Dragonboat's
// Pebble log store, which earlier versions used; it is kept (the log store
// cannot change under existing data). New directories use tan, an
// append-only log with one file per replica, on logFS.
func legacyLogDB(raftDir string) bool {
	if _, err := os.Stat(filepath.Join(raftDir, "dragonboat.ds")); err != nil {
		return false
	}
	tanFound := false
	_ = filepath.WalkDir(raftDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "tandb" {
			tanFound = true
			return filepath.SkipAll
		}
		return nil
	})
	return !tanFound
}

// ShardConfig configures one database's shard.
type ShardConfig struct {
	// ShardID names the shard (one per database). Required, non-zero.
	ShardID uint64
	// ReplicaID of this node in the shard. Default 1.
	ReplicaID uint64
	// Members maps replica IDs to Raft addresses. Default: only this node.
	Members map[uint64]string
	// Name is the database name, used for the Pebble directory and logs.
	Name string
	// SnapshotEntries: take a snapshot (and compact the log) every this many
	// entries. Default 10000.
	SnapshotEntries uint64
	// SnapshotBytes: also take one once the entries applied since the last
	// snapshot exceed this many bytes. Default 64 MiB; negative disables.
	SnapshotBytes int64
	// Applier is the application. Required.
	Applier Applier
	// ReadyTimeout bounds the wait for a leader. Default 30s.
	ReadyTimeout time.Duration
	// Join starts a replica that an existing cluster added with AddReplica
	// (Members is then ignored). Ignored when the data directory already
	// holds the shard.
	Join bool
	// NonVoting starts the replica as a non-voting member (it must have been
	// added with AddNonVoting).
	NonVoting bool
	// ElectionRTT is the election timeout in RTTs. Default 10 (200 ms at
	// the default RTT). Heartbeats go every RTT.
	ElectionRTT uint64
}

// Shard is one running database shard on this node.
type Shard struct {
	node    *Node
	cfg     ShardConfig
	session *client.Session
	sm      *stateMachine
}

// StartShard starts (creating or recovering) a shard and waits until it has a
// leader and has replayed its log.
func (n *Node) StartShard(ctx context.Context, cfg ShardConfig) (*Shard, error) {
	if cfg.ShardID == 0 || cfg.Applier == nil || cfg.Name == "" {
		return nil, fmt.Errorf("storage: shard config %q: ShardID, Name and Applier are required", cfg.Name)
	}
	if cfg.ReplicaID == 0 {
		cfg.ReplicaID = 1
	}
	if cfg.Members == nil {
		cfg.Members = map[uint64]string{cfg.ReplicaID: n.cfg.RaftAddress}
	}
	if cfg.SnapshotEntries == 0 {
		cfg.SnapshotEntries = 10000
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 30 * time.Second
	}
	if cfg.ElectionRTT == 0 {
		cfg.ElectionRTT = 10
	}
	if cfg.SnapshotBytes == 0 {
		cfg.SnapshotBytes = 64 << 20
	}
	if cfg.ElectionRTT < 5 {
		return nil, fmt.Errorf("storage: shard %s: election timeout of %d RTTs is below 5", cfg.Name, cfg.ElectionRTT)
	}
	dir := filepath.Join(n.cfg.Dir, "db", cfg.Name)
	s := &Shard{node: n, cfg: cfg}
	s.sm = &stateMachine{dir: dir, app: cfg.Applier, log: n.log.With("db", cfg.Name)}
	create := func(shardID, replicaID uint64) sm.IOnDiskStateMachine { return s.sm }
	rc := config.Config{
		ReplicaID:          cfg.ReplicaID,
		ShardID:            cfg.ShardID,
		ElectionRTT:        cfg.ElectionRTT,
		HeartbeatRTT:       1,
		CheckQuorum:        true,
		PreVote:            true,
		IsNonVoting:        cfg.NonVoting,
		SnapshotEntries:    cfg.SnapshotEntries,
		CompactionOverhead: cfg.SnapshotEntries / 2,
	}
	members := map[uint64]dragonboat.Target{}
	join := cfg.Join
	switch {
	case n.nh.HasNodeInfo(cfg.ShardID, cfg.ReplicaID):
		// A restart: the membership is in the log, not in the flags.
		join = false
	case !join:
		for id, addr := range cfg.Members {
			members[id] = addr
		}
	}
	if err := n.nh.StartOnDiskReplica(members, join, create, rc); err != nil {
		return nil, fmt.Errorf("storage: start shard %s (%d): %w", cfg.Name, cfg.ShardID, err)
	}
	s.session = n.nh.GetNoOPSession(cfg.ShardID)
	n.mu.Lock()
	n.shards[cfg.ShardID] = s
	n.mu.Unlock()
	// Wait for a leader, then for the log to be applied (a linearizable read
	// completes only after everything committed before it is applied).
	deadline := time.Now().Add(cfg.ReadyTimeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := n.nh.SyncRead(rctx, cfg.ShardID, nil)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("storage: shard %s not ready: %w", cfg.Name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.log.Info("shard ready", "db", cfg.Name, "shard", cfg.ShardID, "replica", cfg.ReplicaID)
	if cfg.SnapshotBytes > 0 {
		go s.snapshotBySize()
	}
	return s, nil
}

// Propose appends cmd to the shard's log and returns the Applier's result once
// the entry is applied on this node.
func (s *Shard) Propose(ctx context.Context, cmd []byte) ([]byte, error) {
	for {
		res, err := s.propose(ctx, cmd)
		if err == nil {
			return res, nil
		}
		if errors.Is(err, errLeaderChanged) {
			continue // the entry carries its de-dup id: proposing again is safe
		}
		if errors.Is(err, dragonboat.ErrSystemBusy) || errors.Is(err, dragonboat.ErrShardNotReady) {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("storage: propose to %s: %w", s.cfg.Name, err)
			case <-time.After(5 * time.Millisecond):
				continue
			}
		}
		if errors.Is(err, dragonboat.ErrShardClosed) || errors.Is(err, dragonboat.ErrClosed) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("storage: propose to %s: %w", s.cfg.Name, err)
	}
}

// propose makes one asynchronous proposal and waits for it, bounded by ctx
// (default 30s when ctx has no deadline).
func (s *Shard) propose(ctx context.Context, cmd []byte) ([]byte, error) {
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
		if timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	_, term0, _, _ := s.node.nh.GetLeaderID(s.cfg.ShardID)
	rs, err := s.node.nh.Propose(s.session, cmd, timeout)
	if err != nil {
		return nil, err
	}
	// A proposal forwarded to a leader that died is lost; Dragonboat would
	// report it only at the timeout. Propose again as soon as a new term has
	// a leader (the Applier de-duplicates).
	tick := time.NewTicker(leaderPoll)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if _, term, ok, _ := s.node.nh.GetLeaderID(s.cfg.ShardID); ok && term != term0 {
				return nil, errLeaderChanged
			}
			continue
		case r := <-rs.ResultC():
			defer rs.Release()
			switch {
			case r.Completed():
				return r.GetResult().Data, nil
			case r.Timeout():
				return nil, dragonboat.ErrTimeout
			case r.Terminated():
				return nil, dragonboat.ErrShardClosed
			case r.Dropped():
				return nil, dragonboat.ErrShardNotReady
			case r.Rejected():
				return nil, dragonboat.ErrRejected
			case r.Aborted():
				return nil, dragonboat.ErrAborted
			default:
				return nil, errors.New("proposal failed")
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// leaderPoll is how often a waiting proposal checks for a new leader.
const leaderPoll = 20 * time.Millisecond

var errLeaderChanged = errors.New("storage: leader changed")

// Leader reports whether this replica is the shard's leader, and the term.
func (s *Shard) Leader() (leader bool, term uint64) {
	id, term, ok, err := s.node.nh.GetLeaderID(s.cfg.ShardID)
	if err != nil || !ok {
		return false, term
	}
	return id == s.cfg.ReplicaID, term
}

// ReplicaID returns this node's replica ID in the shard.
func (s *Shard) ReplicaID() uint64 { return s.cfg.ReplicaID }

// ShardID returns the shard's ID.
func (s *Shard) ShardID() uint64 { return s.cfg.ShardID }

// Close stops all shards and the NodeHost.
func (n *Node) Close() {
	n.closeOnce.Do(func() { close(n.closed) })
	n.nh.Close()
}

// snapshotPoll is how often a shard compares the bytes applied since its
// last snapshot with SnapshotBytes.
const snapshotPoll = 500 * time.Millisecond

// snapshotBySize requests a snapshot whenever the entries applied since the
// last one (by size or by this trigger) exceed SnapshotBytes. Dragonboat
// takes it beside the apply path (commits go on; leadership stays).
func (s *Shard) snapshotBySize() {
	t := time.NewTicker(snapshotPoll)
	defer t.Stop()
	for {
		select {
		case <-s.node.closed:
			return
		case <-t.C:
		}
		if s.sm.sinceSnapshot.Load() < s.cfg.SnapshotBytes {
			continue
		}
		s.sm.sinceSnapshot.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		idx, err := s.node.nh.SyncRequestSnapshot(ctx, s.cfg.ShardID, dragonboat.SnapshotOption{})
		cancel()
		if err != nil && !errors.Is(err, dragonboat.ErrRejected) {
			s.node.log.Warn("snapshot by size", "db", s.cfg.Name, "err", err)
			continue
		}
		s.node.log.Info("snapshot by size", "db", s.cfg.Name, "index", idx)
	}
}

// Pebble layout: applied index under metaApplied; application keys under the
// 'd' prefix.
var (
	metaApplied = []byte("m/applied")
	dataPrefix  = []byte("d/")
	dataEnd     = []byte("d0") // '0' follows '/'
)

func dataKey(k []byte) []byte {
	out := make([]byte, 0, len(dataPrefix)+len(k))
	return append(append(out, dataPrefix...), k...)
}

// stateMachine is the IOnDiskStateMachine over Pebble.
type stateMachine struct {
	applied       atomic.Uint64 // last applied index, for status
	sinceSnapshot atomic.Int64  // entry bytes applied since the size trigger last fired
	dir           string
	app           Applier
	log           *slog.Logger
	db            *pebble.DB
	w             *writer
}

func (m *stateMachine) Open(stop <-chan struct{}) (uint64, error) {
	if err := os.MkdirAll(m.dir, 0o750); err != nil {
		return 0, fmt.Errorf("storage: create %s: %w", m.dir, err)
	}
	// No Pebble WAL: the Raft log is the write-ahead log. After a crash
	// Pebble holds a prefix of the applied batches (the applied index is in
	// each), and Dragonboat replays the entries after it. Sync flushes, so
	// nothing Dragonboat compacts away is missing from the store.
	db, err := pebble.Open(m.dir, &pebble.Options{
		DisableWAL: true,
		// Fewer, larger flushes and a deeper level 0 than Pebble's defaults
		// (4 MiB, 4 files): rows are rewritten often and most of the
		// store's CPU went to compactions (server CPU per row -20% in the
		// batched-insert benchmark).
		MemTableSize:          16 << 20,
		L0CompactionThreshold: 8,
		L0StopWritesThreshold: 24,
	})
	if err != nil {
		return 0, fmt.Errorf("storage: open pebble %s: %w", m.dir, err)
	}
	m.db = db
	m.w = newWriter(db, m.log)
	idx, err := m.loadAll()
	if err != nil {
		m.w.close()
		return 0, err
	}
	m.log.Info("storage opened", "dir", m.dir, "index", idx)
	return idx, nil
}

// loadAll rebuilds the Applier from Pebble and returns the applied index.
func (m *stateMachine) loadAll() (uint64, error) {
	var idx uint64
	v, closer, err := m.db.Get(metaApplied)
	switch {
	case err == nil:
		if len(v) == 8 {
			idx = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
	default:
		return 0, fmt.Errorf("storage: read applied index: %w", err)
	}
	m.app.Reset()
	it := m.db.NewIter(&pebble.IterOptions{LowerBound: dataPrefix, UpperBound: dataEnd})
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(dataPrefix):]
		if err := m.app.Load(append([]byte(nil), k...), append([]byte(nil), it.Value()...)); err != nil {
			it.Close()
			return 0, fmt.Errorf("storage: load key %q: %w", k, err)
		}
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("storage: load: %w", err)
	}
	if err := m.app.Loaded(idx); err != nil {
		return 0, fmt.Errorf("storage: load up to index %d: %w", idx, err)
	}
	m.applied.Store(idx)
	return idx, nil
}

func (m *stateMachine) Update(entries []sm.Entry) ([]sm.Entry, error) {
	if err := m.w.failed(); err != nil {
		return nil, err
	}
	job := writeJob{}
	for i := range entries {
		e := &entries[i]
		a, err := m.app.Apply(e.Index, e.Cmd)
		if err != nil {
			return nil, fmt.Errorf("storage: apply entry %d: %w", e.Index, err)
		}
		if len(a.Writes) > 0 || a.Encode != nil {
			job.applied = append(job.applied, a)
			job.keys += len(a.Writes) + a.EncodeKeys
		}
		e.Result = sm.Result{Value: 1, Data: a.Result}
		job.last = e.Index
		m.sinceSnapshot.Add(int64(len(e.Cmd)))
	}
	m.applied.Store(job.last)
	// The Raft log is fsynced before entries are applied, and a crash
	// replays from the index Pebble last persisted: the store's write need
	// not be durable, nor done before the results go back. The writer
	// commits the batches in order; everything that reads Pebble or lets
	// Dragonboat compact the log waits for it first (drain).
	m.w.submit(job)
	m.app.Published(job.last)
	return entries, nil
}

func (m *stateMachine) Lookup(q interface{}) (interface{}, error) { return nil, nil }

// Sync makes everything applied so far durable (Dragonboat calls it before
// it records a snapshot index and compacts the log).
func (m *stateMachine) Sync() error {
	if err := m.w.drain(); err != nil {
		return err
	}
	return m.db.Flush()
}

func (m *stateMachine) PrepareSnapshot() (interface{}, error) {
	if err := m.w.drain(); err != nil {
		return nil, err
	}
	return m.db.NewSnapshot(), nil
}

// Snapshot stream: repeated (uvarint keylen, key, uvarint vallen, value),
// applied index included as an ordinary key.
func (m *stateMachine) SaveSnapshot(ctx interface{}, w io.Writer, done <-chan struct{}) error {
	snap := ctx.(*pebble.Snapshot)
	defer snap.Close()
	bw := bufio.NewWriter(w)
	it := snap.NewIter(nil)
	var hdr [binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		for _, p := range [][]byte{it.Key(), it.Value()} {
			n := binary.PutUvarint(hdr[:], uint64(len(p)))
			if _, err := bw.Write(hdr[:n]); err != nil {
				it.Close()
				return err
			}
			if _, err := bw.Write(p); err != nil {
				it.Close()
				return err
			}
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: snapshot iterate: %w", err)
	}
	return bw.Flush()
}

func (m *stateMachine) RecoverFromSnapshot(r io.Reader, done <-chan struct{}) error {
	if err := m.w.drain(); err != nil {
		return err
	}
	br := bufio.NewReader(r)
	b := m.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte{0}, []byte{0xff}, nil); err != nil {
		return err
	}
	for {
		k, err := readChunk(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("storage: read snapshot: %w", err)
		}
		v, err := readChunk(br)
		if err != nil {
			return fmt.Errorf("storage: read snapshot value: %w", err)
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("storage: write snapshot: %w", err)
	}
	if err := m.db.Flush(); err != nil {
		return fmt.Errorf("storage: flush snapshot: %w", err)
	}
	idx, err := m.loadAll()
	if err != nil {
		return err
	}
	m.app.Published(idx)
	return nil
}

func readChunk(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 1<<30 {
		return nil, fmt.Errorf("chunk of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return p, nil
}

func (m *stateMachine) Close() error {
	if m.db == nil {
		return nil
	}
	werr := m.w.close()
	// Flushing keeps the next start from replaying the log.
	ferr := m.db.Flush()
	if ferr == nil {
		ferr = werr
	}
	if err := m.db.Close(); err != nil {
		return err
	}
	return ferr
}
