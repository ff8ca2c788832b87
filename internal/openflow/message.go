package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Meter flags and band types (OpenFlow 1.3).
const (
	MeterKbps  = 1
	MeterPktps = 2
	MeterBurst = 4
	MeterStats = 8

	MeterAdd    = 0
	MeterModify = 1
	MeterDelete = 2
)

// MeterBand is one drop band.
type MeterBand struct {
	Rate  uint32
	Burst uint32
}

// MeterMod encodes an OFPT_METER_MOD with drop bands.
func MeterMod(command uint16, flags uint16, id uint32, bands []MeterBand, xid uint32) []byte {
	b := header(nil, TypeMeterMod, xid)
	b = be16(b, command)
	b = be16(b, flags)
	b = be32(b, id)
	for _, band := range bands {
		b = be16(b, 1) // OFPMBT_DROP
		b = be16(b, 16)
		b = be32(b, band.Rate)
		b = be32(b, band.Burst)
		b = append(b, 0, 0, 0, 0)
	}
	return finish(b, 0)
}

// PacketOut encodes an OFPT_PACKET_OUT of an unbuffered packet.
func PacketOut(inPort uint32, actions Actions, packet []byte, xid uint32) []byte {
	b := header(nil, TypePacketOut, xid)
	b = be32(b, noBuffer)
	b = be32(b, inPort)
	lenAt := len(b)
	b = be16(b, 0)
	b = append(b, 0, 0, 0, 0, 0, 0)
	start := len(b)
	b = AppendActions(b, actions)
	binary.BigEndian.PutUint16(b[lenAt:], uint16(len(b)-start))
	b = append(b, packet...)
	return finish(b, 0)
}

// Barrier encodes an OFPT_BARRIER_REQUEST.
func Barrier(xid uint32) []byte { return finish(header(nil, TypeBarrierRequest, xid), 0) }

// Bundle control types (ONF extension 2300 in OpenFlow 1.3).
const (
	BundleOpenRequest    = 0
	BundleOpenReply      = 1
	BundleCloseRequest   = 2
	BundleCloseReply     = 3
	BundleCommitRequest  = 4
	BundleCommitReply    = 5
	BundleDiscardRequest = 6
	BundleDiscardReply   = 7

	BundleAtomic  = 1
	BundleOrdered = 2
)

func onfHeader(expType uint32, xid uint32) []byte {
	b := header(nil, TypeExperimenter, xid)
	b = be32(b, onfExperimenter)
	return be32(b, expType)
}

// BundleControl encodes an ONFT_BUNDLE_CONTROL message.
func BundleControl(bundleID uint32, typ uint16, flags uint16, xid uint32) []byte {
	b := onfHeader(2300, xid)
	b = be32(b, bundleID)
	b = be16(b, typ)
	b = be16(b, flags)
	return finish(b, 0)
}

// BundleOpen, BundleCommit and BundleDiscard are BundleControl shorthands.
func BundleOpen(id uint32, flags uint16, xid uint32) []byte {
	return BundleControl(id, BundleOpenRequest, flags, xid)
}

// BundleCommit commits bundle id.
func BundleCommit(id uint32, flags uint16, xid uint32) []byte {
	return BundleControl(id, BundleCommitRequest, flags, xid)
}

// BundleDiscard discards bundle id.
func BundleDiscard(id uint32, flags uint16, xid uint32) []byte {
	return BundleControl(id, BundleDiscardRequest, flags, xid)
}

// BundleAdd wraps msg (a complete OpenFlow message, e.g. a FlowMod whose
// xid equals xid) in an ONFT_BUNDLE_ADD_MESSAGE.
func BundleAdd(id uint32, flags uint16, msg []byte, xid uint32) []byte {
	b := onfHeader(2301, xid)
	b = be32(b, id)
	b = be16(b, 0)
	b = be16(b, flags)
	b = append(b, msg...)
	return finish(b, 0)
}

// Header is a decoded OpenFlow message header.
type Header struct {
	Version uint8
	Type    uint8
	Length  uint16
	XID     uint32
}

