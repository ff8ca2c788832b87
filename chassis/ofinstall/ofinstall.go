package ofinstall

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"

	"hcnet/chassis/flowtable"
	"hcnet/internal/openflow"
)

// Conn is one OpenFlow connection used only for installation. Its methods
// must not be called concurrently.
type Conn struct {
	target   string
	c        net.Conn
	r        *bufio.Reader
	xid      uint32
	bundleID uint32
}

// Dial connects to a bridge's management socket ("unix:PATH" or a path)
// and sends hello.
func Dial(ctx context.Context, target string) (*Conn, error) {
	path := strings.TrimPrefix(target, "unix:")
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("ofinstall: dial %s: %w", target, err)
	}
	conn := &Conn{target: target, c: c, r: bufio.NewReaderSize(c, 64<<10), xid: 1}
	if _, err := c.Write([]byte{openflow.Version13, 0, 0, 8, 0, 0, 0, 1}); err != nil {
		c.Close()
		return nil, fmt.Errorf("ofinstall: hello to %s: %w", target, err)
	}
	return conn, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

func (c *Conn) nextXID() uint32 {
	c.xid++
	if c.xid == 0 {
		c.xid = 2
	}
	return c.xid
}

// SwitchError is an OpenFlow error message.
type SwitchError struct {
	Type, Code uint16
	XID        uint32
}

func (e SwitchError) Error() string {
	return fmt.Sprintf("OpenFlow error type %d code %d (xid %d)", e.Type, e.Code, e.XID)
}

