package storage

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lni/dragonboat/v4"
)

// Member is one replica of a shard as the membership records it.
type Member struct {
	ID        uint64 `json:"id"`
	Address   string `json:"address"`
	NonVoting bool   `json:"non_voting,omitempty"`
	Leader    bool   `json:"leader,omitempty"`
}

// Status is what a replica knows about its shard.
type Status struct {
	Name      string `json:"name"`
	ShardID   uint64 `json:"shard_id"`
	ReplicaID uint64 `json:"replica_id"`
	Term      uint64 `json:"term"`
	LeaderID  uint64 `json:"leader_id"` // 0 while no leader is known
	Leader    bool   `json:"leader"`
	NonVoting bool   `json:"non_voting,omitempty"`
	Applied   uint64 `json:"applied_index"`
	// Commit is this replica's commit index; LastIndex the index of the
	// last entry in its log (appended, maybe not committed).
	Commit    uint64   `json:"commit_index"`
	LastIndex uint64   `json:"log_last_index"`
	Members   []Member `json:"members"`
	// ConfigChangeID is the log index of the last membership change.
	ConfigChangeID uint64 `json:"config_change_id"`
	// LogBytes and SnapshotBytes are this node's Raft log and snapshot files.
	LogBytes      int64 `json:"log_bytes"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
}

// LeaderInfo reports the leader this replica knows of (ok false while none
// is) and the term.
func (s *Shard) LeaderInfo() (id, term uint64, ok bool) {
	id, term, ok, err := s.node.nh.GetLeaderID(s.cfg.ShardID)
	if err != nil {
		return 0, 0, false
	}
	return id, term, ok
}

// Applied returns the last log index applied on this replica.
func (s *Shard) Applied() uint64 { return s.sm.applied.Load() }

// Status reports the shard's state; the membership comes from a
// linearizable read, so it needs a reachable leader (bounded by ctx).
func (s *Shard) Status(ctx context.Context) (Status, error) {
	st := Status{Name: s.cfg.Name, ShardID: s.cfg.ShardID, ReplicaID: s.cfg.ReplicaID,
		NonVoting: s.cfg.NonVoting, Applied: s.Applied(), Commit: s.CommitIndex(ctx), LastIndex: s.LastIndex()}
	id, term, ok := s.LeaderInfo()
	st.Term = term
	if ok {
		st.LeaderID = id
		st.Leader = id == s.cfg.ReplicaID
	}
	st.LogBytes, st.SnapshotBytes = s.node.diskUsage()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	m, err := s.node.nh.SyncGetShardMembership(ctx, s.cfg.ShardID)
	if err != nil {
		return st, fmt.Errorf("storage: membership of %s: %w", s.cfg.Name, err)
	}
	st.ConfigChangeID = m.ConfigChangeID
	for rid, addr := range m.Nodes {
		st.Members = append(st.Members, Member{ID: rid, Address: addr, Leader: ok && rid == id})
	}
	for rid, addr := range m.NonVotings {
		st.Members = append(st.Members, Member{ID: rid, Address: addr, NonVoting: true})
	}
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].ID < st.Members[j].ID })
	return st, nil
}

// AddReplica adds a voting replica at address (host:port); start it with
// ShardConfig.Join afterwards (or before: it waits to be contacted).
func (s *Shard) AddReplica(ctx context.Context, id uint64, address string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := s.node.nh.SyncRequestAddReplica(ctx, s.cfg.ShardID, id, address, 0); err != nil {
		return fmt.Errorf("storage: add replica %d at %s to %s: %w", id, address, s.cfg.Name, err)
	}
	return nil
}

// AddNonVoting adds a non-voting replica: it receives the log and serves
// reads and monitors but does not count for commits or elections.
func (s *Shard) AddNonVoting(ctx context.Context, id uint64, address string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := s.node.nh.SyncRequestAddNonVoting(ctx, s.cfg.ShardID, id, address, 0); err != nil {
		return fmt.Errorf("storage: add non-voting replica %d at %s to %s: %w", id, address, s.cfg.Name, err)
	}
	return nil
}

// RemoveReplica removes a replica (voting or not). Its id cannot be reused.
func (s *Shard) RemoveReplica(ctx context.Context, id uint64) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := s.node.nh.SyncRequestDeleteReplica(ctx, s.cfg.ShardID, id, 0); err != nil {
		return fmt.Errorf("storage: remove replica %d from %s: %w", id, s.cfg.Name, err)
	}
	return nil
}

// TransferLeader asks the current leader to hand leadership to replica id
// and waits (bounded by ctx) until it has.
func (s *Shard) TransferLeader(ctx context.Context, id uint64) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	m, err := s.node.nh.SyncGetShardMembership(ctx, s.cfg.ShardID)
	if err != nil {
		return fmt.Errorf("storage: transfer leadership of %s: %w", s.cfg.Name, err)
	}
	if _, ok := m.Nodes[id]; !ok {
		return fmt.Errorf("storage: transfer leadership of %s: replica %d is not a voting member", s.cfg.Name, id)
	}
	for {
		if lid, _, ok := s.LeaderInfo(); ok && lid == id {
			return nil
		}
		// Only the leader acts on the request; asking again is harmless.
		_ = s.node.nh.RequestLeaderTransfer(s.cfg.ShardID, id)
		select {
		case <-ctx.Done():
			return fmt.Errorf("storage: transfer leadership of %s to %d: %w", s.cfg.Name, id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Snapshot takes a snapshot now and compacts the log behind it.
func (s *Shard) Snapshot(ctx context.Context) (uint64, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	idx, err := s.node.nh.SyncRequestSnapshot(ctx, s.cfg.ShardID, dragonboat.SnapshotOption{})
	if err != nil {
		return 0, fmt.Errorf("storage: snapshot %s: %w", s.cfg.Name, err)
	}
	return idx, nil
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 10*time.Second)
}

// diskUsage sums the Raft directory: snapshot files and the rest (the log).
func (n *Node) diskUsage() (logBytes, snapBytes int64) {
	_ = filepath.WalkDir(filepath.Join(n.cfg.Dir, "raft"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.Contains(p, "snapshot") {
			snapBytes += fi.Size()
		} else {
			logBytes += fi.Size()
		}
		return nil
	})
	return logBytes, snapBytes
}

// LastIndex returns the index of the last entry in this replica's log
// (appended, not necessarily committed), 0 if unknown.
func (s *Shard) LastIndex() uint64 {
	r, err := s.node.nh.GetLogReader(s.cfg.ShardID)
	if err != nil {
		return 0
	}
	_, last := r.GetRange()
	return last
}

// CommitIndex returns this replica's Raft commit index (0 while unknown):
// entries up to it are committed in the cluster, whether or not this replica
// has applied them yet. It asks the Raft node (a log query of an empty range
// past the log, answered with the commit index), bounded by ctx.
func (s *Shard) CommitIndex(ctx context.Context) uint64 {
	const past = math.MaxUint64 - 1
	rs, err := s.node.nh.QueryRaftLog(s.cfg.ShardID, past, past+1, 0)
	if err != nil {
		return 0
	}
	defer rs.Release()
	select {
	case r := <-rs.ResultC():
		if !r.Completed() && !r.RequestOutOfRange() {
			return 0
		}
		_, lr := r.RaftLogs()
		if lr.LastIndex == 0 {
			return 0
		}
		return lr.LastIndex - 1
	case <-ctx.Done():
		return 0
	}
}

// HandOff moves leadership to another voter when this replica leads, so
// that stopping it costs clients no election (bounded by ctx). It is a no-op
// for followers and single-member clusters.
func (s *Shard) HandOff(ctx context.Context) error {
	id, _, ok := s.LeaderInfo()
	if !ok || id != s.cfg.ReplicaID {
		return nil
	}
	m, err := s.node.nh.SyncGetShardMembership(ctx, s.cfg.ShardID)
	if err != nil {
		return fmt.Errorf("storage: hand off %s: %w", s.cfg.Name, err)
	}
	var ids []uint64
	for rid := range m.Nodes {
		if rid != s.cfg.ReplicaID {
			ids = append(ids, rid)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return s.TransferLeader(ctx, ids[0])
}
