package openflow

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// OpenFlow 1.3 constants used by the encoders.
const (
	Version13 = 0x04

	TypeError          = 1
	TypeEchoRequest    = 2
	TypeEchoReply      = 3
	TypeExperimenter   = 4
	TypeFeaturesReq    = 5
	TypePacketIn       = 10
	TypePacketOut      = 13
	TypeFlowMod        = 14
	TypeGroupMod       = 15
	TypeBarrierRequest = 20
	TypeBarrierReply   = 21
	TypeMeterMod       = 29

	FlowAdd          = 0
	FlowModify       = 1
	FlowModifyStrict = 2
	FlowDelete       = 3
	FlowDeleteStrict = 4

	FlagSendFlowRem  = 1
	FlagCheckOverlap = 2
	FlagResetCounts  = 4

	TableAll = 0xff
	GroupAny = 0xffffffff
	noBuffer = 0xffffffff
)

func be16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func pad8(b []byte, start int) []byte {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// header appends an OpenFlow header with a zero length to be fixed by
// finish.
func header(b []byte, typ uint8, xid uint32) []byte {
	return be32(append(b, Version13, typ, 0, 0), xid)
}

func finish(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// appendOXM appends one OXM TLV for f.
func appendOXM(b []byte, f *Field, v, m U128, withMask bool) []byte {
	b = be32(b, f.Header(withMask))
	b = append(b, v.Bytes(f.Bytes)...)
	if withMask {
		b = append(b, m.Bytes(f.Bytes)...)
	}
	return b
}

// AppendMatch appends an OpenFlow 1.3 ofp_match (OXM, padded) for m.
func AppendMatch(b []byte, m Match) []byte {
	start := len(b)
	b = be16(b, 1) // OFPMT_OXM
	b = be16(b, 0)
	for _, fm := range m {
		full := Ones(fm.Field.Bits)
		exact := fm.Mask.And(full) == full
		b = appendOXM(b, fm.Field, fm.Value, fm.Mask, !exact)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return pad8(b, start)
}

// FlowMod describes an OFPT_FLOW_MOD.
type FlowMod struct {
	Command    uint8
	Flow       Flow
	CookieMask uint64
	Flags      uint16
	OutPort    uint32 // for deletes; PortAny otherwise
	OutGroup   uint32
}

// Marshal encodes the flow as an OFPT_FLOW_MOD with the given command.
func (f Flow) Marshal(command uint8, xid uint32) []byte {
	return FlowMod{Command: command, Flow: f, OutPort: PortAny, OutGroup: GroupAny}.Marshal(xid)
}

// Marshal encodes fm.
func (fm FlowMod) Marshal(xid uint32) []byte {
	b := header(make([]byte, 0, 128), TypeFlowMod, xid)
	f := fm.Flow
	b = be64(b, f.Cookie)
	b = be64(b, fm.CookieMask)
	b = append(b, f.Table, fm.Command)
	b = be16(b, 0) // idle timeout
	b = be16(b, 0) // hard timeout
	b = be16(b, f.Priority)
	b = be32(b, noBuffer)
	b = be32(b, fm.OutPort)
	b = be32(b, fm.OutGroup)
	b = be16(b, fm.Flags)
	b = be16(b, 0)
	b = AppendMatch(b, f.Match)
	if fm.Command != FlowDelete && fm.Command != FlowDeleteStrict {
		b = AppendInstructions(b, f.Actions)
	}
	return finish(b, 0)
}

// AppendInstructions appends the instructions for an action list: an
// OFPIT_METER for a leading Meter action, then OFPIT_APPLY_ACTIONS.
func AppendInstructions(b []byte, as Actions) []byte {
	if len(as) > 0 {
		if m, ok := as[0].(Meter); ok {
			b = be16(b, 6) // OFPIT_METER
			b = be16(b, 8)
			b = be32(b, m.ID)
			as = as[1:]
		}
	}
	if len(as) == 0 {
		return b
	}
	start := len(b)
	b = be16(b, 4) // OFPIT_APPLY_ACTIONS
	b = be16(b, 0)
	b = be32(b, 0)
	b = AppendActions(b, as)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// AppendActions appends the OpenFlow 1.3 encoding of as.
func AppendActions(b []byte, as Actions) []byte {
	for _, a := range as {
		b = a.appendTo(b)
	}
	return b
}

// nxStart begins a Nicira vendor action; nxEnd pads it to 8 and sets its length.
func nxStart(b []byte, subtype uint16) ([]byte, int) {
	start := len(b)
	b = be16(b, 0xffff)
	b = be16(b, 0)
	b = be32(b, nxVendor)
	b = be16(b, subtype)
	return b, start
}

func actEnd(b []byte, start int) []byte {
	b = pad8(b, start)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// Nicira action subtypes.
const (
	nxastRegMove        = 6
	nxastRegLoad        = 7
	nxastResubmitTable  = 14
	nxastOutputReg      = 15
	nxastStackPush      = 27
	nxastStackPop       = 28
	nxastRegLoad2       = 33
	nxastConjunction    = 34
	nxastCT             = 35
	nxastNAT            = 36
	nxastController2    = 37
	nxastClone          = 42
	nxastCTClear        = 43
	nxastCheckPktLarger = 49
)

func (a Output) appendTo(b []byte) []byte {
	b = be16(b, 0) // OFPAT_OUTPUT
	b = be16(b, 16)
	b = be32(b, a.Port)
	b = be16(b, 0xffff) // OFPCML_NO_BUFFER
	return append(b, 0, 0, 0, 0, 0, 0)
}

func (a OutputReg) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastOutputReg)
	b = be16(b, ofsNbits(a.Src))
	b = be32(b, a.Src.Field.Header(false))
	b = be16(b, 0)
	return actEnd(b, s)
}

func ofsNbits(s Subfield) uint16 { return uint16(s.Ofs<<6 | (s.Bits - 1)) }

func (a Resubmit) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastResubmitTable)
	port := a.InPort
	if port == 0 || port == PortInPort {
		port = 0xfff8 // OFPP_IN_PORT in 16-bit space
	}
	b = be16(b, uint16(port))
	b = append(b, a.Table, 0, 0, 0)
	return actEnd(b, s)
}

func (a SetField) appendTo(b []byte) []byte {
	if a.Whole() {
		start := len(b)
		b = be16(b, 25) // OFPAT_SET_FIELD
		b = be16(b, 0)
		b = appendOXM(b, a.Field, a.Value, Ones(a.Field.Bits), false)
		return actEnd(b, start)
	}
	// A contiguous mask of at most 64 bits is a subfield load, which is
	// how OVS itself encodes such set_field actions for OpenFlow 1.3.
	ofs := a.Mask.TrailingZeros()
	n := a.Mask.Shr(ofs).Len()
	if n > 0 && n <= 64 && a.Mask == Range(ofs, n) {
		b, s := nxStart(b, nxastRegLoad)
		b = be16(b, uint16(ofs<<6|(n-1)))
		b = be32(b, a.Field.Header(false))
		b = be64(b, a.Value.And(a.Mask).Shr(ofs).Lo)
		return actEnd(b, s)
	}
	b, s := nxStart(b, nxastRegLoad2)
	b = appendOXM(b, a.Field, a.Value.And(a.Mask), a.Mask, true)
	return actEnd(b, s)
}

func (a Move) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastRegMove)
	b = be16(b, uint16(a.Src.Bits))
	b = be16(b, uint16(a.Src.Ofs))
	b = be16(b, uint16(a.Dst.Ofs))
	b = be32(b, a.Src.Field.Header(false))
	b = be32(b, a.Dst.Field.Header(false))
	return actEnd(b, s)
}

