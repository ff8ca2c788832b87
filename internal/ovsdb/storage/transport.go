package storage

// The Raft transport: Dragonboat's NodeHost sends and receives Raft messages
// and snapshot chunks through it (config.ExpertConfig.TransportFactory).
//
// Why our own: Dragonboat's transport closes a peer's message stream on the
// first failed send and opens a circuit breaker for that address, which then
// drops every message to the peer for 0.25 to 1.5 s. A survivor that holds a
// connection to a peer which was restarted since finds out on its first send
// after a leader dies ("connection reset by peer"): its prevote or vote to
// exactly the member it needs for a quorum is dropped, and failover took up
// to two seconds instead of one election timeout. Here a send error is
// never reported to Dragonboat (so its breaker never opens): the connection
// is redialled at once and the batch sent again, once; a connection whose
// peer went away is noticed by a reader goroutine (the peer's FIN or RST)
// and replaced before the next batch. A batch that cannot be delivered is
// dropped, which Raft tolerates (heartbeats and retries follow every RTT).
//
// Wire format: the frames of Dragonboat's own TCP transport, so that a
// member running this transport and one running Dragonboat's can talk
// (rolling upgrades): 2 magic bytes, an 18-byte header (method u16, payload
// size u64, header CRC32 u32 computed with that field zero, payload CRC32
// u32, all big-endian), then the payload, a marshalled raftpb.MessageBatch
// (method 100) or raftpb.Chunk (method 200). A snapshot stream has its own
// connection and ends with two zero bytes, which the receiver echoes once
// it has handled every chunk. Mutual TLS is not implemented (the NodeHost
// configuration does not use it); Start refuses a configuration that asks
// for it.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lni/dragonboat/v4/config"
	"github.com/lni/dragonboat/v4/raftio"
	pb "github.com/lni/dragonboat/v4/raftpb"
)

const (
	frameHeaderSize = 18
	frameOverhead   = 2 + frameHeaderSize
	methodBatch     = uint16(100)
	methodChunk     = uint16(200)
	// maxFramePayload bounds what a receiver allocates for one frame
	// (Dragonboat's batches are at most 64 MiB, snapshot chunks 2 MiB).
	maxFramePayload = 256 << 20

	// dialTimeout bounds one connection attempt; a refused connection
	// (peer down on a reachable host) fails at once.
	dialTimeout = 500 * time.Millisecond
	// redialPause: after a failed dial, batches to that peer are dropped
	// without dialling for this long (a down peer costs no dial storm;
	// well under an election timeout).
	redialPause = 10 * time.Millisecond
	// frameWriteTimeout bounds writing one frame.
	frameWriteTimeout = 5 * time.Second
	// snapshotAckTimeout bounds the wait for the receiver's end-of-stream
	// echo after the last chunk.
	snapshotAckTimeout = 10 * time.Second
	// tcpKeepAlive finds peers that vanished without closing.
	tcpKeepAlive = 10 * time.Second
	// acceptPause: how long the listener rests after a failed accept.
	acceptPause = 50 * time.Millisecond
	// keepBuffer: a send buffer grown beyond this by a large batch is not
	// kept for the next one.
	keepBuffer = 4 << 20
)

var (
	frameMagic   = [2]byte{0xAE, 0x7D}
	streamEnd    = [2]byte{0, 0}
	errTransport = errors.New("storage: raft transport closed")
)

// transportFactory creates the NodeHost's transport. It keeps the faults
// that tests inject, shared by every transport it creates.
type transportFactory struct {
	log    *slog.Logger
	faults *faults
}

func newTransportFactory(log *slog.Logger) *transportFactory {
	return &transportFactory{log: log, faults: newFaults()}
}

// Create is called by Dragonboat once per NodeHost.
func (f *transportFactory) Create(nhc config.NodeHostConfig, onBatch raftio.MessageHandler,
	onChunk raftio.ChunkHandler) raftio.ITransport {
	return newTransport(nhc.GetListenAddress(), nhc.MutualTLS, onBatch, onChunk, f.faults, f.log)
}

// Validate accepts host:port Raft addresses.
func (f *transportFactory) Validate(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	return err == nil && host != "" && port != ""
}

// transport is one NodeHost's raftio.ITransport over TCP.
type transport struct {
	listen  string
	tls     bool
	onBatch raftio.MessageHandler
	onChunk raftio.ChunkHandler
	faults  *faults
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex // guards ln, conns, closed
	ln     net.Listener
	conns  map[net.Conn]struct{} // every open connection, both directions
	closed bool
	wg     sync.WaitGroup // accept loop and receivers
}

