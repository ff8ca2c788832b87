package chassis

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"hcnet/chassis/ofconn"
)

// reinjector sends back through the flow table the packets a VM sends
// on an interface waiting for its port (physical.Input.Waiting), once
// that port's flows are installed.
//
// Why: the first packet of an interface nobody has bound yet misses in
// the flow table, and ovs-vswitchd caches that verdict as a datapath
// flow. After the port's flows are installed, its packets keep hitting
// the cached verdict until the revalidator threads have re-translated
// every datapath flow, which takes tens to hundreds of milliseconds on a
// busy host (the ping of BenchmarkPortUp_Root waited for it, with
// ovn-controller too). Waiting interfaces therefore send to the
// controller (reason no_match, metered), and a packet of an interface
// whose flows the switch has acknowledged goes back in as a packet-out
// from that interface to table 0: it is forwarded at once, while the
// revalidators catch up. Packets of interfaces still waiting are
// dropped, as the switch would have.
//
// It runs its own OpenFlow connection, which asks only for no_match
// packet-ins (the controller connection of controller.go ignores them:
// they carry no userdata).
type reinjector struct {
	// ready holds the OpenFlow ports whose flows are installed; the loop
	// replaces it after each acknowledged installation.
	ready atomic.Pointer[map[uint32]bool]
	sent  atomic.Int64 // packets sent back (for tests and logs)
}

// setReady records the ports whose flows the switch has acknowledged.
func (r *reinjector) setReady(ports map[uint32]bool) { r.ready.Store(&ports) }

func (r *reinjector) isReady(port uint32) bool {
	m := r.ready.Load()
	return m != nil && (*m)[port]
}

// runReinjector keeps a connection to target and serves it until ctx
// ends, redialling after a failure.
func (d *daemon) runReinjector(ctx context.Context, target string) {
	for ctx.Err() == nil {
		err := d.reinjectSession(ctx, target)
		if ctx.Err() != nil {
			return
		}
		d.logOnce("reinject", "reinjection connection", "target", target, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (d *daemon) reinjectSession(ctx context.Context, target string) error {
	path := strings.TrimPrefix(target, "unix:")
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("dial %s: %w", target, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	xid := uint32(1)
	setup := [][]byte{ofconn.Hello(xid), ofconn.SetConfig(xid+1, 0xffff), ofconn.SetPacketInFormat(xid + 2),
		ofconn.SetAsync(xid+3, 1<<ofconn.ReasonNoMatch)}
	xid += 4
	for _, m := range setup {
		if _, err := c.Write(m); err != nil {
			return fmt.Errorf("set up %s: %w", target, err)
		}
	}
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		hdr := make([]byte, 8)
		if _, err := io.ReadFull(r, hdr); err != nil {
			return fmt.Errorf("read %s: %w", target, err)
		}
		n := int(binary.BigEndian.Uint16(hdr[2:]))
		if n < 8 {
			return fmt.Errorf("read %s: message length %d", target, n)
		}
		msg := make([]byte, n)
		copy(msg, hdr)
		if _, err := io.ReadFull(r, msg[8:]); err != nil {
			return fmt.Errorf("read %s: %w", target, err)
		}
		var out []byte
		switch msg[1] {
		case ofconn.TypeEchoRequest:
			out = ofconn.EchoReply(binary.BigEndian.Uint32(msg[4:]), msg[8:])
		case ofconn.TypeError:
			d.logOnce("reinject-error", "switch error on reinjection connection", "target", target, "msg", fmt.Sprintf("%x", msg[8:min(len(msg), 24)]))
		case ofconn.TypeExperimenter:
			pi, err := ofconn.ParsePacketIn2(msg)
			if err != nil {
				continue
			}
			if out = reinjection(pi, d.reinject.isReady, xid+1); out != nil {
				xid++
				d.reinject.sent.Add(1)
				d.opts.Metrics.reinjectedPacket()
			}
		}
		if out != nil {
			if _, err := c.Write(out); err != nil {
				return fmt.Errorf("write %s: %w", target, err)
			}
		}
	}
}

// reinjection is the packet-out that sends a punted packet back through
// the flow table from the interface it came in on, or nil: for packets
// of other controller actions (they carry userdata) and of interfaces
// whose flows are not installed yet.
func reinjection(pi *ofconn.PacketIn, ready func(port uint32) bool, xid uint32) []byte {
	if len(pi.Userdata) > 0 || pi.Reason != ofconn.ReasonNoMatch {
		return nil
	}
	port, ok := inPort(pi.Metadata)
	if !ok || !ready(port) {
		return nil
	}
	return ofconn.PacketOutFrom(xid, port, pi.Packet, ofconn.OutputAction(ofconn.PortTable))
}

// inPort is the packet-in's ingress port (OpenFlow 1.3 or Nicira field).
func inPort(md []ofconn.OXM) (uint32, bool) {
	if v, ok := ofconn.Uint(md, ofconn.FieldInPort); ok {
		return uint32(v), true
	}
	const nxmInPort = 0x0000<<16 | 0<<9 | 2
	if v, ok := ofconn.Uint(md, nxmInPort); ok {
		return uint32(v), true
	}
	return 0, false
}