// ParseHeader decodes the 8-byte header of msg.
func ParseHeader(msg []byte) (Header, error) {
	if len(msg) < 8 {
		return Header{}, fmt.Errorf("openflow: message of %d bytes is shorter than a header", len(msg))
	}
	h := Header{Version: msg[0], Type: msg[1], Length: binary.BigEndian.Uint16(msg[2:]), XID: binary.BigEndian.Uint32(msg[4:])}
	if int(h.Length) < 8 || int(h.Length) > len(msg) {
		return h, fmt.Errorf("openflow: header length %d does not fit a %d-byte message", h.Length, len(msg))
	}
	return h, nil
}

// Nicira message subtypes.
const (
	nxtResume            = 28
	nxtPacketIn2         = 30
	nxtSetPacketInFormat = 16
	nxtSetAsyncConfig2   = 27
)

// IsPacketIn2 reports whether msg is an NXT_PACKET_IN2.
func IsPacketIn2(msg []byte) bool {
	return len(msg) >= 16 && msg[1] == TypeExperimenter &&
		binary.BigEndian.Uint32(msg[8:]) == nxVendor && binary.BigEndian.Uint32(msg[12:]) == nxtPacketIn2
}

// PacketIn2 is a decoded NXT_PACKET_IN2.
type PacketIn2 struct {
	Packet       []byte
	FullLen      uint32
	BufferID     uint32
	TableID      uint8
	Cookie       uint64
	Reason       uint8
	Metadata     Match // pipeline fields (registers, metadata, in_port, ...)
	UserData     []byte
	Continuation []byte // opaque; pass back unchanged in Resume
}

// NXPacketIn2 property types.
const (
	pin2Packet       = 0
	pin2FullLen      = 1
	pin2BufferID     = 2
	pin2TableID      = 3
	pin2Cookie       = 4
	pin2Reason       = 5
	pin2Metadata     = 6
	pin2UserData     = 7
	pin2Continuation = 8
)

// ErrTruncated is wrapped by decoding errors for short input.
var ErrTruncated = errors.New("openflow: truncated message")

// DecodePacketIn2 decodes an NXT_PACKET_IN2 message. Unknown properties
// are skipped; malformed input returns an error, never panics.
func DecodePacketIn2(msg []byte) (*PacketIn2, error) {
	h, err := ParseHeader(msg)
	if err != nil {
		return nil, err
	}
	if !IsPacketIn2(msg) {
		return nil, fmt.Errorf("openflow: message type %d is not NXT_PACKET_IN2", h.Type)
	}
	pi := &PacketIn2{BufferID: noBuffer}
	err = walkProps(msg[16:h.Length], func(typ uint16, v []byte) error {
		switch typ {
		case pin2Packet:
			pi.Packet = append([]byte(nil), v...)
		case pin2FullLen:
			if len(v) < 4 {
				return fmt.Errorf("full_len: %w", ErrTruncated)
			}
			pi.FullLen = binary.BigEndian.Uint32(v)
		case pin2BufferID:
			if len(v) < 4 {
				return fmt.Errorf("buffer_id: %w", ErrTruncated)
			}
			pi.BufferID = binary.BigEndian.Uint32(v)
		case pin2TableID:
			if len(v) < 1 {
				return fmt.Errorf("table_id: %w", ErrTruncated)
			}
			pi.TableID = v[0]
		case pin2Cookie:
			if len(v) < 8 {
				return fmt.Errorf("cookie: %w", ErrTruncated)
			}
			pi.Cookie = binary.BigEndian.Uint64(v)
		case pin2Reason:
			if len(v) < 1 {
				return fmt.Errorf("reason: %w", ErrTruncated)
			}
			pi.Reason = v[0]
		case pin2Metadata:
			m, err := DecodeOXMs(v)
			if err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
			pi.Metadata = m
		case pin2UserData:
			pi.UserData = append([]byte(nil), v...)
		case pin2Continuation:
			pi.Continuation = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pi, nil
}

// walkProps iterates over 8-aligned TLV properties (type u16, len u16
// counting the 4-byte header but not the padding). Experimenter properties
// (type 0xffff) are passed with their experimenter header.
func walkProps(b []byte, fn func(typ uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("property header: %w", ErrTruncated)
		}
		typ, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			return fmt.Errorf("property %d length %d: %w", typ, n, ErrTruncated)
		}
		if err := fn(typ, b[4:n]); err != nil {
			return err
		}
		padded := (n + 7) &^ 7
		if padded > len(b) {
			padded = len(b)
		}
		b = b[padded:]
	}
	return nil
}

// DecodeOXMs decodes a sequence of OXM/NXM TLVs into a Match. TLVs for
// fields not in the table are skipped.
func DecodeOXMs(b []byte) (Match, error) {
	var m Match
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("oxm header: %w", ErrTruncated)
		}
		h := binary.BigEndian.Uint32(b)
		class, code, hasMask, n := uint16(h>>16), uint8(h>>9&0x7f), h>>8&1 == 1, int(h&0xff)
		hdr := 4
		if class == 0xffff { // experimenter OXM
			hdr = 8
		}
		if hdr+n > len(b) {
			return nil, fmt.Errorf("oxm %#x length %d: %w", h, n, ErrTruncated)
		}
		body := b[hdr : hdr+n]
		b = b[hdr+n:]
		f := fieldByHeader(class, code)
		if f == nil || class == 0xffff {
			continue
		}
		w := n
		if hasMask {
			w = n / 2
		}
		if w != f.Bytes {
			continue
		}
		fm := FieldMatch{Field: f, Value: FromBytes(body[:w]), Mask: Ones(f.Bits)}
		if hasMask {
			fm.Mask = FromBytes(body[w:])
			fm.Value = fm.Value.And(fm.Mask)
		}
		m = append(m, fm)
	}
	m.Normalize()
	return m, nil
}

