package lflow

import (
	"fmt"
	"strings"
)

// Action is one parsed logical action.
//
// Assignments have Name "=" with Dst and either Src (a field) or Value;
// exchanges have Name "<->" with Dst and Src; "ip.ttl--" has Name "--"
// with Dst. Other actions have their keyword as Name, function arguments
// in Args, a nested action list in Nested (arp { ... }), and, for actions
// that return a value (R = lookup_arp(...)), the result field in Dst.
type Action struct {
	Pos     int
	Name    string
	Dst     *FieldRef
	Src     *FieldRef
	Value   *Operand
	Args    []Arg
	Nested  Actions
	HasArgs bool // written with parentheses
}

// Arg is one function argument: an optional key ("table=") and its tokens.
type Arg struct {
	Pos  int
	Key  string
	toks []token
}

func (a Arg) String() string {
	parts := make([]string, len(a.toks))
	for i, t := range a.toks {
		parts[i] = t.text
	}
	s := strings.Join(parts, " ")
	s = strings.ReplaceAll(s, " : ", ":")
	s = strings.ReplaceAll(s, "[ ", "[")
	s = strings.ReplaceAll(s, " ]", "]")
	if a.Key != "" {
		return a.Key + "=" + s
	}
	return s
}

// Actions is a parsed action list.
type Actions []Action

// String writes the actions back in (normalised) logical flow syntax.
func (as Actions) String() string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

func (a Action) String() string {
	switch a.Name {
	case "=":
		if a.Src != nil {
			return fmt.Sprintf("%s = %s;", a.Dst, a.Src)
		}
		return fmt.Sprintf("%s = %s;", a.Dst, a.Value)
	case "<->":
		return fmt.Sprintf("%s <-> %s;", a.Dst, a.Src)
	case "--":
		return fmt.Sprintf("%s--;", a.Dst)
	}
	var sb strings.Builder
	if a.Dst != nil {
		fmt.Fprintf(&sb, "%s = ", a.Dst)
	}
	sb.WriteString(a.Name)
	if a.HasArgs {
		args := make([]string, len(a.Args))
		for i, x := range a.Args {
			args[i] = x.String()
		}
		sb.WriteString("(" + strings.Join(args, ", ") + ")")
	}
	if a.Nested != nil {
		sb.WriteString(" { " + a.Nested.String() + " }")
	}
	sb.WriteByte(';')
	return sb.String()
}

// actionSpec says how an action is written.
type actionSpec struct {
	args   int8 // -1: optional parentheses; 0: none; 1: required
	nested int8 // -1 optional braces; 0 none; 1 required
	result int8 // -1 optional result; 0 none; 1 required
}

// actionSpecs lists every action keyword the parser accepts.
var actionSpecs = map[string]actionSpec{
	"next": {-1, 0, 0}, "output": {0, 0, 0}, "drop": {0, 0, 0},
	"ct_next": {-1, 0, 0}, "ct_commit": {-1, -1, 0}, "ct_commit_nat": {-1, 0, 0},
	"ct_dnat": {-1, 0, 0}, "ct_snat": {-1, 0, 0}, "ct_dnat_in_czone": {-1, 0, 0}, "ct_snat_in_czone": {-1, 0, 0},
	"ct_lb": {-1, 0, 0}, "ct_lb_mark": {-1, 0, 0}, "ct_clear": {0, 0, 0}, "ct_snat_to_vip": {0, 0, 0},
	"clone": {0, 1, 0}, "arp": {0, 1, 0}, "nd_na": {0, 1, 0}, "nd_na_router": {0, 1, 0}, "nd_ns": {0, 1, 0},
	"icmp4": {0, 1, 0}, "icmp4_error": {0, 1, 0}, "icmp6": {0, 1, 0}, "icmp6_error": {0, 1, 0},
	"tcp_reset": {0, 1, 0}, "sctp_abort": {0, 1, 0}, "reject": {0, 1, 0}, "igmp": {0, 0, 0},
	"put_arp": {1, 0, 0}, "get_arp": {1, 0, 0}, "lookup_arp": {1, 0, 1}, "lookup_arp_ip": {1, 0, 1},
	"put_nd": {1, 0, 0}, "get_nd": {1, 0, 0}, "lookup_nd": {1, 0, 1}, "lookup_nd_ip": {1, 0, 1},
	"put_dhcp_opts": {1, 0, 1}, "put_dhcpv6_opts": {1, 0, 1}, "put_nd_ra_opts": {1, 0, 1}, "dns_lookup": {1, 0, 1},
	"set_meter": {1, 0, 0}, "set_queue": {1, 0, 0}, "log": {1, 0, 0},
	"handle_svc_check": {1, 0, 0}, "handle_dhcpv6_reply": {0, 0, 0}, "trigger_event": {1, 0, 0},
	"bind_vport": {1, 0, 0}, "check_pkt_larger": {1, 0, 1}, "chk_lb_hairpin": {1, 0, 1},
	"chk_lb_hairpin_reply": {1, 0, 1}, "check_in_port_sec": {1, 0, 1}, "check_out_port_sec": {1, 0, 1},
	"get_fdb": {1, 0, 1}, "put_fdb": {1, 0, 0}, "lookup_fdb": {1, 0, 1}, "select": {1, 0, 1},
	"chk_ecmp_nh_mac": {1, 0, 1}, "chk_ecmp_nh": {1, 0, 1}, "commit_ecmp_nh": {1, 0, 0},
	"commit_lb_aff": {1, 0, 0}, "chk_lb_aff": {1, 0, 1},
	"push": {1, 0, 0}, "pop": {1, 0, 0}, "sample": {1, 0, 0}, "fwd_group": {1, 0, 0}, "handle_bfd_msg": {-1, 0, 0},
}

