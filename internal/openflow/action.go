package openflow

import (
	"fmt"
	"strings"
)

// Action is one OpenFlow action. String writes it in ovs-ofctl syntax;
// appendTo encodes it for OpenFlow 1.3 (with Nicira extensions).
type Action interface {
	String() string
	appendTo(b []byte) []byte
}

// Special port numbers (OpenFlow 1.3).
const (
	PortInPort     = 0xfffffff8
	PortTable      = 0xfffffff9
	PortController = 0xfffffffd
	PortLocal      = 0xfffffffe
	PortAny        = 0xffffffff
)

// Output sends the packet to an OpenFlow port.
type Output struct{ Port uint32 }

func (a Output) String() string {
	switch a.Port {
	case PortInPort:
		return "IN_PORT"
	case PortLocal:
		return "LOCAL"
	}
	return fmt.Sprintf("output:%d", a.Port)
}

// OutputReg sends the packet to the port number held in a subfield.
type OutputReg struct{ Src Subfield }

func (a OutputReg) String() string { return "output:" + a.Src.String() }

// Resubmit searches table Table as if the packet had arrived on InPort
// (PortInPort: unchanged).
type Resubmit struct {
	InPort uint32
	Table  uint8
}

func (a Resubmit) String() string {
	if a.InPort == 0 || a.InPort == PortInPort {
		return fmt.Sprintf("resubmit(,%d)", a.Table)
	}
	return fmt.Sprintf("resubmit(%d,%d)", a.InPort, a.Table)
}

// SetField loads Value into the bits of Field selected by Mask (all bits
// when Mask covers the whole field).
type SetField struct {
	Field *Field
	Value U128
	Mask  U128
}

// Whole reports whether the action writes every bit of the field.
func (a SetField) Whole() bool { return a.Mask.And(Ones(a.Field.Bits)) == Ones(a.Field.Bits) }

func (a SetField) String() string {
	if a.Field.Name == "nxm_in_port" {
		if a.Value.Lo == 0xffff {
			return "set_field:ANY->in_port"
		}
		return fmt.Sprintf("load:%s->NXM_OF_IN_PORT[]", a.Value.Hex())
	}
	if a.Whole() {
		return fmt.Sprintf("set_field:%s->%s", a.Field.FormatValue(a.Value, Ones(a.Field.Bits)), a.Field.Name)
	}
	switch a.Field.Format {
	case FmtMAC, FmtIPv4, FmtIPv6:
		return fmt.Sprintf("set_field:%s->%s", a.Field.FormatValue(a.Value, a.Mask), a.Field.Name)
	}
	return fmt.Sprintf("set_field:%s/%s->%s", a.Value.Hex(), a.Mask.Hex(), a.Field.Name)
}

// Move copies Src to Dst (same width).
type Move struct{ Src, Dst Subfield }

func (a Move) String() string { return fmt.Sprintf("move:%s->%s", a.Src, a.Dst) }

// Push pushes a subfield on the action stack.
type Push struct{ Src Subfield }

func (a Push) String() string { return "push:" + a.Src.String() }

// Pop pops the action stack into a subfield.
type Pop struct{ Dst Subfield }

func (a Pop) String() string { return "pop:" + a.Dst.String() }

// DecTTL decrements the IP TTL (sending to the controller at zero).
type DecTTL struct{}

func (DecTTL) String() string { return "dec_ttl" }

// CTClear clears the connection tracking state.
type CTClear struct{}

func (CTClear) String() string { return "ct_clear" }

// NAT flags.
const (
	NATSrc         = 1
	NATDst         = 2
	NATPersistent  = 4
	NATProtoHash   = 8
	NATProtoRandom = 16
)

// NAT is the nat(...) argument of ct. IPMin/IPMax are zero for "nat"
// without a range (use the connection's existing mapping).
type NAT struct {
	Flags        uint16
	IPv6         bool
	IPMin, IPMax U128 // IPMax zero: single address
	PortMin      uint16
	PortMax      uint16 // zero: single port
}

func (n NAT) String() string {
	var sb strings.Builder
	sb.WriteString("nat")
	if n.Flags&(NATSrc|NATDst) == 0 {
		return sb.String()
	}
	if n.Flags&NATSrc != 0 {
		sb.WriteString("(src")
	} else {
		sb.WriteString("(dst")
	}
	if !n.IPMin.IsZero() {
		ip := func(v U128) string {
			if n.IPv6 {
				return v.IPv6()
			}
			return v.IPv4()
		}
		sb.WriteByte('=')
		if n.IPv6 && n.PortMin != 0 {
			sb.WriteString("[" + ip(n.IPMin) + "]")
		} else {
			sb.WriteString(ip(n.IPMin))
		}
		if !n.IPMax.IsZero() && n.IPMax != n.IPMin {
			sb.WriteString("-" + ip(n.IPMax))
		}
		if n.PortMin != 0 {
			fmt.Fprintf(&sb, ":%d", n.PortMin)
			if n.PortMax != 0 && n.PortMax != n.PortMin {
				fmt.Fprintf(&sb, "-%d", n.PortMax)
			}
		}
	}
	if n.Flags&NATPersistent != 0 {
		sb.WriteString(",persistent")
	}
	if n.Flags&NATProtoHash != 0 {
		sb.WriteString(",hash")
	}
	if n.Flags&NATProtoRandom != 0 {
		sb.WriteString(",random")
	}
	sb.WriteByte(')')
	return sb.String()
}

