package ofconn

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OpenFlow 1.3 message types and Nicira extension numbers used here.
const (
	Version = 0x04

	TypeHello        = 0
	TypeError        = 1
	TypeEchoRequest  = 2
	TypeEchoReply    = 3
	TypeExperimenter = 4
	TypeSetConfig    = 9
	TypePacketOut    = 13
	TypeBarrierReq   = 20
	TypeBarrierReply = 21
	TypeSetAsync     = 28

	NiciraVendor = 0x00002320

	nxtSetPacketInFormat = 16
	nxtResume            = 28
	nxtPacketIn2         = 30
	nxpifNXTPacketIn2    = 2

	// Packet-in2 / resume properties.
	propPacket       = 0
	propFullLen      = 1
	propBufferID     = 2
	propTableID      = 3
	propCookie       = 4
	propReason       = 5
	propMetadata     = 6
	propUserdata     = 7
	propContinuation = 8

	// PortController is OFPP_CONTROLLER; PortTable OFPP_TABLE (an
	// output to it in a packet-out runs the flow table from table 0).
	PortController = 0xfffffffd
	PortTable      = 0xfffffff9
	noBuffer       = 0xffffffff
)

// Header is an OpenFlow header.
type Header struct {
	Version uint8
	Type    uint8
	Length  uint16
	XID     uint32
}

func appendHeader(b []byte, typ uint8, xid uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, Version, typ, 0, 0), xid)
}

func finish(b []byte) []byte {
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func pad8(b []byte, start int) []byte {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// Hello encodes OFPT_HELLO.
func Hello(xid uint32) []byte { return finish(appendHeader(nil, TypeHello, xid)) }

// EchoReply answers an echo request with its payload.
func EchoReply(xid uint32, payload []byte) []byte {
	return finish(append(appendHeader(nil, TypeEchoReply, xid), payload...))
}

// SetConfig encodes OFPT_SET_CONFIG with no flags and the given
// miss_send_len; a nonzero value makes a service connection receive
// asynchronous messages such as packet-ins.
func SetConfig(xid uint32, missSendLen uint16) []byte {
	b := appendHeader(nil, TypeSetConfig, xid)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, missSendLen)
	return finish(b)
}

func nxHeader(xid, subtype uint32) []byte {
	b := appendHeader(nil, TypeExperimenter, xid)
	b = binary.BigEndian.AppendUint32(b, NiciraVendor)
	return binary.BigEndian.AppendUint32(b, subtype)
}

// SetPacketInFormat asks for NXT_PACKET_IN2 packet-ins.
func SetPacketInFormat(xid uint32) []byte {
	return finish(binary.BigEndian.AppendUint32(nxHeader(xid, nxtSetPacketInFormat), nxpifNXTPacketIn2))
}

// Packet-in reasons, as bits of SetAsync's mask.
const (
	ReasonNoMatch = 0
	ReasonAction  = 1
)

// SetAsync encodes OFPT_SET_ASYNC: the connection, in the master or
// equal role, receives packet-ins whose reason bit is in packetInMask and
// no port-status or flow-removed messages; in the slave role nothing.
func SetAsync(xid, packetInMask uint32) []byte {
	b := appendHeader(nil, TypeSetAsync, xid)
	for _, m := range []uint32{packetInMask, 0, 0, 0, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, m)
	}
	return finish(b)
}

// Barrier encodes OFPT_BARRIER_REQUEST.
func Barrier(xid uint32) []byte { return finish(appendHeader(nil, TypeBarrierReq, xid)) }

// PacketIn is a parsed NXT_PACKET_IN2.
type PacketIn struct {
	Packet       []byte
	TableID      uint8
	Cookie       uint64
	Reason       uint8
	Metadata     []OXM
	Userdata     []byte
	Continuation []byte
}

// OXM is one match field of the packet's metadata: its 32-bit header
// (class, field, has-mask, length) and value (and mask, when present).
type OXM struct {
	Header uint32
	Value  []byte
	Mask   []byte
}

// Class and Field of an OXM header.
func (o OXM) Class() uint16 { return uint16(o.Header >> 16) }
func (o OXM) Field() uint8  { return uint8(o.Header>>9) & 0x7f }

