package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

// OpBFDMsg is handle_bfd_msg (internal/lflow's numbering): a BFD control
// packet addressed to a router port.
const OpBFDMsg = 20

// BFD on the wire (RFC 5880 section 4.1, RFC 5881).
const (
	BFDPort       = 3784 // UDP destination port of single-hop control packets
	bfdVersion    = 1
	bfdLen        = 24 // control packet without authentication
	tableIngress  = 8  // internal/lflow's TableLogIngress
	bfdFlagPoll   = 0x20
	bfdFlagFinal  = 0x10
	bfdFlagCPI    = 0x08
	bfdFlagAuth   = 0x04
	bfdFlagDemand = 0x02
	bfdFlagMulti  = 0x01
)

// BFDState is a session state (RFC 5880 section 4.1, the Sta field).
type BFDState uint8

// Session states.
const (
	BFDAdminDown BFDState = 0
	BFDDown      BFDState = 1
	BFDInit      BFDState = 2
	BFDUp        BFDState = 3
)

// String is the state as the southbound BFD table's status column
// spells it.
func (s BFDState) String() string {
	switch s {
	case BFDAdminDown:
		return "admin_down"
	case BFDDown:
		return "down"
	case BFDInit:
		return "init"
	case BFDUp:
		return "up"
	}
	return fmt.Sprintf("state%d", uint8(s))
}

// BFDControl is a BFD control packet (RFC 5880 section 4.1) without
// authentication. The intervals are in microseconds, as on the wire.
type BFDControl struct {
	Diag     uint8
	State    BFDState
	Poll     bool
	Final    bool
	Demand   bool
	Mult     uint8
	MyDisc   uint32
	YourDisc uint32
	MinTx    uint32 // Desired Min TX Interval, µs
	MinRx    uint32 // Required Min RX Interval, µs
	EchoRx   uint32 // Required Min Echo RX Interval, µs
}

// Marshal encodes c as the 24-byte UDP payload.
func (c BFDControl) Marshal() []byte {
	b := make([]byte, bfdLen)
	b[0] = bfdVersion<<5 | c.Diag&0x1f
	b[1] = byte(c.State) << 6
	if c.Poll {
		b[1] |= bfdFlagPoll
	}
	if c.Final {
		b[1] |= bfdFlagFinal
	}
	if c.Demand {
		b[1] |= bfdFlagDemand
	}
	b[2] = c.Mult
	b[3] = bfdLen
	binary.BigEndian.PutUint32(b[4:], c.MyDisc)
	binary.BigEndian.PutUint32(b[8:], c.YourDisc)
	binary.BigEndian.PutUint32(b[12:], c.MinTx)
	binary.BigEndian.PutUint32(b[16:], c.MinRx)
	binary.BigEndian.PutUint32(b[20:], c.EchoRx)
	return b
}

// ParseBFDControl decodes and checks a control packet as RFC 5880
// section 6.8.6 asks (version 1, a length that fits, a non-zero detect
// multiplier and My Discriminator, no multipoint, Your Discriminator set
// unless the sender is down, not both Poll and Final). Authenticated
// packets are refused: no session here uses authentication.
func ParseBFDControl(b []byte) (BFDControl, error) {
	if len(b) < bfdLen {
		return BFDControl{}, fmt.Errorf("pinctrl: BFD packet of %d bytes", len(b))
	}
	if v := b[0] >> 5; v != bfdVersion {
		return BFDControl{}, fmt.Errorf("pinctrl: BFD version %d", v)
	}
	if n := int(b[3]); n < bfdLen || n > len(b) {
		return BFDControl{}, fmt.Errorf("pinctrl: BFD length field %d in %d bytes", n, len(b))
	}
	flags := b[1] & 0x3f
	c := BFDControl{
		Diag: b[0] & 0x1f, State: BFDState(b[1] >> 6),
		Poll: flags&bfdFlagPoll != 0, Final: flags&bfdFlagFinal != 0, Demand: flags&bfdFlagDemand != 0,
		Mult:     b[2],
		MyDisc:   binary.BigEndian.Uint32(b[4:]),
		YourDisc: binary.BigEndian.Uint32(b[8:]),
		MinTx:    binary.BigEndian.Uint32(b[12:]),
		MinRx:    binary.BigEndian.Uint32(b[16:]),
		EchoRx:   binary.BigEndian.Uint32(b[20:]),
	}
	switch {
	case flags&bfdFlagAuth != 0:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD authentication is not supported")
	case flags&bfdFlagMulti != 0:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD multipoint bit set")
	case c.Mult == 0:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD detect multiplier 0")
	case c.MyDisc == 0:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD my discriminator 0")
	case c.Poll && c.Final:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD poll and final both set")
	case c.YourDisc == 0 && c.State != BFDDown && c.State != BFDAdminDown:
		return BFDControl{}, fmt.Errorf("pinctrl: BFD your discriminator 0 in state %s", c.State)
	}
	return c, nil
}

