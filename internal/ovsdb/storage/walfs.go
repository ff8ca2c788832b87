package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/lni/dragonboat/v4/config"
	"github.com/lni/dragonboat/v4/raftio"
	pb "github.com/lni/dragonboat/v4/raftpb"
	"github.com/lni/vfs"
	"golang.org/x/sys/unix"
)

// logFS is the file system Dragonboat's Raft log store (tan) runs on: the
// operating system's, except that the log file being written extends itself
// in zeros ahead of the data.
//
// Why: every commit ends in a sync of the Raft log. Appending changes the
// file's size, so on ext4 each such sync also commits a metadata journal
// transaction, which every writer on the machine shares and which costs
// several times the data write under load. Here a log file grows by a step
// of zeros at a time (written and fsynced once per step); the commits in
// between write into blocks that already exist and sync with fdatasync,
// which then has no metadata to write.
//
// The zeros must never be read as log. While this process writes a log
// file, readers of it see only the data written so far. Before the log
// store records a file's index (the sign that the file is complete), and
// when it closes the file, the file is truncated to its data. A file left
// with zeros by a crash has no index; the log store then rebuilds it from
// its valid records, as after any torn write.
type logFS struct {
	vfs.FS
	// step is how far a log file extends itself at a time.
	step int64

	mu      sync.Mutex                // guards writing
	writing map[string]*zeroAheadFile // by cleaned path

	syncs atomic.Int64 // data syncs of the log files being written
}

// logStep is the default step: one metadata sync per this many bytes of
// log instead of one per commit.
const logStep = 1 << 20

func newLogFS() *logFS {
	return &logFS{FS: vfs.Default, step: logStep, writing: map[string]*zeroAheadFile{}}
}

// logNumber returns the number of a log store file named NUMBER.suffix.
func logNumber(name, suffix string) (string, bool) {
	num, ok := strings.CutSuffix(filepath.Base(name), suffix)
	if !ok || num == "" {
		return "", false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return num, true
}

// Create implements vfs.FS: log files are written ahead in zeros.
func (l *logFS) Create(name string) (vfs.File, error) {
	f, err := l.FS.Create(name)
	if err != nil || l.step <= 0 {
		return f, err
	}
	if _, ok := logNumber(name, ".log"); !ok {
		return f, nil
	}
	osf, ok := f.(*os.File)
	if !ok {
		return f, nil
	}
	z := &zeroAheadFile{File: osf, fs: l, key: filepath.Clean(name), step: l.step}
	l.mu.Lock()
	l.writing[z.key] = z
	l.mu.Unlock()
	return z, nil
}

// Open implements vfs.FS: a log file this process is writing reads up to
// its data.
func (l *logFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := l.FS.Open(name, opts...)
	if err != nil {
		return f, err
	}
	l.mu.Lock()
	z := l.writing[filepath.Clean(name)]
	l.mu.Unlock()
	if z == nil {
		return f, nil
	}
	return &boundedFile{File: f, z: z}, nil
}

// Rename implements vfs.FS. Renaming a file to NUMBER.index records that
// log NUMBER is complete: the log is cut to its data first.
func (l *logFS) Rename(oldname, newname string) error {
	if num, ok := logNumber(newname, ".index"); ok {
		l.mu.Lock()
		z := l.writing[filepath.Join(filepath.Dir(filepath.Clean(newname)), num+".log")]
		l.mu.Unlock()
		if z != nil {
			if err := z.cut(); err != nil {
				return err
			}
		}
	}
	return l.FS.Rename(oldname, newname)
}

// zeroAheadFile is a log file written sequentially from offset 0, by one
// goroutine at a time (the log store's lock); readers only load off.
type zeroAheadFile struct {
	*os.File
	fs     *logFS
	key    string
	step   int64
	off    atomic.Int64 // data written: [0, off)
	zeroed int64        // [0, zeroed) exists on disk and its size is synced
	done   bool         // cut to its data: no more zeros ahead
}

// zeroChunk is written repeatedly to extend a log file.
var zeroChunk = make([]byte, 64<<10)

var errCut = errors.New("storage: write to a completed raft log file")

// Write writes p at the current offset, first extending the file with
// zeros when p would end beyond them.
func (z *zeroAheadFile) Write(p []byte) (int, error) {
	if z.done {
		return 0, fmt.Errorf("%w: %s", errCut, z.Name())
	}
	off := z.off.Load()
	if end := off + int64(len(p)); end > z.zeroed {
		if err := z.extend(end); err != nil {
			return 0, fmt.Errorf("storage: extend raft log %s: %w", z.Name(), err)
		}
	}
	n, err := z.File.WriteAt(p, off)
	z.off.Add(int64(n))
	return n, err
}

// WriteAt is not used by the log store; it keeps the zeros consistent.
func (z *zeroAheadFile) WriteAt(p []byte, off int64) (int, error) {
	return 0, fmt.Errorf("storage: raft log %s: WriteAt not supported", z.Name())
}

// extend zero-fills the file up to the step boundary past end and makes the
// new size durable.
func (z *zeroAheadFile) extend(end int64) error {
	target := (end/z.step + 1) * z.step
	for off := z.zeroed; off < target; {
		n := min(int64(len(zeroChunk)), target-off)
		if _, err := z.File.WriteAt(zeroChunk[:n], off); err != nil {
			return err
		}
		off += n
	}
	if err := z.File.Sync(); err != nil {
		return err
	}
	z.zeroed = target
	return nil
}

// Seek moves the write offset (the log store only rewinds a new file).
func (z *zeroAheadFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += z.off.Load()
	default:
		return 0, fmt.Errorf("storage: raft log %s: seek whence %d not supported", z.Name(), whence)
	}
	if offset < 0 || offset > z.off.Load() {
		return 0, fmt.Errorf("storage: seek raft log %s to %d", z.Name(), offset)
	}
	z.off.Store(offset)
	return offset, nil
}