func newTransport(listen string, tls bool, onBatch raftio.MessageHandler, onChunk raftio.ChunkHandler,
	f *faults, log *slog.Logger) *transport {
	ctx, cancel := context.WithCancel(context.Background())
	return &transport{listen: listen, tls: tls, onBatch: onBatch, onChunk: onChunk, faults: f,
		log: log.With("raft", listen), ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
}

var _ raftio.ITransport = (*transport)(nil)

func (t *transport) Name() string { return "hcnet-tcp" }

// Start listens on the Raft address and serves incoming connections.
func (t *transport) Start() error {
	if t.tls {
		return fmt.Errorf("storage: raft transport %s: mutual TLS is not supported", t.listen)
	}
	ln, err := net.Listen("tcp", t.listen)
	if err != nil {
		return fmt.Errorf("storage: raft transport: listen on %s: %w", t.listen, err)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		ln.Close()
		return errTransport
	}
	t.ln = ln
	t.mu.Unlock()
	t.wg.Add(1)
	go t.accept(ln)
	return nil
}

// Close stops listening and closes every connection.
func (t *transport) Close() error {
	t.cancel()
	t.mu.Lock()
	t.closed = true
	if t.ln != nil {
		t.ln.Close()
	}
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// track registers an open connection (false once the transport is closed).
func (t *transport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *transport) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	c.Close()
}

func (t *transport) accept(ln net.Listener) {
	defer t.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: peers redial.
			t.log.Error("raft transport: accept", "err", err)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(acceptPause):
			}
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetKeepAlive(true)
			tc.SetKeepAlivePeriod(tcpKeepAlive)
		}
		if !t.track(c) {
			c.Close()
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(c)
			t.receive(c)
		}()
	}
}

// receive reads frames from one connection until it fails or ends.
func (t *transport) receive(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
	var magic [2]byte
	var hdr [frameHeaderSize]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, magic[:]); err != nil {
			return
		}
		if magic == streamEnd {
			// The end of a snapshot stream: every chunk is handled.
			c.SetWriteDeadline(time.Now().Add(frameWriteTimeout))
			c.Write(streamEnd[:])
			return
		}
		if magic != frameMagic {
			t.log.Warn("raft transport: bad frame magic, closing", "from", c.RemoteAddr().String(), "magic", fmt.Sprintf("%x", magic))
			return
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		method, size, sum, err := parseFrameHeader(hdr)
		if err != nil {
			t.log.Warn("raft transport: bad frame header, closing", "from", c.RemoteAddr().String(), "err", err)
			return
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		payload := buf[:size]
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		if crc32.ChecksumIEEE(payload) != sum {
			t.log.Warn("raft transport: frame checksum mismatch, closing", "from", c.RemoteAddr().String(), "bytes", size)
			return
		}
		switch method {
		case methodBatch:
			var b pb.MessageBatch
			if err := b.Unmarshal(payload); err != nil {
				t.log.Warn("raft transport: bad message batch, closing", "from", c.RemoteAddr().String(), "err", err)
				return
			}
			t.onBatch(b)
		case methodChunk:
			var ch pb.Chunk
			if err := ch.Unmarshal(payload); err != nil {
				t.log.Warn("raft transport: bad snapshot chunk, closing", "from", c.RemoteAddr().String(), "err", err)
				return
			}
			if !t.onChunk(ch) {
				return // rejected: the sender's stream fails and it retries later
			}
		}
		if cap(buf) > keepBuffer {
			buf = nil
		}
	}
}

// putFrame writes the magic and header for payload into dst[:frameOverhead].
func putFrame(dst []byte, method uint16, payload []byte) {
	dst[0], dst[1] = frameMagic[0], frameMagic[1]
	h := dst[2:frameOverhead]
	binary.BigEndian.PutUint16(h[0:], method)
	binary.BigEndian.PutUint64(h[2:], uint64(len(payload)))
	binary.BigEndian.PutUint32(h[10:], 0)
	binary.BigEndian.PutUint32(h[14:], crc32.ChecksumIEEE(payload))
	binary.BigEndian.PutUint32(h[10:], crc32.ChecksumIEEE(h))
}

// parseFrameHeader checks a header and returns its method, payload size and
// payload checksum.
func parseFrameHeader(h [frameHeaderSize]byte) (method uint16, size uint64, sum uint32, err error) {
	got := binary.BigEndian.Uint32(h[10:])
	binary.BigEndian.PutUint32(h[10:], 0)
	if want := crc32.ChecksumIEEE(h[:]); got != want {
		return 0, 0, 0, fmt.Errorf("header checksum %08x, computed %08x", got, want)
	}
	method = binary.BigEndian.Uint16(h[0:])
	size = binary.BigEndian.Uint64(h[2:])
	sum = binary.BigEndian.Uint32(h[14:])
	switch {
	case method != methodBatch && method != methodChunk:
		return 0, 0, 0, fmt.Errorf("unknown method %d", method)
	case size == 0 || size > maxFramePayload:
		return 0, 0, 0, fmt.Errorf("payload of %d bytes", size)
	}
	return method, size, sum, nil
}

// dial opens a tracked connection to target.
func (t *transport) dial(ctx context.Context, target string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive}
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	if !t.track(c) {
		c.Close()
		return nil, errTransport
	}
	return c, nil
}

// GetConnection returns the message connection to target. It never fails:
// the connection dials on its first batch and again whenever it breaks.
func (t *transport) GetConnection(ctx context.Context, target string) (raftio.IConnection, error) {
	return &msgConn{t: t, target: target}, nil
}