// RejectedError is the switch refusing one flow-mod of a bundle; a
// refusal at commit applied nothing of it, one at add time may have let
// the bundle's other flow-mods in (retrying without the refused flow
// converges).
type RejectedError struct {
	Flow flowtable.Flow
	Op   string // "add" or "delete"
	Err  error  // a SwitchError, or why the flow has no OpenFlow form
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("switch rejected %s of flow %s: %v", e.Op, e.Flow, e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

func (c *Conn) read() ([]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n < 8 {
		return nil, fmt.Errorf("OpenFlow message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, h[:])
	if _, err := io.ReadFull(c.r, msg[8:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// exchange writes msgs and a barrier and waits for the barrier reply,
// returning the errors the switch sent by xid. An I/O error leaves the
// connection unusable.
func (c *Conn) exchange(ctx context.Context, msgs [][]byte) (map[uint32]SwitchError, error) {
	return c.exchangeWith(ctx, msgs, nil)
}

// exchangeWith is exchange that also hands every other message received
// before the barrier reply (replies to msgs) to other.
func (c *Conn) exchangeWith(ctx context.Context, msgs [][]byte, other func([]byte)) (map[uint32]SwitchError, error) {
	deadline := time.Now().Add(60 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.c.SetDeadline(deadline)
	defer c.c.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Now()) })
	defer stop()
	bx := c.nextXID()
	w := bufio.NewWriterSize(c.c, 64<<10)
	for _, m := range msgs {
		if _, err := w.Write(m); err != nil {
			return nil, fmt.Errorf("ofinstall: write to %s: %w", c.target, err)
		}
	}
	if _, err := w.Write(openflow.Barrier(bx)); err != nil {
		return nil, fmt.Errorf("ofinstall: write to %s: %w", c.target, err)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("ofinstall: write to %s: %w", c.target, err)
	}
	var errs map[uint32]SwitchError
	for {
		msg, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("ofinstall: read from %s: %w", c.target, err)
		}
		xid := binary.BigEndian.Uint32(msg[4:])
		switch msg[1] {
		case openflow.TypeEchoRequest:
			r := append([]byte(nil), msg...)
			r[1] = openflow.TypeEchoReply
			if _, err := c.c.Write(r); err != nil {
				return nil, fmt.Errorf("ofinstall: echo reply to %s: %w", c.target, err)
			}
		case openflow.TypeError:
			if len(msg) < 12 {
				return nil, fmt.Errorf("ofinstall: short error message from %s", c.target)
			}
			if errs == nil {
				errs = map[uint32]SwitchError{}
			}
			errs[xid] = SwitchError{Type: binary.BigEndian.Uint16(msg[8:]), Code: binary.BigEndian.Uint16(msg[10:]), XID: xid}
		case openflow.TypeBarrierReply:
			if xid == bx {
				return errs, nil
			}
		default:
			if other != nil {
				other(msg)
			}
		}
	}
}

// EnsureGeneveTLV maps OVN's Geneve option to tun_metadata0. A switch
// that already has a mapping refuses the add; that is not an error here
// (a wrong mapping shows as rejected flows).
func (c *Conn) EnsureGeneveTLV(ctx context.Context) error {
	_, err := c.exchange(ctx, [][]byte{openflow.TLVTableMod(openflow.TLVAdd, []openflow.TLVMap{openflow.GeneveOVN}, c.nextXID())})
	return err
}

type entry struct {
	op   string
	flow flowtable.Flow
}

// bundle sends mods in one atomic bundle: open, add, commit, barrier;
// an error is returned naming the refused flow.
func (c *Conn) bundle(ctx context.Context, mods [][]byte, xids []uint32, entries []entry) error {
	c.bundleID++
	id := c.bundleID
	// Open, adds and commit go out in one write, answered by one
	// barrier: one round trip to the switch instead of two. A refusal
	// at commit time (e.g. a missing group) applies nothing. A
	// flow-mod refused at add time is left out of the bundle, and the
	// commit may apply the others; either way the caller retries
	// without the refused flow (adds replace, strict deletes of absent
	// flows are no-ops), which converges on the same table.
	msgs := make([][]byte, 0, len(mods)+2)
	ox := c.nextXID()
	msgs = append(msgs, openflow.BundleOpen(id, openflow.BundleAtomic, ox))
	byXID := make(map[uint32]int, len(mods))
	for i, m := range mods {
		msgs = append(msgs, openflow.BundleAdd(id, openflow.BundleAtomic, m, xids[i]))
		byXID[xids[i]] = i
	}
	cx := c.nextXID()
	msgs = append(msgs, openflow.BundleCommit(id, openflow.BundleAtomic, cx))
	errs, err := c.exchange(ctx, msgs)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return firstRejected(errs, byXID, entries, cx)
	}
	return nil
}

func firstRejected(errs map[uint32]SwitchError, byXID map[uint32]int, entries []entry, ctl uint32) error {
	xids := make([]uint32, 0, len(errs))
	for x := range errs {
		xids = append(xids, x)
	}
	sort.Slice(xids, func(i, j int) bool { return xids[i] < xids[j] })
	for _, x := range xids {
		if i, ok := byXID[x]; ok {
			return &RejectedError{Flow: entries[i].flow, Op: entries[i].op, Err: errs[x]}
		}
	}
	return fmt.Errorf("ofinstall: bundle refused: %w", errs[xids[0]])
}

// Apply sends ops (deletes and adds of flowtable.Diff) in one atomic
// bundle; added flows carry cookie.
func (c *Conn) Apply(ctx context.Context, ops []flowtable.Op, cookie uint64) error {
	if len(ops) == 0 {
		return nil
	}
	mods := make([][]byte, 0, len(ops))
	xids := make([]uint32, 0, len(ops))
	entries := make([]entry, 0, len(ops))
	for _, op := range ops {
		of, err := op.Flow.OpenFlow(cookie)
		if err != nil {
			return &RejectedError{Flow: op.Flow, Op: op.Kind, Err: err}
		}
		x := c.nextXID()
		cmd := uint8(openflow.FlowAdd)
		if op.Kind == "delete" {
			cmd = openflow.FlowDeleteStrict
		}
		mods = append(mods, of.Marshal(cmd, x))
		xids = append(xids, x)
		entries = append(entries, entry{op: op.Kind, flow: op.Flow})
	}
	return c.bundle(ctx, mods, xids, entries)
}

// Replace makes the bridge's flow table exactly flows, stamped with
// cookie (the new generation), in one atomic bundle: every flow of any
// earlier generation or owner is deleted and the new ones added.
func (c *Conn) Replace(ctx context.Context, flows map[string]flowtable.Flow, cookie uint64) error {
	keys := make([]string, 0, len(flows))
	for k := range flows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mods := make([][]byte, 0, len(keys)+1)
	xids := make([]uint32, 0, len(keys)+1)
	entries := make([]entry, 0, len(keys)+1)
	x := c.nextXID()
	del := openflow.FlowMod{Command: openflow.FlowDelete, Flow: openflow.Flow{Table: openflow.TableAll}, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}
	mods = append(mods, del.Marshal(x))
	xids = append(xids, x)
	entries = append(entries, entry{op: "delete", flow: flowtable.Flow{Table: openflow.TableAll, Actions: "(all flows)"}})
	for _, k := range keys {
		f := flows[k]
		of, err := f.OpenFlow(cookie)
		if err != nil {
			return &RejectedError{Flow: f, Op: "add", Err: err}
		}
		x := c.nextXID()
		mods = append(mods, of.Marshal(openflow.FlowAdd, x))
		xids = append(xids, x)
		entries = append(entries, entry{op: "add", flow: f})
	}
	return c.bundle(ctx, mods, xids, entries)
}

// IsConnError reports whether err means the connection is gone (as
// opposed to the switch refusing something).
func IsConnError(err error) bool {
	var re *RejectedError
	var se SwitchError
	return err != nil && !errors.As(err, &re) && !errors.As(err, &se)
}
