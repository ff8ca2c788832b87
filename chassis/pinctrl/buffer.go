package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

// Limits of the packet buffer, as ovn-controller's: packets per
// neighbour, neighbours, and how long a neighbour may stay unresolved.
const (
	BufferDepth     = 4
	BufferNeighbors = 1000
	BufferTimeout   = 10 * time.Second
)

// tableRemoteOutput is where a released packet re-enters the pipeline
// (internal/lflow's TableRemoteOutput): its logical output port is known,
// only the neighbour's MAC was missing.
const tableRemoteOutput = 39

// Held is a packet that triggered an ARP request (arp) or a neighbour
// solicitation (nd_ns): the chassis keeps it in a Buffer until the
// neighbour's MAC is learned, then sends it on.
type Held struct {
	Datapath uint32
	IP       netip.Addr // the next hop: reg0 (arp) or xxreg0 (nd_ns)
	Packet   []byte
	Metadata []ofconn.OXM
}

// held extracts the packet to buffer from an arp or nd_ns packet-in.
func held(pi *ofconn.PacketIn, v6 bool) *Held {
	dp, ok := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
	if !ok {
		return nil
	}
	h := &Held{Datapath: uint32(dp), Packet: append([]byte(nil), pi.Packet...), Metadata: pi.Metadata}
	if !v6 {
		ip, ok := ofconn.Uint(pi.Metadata, ofconn.FieldReg(0))
		if !ok {
			return nil
		}
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(ip))
		h.IP = netip.AddrFrom4(a)
		return h
	}
	a, ok := xxreg0(pi.Metadata)
	if !ok {
		return nil
	}
	h.IP = netip.AddrFrom16(a)
	return h
}

// Buffer keeps packets waiting for a neighbour's MAC address, per
// datapath and next-hop IP: at most BufferDepth packets per neighbour
// (the oldest make room), BufferNeighbors neighbours (more are refused),
// each dropped BufferTimeout after its last packet. It is safe for
// concurrent use: the packet-in loop adds and releases on a local put_arp
// or put_nd, the southbound side releases when a MAC_Binding learned by
// another chassis arrives (ReleaseKnown).
type Buffer struct {
	mu   sync.Mutex
	held map[bufKey]*bufEntry
}

type bufKey struct {
	dp uint32
	ip netip.Addr
}

type bufEntry struct {
	pkts []*Held
	last time.Time
}

// NewBuffer returns an empty buffer.
func NewBuffer() *Buffer { return &Buffer{held: map[bufKey]*bufEntry{}} }

// Add keeps h (a Result's Hold) at time now.
func (b *Buffer) Add(h *Held, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := bufKey{h.Datapath, h.IP}
	e := b.held[k]
	if e == nil {
		if len(b.held) >= BufferNeighbors {
			return fmt.Errorf("pinctrl: %d neighbours already awaited, packet for %s dropped", len(b.held), h.IP)
		}
		e = &bufEntry{}
		b.held[k] = e
	}
	if len(e.pkts) == BufferDepth {
		e.pkts = e.pkts[1:]
	}
	e.pkts = append(e.pkts, h)
	e.last = now
	return nil
}

// Len is the number of neighbours awaited.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.held)
}

// Release returns the packet-outs that send the packets held for
// datapath dp and ip to mac ("0a:00:00:00:00:01"): the Ethernet
// destination set, the metadata of the packet-in restored, then on to the
// output tables. The first packet-out uses xid, the next ones xid+1, ...
func (b *Buffer) Release(dp uint32, ip netip.Addr, mac string, xid uint32) [][]byte {
	k := bufKey{dp, ip.Unmap()}
	b.mu.Lock()
	e := b.held[k]
	delete(b.held, k)
	b.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.packetOuts(mac, xid)
}

// ReleaseKnown releases, as Release, every neighbour whose MAC known
// has (the southbound MAC_Binding table: a neighbour learned by another
// chassis, or learned before its packet was held). The first packet-out
// uses xid, the next ones xid+1, ...
func (b *Buffer) ReleaseKnown(known MACBindings, xid uint32) [][]byte {
	if len(known) == 0 {
		return nil
	}
	type found struct {
		e   *bufEntry
		mac string
	}
	var fs []found
	b.mu.Lock()
	for k, e := range b.held {
		if mac, ok := known[NeighborKey{k.dp, k.ip}]; ok {
			fs = append(fs, found{e, mac})
			delete(b.held, k)
		}
	}
	b.mu.Unlock()
	var out [][]byte
	for _, f := range fs {
		ms := f.e.packetOuts(f.mac, xid)
		xid += uint32(len(ms))
		out = append(out, ms...)
	}
	return out
}

// packetOuts sends e's packets to mac.
func (e *bufEntry) packetOuts(mac string, xid uint32) [][]byte {
	hw, err := parseMAC(mac)
	if err != nil {
		return nil
	}
	resubmit := openflow.AppendActions(nil, openflow.Actions{openflow.Resubmit{Table: tableRemoteOutput}})
	var out [][]byte
	for _, h := range e.pkts {
		if len(h.Packet) < 14 {
			continue
		}
		pkt := append([]byte(nil), h.Packet...)
		copy(pkt[0:6], hw[:])
		out = append(out, ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(h.Metadata), resubmit...)))
		xid++
	}
	return out
}

// Expire drops the neighbours whose last packet is older than
// BufferTimeout at now, and returns how many packets it dropped.
func (b *Buffer) Expire(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k, e := range b.held {
		if now.Sub(e.last) >= BufferTimeout {
			n += len(e.pkts)
			delete(b.held, k)
		}
	}
	return n
}

func parseMAC(s string) ([6]byte, error) {
	var m [6]byte
	if _, err := fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]); err != nil {
		return m, fmt.Errorf("pinctrl: MAC %q: %w", s, err)
	}
	return m, nil
}

// NeighborKey names a neighbour: a datapath's tunnel key and an IP
// address (IPv4 unmapped).
type NeighborKey struct {
	Datapath uint32
	IP       netip.Addr
}

// MACBindings maps neighbours to their MAC address ("0a:00:00:00:00:01"),
// from the southbound MAC_Binding table.
type MACBindings map[NeighborKey]string

// Add records a MAC_Binding row: datapath tunnel key dp, ip ip,
// mac mac. It returns an error naming the row's address or MAC when
// either does not parse (the row is then left out).
func (m MACBindings) Add(dp uint32, ip, mac string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("pinctrl: MAC_Binding ip %q: %w", ip, err)
	}
	if _, err := parseMAC(mac); err != nil {
		return err
	}
	m[NeighborKey{dp, a.Unmap()}] = strings.ToLower(mac)
	return nil
}