// Stat reports the data's size.
func (z *zeroAheadFile) Stat() (os.FileInfo, error) {
	fi, err := z.File.Stat()
	if err != nil {
		return nil, err
	}
	return sizedInfo{fi, z.off.Load()}, nil
}

// Sync makes the data written so far durable. Within the zeros the size
// needs no sync (extend synced it), so fdatasync has no metadata to write.
func (z *zeroAheadFile) Sync() error {
	if z.done {
		return z.File.Sync()
	}
	z.fs.syncs.Add(1)
	if err := unix.Fdatasync(int(z.Fd())); err != nil {
		return fmt.Errorf("storage: sync raft log %s: %w", z.Name(), err)
	}
	return nil
}

// cut truncates the file to its data and syncs it; later writes fail.
func (z *zeroAheadFile) cut() error {
	if z.done {
		return nil
	}
	z.done = true
	if err := z.File.Truncate(z.off.Load()); err != nil {
		return fmt.Errorf("storage: cut raft log %s: %w", z.Name(), err)
	}
	if err := z.File.Sync(); err != nil {
		return fmt.Errorf("storage: sync raft log %s: %w", z.Name(), err)
	}
	return nil
}

// Close cuts the file to its data and closes it.
func (z *zeroAheadFile) Close() error {
	err := z.cut()
	z.fs.mu.Lock()
	if z.fs.writing[z.key] == z {
		delete(z.fs.writing, z.key)
	}
	z.fs.mu.Unlock()
	if cerr := z.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// boundedFile reads a log file that is being written, up to its data.
type boundedFile struct {
	vfs.File
	z   *zeroAheadFile
	pos int64
}

func (b *boundedFile) Read(p []byte) (int, error) {
	n, err := b.ReadAt(p, b.pos)
	b.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (b *boundedFile) ReadAt(p []byte, off int64) (int, error) {
	end := b.z.off.Load()
	if off >= end {
		return 0, io.EOF
	}
	short := false
	if int64(len(p)) > end-off {
		p = p[:end-off]
		short = true
	}
	n, err := b.File.ReadAt(p, off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

func (b *boundedFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.z.off.Load()
	}
	if offset < 0 {
		return 0, fmt.Errorf("storage: seek raft log to %d", offset)
	}
	b.pos = offset
	return offset, nil
}

func (b *boundedFile) Stat() (os.FileInfo, error) {
	fi, err := b.File.Stat()
	if err != nil {
		return nil, err
	}
	return sizedInfo{fi, b.z.off.Load()}, nil
}

// sizedInfo reports a file's data size instead of its size on disk.
type sizedInfo struct {
	os.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

// stateSyncFactory creates tan log stores that fsync only what tan means
// to: new entries, snapshots and changes of term or vote, not every commit
// index.
//
// Why: Dragonboat leaves an Update's State empty when term, vote and
// commit index did not change, which is the case for the Update that
// appends a proposal's entry. tan remembers the State of the last Update it
// wrote to decide whether the next one changes term or vote; after an
// empty one, the next commit-index update looks like a change and is
// fsynced. Each single-row commit then cost two fsyncs, the second in the
// step after the commit, ahead of the next proposal's own. stateLogDB
// gives such Updates the State last passed down (the current one: what
// the log holds already), so tan's comparison sees the real previous
// state. Entries and snapshots are synced as before.
type stateSyncFactory struct {
	config.LogDBFactory
}

// Create implements config.LogDBFactory.
func (f stateSyncFactory) Create(cfg config.NodeHostConfig, cb config.LogDBCallback, dirs, walDirs []string) (raftio.ILogDB, error) {
	db, err := f.LogDBFactory.Create(cfg, cb, dirs, walDirs)
	if err != nil {
		return nil, err
	}
	return &stateLogDB{ILogDB: db, last: map[[2]uint64]pb.State{}}, nil
}

// stateLogDB fills empty States in, see stateSyncFactory.
type stateLogDB struct {
	raftio.ILogDB

	mu   sync.Mutex // guards last
	last map[[2]uint64]pb.State
}

// SaveRaftState implements raftio.ILogDB.
func (l *stateLogDB) SaveRaftState(updates []pb.Update, shardID uint64) error {
	// A copy: Dragonboat reads its own slice afterwards.
	out := make([]pb.Update, len(updates))
	l.mu.Lock()
	for i, u := range updates {
		k := [2]uint64{u.ShardID, u.ReplicaID}
		if pb.IsEmptyState(u.State) {
			if st, ok := l.last[k]; ok {
				u.State = st
			}
		} else {
			l.last[k] = u.State
		}
		out[i] = u
	}
	l.mu.Unlock()
	return l.ILogDB.SaveRaftState(out, shardID)
}

// ReadRaftState implements raftio.ILogDB: the state read back on start is
// the last one written.
func (l *stateLogDB) ReadRaftState(shardID, replicaID, lastIndex uint64) (raftio.RaftState, error) {
	rs, err := l.ILogDB.ReadRaftState(shardID, replicaID, lastIndex)
	if err == nil && !pb.IsEmptyState(rs.State) {
		l.mu.Lock()
		l.last[[2]uint64{shardID, replicaID}] = rs.State
		l.mu.Unlock()
	}
	return rs, err
}
