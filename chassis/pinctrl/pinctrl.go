package pinctrl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"hcnet/chassis/ofconn"
)

// Controller opcodes (internal/lflow's numbering, which follows OVN's).
const (
	OpARP           = 0
	OpPutARP        = 1
	OpPutDHCPOpts   = 2
	OpICMP          = 10
	OpICMP4Error    = 14
	OpPutDHCPv6Opts = 5
)

// MACBinding is a neighbour learned by put_arp.
type MACBinding struct {
	Datapath uint32 // Datapath_Binding tunnel key
	Port     uint32 // logical input port key
	IP       netip.Addr
	MAC      string // "0a:00:00:00:00:01"
}

// Result is what to do with one packet-in.
type Result struct {
	// Send are OpenFlow messages for the switch (packet-out, resume).
	Send [][]byte
	// Learned is set by put_arp and put_nd: a southbound MAC_Binding.
	Learned *MACBinding
	// FDB is set by put_fdb: a southbound FDB row.
	FDB *FDBEntry
	// Vport is set by bind_vport: the virtual port to claim.
	Vport *VirtualBinding
	// Log is set by log(): an ACL log line for the chassis's log.
	Log *LogEntry
	// Event is set by trigger_event: a southbound Controller_Event.
	Event *Event
	// Hold is set by arp and nd_ns: the packet waiting for the
	// neighbour, for the chassis's Buffer (Release it when the MAC is
	// learned, here or from the southbound).
	Hold *Held
	// Multicast is set by igmp: the group memberships an IGMP or MLD
	// message changes, for the southbound IGMP_Group table.
	Multicast []Membership
	// Svc is set by handle_svc_check: a load balancer backend's answer
	// to a health check probe (Service_Monitor status).
	Svc *SvcStatus
	// BFD is set by handle_bfd_msg: a BFD control packet for one of the
	// chassis's sessions (BFDSessions.Receive).
	BFD *BFDMsg
}

// Event is a controller event (trigger_event) for the southbound
// Controller_Event table: its event_type (empty_lb_backends) and
// event_info (vip, protocol, load_balancer).
type Event struct {
	Type string
	Info map[string]string
}

// FDBEntry is a MAC address learned on a logical port by put_fdb (the
// southbound FDB table's dp_key, port_key and mac).
type FDBEntry struct {
	Datapath uint32
	Port     uint32
	MAC      string
}

// VirtualBinding asks the chassis to bind a virtual port (Port_Binding
// of type virtual, by tunnel key) to itself with the port that sent the
// packet as its virtual_parent (bind_vport).
type VirtualBinding struct {
	Datapath uint32
	Virtual  uint32
	Parent   uint32
}

// LogEntry is one packet an ACL logs: the ACL's name, verdict (allow,
// drop, reject), severity (alert, warning, notice, info, debug) and a
// one-line description of the packet.
type LogEntry struct {
	Name, Verdict, Severity string
	Packet                  string
}

// ErrIgnored marks packet-ins the chassis does not handle (yet); the
// error names the opcode.
var ErrIgnored = errors.New("pinctrl: opcode not handled")

// Input is the southbound state some controller actions read; the chassis
// keeps it up to date and hands it to HandleWith. The zero value has
// nothing: dns_lookup then answers nothing.
type Input struct {
	// DNS is the southbound DNS table, for dns_lookup.
	DNS DNS
	// MACBindings is the southbound MAC_Binding table: packets held for
	// a neighbour in it are released (Buffer.ReleaseKnown).
	MACBindings MACBindings
}

// Handle decides what to do with a packet-in, without southbound state.
func Handle(pi *ofconn.PacketIn, xid uint32) (Result, error) {
	return HandleWith(pi, xid, nil)
}