func stack(b []byte, subtype uint16, sf Subfield) []byte {
	b, s := nxStart(b, subtype)
	b = be16(b, uint16(sf.Ofs))
	b = be32(b, sf.Field.Header(false))
	b = be16(b, uint16(sf.Bits))
	b = append(b, 0, 0, 0, 0, 0, 0)
	return actEnd(b, s)
}

func (a Push) appendTo(b []byte) []byte { return stack(b, nxastStackPush, a.Src) }
func (a Pop) appendTo(b []byte) []byte  { return stack(b, nxastStackPop, a.Dst) }

func (DecTTL) appendTo(b []byte) []byte {
	b = be16(b, 24) // OFPAT_DEC_NW_TTL
	b = be16(b, 8)
	return append(b, 0, 0, 0, 0)
}

func (CTClear) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastCTClear)
	return actEnd(append(b, 0, 0, 0, 0, 0, 0), s)
}

func (a CT) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastCT)
	var flags uint16
	if a.Commit {
		flags |= 1
	}
	if a.Force {
		flags |= 2
	}
	b = be16(b, flags)
	if a.Zone != nil {
		b = be32(b, a.Zone.Field.Header(false))
		b = be16(b, ofsNbits(*a.Zone))
	} else {
		b = be32(b, 0)
		b = be16(b, a.ZoneImm)
	}
	table := uint8(0xff)
	if a.Table >= 0 {
		table = uint8(a.Table)
	}
	b = append(b, table, 0, 0, 0)
	b = be16(b, a.Alg)
	if a.NAT != nil {
		b = a.NAT.appendTo(b)
	}
	b = AppendActions(b, a.Exec)
	return actEnd(b, s)
}