// GetSnapshotConnection dials target for one snapshot stream (twice if the
// first attempt fails).
func (t *transport) GetSnapshotConnection(ctx context.Context, target string) (raftio.ISnapshotConnection, error) {
	c, err := t.dial(t.ctx, target)
	if err != nil && !errors.Is(err, errTransport) {
		c, err = t.dial(t.ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: raft transport: snapshot connection to %s: %w", target, err)
	}
	return &chunkConn{t: t, target: target, c: c}, nil
}

// msgConn is the stream of message batches to one peer. Dragonboat calls it
// from one goroutine.
type msgConn struct {
	t        *transport
	target   string
	c        net.Conn      // nil while not connected
	gone     chan struct{} // closed when the peer closed or reset c
	buf      []byte
	failedAt time.Time // last failed dial
	failures int       // consecutive failed dials
}

// SendMessageBatch sends the batch; it never returns an error (see the top
// of this file): a batch that cannot be delivered after one redial is
// dropped.
func (m *msgConn) SendMessageBatch(b pb.MessageBatch) error {
	if m.t.faults.delayOrDrop(m.t.ctx, m.target) {
		return nil
	}
	need := frameOverhead + b.SizeUpperLimit()
	if cap(m.buf) < need {
		m.buf = make([]byte, need)
	}
	payload := pb.MustMarshalTo(&b, m.buf[frameOverhead:need])
	frame := m.buf[:frameOverhead+len(payload)]
	putFrame(frame, methodBatch, payload)
	defer func() {
		if cap(m.buf) > keepBuffer {
			m.buf = nil
		}
	}()
	for attempt := 0; attempt < 2; attempt++ {
		if m.c != nil {
			select {
			case <-m.gone:
				m.t.log.Info("raft transport: peer closed the connection, redialling", "peer", m.target)
				m.reset()
			default:
			}
		}
		if m.c == nil && !m.connect() {
			return nil
		}
		m.c.SetWriteDeadline(time.Now().Add(frameWriteTimeout))
		_, err := m.c.Write(frame)
		if err == nil {
			return nil
		}
		if m.t.ctx.Err() != nil {
			return nil
		}
		m.t.log.Info("raft transport: send failed, redialling", "peer", m.target, "attempt", attempt+1, "err", err)
		m.reset()
	}
	return nil
}

// connect dials the peer unless a dial failed less than redialPause ago.
func (m *msgConn) connect() bool {
	if m.failures > 0 && time.Since(m.failedAt) < redialPause {
		return false
	}
	c, err := m.t.dial(m.t.ctx, m.target)
	if err != nil {
		if m.failures == 0 && !errors.Is(err, errTransport) {
			m.t.log.Debug("raft transport: peer unreachable", "peer", m.target, "err", err)
		}
		m.failures++
		m.failedAt = time.Now()
		return false
	}
	if m.failures > 0 {
		m.t.log.Debug("raft transport: peer reachable again", "peer", m.target, "failed_dials", m.failures)
	}
	m.failures = 0
	m.c = c
	m.gone = make(chan struct{})
	go watchPeer(c, m.gone)
	return true
}

// watchPeer closes gone when the peer ends the connection (nothing is ever
// sent back on a message connection) or it is closed here.
func watchPeer(c net.Conn, gone chan struct{}) {
	var b [1]byte
	c.Read(b[:])
	close(gone)
}

func (m *msgConn) reset() {
	if m.c != nil {
		m.t.untrack(m.c)
		m.c = nil
	}
}

// Close closes the connection.
func (m *msgConn) Close() { m.reset() }

// chunkConn is one snapshot stream to a peer.
type chunkConn struct {
	t      *transport
	target string
	c      net.Conn
	buf    []byte
}

// SendChunk sends one chunk; a failure fails the snapshot (Dragonboat
// reports it and the leader sends the snapshot again later).
func (s *chunkConn) SendChunk(ch pb.Chunk) error {
	if s.t.faults.delayOrDrop(s.t.ctx, s.target) {
		return fmt.Errorf("storage: raft transport: snapshot chunk %d to %s: dropped by an injected fault", ch.ChunkId, s.target)
	}
	need := frameOverhead + ch.Size()
	if cap(s.buf) < need {
		s.buf = make([]byte, need)
	}
	payload := pb.MustMarshalTo(&ch, s.buf[frameOverhead:need])
	frame := s.buf[:frameOverhead+len(payload)]
	putFrame(frame, methodChunk, payload)
	s.c.SetWriteDeadline(time.Now().Add(frameWriteTimeout))
	if _, err := s.c.Write(frame); err != nil {
		return fmt.Errorf("storage: raft transport: snapshot chunk %d to %s: %w", ch.ChunkId, s.target, err)
	}
	return nil
}

// Close ends the stream and waits (bounded) until the receiver has handled
// every chunk.
func (s *chunkConn) Close() {
	defer s.t.untrack(s.c)
	s.c.SetWriteDeadline(time.Now().Add(frameWriteTimeout))
	if _, err := s.c.Write(streamEnd[:]); err != nil {
		return
	}
	var ack [2]byte
	s.c.SetReadDeadline(time.Now().Add(snapshotAckTimeout))
	io.ReadFull(s.c, ack[:])
}