// ParseActions parses a Logical_Flow actions string. Empty text and
// "drop;" both parse to an empty list.
func ParseActions(s string) (Actions, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	as, err := p.parseActionList(tEOF)
	if err != nil {
		return nil, err
	}
	if len(as) == 1 && as[0].Name == "drop" {
		return Actions{}, nil
	}
	for _, a := range as {
		if a.Name == "drop" && len(as) > 1 {
			return nil, &Error{Pos: a.Pos, Token: "drop", Msg: "drop must be the only action"}
		}
	}
	return as, nil
}

// parseActionList parses actions up to the terminator (} or end).
func (p *parser) parseActionList(end tokKind) (Actions, error) {
	as := Actions{}
	for {
		t := p.peek()
		if t.kind == end {
			if end != tEOF {
				p.advance()
			}
			return as, nil
		}
		if t.kind == tEOF {
			return nil, p.errAt(t, "missing %s", tokNames[end])
		}
		if t.kind == tSemi { // stray ";" (e.g. after a comment-only action)
			p.advance()
			continue
		}
		a, err := p.parseAction()
		if err != nil {
			return nil, err
		}
		as = append(as, a)
	}
}

func (p *parser) parseAction() (Action, error) {
	t := p.peek()
	if t.kind != tID {
		return Action{}, p.errAt(t, "expected an action, found %s", describe(t))
	}
	if _, ok := actionSpecs[t.s]; ok && p.peekN(1).kind != tEquals && p.peekN(1).kind != tExchange && p.peekN(1).kind != tLSquare {
		return p.parseKeyword(nil)
	}
	if k := p.peekN(1).kind; k == tSemi || k == tLParen || k == tLCurly || k == tEOF {
		return Action{}, p.errAt(t, "unknown action %s", t.s)
	}
	dst, err := p.parseFieldRef()
	if err != nil {
		return Action{}, err
	}
	a := Action{Pos: t.pos, Dst: &dst}
	switch op := p.advance(); op.kind {
	case tDecr:
		a.Name = "--"
	case tExchange:
		a.Name = "<->"
		src, err := p.parseFieldRef()
		if err != nil {
			return Action{}, err
		}
		a.Src = &src
	case tEquals:
		v := p.peek()
		switch v.kind {
		case tID:
			if spec, ok := actionSpecs[v.s]; ok && spec.result != 0 && p.peekN(1).kind == tLParen {
				return p.parseKeyword(&dst)
			}
			src, err := p.parseFieldRef()
			if err != nil {
				return Action{}, err
			}
			a.Name, a.Src = "=", &src
		case tConst, tString:
			p.advance()
			a.Name, a.Value = "=", &Operand{tok: v}
		default:
			return Action{}, p.errAt(v, "expected a field or constant after =, found %s", describe(v))
		}
	default:
		return Action{}, p.errAt(op, "expected =, <-> or -- after %s, found %s", dst, describe(op))
	}
	if _, err := p.expect(tSemi); err != nil {
		return Action{}, err
	}
	return a, nil
}