// CT sends the packet through the connection tracker.
type CT struct {
	Commit  bool
	Force   bool
	Zone    *Subfield // zone from a subfield, or ZoneImm when nil
	ZoneImm uint16
	Table   int // recirculation table; -1 for none
	Alg     uint16
	NAT     *NAT
	Exec    []Action // only SetField/Move on ct_mark and ct_label
}

func (a CT) String() string {
	var parts []string
	if a.Commit {
		parts = append(parts, "commit")
	}
	if a.Force {
		parts = append(parts, "force")
	}
	if a.Table >= 0 {
		parts = append(parts, fmt.Sprintf("table=%d", a.Table))
	}
	if a.Zone != nil {
		parts = append(parts, "zone="+a.Zone.String())
	} else if a.ZoneImm != 0 {
		parts = append(parts, fmt.Sprintf("zone=%d", a.ZoneImm))
	}
	if a.Alg != 0 {
		parts = append(parts, fmt.Sprintf("alg=%d", a.Alg))
	}
	if a.NAT != nil {
		parts = append(parts, a.NAT.String())
	}
	if len(a.Exec) > 0 {
		parts = append(parts, "exec("+Actions(a.Exec).String()+")")
	}
	return "ct(" + strings.Join(parts, ",") + ")"
}

// Controller2 sends the packet to the controller (NXAST_CONTROLLER2).
type Controller2 struct {
	MaxLen   uint16 // 0: whole packet (encoded as 65535)
	Reason   uint8  // OFPR_*; 1 = action
	UserData []byte
	Pause    bool
	MeterID  uint32 // 0: none
}

func (a Controller2) String() string {
	parts := []string{}
	if a.Reason != 1 {
		parts = append(parts, fmt.Sprintf("reason=%s", reasonName(a.Reason)))
	}
	if a.MaxLen != 0 && a.MaxLen != 0xffff {
		parts = append(parts, fmt.Sprintf("max_len=%d", a.MaxLen))
	}
	if len(a.UserData) > 0 {
		parts = append(parts, "userdata="+hexBytes(a.UserData))
	}
	if a.Pause {
		parts = append(parts, "pause")
	}
	if a.MeterID != 0 {
		parts = append(parts, fmt.Sprintf("meter_id=%d", a.MeterID))
	}
	return "controller(" + strings.Join(parts, ",") + ")"
}

func reasonName(r uint8) string {
	switch r {
	case 0:
		return "no_match"
	case 1:
		return "action"
	case 2:
		return "invalid_ttl"
	}
	return fmt.Sprint(r)
}

// Conjunction marks clause Clause (1-based) of NClauses of conjunction ID.
type Conjunction struct {
	ID       uint32
	Clause   uint8
	NClauses uint8
}

func (a Conjunction) String() string {
	return fmt.Sprintf("conjunction(%d,%d/%d)", a.ID, a.Clause, a.NClauses)
}

// Clone runs Actions on a copy of the packet.
type Clone struct{ Actions []Action }

func (a Clone) String() string { return "clone(" + Actions(a.Actions).String() + ")" }

// Group sends the packet to a group.
type Group struct{ ID uint32 }

func (a Group) String() string { return fmt.Sprintf("group:%d", a.ID) }

// Meter applies a meter (encoded as an OpenFlow 1.3 meter instruction, so
// it must be first in an action list).
type Meter struct{ ID uint32 }

func (a Meter) String() string { return fmt.Sprintf("meter:%d", a.ID) }

// CheckPktLarger stores in Dst (one bit) whether the packet is longer than Len.
type CheckPktLarger struct {
	Len uint16
	Dst Subfield
}

func (a CheckPktLarger) String() string {
	return fmt.Sprintf("check_pkt_larger(%d)->%s", a.Len, a.Dst)
}

// SetQueue sets the output queue.
type SetQueue struct{ Queue uint32 }

func (a SetQueue) String() string { return fmt.Sprintf("set_queue:%d", a.Queue) }

// Actions is an ordered action list.
type Actions []Action

// String writes the list in ovs-ofctl syntax; an empty list is "drop".
func (as Actions) String() string {
	if len(as) == 0 {
		return "drop"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// Flow is an OpenFlow flow description independent of any connection.
type Flow struct {
	Table    uint8
	Priority uint16
	Cookie   uint64
	Match    Match
	Actions  Actions
}

// String writes the flow as ovs-ofctl add-flow text.
func (f Flow) String() string {
	var sb strings.Builder
	if f.Cookie != 0 {
		fmt.Fprintf(&sb, "cookie=%#x,", f.Cookie)
	}
	fmt.Fprintf(&sb, "table=%d,priority=%d", f.Table, f.Priority)
	if m := f.Match.String(); m != "" {
		sb.WriteByte(',')
		sb.WriteString(m)
	}
	sb.WriteString(" actions=")
	sb.WriteString(f.Actions.String())
	return sb.String()
}