// HandleWith decides what to do with a packet-in. It is pure: the
// messages to send and the neighbour learned are in the Result. When it
// returns an error with a Result that has messages (a paused action whose
// reply could not be built), the messages must still be sent: they resume
// the packet with the action's result bit clear.
func HandleWith(pi *ofconn.PacketIn, xid uint32, in *Input) (Result, error) {
	if len(pi.Userdata) < 8 {
		return Result{}, fmt.Errorf("pinctrl: userdata of %d bytes", len(pi.Userdata))
	}
	op := binary.BigEndian.Uint32(pi.Userdata)
	payload := pi.Userdata[8:]
	// generated sends a packet built from the packet-in through the
	// action's nested actions, with the packet-in's metadata restored.
	generated := func(pkt []byte, err error) (Result, error) {
		if err != nil {
			return Result{}, err
		}
		return Result{Send: [][]byte{ofconn.PacketOut(xid, pkt, append(ofconn.ReloadActions(pi.Metadata), payload...))}}, nil
	}
	switch op {
	case OpARP:
		res, err := generated(ARPRequest(pi.Packet))
		if err == nil {
			res.Hold = held(pi, false)
		}
		return res, err
	case OpPutARP:
		mb, err := putARP(pi)
		if err != nil {
			return Result{}, err
		}
		return Result{Learned: mb}, nil
	case OpPutDHCPOpts:
		return resumeWithResult(pi, xid, payload, func(opts []byte) ([]byte, error) { return DHCPReply(pi.Packet, opts) })
	case OpPutDHCPv6Opts:
		return resumeWithResult(pi, xid, payload, func(opts []byte) ([]byte, error) { return DHCPv6Reply(pi.Packet, opts) })
	case OpPutNDRAOpts:
		return resumeWithResult(pi, xid, payload, func(opts []byte) ([]byte, error) { return RouterAdvertisement(pi.Packet, opts) })
	case OpDNSLookup:
		return resumeWithResult(pi, xid, payload, func([]byte) ([]byte, error) {
			dp, ok := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
			if !ok {
				return nil, fmt.Errorf("pinctrl: dns_lookup without metadata in the packet-in")
			}
			var records map[string]string
			if in != nil {
				records = in.DNS[uint32(dp)]
			}
			return DNSReply(pi.Packet, records)
		})
	case OpNDNS:
		res, err := generated(NeighborSolicitation(pi.Packet))
		if err == nil {
			res.Hold = held(pi, true)
		}
		return res, err
	case OpNDNA, OpNDNARouter:
		return generated(NeighborAdvertisement(pi.Packet, op == OpNDNARouter))
	case OpPutND:
		mb, err := putND(pi)
		if err != nil {
			return Result{}, err
		}
		return Result{Learned: mb}, nil
	case OpPutFDB:
		dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
		port, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
		if !ok1 || !ok2 || len(pi.Packet) < 14 {
			return Result{}, fmt.Errorf("pinctrl: put_fdb without metadata or reg14 in the packet-in")
		}
		return Result{FDB: &FDBEntry{Datapath: uint32(dp), Port: uint32(port), MAC: macString(pi.Packet[6:12])}}, nil
	case OpBindVport:
		dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
		parent, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
		if !ok1 || !ok2 || len(payload) < 4 {
			return Result{}, fmt.Errorf("pinctrl: bind_vport without metadata, reg14 or virtual port key")
		}
		return Result{Vport: &VirtualBinding{Datapath: uint32(dp), Virtual: binary.BigEndian.Uint32(payload), Parent: uint32(parent)}}, nil
	case OpIGMP:
		return handleIGMP(pi)
	case OpBFDMsg:
		m, err := parseBFDMsg(pi.Packet)
		if err != nil {
			return Result{}, err
		}
		return Result{BFD: m}, nil
	case OpHandleSvcCheck:
		st, err := SvcReply(pi.Packet)
		if err != nil {
			return Result{}, err
		}
		if dp, ok := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata); ok {
			st.Datapath = uint32(dp)
		}
		if p, ok := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14)); ok {
			st.Port = uint32(p)
		}
		return Result{Svc: &st}, nil
	case OpEvent:
		ev := &Event{Info: map[string]string{}}
		for _, kv := range strings.Split(string(payload), "\x00") {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
			case k == "event":
				ev.Type = v
			case k != "meter":
				ev.Info[k] = v
			}
		}
		if ev.Type == "" {
			return Result{}, fmt.Errorf("pinctrl: trigger_event without an event type")
		}
		return Result{Event: ev}, nil
	case OpLog:
		if len(payload) < 2 {
			return Result{}, fmt.Errorf("pinctrl: log payload of %d bytes", len(payload))
		}
		return Result{Log: &LogEntry{Name: string(payload[2:]), Verdict: verdictNames[payload[0]],
			Severity: severityNames[payload[1]], Packet: Describe(pi.Packet)}}, nil
	case OpICMP, OpICMP4Error, OpICMP6Error:
		return generated(ICMP(pi.Packet, false, false))
	case OpTCPReset:
		return generated(TCPReset(pi.Packet, false))
	case OpSCTPAbort:
		return generated(SCTPAbort(pi.Packet, false))
	case OpReject:
		return generated(Reject(pi.Packet))
	case OpPutICMP4FragMTU, OpPutICMP6FragMTU:
		var mtu uint32
		switch {
		case op == OpPutICMP4FragMTU && len(payload) >= 2:
			mtu = uint32(binary.BigEndian.Uint16(payload))
		case op == OpPutICMP6FragMTU && len(payload) >= 4:
			mtu = binary.BigEndian.Uint32(payload)
		default:
			return Result{}, fmt.Errorf("pinctrl: frag_mtu payload of %d bytes", len(payload))
		}
		if len(pi.Continuation) == 0 {
			return Result{}, fmt.Errorf("pinctrl: frag_mtu packet-in was not paused")
		}
		pkt, err := SetFragMTU(pi.Packet, mtu)
		if err != nil {
			pkt = pi.Packet
		}
		return Result{Send: [][]byte{ofconn.Resume(xid, pkt, pi.Metadata, pi.Continuation)}}, err
	}
	return Result{}, fmt.Errorf("%w: %d", ErrIgnored, op)
}

