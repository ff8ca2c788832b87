package lflow

import (
	"encoding/binary"
	"fmt"
	"strings"

	"hcnet/internal/openflow"
)

// Opcode identifies what the chassis must do with a packet the flow sends
// to the controller. The userdata of the controller action is:
//
//	opcode  uint32 (big-endian)
//	pad     4 bytes
//	payload (depends on the opcode, below)
//
// The numbering follows OVN's ACTION_OPCODE_* order.
type Opcode uint32

// Controller opcodes.
const (
	OpARP             Opcode = 0  // payload: OpenFlow 1.3 actions for the generated ARP request
	OpPutARP          Opcode = 1  // no payload; port in reg14, IPv4 in reg0, MAC in eth.src
	OpPutDHCPOpts     Opcode = 2  // payload: result subfield, then DHCPv4 options (pause)
	OpNDNA            Opcode = 3  // payload: actions for the generated neighbor advertisement
	OpPutND           Opcode = 4  // no payload; port in reg14, IPv6 in xxreg0, MAC in eth.src
	OpPutDHCPv6Opts   Opcode = 5  // payload: result subfield, then DHCPv6 options (pause)
	OpDNSLookup       Opcode = 6  // payload: result subfield (pause)
	OpLog             Opcode = 7  // payload: verdict u8, severity u8, name
	OpPutNDRAOpts     Opcode = 8  // payload: result subfield, then options (pause)
	OpNDNS            Opcode = 9  // payload: actions for the generated neighbor solicitation
	OpICMP            Opcode = 10 // payload: actions for the generated ICMPv4/v6 packet
	OpTCPReset        Opcode = 11 // payload: actions for the generated TCP RST
	OpNDNARouter      Opcode = 12 // as OpNDNA with the router flag
	OpPutICMP4FragMTU Opcode = 13 // payload: mtu u16 (only inside icmp4_error)
	OpICMP4Error      Opcode = 14 // payload: actions for the generated ICMPv4 error
	OpEvent           Opcode = 15 // payload: key=value strings, NUL separated
	OpIGMP            Opcode = 16 // no payload
	OpBindVport       Opcode = 17 // payload: vport key u32; parent port in reg14
	OpDHCP6Server     Opcode = 18 // no payload (handle_dhcpv6_reply)
	OpHandleSvcCheck  Opcode = 19 // no payload; port in reg14
	OpBFDMsg          Opcode = 20 // no payload (handle_bfd_msg)
	OpICMP6Error      Opcode = 21 // payload: actions for the generated ICMPv6 error
	OpPutICMP6FragMTU Opcode = 22 // payload: mtu u32
	OpReject          Opcode = 23 // payload: actions for the generated reject packet
	OpPutFDB          Opcode = 24 // no payload; port in reg14, MAC in eth.src
	OpSCTPAbort       Opcode = 25 // payload: actions for the generated SCTP ABORT
)

// nestedOps are the actions whose braces describe a packet the chassis
// generates; the nested actions are encoded in the payload.
var nestedOps = map[string]struct {
	op  Opcode
	pre string
}{
	"arp": {OpARP, "ip4"}, "nd_na": {OpNDNA, "nd_ns"}, "nd_na_router": {OpNDNARouter, "nd_ns"},
	"nd_ns": {OpNDNS, "ip6"}, "icmp4": {OpICMP, "ip4"}, "icmp6": {OpICMP, "ip6"},
	"icmp4_error": {OpICMP4Error, "ip4"}, "icmp6_error": {OpICMP6Error, "ip6"},
	"tcp_reset": {OpTCPReset, "tcp"}, "sctp_abort": {OpSCTPAbort, "sctp"}, "reject": {OpReject, ""},
}

func userdata(op Opcode, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, uint32(op))
	return append(b, payload...)
}

func (c *compiler) controller(op Opcode, payload []byte, pause bool, meter uint32) openflow.Action {
	if meter == 0 && op != OpLog && c.lf.ControllerMeter != "" && c.env != nil && c.env.Meter != nil {
		if id, ok := c.env.Meter(c.lf.ControllerMeter); ok {
			meter = id
		}
	}
	return openflow.Controller2{Reason: 1, UserData: userdata(op, payload), Pause: pause, MeterID: meter}
}