func fieldByHeader(class uint16, code uint8) *Field {
	for _, f := range fieldList {
		if f.Class == class && f.Code == code {
			return f
		}
	}
	return nil
}

// Resume encodes an NXT_RESUME that continues a paused pipeline with the
// (possibly modified) packet and the continuation from its PacketIn2.
func Resume(pi *PacketIn2, packet []byte, xid uint32) []byte {
	b := header(nil, TypeExperimenter, xid)
	b = be32(b, nxVendor)
	b = be32(b, nxtResume)
	b = prop(b, pin2Packet, packet)
	if len(pi.Metadata) > 0 {
		var md []byte
		for _, fm := range pi.Metadata {
			full := Ones(fm.Field.Bits)
			md = appendOXM(md, fm.Field, fm.Value, fm.Mask, fm.Mask.And(full) != full)
		}
		b = prop(b, pin2Metadata, md)
	}
	b = prop(b, pin2Continuation, pi.Continuation)
	return finish(b, 0)
}

// SetPacketInFormat encodes NXT_SET_PACKET_IN_FORMAT (2 = NXPIF_NXT_PACKET_IN2).
func SetPacketInFormat(format uint32, xid uint32) []byte {
	b := header(nil, TypeExperimenter, xid)
	b = be32(b, nxVendor)
	b = be32(b, nxtSetPacketInFormat)
	b = be32(b, format)
	return finish(b, 0)
}

// PacketOutRaw is PacketOut with an already encoded action list (for
// example the nested actions carried in a controller action's userdata).
func PacketOutRaw(inPort uint32, actions []byte, packet []byte, xid uint32) []byte {
	b := header(nil, TypePacketOut, xid)
	b = be32(b, noBuffer)
	b = be32(b, inPort)
	b = be16(b, uint16(len(actions)))
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, actions...)
	b = append(b, packet...)
	return finish(b, 0)
}

// SetConfig encodes an OFPT_SET_CONFIG. A connection to a bridge's
// management socket (a service connection in OVS) receives packet-ins only
// after setting a nonzero missSendLen (0xffff: whole packets).
func SetConfig(flags, missSendLen uint16, xid uint32) []byte {
	b := header(nil, 9, xid)
	b = be16(b, flags)
	b = be16(b, missSendLen)
	return finish(b, 0)
}