// resumeWithResult handles the paused actions that store a result bit
// (put_dhcp_opts and its relatives): the payload starts with the result
// subfield (OXM header u32, offset u16, bits u16), then the action's
// options. When build succeeds the packet resumes as built with the bit
// set; otherwise it resumes unchanged with the bit cleared (and the error
// is returned too), so the pipeline always continues. The flow does not
// clear the bit before pausing: this is where it gets its value.
func resumeWithResult(pi *ofconn.PacketIn, xid uint32, payload []byte, build func(opts []byte) ([]byte, error)) (Result, error) {
	if len(payload) < 8 {
		return Result{}, fmt.Errorf("pinctrl: result subfield of %d bytes", len(payload))
	}
	h := binary.BigEndian.Uint32(payload)
	ofs := int(binary.BigEndian.Uint16(payload[4:]))
	reply, err := build(payload[8:])
	md, pkt := clearBit(pi.Metadata, h, ofs), pi.Packet
	if err == nil {
		md = ofconn.SetBit(md, h, ofs)
		pkt = reply
	}
	return Result{Send: [][]byte{ofconn.Resume(xid, pkt, md, pi.Continuation)}}, err
}

// Opcodes decoded into Result fields (internal/lflow's numbering).
const (
	OpLog       = 7
	OpEvent     = 15
	OpBindVport = 17
	OpPutFDB    = 24
)

var (
	verdictNames  = map[byte]string{0: "allow", 1: "drop", 2: "reject"}
	severityNames = map[byte]string{1: "alert", 4: "warning", 5: "notice", 6: "info", 7: "debug"}
)

// clearBit returns md with bit ofs of the unmasked field with OXM header
// h cleared (an absent field is zero already).
func clearBit(md []ofconn.OXM, h uint32, ofs int) []ofconn.OXM {
	out := make([]ofconn.OXM, len(md))
	copy(out, md)
	for i, o := range out {
		if ofconn.SameField(o.Header, h) && o.Mask == nil && ofs/8 < len(o.Value) {
			v := append([]byte(nil), o.Value...)
			v[len(v)-1-ofs/8] &^= 1 << (ofs % 8)
			out[i].Value = v
		}
	}
	return out
}