// argField resolves a positional argument that must be a field.
func (c *compiler) argField(a *Action, i int) (*symbol, openflow.Subfield, error) {
	if i >= len(a.Args) {
		return nil, openflow.Subfield{}, &Error{Pos: a.Pos, Token: a.Name, Msg: fmt.Sprintf("%s needs argument %d", a.Name, i+1)}
	}
	arg := a.Args[i]
	p := &parser{toks: append(append([]token(nil), arg.toks...), token{kind: tEOF, pos: arg.Pos})}
	r, err := p.parseFieldRef()
	if err != nil {
		return nil, openflow.Subfield{}, err
	}
	if p.peek().kind != tEOF {
		return nil, openflow.Subfield{}, &Error{Pos: arg.Pos, Token: arg.String(), Msg: "expected a field"}
	}
	return c.fieldOf(&r, false)
}

// loadArgs puts each argument into its fixed register, saving the
// registers on the stack first, the way ovn-controller does: a port
// argument (first target inport/outport) is moved only when it is not
// already there; the others go through the stack (push the targets, push
// the arguments last to first, pop into the targets). It returns the
// setup and restore actions.
//
// With always false, arguments already in their register are left alone
// (ovn-controller does so for get_nd and the FDB actions).
func (c *compiler) loadArgs(a *Action, targets []openflow.Subfield, always bool) (setup, restore openflow.Actions, err error) {
	return c.loadArgsPort(a, targets, always, true)
}

// loadArgsPort is loadArgs; with portMove false a port argument goes
// through the stack like the others (ovn-controller's lookup_arp_ip and
// lookup_nd_ip load inport into outport that way).
func (c *compiler) loadArgsPort(a *Action, targets []openflow.Subfield, always, portMove bool) (setup, restore openflow.Actions, err error) {
	srcs := make([]openflow.Subfield, len(targets))
	for i, tgt := range targets {
		_, s, err := c.argField(a, i)
		if err != nil {
			return nil, nil, err
		}
		if s.Bits != tgt.Bits {
			return nil, nil, &Error{Pos: a.Args[i].Pos, Token: a.Args[i].String(), Msg: fmt.Sprintf("%s argument %d must be %d bits wide", a.Name, i+1, tgt.Bits)}
		}
		srcs[i] = s
	}
	first := 0
	if portMove && len(targets) > 0 && (targets[0] == subInport || targets[0] == subOutport) {
		first = 1
		if srcs[0] != targets[0] {
			setup = append(setup, openflow.Push{Src: targets[0]}, openflow.Move{Src: srcs[0], Dst: targets[0]})
			restore = append(restore, openflow.Pop{Dst: targets[0]})
		}
	}
	var rest, restSrc []openflow.Subfield
	for i := first; i < len(targets); i++ {
		if always || srcs[i] != targets[i] {
			rest = append(rest, targets[i])
			restSrc = append(restSrc, srcs[i])
		}
	}
	for _, tgt := range rest {
		setup = append(setup, openflow.Push{Src: tgt})
	}
	for i := len(rest) - 1; i >= 0; i-- {
		setup = append(setup, openflow.Push{Src: restSrc[i]})
	}
	for _, tgt := range rest {
		setup = append(setup, openflow.Pop{Dst: tgt})
	}
	var r openflow.Actions
	for i := len(rest) - 1; i >= 0; i-- {
		r = append(r, openflow.Pop{Dst: rest[i]})
	}
	restore = append(r, restore...)
	return setup, restore, nil
}

var (
	subInport  = regSub(RegInport, 0, 32)
	subOutport = regSub(RegOutport, 0, 32)
	subReg0    = regSub("reg0", 0, 32)
	subXXReg0  = regSub("xxreg0", 0, 128)
	subEthSrc  = regSub("eth_src", 0, 48)
	subEthDst  = regSub("eth_dst", 0, 48)
)

