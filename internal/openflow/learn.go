package openflow

import (
	"fmt"
	"strings"
)

// Learn flags.
const (
	LearnSendFlowRem   = 1
	LearnDeleteLearned = 2
)

// LearnSpecKind says what a learn spec does in the learned flow.
type LearnSpecKind uint8

// Learn spec kinds.
const (
	LearnMatch LearnSpecKind = iota // learned flow matches Dst
	LearnLoad                       // learned flow loads into Dst
)

// LearnSpec is one flow_mod_spec of a learn action. Src is the packet
// subfield whose current value is used; when Src.Field is nil the
// immediate Imm (of Dst.Bits bits) is used instead.
type LearnSpec struct {
	Kind LearnSpecKind
	Src  Subfield
	Imm  U128
	Dst  Subfield
}

// Learn adds or modifies a flow in another table (NXAST_LEARN).
type Learn struct {
	Table       uint8
	IdleTimeout uint16
	HardTimeout uint16
	Priority    uint16
	Cookie      uint64
	Flags       uint16
	Specs       []LearnSpec
}

func (a Learn) String() string {
	parts := []string{fmt.Sprintf("table=%d", a.Table)}
	if a.IdleTimeout != 0 {
		parts = append(parts, fmt.Sprintf("idle_timeout=%d", a.IdleTimeout))
	}
	if a.HardTimeout != 0 {
		parts = append(parts, fmt.Sprintf("hard_timeout=%d", a.HardTimeout))
	}
	if a.Priority != 0 {
		parts = append(parts, fmt.Sprintf("priority=%d", a.Priority))
	}
	if a.Cookie != 0 {
		parts = append(parts, fmt.Sprintf("cookie=%#x", a.Cookie))
	}
	if a.Flags&LearnSendFlowRem != 0 {
		parts = append(parts, "send_flow_rem")
	}
	if a.Flags&LearnDeleteLearned != 0 {
		parts = append(parts, "delete_learned")
	}
	for _, s := range a.Specs {
		switch {
		case s.Kind == LearnMatch && s.Src.Field == nil && s.Dst.Whole():
			parts = append(parts, fmt.Sprintf("%s=%s", s.Dst.Field.Name, s.Dst.Field.FormatValue(s.Imm, Ones(s.Dst.Field.Bits))))
		case s.Kind == LearnMatch && s.Src.Field == nil:
			parts = append(parts, fmt.Sprintf("%s=%s", s.Dst, s.Imm.Hex()))
		case s.Kind == LearnMatch && s.Src == s.Dst:
			parts = append(parts, s.Dst.String())
		case s.Kind == LearnMatch:
			parts = append(parts, fmt.Sprintf("%s=%s", s.Dst, s.Src))
		case s.Src.Field == nil:
			parts = append(parts, fmt.Sprintf("load:%s->%s", s.Imm.Hex(), s.Dst))
		default:
			parts = append(parts, fmt.Sprintf("load:%s->%s", s.Src, s.Dst))
		}
	}
	return "learn(" + strings.Join(parts, ",") + ")"
}

const nxastLearn = 16

func (a Learn) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastLearn)
	b = be16(b, a.IdleTimeout)
	b = be16(b, a.HardTimeout)
	prio := a.Priority
	if prio == 0 {
		prio = 0x8000 // OFP_DEFAULT_PRIORITY, as ovs-ofctl fills in
	}
	b = be16(b, prio)
	b = be64(b, a.Cookie)
	b = be16(b, a.Flags)
	b = append(b, a.Table, 0)
	b = be16(b, 0) // fin_idle_timeout
	b = be16(b, 0) // fin_hard_timeout
	for _, sp := range a.Specs {
		n := sp.Dst.Bits
		h := uint16(n)
		if sp.Src.Field == nil {
			h |= 1 << 13
		}
		if sp.Kind == LearnLoad {
			h |= 1 << 11
		}
		b = be16(b, h)
		if sp.Src.Field == nil {
			b = append(b, sp.Imm.Bytes((n+15)/16*2)...)
		} else {
			b = be32(b, sp.Src.Field.Header(false))
			b = be16(b, uint16(sp.Src.Ofs))
		}
		b = be32(b, sp.Dst.Field.Header(false))
		b = be16(b, uint16(sp.Dst.Ofs))
	}
	return actEnd(b, s)
}

// Sample samples packets to an IPFIX collector set (NXAST_SAMPLE).
type Sample struct {
	Probability    uint16
	CollectorSetID uint32
	ObsDomainID    uint32
	ObsPointID     uint32
}

func (a Sample) String() string {
	return fmt.Sprintf("sample(probability=%d,collector_set_id=%d,obs_domain_id=%d,obs_point_id=%d)",
		a.Probability, a.CollectorSetID, a.ObsDomainID, a.ObsPointID)
}

const nxastSample = 29

func (a Sample) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastSample)
	b = be16(b, a.Probability)
	b = be32(b, a.CollectorSetID)
	b = be32(b, a.ObsDomainID)
	b = be32(b, a.ObsPointID)
	return actEnd(b, s)
}