func macString(m []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Describe is a one-line description of a frame for logs: Ethernet
// addresses, then IP addresses, protocol and ports (or ICMP type/code)
// when it is IP.
func Describe(pkt []byte) string {
	if len(pkt) < 14 {
		return fmt.Sprintf("%d-byte frame", len(pkt))
	}
	s := "dl_src=" + macString(pkt[6:12]) + ",dl_dst=" + macString(pkt[0:6])
	f, err := parseIP(pkt)
	if err != nil {
		_, et, _ := l2(pkt)
		return fmt.Sprintf("%s,dl_type=0x%04x", s, et)
	}
	src, _ := netip.AddrFromSlice(f.src)
	dst, _ := netip.AddrFromSlice(f.dst)
	s += fmt.Sprintf(",nw_src=%s,nw_dst=%s,nw_proto=%d,nw_ttl=%d", src, dst, f.proto, f.ttl())
	switch {
	case (f.proto == protoTCP || f.proto == protoUDP || f.proto == protoSCTP) && len(f.l4) >= 4:
		s += fmt.Sprintf(",tp_src=%d,tp_dst=%d", binary.BigEndian.Uint16(f.l4), binary.BigEndian.Uint16(f.l4[2:]))
	case (f.proto == protoICMP || f.proto == protoICMPv6) && len(f.l4) >= 2:
		s += fmt.Sprintf(",icmp_type=%d,icmp_code=%d", f.l4[0], f.l4[1])
	}
	return s
}

func putARP(pi *ofconn.PacketIn) (*MACBinding, error) {
	dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
	port, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
	ip, ok3 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(0))
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("pinctrl: put_arp without metadata, reg14 or reg0 in the packet-in")
	}
	if len(pi.Packet) < 14 {
		return nil, fmt.Errorf("pinctrl: put_arp packet of %d bytes", len(pi.Packet))
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(ip))
	m := pi.Packet[6:12]
	return &MACBinding{Datapath: uint32(dp), Port: uint32(port), IP: netip.AddrFrom4(a),
		MAC: fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])}, nil
}

// l2 returns the Ethernet header length (with one 802.1Q tag) and the
// ethertype.
func l2(pkt []byte) (int, uint16, error) {
	if len(pkt) < 14 {
		return 0, 0, fmt.Errorf("pinctrl: frame of %d bytes", len(pkt))
	}
	et := binary.BigEndian.Uint16(pkt[12:])
	if et == 0x8100 {
		if len(pkt) < 18 {
			return 0, 0, fmt.Errorf("pinctrl: tagged frame of %d bytes", len(pkt))
		}
		return 18, binary.BigEndian.Uint16(pkt[16:]), nil
	}
	return 14, et, nil
}

// ARPRequest builds the ARP request OVN's arp action starts from
// (ovn-sb(5)): Ethernet addresses and VLAN tag unchanged, asking for the
// IPv4 packet's destination on behalf of its source. The nested actions
// then adjust it (ovn-northd's broadcast it).
func ARPRequest(pkt []byte) ([]byte, error) {
	hl, et, err := l2(pkt)
	if err != nil {
		return nil, err
	}
	if et != 0x0800 || len(pkt) < hl+20 {
		return nil, fmt.Errorf("pinctrl: arp action on a non-IPv4 packet (ethertype %#x)", et)
	}
	ip := pkt[hl:]
	out := make([]byte, 0, 42)
	out = append(out, pkt[0:12]...)
	if hl == 18 {
		out = append(out, pkt[12:16]...)
	}
	out = append(out, 0x08, 0x06)
	out = append(out, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	out = append(out, pkt[6:12]...)           // sha
	out = append(out, ip[12:16]...)           // spa
	out = append(out, 0, 0, 0, 0, 0, 0)       // tha
	out = append(out, ip[16:20]...)           // tpa
	return out, nil
}

// checksum is the Internet checksum.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