// SameField compares two OXM headers ignoring has-mask and length.
func SameField(a, b uint32) bool { return a&^0x1ff == b&^0x1ff }

// ErrNotPacketIn2 means a message is not an NXT_PACKET_IN2.
var ErrNotPacketIn2 = errors.New("ofconn: not a packet-in2")

// ParsePacketIn2 parses a whole NXT_PACKET_IN2 message.
func ParsePacketIn2(msg []byte) (*PacketIn, error) {
	if len(msg) < 16 || msg[1] != TypeExperimenter ||
		binary.BigEndian.Uint32(msg[8:]) != NiciraVendor || binary.BigEndian.Uint32(msg[12:]) != nxtPacketIn2 {
		return nil, ErrNotPacketIn2
	}
	pi := &PacketIn{}
	err := walkProps(msg[16:], func(typ uint16, body []byte) error {
		switch typ {
		case propPacket:
			pi.Packet = append([]byte(nil), body...)
		case propTableID:
			if len(body) >= 1 {
				pi.TableID = body[0]
			}
		case propCookie:
			if len(body) >= 12 {
				pi.Cookie = binary.BigEndian.Uint64(body[4:])
			}
		case propReason:
			if len(body) >= 1 {
				pi.Reason = body[0]
			}
		case propMetadata:
			oxms, err := ParseOXMs(body)
			if err != nil {
				return err
			}
			pi.Metadata = oxms
		case propUserdata:
			pi.Userdata = append([]byte(nil), body...)
		case propContinuation:
			pi.Continuation = append([]byte(nil), body...)
		}
		return nil
	})
	return pi, err
}

// walkProps calls fn for each property (type, body without header or
// padding).
func walkProps(b []byte, fn func(typ uint16, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("ofconn: truncated property header (%d bytes)", len(b))
		}
		typ := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 4 || l > len(b) {
			return fmt.Errorf("ofconn: property %d length %d of %d bytes", typ, l, len(b))
		}
		if err := fn(typ, b[4:l]); err != nil {
			return err
		}
		padded := (l + 7) &^ 7
		if padded > len(b) {
			padded = len(b)
		}
		b = b[padded:]
	}
	return nil
}

// ParseOXMs parses a sequence of OXM/NXM entries.
func ParseOXMs(b []byte) ([]OXM, error) {
	var out []OXM
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("ofconn: truncated OXM header")
		}
		h := binary.BigEndian.Uint32(b)
		l := int(h & 0xff)
		if 4+l > len(b) {
			return nil, fmt.Errorf("ofconn: OXM %#x length %d of %d bytes", h, l, len(b)-4)
		}
		body := b[4 : 4+l]
		o := OXM{Header: h}
		if uint16(h>>16) == 0xffff && l >= 4 {
			// Experimenter OXM: the experimenter id is part of the body.
		}
		if h&0x100 != 0 {
			o.Value = append([]byte(nil), body[:l/2]...)
			o.Mask = append([]byte(nil), body[l/2:]...)
		} else {
			o.Value = append([]byte(nil), body...)
		}
		out = append(out, o)
		b = b[4+l:]
	}
	return out, nil
}

// AppendOXMs encodes entries.
func AppendOXMs(b []byte, oxms []OXM) []byte {
	for _, o := range oxms {
		b = binary.BigEndian.AppendUint32(b, o.Header)
		b = append(b, o.Value...)
		b = append(b, o.Mask...)
	}
	return b
}

func appendProp(b []byte, typ uint16, body []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	b = append(b, body...)
	return pad8(b, start)
}

// Resume encodes NXT_RESUME for a paused packet: the (possibly modified)
// packet, its metadata and the continuation from the packet-in.
func Resume(xid uint32, packet []byte, metadata []OXM, continuation []byte) []byte {
	b := nxHeader(xid, nxtResume)
	b = appendProp(b, propPacket, packet)
	b = appendProp(b, propMetadata, AppendOXMs(nil, metadata))
	b = appendProp(b, propContinuation, continuation)
	return finish(b)
}