// controllerAction compiles the actions that go through the controller
// or a lookup table. ok is false for names it does not handle.
func (c *compiler) controllerAction(a *Action) (openflow.Actions, bool, error) {
	if n, found := nestedOps[a.Name]; found {
		sub := &compiler{lf: c.lf, env: c.env, low: c.low}
		nested, err := sub.actions(a.Nested, false)
		if err != nil {
			return nil, true, err
		}
		if n.pre != "" {
			c.requirePred(n.pre)
		}
		payload := openflow.AppendActions(nil, nested)
		return openflow.Actions{c.controller(n.op, payload, false, 0)}, true, nil
	}
	// Which arguments already in place still go through the stack is
	// ovn-controller's choice per action (get_arp pushes reg0 onto
	// itself, get_nd and put_nd leave theirs): the differential test
	// pins it.
	always := a.Name != "get_nd" && a.Name != "put_nd" && a.Name != "put_fdb" && a.Name != "handle_svc_check"
	wrap := func(targets []openflow.Subfield, mid ...openflow.Action) (openflow.Actions, bool, error) {
		setup, restore, err := c.loadArgs(a, targets, always)
		if err != nil {
			return nil, true, err
		}
		out := append(setup, mid...)
		return append(out, restore...), true, nil
	}
	switch a.Name {
	case "put_arp":
		return wrap([]openflow.Subfield{subInport, subReg0, subEthSrc}, c.controller(OpPutARP, nil, false, 0))
	case "put_nd":
		return wrap([]openflow.Subfield{subInport, subXXReg0, subEthSrc}, c.controller(OpPutND, nil, false, 0))
	case "put_fdb":
		return wrap([]openflow.Subfield{subInport, subEthSrc}, c.controller(OpPutFDB, nil, false, 0))
	case "handle_svc_check":
		return wrap([]openflow.Subfield{subInport}, c.controller(OpHandleSvcCheck, nil, false, 0))
	case "handle_dhcpv6_reply":
		return openflow.Actions{c.controller(OpDHCP6Server, nil, false, 0)}, true, nil
	case "handle_bfd_msg":
		if len(a.Args) != 0 {
			return nil, true, &Error{Pos: a.Pos, Token: a.Name, Msg: "handle_bfd_msg takes no arguments"}
		}
		return openflow.Actions{c.controller(OpBFDMsg, nil, false, 0)}, true, nil
	case "igmp":
		return openflow.Actions{c.controller(OpIGMP, nil, false, 0)}, true, nil
	case "get_arp", "get_nd":
		ip := subReg0
		if a.Name == "get_nd" {
			ip = subXXReg0
		}
		return wrap([]openflow.Subfield{subOutport, ip},
			openflow.SetField{Field: subEthDst.Field, Value: openflow.U128{}, Mask: openflow.Ones(48)},
			openflow.Resubmit{Table: TableMACBinding})
	case "lookup_arp_ip", "lookup_nd_ip":
		// Is the IP in the MAC bindings of the port at all: the
		// get_arp/get_nd table (outport, IP), which writes eth.dst
		// (saved around it) and raises the lookup flag.
		ip := subReg0
		if a.Name == "lookup_nd_ip" {
			ip = subXXReg0
		}
		setup, restore, err := c.loadArgsPort(a, []openflow.Subfield{subOutport, ip}, true, false)
		if err != nil {
			return nil, true, err
		}
		setup = append(setup, openflow.Push{Src: subEthDst})
		acts, err := c.flagLookup(a, setup, TableMACBinding, FlagLookupMAC)
		if err != nil {
			return nil, true, err
		}
		acts = append(acts, openflow.Pop{Dst: subEthDst})
		return append(acts, restore...), true, nil
	case "lookup_arp", "lookup_nd", "lookup_fdb":
		targets := []openflow.Subfield{subInport, subReg0, subEthSrc}
		table, flag := uint8(TableMACLookup), FlagLookupMAC
		switch a.Name {
		case "lookup_nd":
			targets[1] = subXXReg0
		case "lookup_fdb":
			targets = []openflow.Subfield{subInport, subEthSrc}
			table, flag = TableLookupFDB, FlagLookupFDB
		}
		setup, restore, err := c.loadArgs(a, targets, a.Name != "lookup_fdb")
		if err != nil {
			return nil, true, err
		}
		acts, err := c.flagLookup(a, setup, table, flag)
		if err != nil {
			return nil, true, err
		}
		return append(acts, restore...), true, nil
	case "get_fdb":
		if a.Dst.Name != "outport" || a.Dst.Ranged {
			return nil, true, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: "get_fdb must assign to outport"}
		}
		if _, _, err := c.fieldOf(a.Dst, true); err != nil {
			return nil, true, err
		}
		setup, restore, err := c.loadArgs(a, []openflow.Subfield{subEthDst}, false)
		if err != nil {
			return nil, true, err
		}
		out := append(openflow.Actions{setSub(subOutport, openflow.U128{})}, setup...)
		out = append(out, openflow.Resubmit{Table: TableGetFDB})
		return append(out, restore...), true, nil
	case "put_dhcp_opts", "put_dhcpv6_opts", "put_nd_ra_opts", "dns_lookup":
		_, d, err := c.fieldOf(a.Dst, true)
		if err != nil {
			return nil, true, err
		}
		if d.Bits != 1 {
			return nil, true, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: a.Name + " result must be a 1-bit field"}
		}
		payload := binary.BigEndian.AppendUint32(nil, d.Field.Header(false))
		payload = binary.BigEndian.AppendUint16(payload, uint16(d.Ofs))
		payload = binary.BigEndian.AppendUint16(payload, uint16(d.Bits))
		op := map[string]Opcode{"put_dhcp_opts": OpPutDHCPOpts, "put_dhcpv6_opts": OpPutDHCPv6Opts, "put_nd_ra_opts": OpPutNDRAOpts, "dns_lookup": OpDNSLookup}[a.Name]
		opts, err := c.encodeOptions(a)
		if err != nil {
			return nil, true, err
		}
		payload = append(payload, opts...)
		// No clearing of R here: the chassis writes it, 1 or 0, into the
		// metadata it resumes with (as ovn-controller).
		return openflow.Actions{c.controller(op, payload, true, 0)}, true, nil
	case "log":
		return c.logAction(a)
	case "trigger_event":
		var payload []byte
		for _, x := range a.Args {
			payload = append(payload, x.Key+"="+argText(x)...)
			payload = append(payload, 0)
		}
		return openflow.Actions{c.controller(OpEvent, payload, false, 0)}, true, nil
	case "bind_vport":
		if len(a.Args) != 2 || len(a.Args[0].toks) != 1 || a.Args[0].toks[0].kind != tString {
			return nil, true, &Error{Pos: a.Pos, Token: a.Name, Msg: "bind_vport takes a port name and a field"}
		}
		key, ok := c.low.port(a.Args[0].toks[0].s)
		if !ok {
			return nil, true, fmt.Errorf("%w %q (offset %d)", ErrUnknownPort, a.Args[0].toks[0].s, a.Pos)
		}
		a2 := *a
		a2.Args = a.Args[1:]
		setup, restore, err := c.loadArgs(&a2, []openflow.Subfield{subInport}, false)
		if err != nil {
			return nil, true, err
		}
		out := append(setup, c.controller(OpBindVport, binary.BigEndian.AppendUint32(nil, key), false, 0))
		return append(out, restore...), true, nil
	}
	return nil, false, nil
}