func (n NAT) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastNAT)
	b = append(b, 0, 0)
	b = be16(b, n.Flags)
	var present uint16
	var body []byte
	if !n.IPMin.IsZero() {
		if n.IPv6 {
			present |= 4
			body = append(body, n.IPMin.Bytes(16)...)
			if !n.IPMax.IsZero() && n.IPMax != n.IPMin {
				present |= 8
				body = append(body, n.IPMax.Bytes(16)...)
			}
		} else {
			present |= 1
			body = append(body, n.IPMin.Bytes(4)...)
			if !n.IPMax.IsZero() && n.IPMax != n.IPMin {
				present |= 2
				body = append(body, n.IPMax.Bytes(4)...)
			}
		}
		if n.PortMin != 0 {
			present |= 16
			body = be16(body, n.PortMin)
			if n.PortMax != 0 && n.PortMax != n.PortMin {
				present |= 32
				body = be16(body, n.PortMax)
			}
		}
	}
	b = be16(b, present)
	b = append(b, body...)
	return actEnd(b, s)
}

func prop(b []byte, typ uint16, data []byte) []byte {
	start := len(b)
	b = be16(b, typ)
	b = be16(b, uint16(4+len(data)))
	b = append(b, data...)
	return pad8(b, start)
}

func (a Controller2) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastController2)
	b = append(b, 0, 0, 0, 0, 0, 0)
	maxLen := a.MaxLen
	if maxLen == 0 {
		maxLen = 0xffff
	}
	if maxLen != 0xffff {
		b = prop(b, 0, be16(nil, maxLen))
	}
	if a.Reason != 1 {
		b = prop(b, 2, []byte{a.Reason})
	}
	if len(a.UserData) > 0 {
		b = prop(b, 3, a.UserData)
	}
	if a.Pause {
		b = prop(b, 4, nil)
	}
	if a.MeterID != 0 {
		b = prop(b, 5, be32(nil, a.MeterID))
	}
	return actEnd(b, s)
}

func (a Conjunction) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastConjunction)
	b = append(b, a.Clause-1, a.NClauses)
	b = be32(b, a.ID)
	return actEnd(b, s)
}

