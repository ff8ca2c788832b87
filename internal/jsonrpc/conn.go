package jsonrpc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrTooLarge: a message exceeded ConnOptions.MaxMessageSize. The
	// stream cannot be resynchronised afterwards: close the connection.
	ErrTooLarge = errors.New("jsonrpc: message too large")
	// ErrSyntax: the stream holds something that is not a JSON object.
	ErrSyntax = errors.New("jsonrpc: syntax error")
	// ErrInvalid: a JSON object that is not a valid JSON-RPC message.
	ErrInvalid = errors.New("jsonrpc: invalid message")
)

// DefaultMaxMessageSize bounds one message unless ConnOptions says otherwise.
// Southbound snapshots and northd's transactions can be large.
const DefaultMaxMessageSize = 256 << 20

// ConnOptions configures a Conn.
type ConnOptions struct {
	// MaxMessageSize is the largest message Read accepts, in bytes.
	// Default DefaultMaxMessageSize.
	MaxMessageSize int
}

// Conn reads and writes JSON-RPC messages on a byte stream. One goroutine
// reads; any number may write.
type Conn struct {
	rwc io.ReadWriteCloser
	r   *Splitter

	mu sync.Mutex // guards w
	w  *bufio.Writer
}

// NewConn wraps rwc.
func NewConn(rwc io.ReadWriteCloser, opts ConnOptions) *Conn {
	return &Conn{
		rwc: rwc,
		r:   NewSplitter(bufio.NewReaderSize(rwc, 64<<10), opts.MaxMessageSize),
		w:   bufio.NewWriterSize(rwc, 64<<10),
	}
}

// Read returns the next message. A message that is valid JSON but not a
// valid JSON-RPC object returns an error wrapping ErrInvalid, and the
// connection remains usable; ErrSyntax, ErrTooLarge and I/O errors are final.
func (c *Conn) Read() (*Message, error) {
	data, err := c.r.Next()
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// Write sends one message. It is safe for concurrent use.
func (c *Conn) Write(m *Message) error {
	data, err := m.MarshalJSON()
	if err != nil {
		return fmt.Errorf("jsonrpc: encode %s: %w", describe(m), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(data); err != nil {
		return err
	}
	return c.w.Flush()
}

// WriteRaw sends bytes that already hold one or more encoded messages, in
// one write to the stream (not copied through the buffer when it is empty).
func (c *Conn) WriteRaw(data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w.Buffered() == 0 {
		_, err := c.rwc.Write(data)
		return err
	}
	if _, err := c.w.Write(data); err != nil {
		return err
	}
	return c.w.Flush()
}

// Close closes the underlying stream; a blocked Read returns.
func (c *Conn) Close() error { return c.rwc.Close() }

func describe(m *Message) string {
	if m.Method != "" {
		return "request " + m.Method
	}
	return "response"
}

// Splitter cuts a stream into top-level JSON values without decoding them,
// enforcing a size bound. RFC 7047 puts no delimiter between messages, so the
// only way to find the end of one is to track nesting outside strings.
type Splitter struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewSplitter reads from r; max <= 0 means DefaultMaxMessageSize.
func NewSplitter(r *bufio.Reader, max int) *Splitter {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &Splitter{r: r, max: max}
}

// Next returns the next top-level JSON object or array. The returned slice
// is valid until the next call.
func (s *Splitter) Next() ([]byte, error) {
	s.buf = s.buf[:0]
	// Skip whitespace between values.
skip:
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			s.buf = append(s.buf, b)
			break skip
		default:
			return nil, fmt.Errorf("%w: unexpected %q between messages", ErrSyntax, b)
		}
	}
	depth := 1
	inString, escaped := false, false
	for depth > 0 {
		// Wait for at least one byte, then scan all that is buffered.
		if _, err := s.r.Peek(1); err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		n := s.r.Buffered()
		data, _ := s.r.Peek(n)
		i := 0
		for ; i < len(data) && depth > 0; i++ {
			b := data[i]
			if inString {
				switch {
				case escaped:
					escaped = false
				case b == '\\':
					escaped = true
				case b == '"':
					inString = false
				}
				continue
			}
			switch b {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if len(s.buf)+i > s.max {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.max)
		}
		s.buf = append(s.buf, data[:i]...)
		if _, err := s.r.Discard(i); err != nil {
			return nil, err
		}
	}
	return s.buf, nil
}