// PacketOut encodes OFPT_PACKET_OUT of packet from OFPP_CONTROLLER with
// the given OpenFlow 1.3 actions (already encoded).
func PacketOut(xid uint32, packet, actions []byte) []byte {
	b := appendHeader(nil, TypePacketOut, xid)
	b = binary.BigEndian.AppendUint32(b, noBuffer)
	b = binary.BigEndian.AppendUint32(b, PortController)
	b = binary.BigEndian.AppendUint16(b, uint16(len(actions)))
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, actions...)
	b = append(b, packet...)
	return finish(b)
}

// PacketOutFrom encodes OFPT_PACKET_OUT of packet as if it had arrived
// on inPort, with the given encoded actions.
func PacketOutFrom(xid, inPort uint32, packet, actions []byte) []byte {
	b := appendHeader(nil, TypePacketOut, xid)
	b = binary.BigEndian.AppendUint32(b, noBuffer)
	b = binary.BigEndian.AppendUint32(b, inPort)
	b = binary.BigEndian.AppendUint16(b, uint16(len(actions)))
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, actions...)
	b = append(b, packet...)
	return finish(b)
}

// OutputAction encodes OFPAT_OUTPUT to port (no max_len: whole packets).
func OutputAction(port uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint16(b, 16)
	b = binary.BigEndian.AppendUint32(b, port)
	b = binary.BigEndian.AppendUint16(b, 0xffff)
	return append(b, 0, 0, 0, 0, 0, 0)
}

// SetFieldAction encodes an OpenFlow 1.3 OFPAT_SET_FIELD for one OXM
// (without mask).
func SetFieldAction(o OXM) []byte {
	b := binary.BigEndian.AppendUint16(nil, 25)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, o.Header&^0x100&^0xff|uint32(len(o.Value)))
	b = append(b, o.Value...)
	b = pad8(b, 0)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// ReloadActions returns set-field actions restoring the metadata fields a
// packet-in carried (OVN's convention before executing actions a
// controller action nested), skipping in_port.
func ReloadActions(md []OXM) []byte {
	var b []byte
	for _, o := range md {
		if o.Mask != nil {
			continue
		}
		if o.Class() == 0x8000 && o.Field() == 0 { // OXM_OF_IN_PORT
			continue
		}
		if o.Class() == 0x0000 && o.Field() == 0 { // NXM_OF_IN_PORT
			continue
		}
		b = append(b, SetFieldAction(o)...)
	}
	return b
}

// SetBit sets bit ofs of the field with OXM header h in md (adding the
// field, zero otherwise, when absent) and returns the new metadata.
func SetBit(md []OXM, h uint32, ofs int) []OXM {
	n := int(h & 0xff)
	if h&0x100 != 0 {
		n /= 2
	}
	out := make([]OXM, 0, len(md)+1)
	found := false
	for _, o := range md {
		if SameField(o.Header, h) && o.Mask == nil {
			v := append([]byte(nil), o.Value...)
			if ofs/8 < len(v) {
				v[len(v)-1-ofs/8] |= 1 << (ofs % 8)
			}
			o.Value = v
			found = true
		}
		out = append(out, o)
	}
	if !found && n > 0 {
		v := make([]byte, n)
		if ofs/8 < n {
			v[n-1-ofs/8] |= 1 << (ofs % 8)
		}
		out = append(out, OXM{Header: h&^0x100&^0xff | uint32(n), Value: v})
	}
	return out
}

// Uint returns the value of the unmasked field with header h, as an
// unsigned integer (up to 8 bytes), and whether it is present.
func Uint(md []OXM, h uint32) (uint64, bool) {
	for _, o := range md {
		if SameField(o.Header, h) && o.Mask == nil {
			var v uint64
			for _, c := range o.Value {
				v = v<<8 | uint64(c)
			}
			return v, true
		}
	}
	return 0, false
}

// Common field headers (OXM class 0x8000 basic, NXM class 0x0001).
const (
	FieldMetadata uint32 = 0x8000<<16 | 2<<9 | 8
	FieldInPort   uint32 = 0x8000<<16 | 0<<9 | 4
)

// FieldReg returns the NXM header of regN (32 bits).
func FieldReg(n int) uint32 { return 0x0001<<16 | uint32(n)<<9 | 4 }

// FieldXXReg returns the NXM header of xxregN (128 bits).
func FieldXXReg(n int) uint32 { return 0x0001<<16 | uint32(111+n)<<9 | 16 }