// fragMTU compiles icmp4.frag_mtu = N (inside icmp4_error) into a nested
// controller action.
func (c *compiler) fragMTU(a *Action) (openflow.Actions, error) {
	if a.Value == nil || a.Value.tok.kind != tConst || a.Value.tok.val.Hi != 0 || a.Value.tok.val.Lo > 0xffff {
		return nil, &Error{Pos: a.Pos, Token: a.Dst.Name, Msg: a.Dst.Name + " needs a 16-bit constant"}
	}
	v := uint16(a.Value.tok.val.Lo)
	if a.Dst.Name == "icmp6.frag_mtu" {
		return openflow.Actions{c.controller(OpPutICMP6FragMTU, binary.BigEndian.AppendUint32(nil, uint32(v)), true, 0)}, nil
	}
	return openflow.Actions{c.controller(OpPutICMP4FragMTU, binary.BigEndian.AppendUint16(nil, v), true, 0)}, nil
}

func argText(x Arg) string {
	if len(x.toks) == 1 && x.toks[0].kind == tString {
		return x.toks[0].s
	}
	s := x.String()
	if x.Key != "" {
		s = strings.TrimPrefix(s, x.Key+"=")
	}
	return s
}

var severities = map[string]uint8{"alert": 1, "warning": 4, "notice": 5, "info": 6, "debug": 7}
var verdicts = map[string]uint8{"allow": 0, "drop": 1, "reject": 2}

// logAction compiles log(name=, severity=, verdict=, meter=).
func (c *compiler) logAction(a *Action) (openflow.Actions, bool, error) {
	verdict, sev := uint8(0), uint8(6)
	var name string
	var meter uint32
	for _, x := range a.Args {
		v := argText(x)
		switch x.Key {
		case "name":
			name = v
		case "severity":
			s, ok := severities[v]
			if !ok {
				return nil, true, &Error{Pos: x.Pos, Token: v, Msg: "unknown log severity"}
			}
			sev = s
		case "verdict":
			s, ok := verdicts[v]
			if !ok {
				return nil, true, &Error{Pos: x.Pos, Token: v, Msg: "unknown log verdict"}
			}
			verdict = s
		case "meter":
			if c.env != nil && c.env.Meter != nil {
				if id, ok := c.env.Meter(v); ok {
					meter = id
				}
			}
		default:
			return nil, true, &Error{Pos: x.Pos, Token: x.Key, Msg: "unknown log argument"}
		}
	}
	payload := append([]byte{verdict, sev}, name...)
	return openflow.Actions{c.controller(OpLog, payload, false, meter)}, true, nil
}

// DecodeUserdata splits the userdata of a controller action produced by
// this package into its opcode and payload.
func DecodeUserdata(b []byte) (Opcode, []byte, error) {
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("lflow: controller userdata of %d bytes is shorter than its 8-byte header", len(b))
	}
	return Opcode(binary.BigEndian.Uint32(b)), b[8:], nil
}