func (a Clone) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastClone)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = AppendActions(b, a.Actions)
	return actEnd(b, s)
}

func (a Group) appendTo(b []byte) []byte {
	b = be16(b, 22) // OFPAT_GROUP
	b = be16(b, 8)
	return be32(b, a.ID)
}

func (a Meter) appendTo(b []byte) []byte {
	panic(fmt.Sprintf("openflow: meter:%d must be the first action of a flow", a.ID))
}

func (a CheckPktLarger) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastCheckPktLarger)
	b = be16(b, a.Len)
	b = be16(b, uint16(a.Dst.Ofs))
	b = be32(b, a.Dst.Field.Header(false))
	return actEnd(b, s)
}

func (a SetQueue) appendTo(b []byte) []byte {
	b = be16(b, 21) // OFPAT_SET_QUEUE
	b = be16(b, 8)
	return be32(b, a.Queue)
}

// Group types.
const (
	GroupTypeAll      = 0
	GroupTypeSelect   = 1
	GroupTypeIndirect = 2
	GroupTypeFF       = 3
)

// Bucket is one bucket of a group.
type Bucket struct {
	Weight uint16
	// WatchPort is the port whose liveness the bucket depends on (0:
	// none).
	WatchPort uint32
	Actions   Actions
}

// GroupDesc describes a group's type and buckets (not its id).
type GroupDesc struct {
	Type    uint8
	Buckets []Bucket
	// SelectionMethod and Fields are OVS's selection_method=hash and
	// fields() extension; Fields empty means the default hash.
	SelectionMethod string
	Fields          []string
	// SelectionParam is OVS's selection_method_param; for dp_hash its
	// upper 32 bits pick the hash (1: symmetric L4, OVN's select()).
	SelectionParam uint64
}

// String writes the description in ovs-ofctl add-group syntax (without
// group_id).
func (g GroupDesc) String() string {
	var sb []string
	switch g.Type {
	case GroupTypeAll:
		sb = append(sb, "type=all")
	case GroupTypeSelect:
		sb = append(sb, "type=select")
	case GroupTypeIndirect:
		sb = append(sb, "type=indirect")
	case GroupTypeFF:
		sb = append(sb, "type=ff")
	}
	if g.SelectionMethod != "" {
		sb = append(sb, "selection_method="+g.SelectionMethod)
	}
	if g.SelectionParam != 0 {
		sb = append(sb, fmt.Sprintf("selection_method_param=%d", g.SelectionParam))
	}
	if len(g.Fields) > 0 {
		sb = append(sb, "fields("+strings.Join(g.Fields, ",")+")")
	}
	for _, b := range g.Buckets {
		s := "bucket="
		if g.Type == GroupTypeSelect {
			s += fmt.Sprintf("weight:%d,", b.Weight)
		}
		if b.WatchPort != 0 {
			s += fmt.Sprintf("watch_port:%d,", b.WatchPort)
		}
		sb = append(sb, s+"actions="+b.Actions.String())
	}
	return strings.Join(sb, ",")
}

// GroupMod encodes an OFPT_GROUP_MOD (command: 0 add, 1 modify, 2 delete).
func (g GroupDesc) GroupMod(command uint16, id uint32, xid uint32) []byte {
	b := header(nil, TypeGroupMod, xid)
	b = be16(b, command)
	b = append(b, g.Type, 0)
	b = be32(b, id)
	if command != 2 {
		for _, bk := range g.Buckets {
			start := len(b)
			b = be16(b, 0)
			b = be16(b, bk.Weight)
			if bk.WatchPort != 0 {
				b = be32(b, bk.WatchPort)
			} else {
				b = be32(b, PortAny)
			}
			b = be32(b, GroupAny)
			b = append(b, 0, 0, 0, 0)
			b = AppendActions(b, bk.Actions)
			binary.BigEndian.PutUint16(b[start:], uint16(len(b)-start))
		}
	}
	return finish(b, 0)
}