func (p *parser) parseKeyword(result *FieldRef) (Action, error) {
	t := p.advance()
	spec := actionSpecs[t.s]
	a := Action{Pos: t.pos, Name: t.s, Dst: result}
	if result != nil {
		a.Pos = result.Pos
	}
	if spec.result == 1 && result == nil {
		return a, p.errAt(t, "%s returns a value: write R = %s(...)", t.s, t.s)
	}
	if p.peek().kind == tLParen {
		if spec.args == 0 {
			return a, p.errAt(p.peek(), "%s takes no arguments", t.s)
		}
		p.advance()
		a.HasArgs = true
		args, err := p.parseArgs()
		if err != nil {
			return a, err
		}
		a.Args = args
	} else if spec.args == 1 {
		return a, p.errAt(p.peek(), "%s needs arguments in parentheses", t.s)
	}
	if p.peek().kind == tLCurly {
		if spec.nested == 0 {
			return a, p.errAt(p.peek(), "%s takes no nested actions", t.s)
		}
		p.advance()
		nested, err := p.parseActionList(tRCurly)
		if err != nil {
			return a, err
		}
		a.Nested = nested
	} else if spec.nested == 1 {
		return a, p.errAt(p.peek(), "%s needs nested actions in braces", t.s)
	}
	if _, err := p.expect(tSemi); err != nil {
		return a, err
	}
	if err := checkArgs(a); err != nil {
		return a, err
	}
	return a, nil
}

// parseArgs parses comma- or semicolon-separated arguments up to ")".
func (p *parser) parseArgs() ([]Arg, error) {
	var args []Arg
	for {
		t := p.peek()
		if t.kind == tRParen {
			p.advance()
			return args, nil
		}
		arg := Arg{Pos: t.pos}
		if t.kind == tID && p.peekN(1).kind == tEquals {
			arg.Key = t.s
			p.advance()
			p.advance()
		}
		depth := 0
	loop:
		for {
			t := p.peek()
			switch t.kind {
			case tEOF:
				return nil, p.errAt(t, "missing )")
			case tLCurly, tLSquare, tLParen:
				depth++
			case tRCurly, tRSquare:
				depth--
			case tRParen:
				if depth == 0 {
					break loop
				}
				depth--
			case tComma, tSemi:
				if depth == 0 {
					p.advance()
					break loop
				}
			}
			arg.toks = append(arg.toks, p.advance())
		}
		if len(arg.toks) == 0 {
			return nil, p.errAt(p.peek(), "empty argument")
		}
		args = append(args, arg)
	}
}

// checkArgs validates the argument shapes of an action at parse time, so
// that ParseActions rejects what Compile could not understand.
func checkArgs(a Action) error {
	errf := func(pos int, format string, args ...any) error {
		return &Error{Pos: pos, Token: a.Name, Msg: fmt.Sprintf(format, args...)}
	}
	switch a.Name {
	case "next":
		_, _, err := nextArgs(a)
		return err
	case "ct_next", "ct_commit", "ct_commit_nat", "ct_clear":
		return nil
	case "ct_dnat", "ct_snat", "ct_dnat_in_czone", "ct_snat_in_czone":
		_, err := natArgs(a)
		return err
	case "ct_lb", "ct_lb_mark":
		_, err := lbArgs(a)
		return err
	case "put_arp", "put_nd":
		if len(a.Args) != 3 {
			return errf(a.Pos, "%s takes 3 arguments (port, ip, mac)", a.Name)
		}
	case "get_arp", "get_nd", "lookup_arp_ip", "lookup_nd_ip":
		if len(a.Args) != 2 {
			return errf(a.Pos, "%s takes 2 arguments", a.Name)
		}
	case "lookup_arp", "lookup_nd":
		if len(a.Args) != 3 {
			return errf(a.Pos, "%s takes 3 arguments (port, ip, mac)", a.Name)
		}
	case "set_meter":
		if len(a.Args) < 1 || len(a.Args) > 2 {
			return errf(a.Pos, "set_meter takes a rate and an optional burst")
		}
	}
	for _, arg := range a.Args {
		if arg.Key == "" && len(arg.toks) == 0 {
			return errf(arg.Pos, "empty argument")
		}
	}
	return nil
}