// BFDMsg is a control packet received through handle_bfd_msg, with the
// addresses it came from and went to.
type BFDMsg struct {
	Src, Dst netip.Addr
	Control  BFDControl
}

// parseBFDMsg reads a handle_bfd_msg packet-in's IPv4/UDP datagram.
func parseBFDMsg(pkt []byte) (*BFDMsg, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, err
	}
	if f.proto != protoUDP || len(f.l4) < 8 {
		return nil, fmt.Errorf("pinctrl: handle_bfd_msg on a non-UDP packet (protocol %d)", f.proto)
	}
	if dp := binary.BigEndian.Uint16(f.l4[2:]); dp != BFDPort {
		return nil, fmt.Errorf("pinctrl: handle_bfd_msg on UDP port %d", dp)
	}
	ulen := int(binary.BigEndian.Uint16(f.l4[4:]))
	if ulen < 8 || ulen > len(f.l4) {
		return nil, fmt.Errorf("pinctrl: UDP length %d in %d bytes", ulen, len(f.l4))
	}
	c, err := ParseBFDControl(f.l4[8:ulen])
	if err != nil {
		return nil, err
	}
	src, _ := netip.AddrFromSlice(f.src)
	dst, _ := netip.AddrFromSlice(f.dst)
	return &BFDMsg{Src: src.Unmap(), Dst: dst.Unmap(), Control: c}, nil
}

// BFDEndpoint is where a session's packets come from: the router port's
// datapath and port tunnel keys, its MAC and address, the session's UDP
// source port; and the peer's address.
type BFDEndpoint struct {
	Datapath uint32
	Port     uint32
	MAC      [6]byte
	SrcIP    netip.Addr
	DstIP    netip.Addr
	SrcPort  uint16
}

// BFDFrame is the Ethernet frame of control packet c from e: to the
// broadcast MAC (the router pipeline resolves the next hop), IPv4 TTL or
// IPv6 hop limit 255 (RFC 5881 section 5), no UDP checksum over IPv4 and
// a computed one over IPv6 — as ovn-controller builds it.
func BFDFrame(e BFDEndpoint, c BFDControl) ([]byte, error) {
	v4 := e.SrcIP.Is4() && e.DstIP.Is4()
	v6 := e.SrcIP.Is6() && e.DstIP.Is6() && !e.SrcIP.Is4In6() && !e.DstIP.Is4In6()
	if !v4 && !v6 {
		return nil, fmt.Errorf("pinctrl: BFD from %s to %s: not one address family", e.SrcIP, e.DstIP)
	}
	udp := make([]byte, 8, 8+bfdLen)
	binary.BigEndian.PutUint16(udp[0:], e.SrcPort)
	binary.BigEndian.PutUint16(udp[2:], BFDPort)
	binary.BigEndian.PutUint16(udp[4:], 8+bfdLen)
	udp = append(udp, c.Marshal()...)
	f := &frame{ethDst: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ethSrc: e.MAC[:], src: e.SrcIP.AsSlice(), dst: e.DstIP.AsSlice()}
	if v6 {
		f.v6, f.l3 = true, []byte{0x60, 0, 0, 0}
		return f.build(false, protoUDP, 255, udp, 6), nil
	}
	f.l3 = []byte{0x45, 0}
	return f.build(false, protoUDP, 255, udp, -1), nil
}

// BFDPacketOut is the packet-out that sends frame into the router
// pipeline as if it came in on e's port (the logical ingress pipeline's
// first table, with the datapath and logical input port set): routed to
// the peer like any packet of the router, as ovn-controller sends them.
func BFDPacketOut(e BFDEndpoint, frame []byte, xid uint32) []byte {
	acts := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(uint64(e.Datapath)), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg14"), Value: openflow.U64(uint64(e.Port)), Mask: openflow.Ones(32)},
		openflow.Resubmit{Table: tableIngress},
	})
	return ofconn.PacketOut(xid, frame, acts)
}
