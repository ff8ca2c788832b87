package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"hcnet/chassis/ofconn"
	"hcnet/internal/openflow"
)

// OpHandleSvcCheck is handle_svc_check (internal/lflow's numbering): a
// backend's answer to a load balancer health check probe.
const OpHandleSvcCheck = 19

// Where a probe enters the pipeline, and the flag that keeps it on this
// chassis (internal/lflow's TableLocalOutput and FlagLocalOnly).
const (
	tableLocalOutput = 40
	flagLocalOnly    = 1 << 4
)

// Monitor is a southbound Service_Monitor row this chassis probes (its
// logical_port is bound here): the backend's address and port, the
// logical port's datapath, tunnel key and MAC, and the source the probes
// come from (src_mac, src_ip: ovn-northd's svc_monitor_mac and the load
// balancer's health-check source address).
type Monitor struct {
	Datapath uint32
	Port     uint32
	PortMAC  [6]byte
	SrcMAC   [6]byte
	SrcIP    netip.Addr
	IP       netip.Addr
	Protocol string // "tcp" or "udp"
	L4Port   uint16
}

// Probe returns the packet-out of one health check probe of m: a TCP SYN
// (sequence number seq) or an empty UDP datagram from srcPort, IPv4 TTL
// 63, sent straight to the backend's logical port on this chassis, as
// ovn-controller probes (IPv4 only in OVN 23.03).
func Probe(m Monitor, srcPort uint16, seq uint32, xid uint32) ([]byte, error) {
	if !m.IP.Is4() || !m.SrcIP.Is4() {
		return nil, fmt.Errorf("pinctrl: health check of %s from %s: IPv4 only", m.IP, m.SrcIP)
	}
	var l4 []byte
	var proto byte
	switch m.Protocol {
	case "tcp":
		l4 = tcpHeader(srcPort, m.L4Port, seq, 0, tcpSYN)
		proto = protoTCP
	case "udp":
		l4 = binary.BigEndian.AppendUint16(nil, srcPort)
		l4 = binary.BigEndian.AppendUint16(l4, m.L4Port)
		l4 = append(l4, 0, 8, 0, 0)
		proto = protoUDP
	default:
		return nil, fmt.Errorf("pinctrl: health check protocol %q", m.Protocol)
	}
	return m.packetOut(m.frame(proto, l4), xid), nil
}

// tcpHeader is a 20-byte TCP header with window 65160.
func tcpHeader(src, dst uint16, seq, ack uint32, flags byte) []byte {
	th := make([]byte, 20)
	binary.BigEndian.PutUint16(th[0:], src)
	binary.BigEndian.PutUint16(th[2:], dst)
	binary.BigEndian.PutUint32(th[4:], seq)
	binary.BigEndian.PutUint32(th[8:], ack)
	th[12], th[13] = 5<<4, flags
	binary.BigEndian.PutUint16(th[14:], 65160)
	return th
}

// frame builds Ethernet+IPv4 from the monitor's source to the backend.
func (m Monitor) frame(proto byte, l4 []byte) []byte {
	src, dst := m.SrcIP.As4(), m.IP.As4()
	f := &frame{ethDst: m.PortMAC[:], ethSrc: m.SrcMAC[:], src: src[:], dst: dst[:], l3: []byte{0x45, 0}}
	csum := 16
	if proto == protoUDP {
		csum = 6
	}
	return f.build(false, proto, 63, l4, csum)
}

func (m Monitor) packetOut(pkt []byte, xid uint32) []byte {
	acts := openflow.AppendActions(nil, openflow.Actions{
		openflow.SetField{Field: openflow.MustField("metadata"), Value: openflow.U64(uint64(m.Datapath)), Mask: openflow.Ones(64)},
		openflow.SetField{Field: openflow.MustField("reg15"), Value: openflow.U64(uint64(m.Port)), Mask: openflow.Ones(32)},
		openflow.SetField{Field: openflow.MustField("reg10"), Value: openflow.U64(flagLocalOnly), Mask: openflow.U64(flagLocalOnly)},
		openflow.Resubmit{Table: tableLocalOutput},
	})
	return ofconn.PacketOut(xid, pkt, acts)
}

// SvcStatus is what a backend's answer says about it.
type SvcStatus struct {
	IP       netip.Addr
	Protocol string
	L4Port   uint16
	Online   bool
	// For TCP answers: the probe's source port and the answer's
	// sequence and acknowledgment numbers (Reset uses them).
	ProbePort uint16
	Seq, Ack  uint32
	// Datapath and Port are the tunnel keys of the datapath and logical
	// port the answer came from, when the packet-in carries them.
	Datapath, Port uint32
}

// SvcReply reads a backend's answer to a probe (handle_svc_check): a TCP
// SYN+ACK means online (the chassis then sends Reset, so the backend does
// not keep a half-open connection), a TCP RST or an ICMP destination
// unreachable quoting the probe means offline.
func SvcReply(pkt []byte) (SvcStatus, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return SvcStatus{}, fmt.Errorf("handle_svc_check: %w", err)
	}
	src, _ := netip.AddrFromSlice(f.src)
	switch {
	case f.proto == protoTCP && len(f.l4) >= 20:
		flags := f.l4[13]
		st := SvcStatus{IP: src, Protocol: "tcp", L4Port: binary.BigEndian.Uint16(f.l4), ProbePort: binary.BigEndian.Uint16(f.l4[2:]),
			Seq: binary.BigEndian.Uint32(f.l4[4:]), Ack: binary.BigEndian.Uint32(f.l4[8:])}
		switch {
		case flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
			st.Online = true
			return st, nil
		case flags&tcpRST != 0:
			return st, nil
		}
		return SvcStatus{}, fmt.Errorf("pinctrl: health check answer with TCP flags %#x", flags)
	case !f.v6 && f.proto == protoICMP && len(f.l4) >= 8+20+4 && f.l4[0] == 3:
		// Destination unreachable quoting our probe: the original
		// destination and protocol/port are the backend's.
		orig := f.l4[8:]
		ihl := int(orig[0]&0x0f) * 4
		if ihl < 20 || len(orig) < ihl+4 {
			return SvcStatus{}, fmt.Errorf("pinctrl: truncated datagram in ICMP health check answer")
		}
		proto := map[byte]string{protoTCP: "tcp", protoUDP: "udp"}[orig[9]]
		if proto == "" {
			return SvcStatus{}, fmt.Errorf("pinctrl: ICMP answer quotes protocol %d", orig[9])
		}
		dst, _ := netip.AddrFromSlice(orig[16:20])
		return SvcStatus{IP: dst, Protocol: proto, L4Port: binary.BigEndian.Uint16(orig[ihl+2:])}, nil
	}
	return SvcStatus{}, fmt.Errorf("pinctrl: handle_svc_check on a packet that answers no probe (protocol %d)", f.proto)
}

// Reset returns the packet-out of the TCP RST that closes the half-open
// connection a SYN+ACK answer st of m's backend left behind.
func Reset(m Monitor, st SvcStatus, xid uint32) []byte {
	th := tcpHeader(st.ProbePort, m.L4Port, st.Ack, st.Seq+1, tcpRST|tcpACK)
	return m.packetOut(m.frame(protoTCP, th), xid)
}
