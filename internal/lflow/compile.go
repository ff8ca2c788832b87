package lflow

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"hcnet/internal/openflow"
)

// ErrUnsupported is wrapped by errors for actions this package does not
// compile yet; UnsupportedError names the action.
var ErrUnsupported = errors.New("lflow: unsupported action")

// ErrUnknownPort is wrapped when an action names a logical port the
// environment does not know.
var ErrUnknownPort = errors.New("lflow: unknown logical port")

// UnsupportedError reports an action that parses but does not compile.
type UnsupportedError struct {
	Pos    int
	Action string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("lflow: offset %d: action %s is not supported", e.Pos, e.Action)
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// LogicalFlow is the part of a Logical_Flow row the compiler needs.
type LogicalFlow struct {
	Pipeline string // "ingress" or "egress"
	TableID  uint8
	Priority uint16
	Match    string
	Actions  string
	Datapath uint32 // Datapath_Binding tunnel_key: the OpenFlow metadata
	Cookie   uint64
	Router   bool // the datapath is a logical router (selects ct zones)
	// ControllerMeter is the Logical_Flow's controller_meter (CoPP): the
	// meter, by name through Env.Meter, of every controller action of the
	// flow except log(), which has its own.
	ControllerMeter string
}

// Compile translates one logical flow into OpenFlow flows.
func Compile(lf LogicalFlow, env *Env) ([]openflow.Flow, error) {
	if env != nil && len(env.Templates) > 0 {
		lf.Match = ExpandTemplates(lf.Match, env.Templates)
		lf.Actions = ExpandTemplates(lf.Actions, env.Templates)
	}
	m, err := ParseExpr(lf.Match)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	as, err := ParseActions(lf.Actions)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	return CompileParsed(lf, m, as, env)
}

// CompileParsed is Compile for an already parsed match and actions.
func CompileParsed(lf LogicalFlow, match Expr, as Actions, env *Env) ([]openflow.Flow, error) {
	if lf.Pipeline != "ingress" && lf.Pipeline != "egress" {
		return nil, fmt.Errorf("lflow: pipeline %q is neither ingress nor egress", lf.Pipeline)
	}
	if int(lf.TableID) >= MaxLogicalTables {
		return nil, fmt.Errorf("lflow: table %d out of range", lf.TableID)
	}
	c := &compiler{lf: lf, env: env, low: lowerer{st: builtins, env: env}}
	ofacts, err := c.actions(as, true)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	ofacts = hoistMeter(ofacts)
	n, err := c.low.lower(match, false)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	md := leaf(openflow.MustField("metadata"), openflow.U64(uint64(lf.Datapath)), openflow.Ones(64))
	n = mkAnd(append([]*node{n, md}, c.prereqs...)...)
	table := uint8(c.tableBase(lf.Pipeline) + int(lf.TableID))
	conjBase := env.conjBase(lf.Cookie)
	return toFlows(n, table, lf.Priority, lf.Cookie, ofacts, conjBase)
}

func (env *Env) conjBase(cookie uint64) uint32 {
	if env != nil && env.ConjIDBase != 0 {
		return env.ConjIDBase
	}
	return uint32(cookie&0xffffff) << 4
}

func hoistMeter(as openflow.Actions) openflow.Actions {
	for i, a := range as {
		if m, ok := a.(openflow.Meter); ok && i > 0 {
			out := append(openflow.Actions{m}, as[:i]...)
			return append(out, as[i+1:]...)
		}
	}
	return as
}

// MatchExpr normalises a match expression into OpenFlow matches (without
// the datapath's metadata); with conjunctive matching disabled.
func MatchExpr(s string, env *Env) ([]openflow.Match, error) {
	e, err := ParseExpr(s)
	if err != nil {
		return nil, err
	}
	l := lowerer{st: builtins, env: env}
	n, err := l.lower(e, false)
	if err != nil {
		return nil, err
	}
	return dnf(n)
}

// toFlows turns the lowered match into flows, using conjunctive matches
// when a cross product would produce many more flows than its factors.
func toFlows(n *node, table uint8, prio uint16, cookie uint64, acts openflow.Actions, conjID uint32) ([]openflow.Flow, error) {
	mk := func(m openflow.Match, as openflow.Actions, ck uint64) openflow.Flow {
		return openflow.Flow{Table: table, Priority: prio, Cookie: ck, Match: m, Actions: as}
	}
	if n.kind == nAnd {
		if flows, ok, err := conjFlows(n, conjID, mk, cookie, acts); err != nil || ok {
			return flows, err
		}
	}
	ms, err := dnf(n)
	if err != nil {
		return nil, err
	}
	ms = simplify(ms)
	flows := make([]openflow.Flow, 0, len(ms))
	for _, m := range ms {
		flows = append(flows, mk(m, acts, cookie))
	}
	return flows, nil
}

// conjFlows tries conjunctive matching for an AND node whose terms have
// several alternatives each.
func conjFlows(n *node, id uint32, mk func(openflow.Match, openflow.Actions, uint64) openflow.Flow, cookie uint64, acts openflow.Actions) ([]openflow.Flow, bool, error) {
	var common openflow.Match
	var dims [][]openflow.Match
	for _, k := range n.kids {
		d, err := dnf(k)
		if err != nil {
			return nil, false, err
		}
		d = simplify(d)
		dims = append(dims, d)
	}
	// Fold single alternatives and shared constraints into the common
	// part, drop alternatives that conflict with it, and merge dimensions
	// that test the same fields (their cross product is cheap), to a
	// fixpoint.
	for changed := true; changed; {
		changed = false
		var rest [][]openflow.Match
		for _, d := range dims {
			var kept []openflow.Match
			for _, m := range d {
				if _, ok := mergeMatch(common, m); ok {
					kept = append(kept, m)
				}
			}
			if len(kept) == 0 {
				return nil, true, nil // unsatisfiable
			}
			if len(kept) == 1 {
				common, _ = mergeMatch(common, kept[0])
				changed = true
				continue
			}
			if shared := sharedPart(kept); len(shared) > 0 {
				if c, ok := mergeMatch(common, shared); ok {
					common = c
					kept = stripShared(kept, shared)
					changed = true
				}
			}
			if len(kept) != len(d) {
				changed = true
			}
			rest = append(rest, kept)
		}
		dims = rest
		merged, err := mergeOverlapping(dims, common)
		if err != nil {
			return nil, false, err
		}
		if len(merged) != len(dims) {
			changed = true
		}
		dims = merged
	}
	if len(dims) < 2 {
		return nil, false, nil
	}
	// ovn-controller keeps only disjunctions over one field as
	// dimensions (arp.op == 1 || nd_ns is distributed): any other makes
	// the whole match a cross product here.
	for _, d := range dims {
		if !singleField(d) {
			return nil, false, nil
		}
	}
	// Like ovn-controller: two or more independent dimensions with
	// several alternatives each always become a conjunctive match.
	if len(dims) > 64 {
		return nil, false, nil
	}
	// One flow per alternative per dimension, plus the conj_id flow.
	byKey := map[string]int{}
	var flows []openflow.Flow
	nd := uint8(len(dims))
	for i, d := range dims {
		for _, m := range d {
			full, ok := mergeMatch(common, m)
			if !ok {
				continue
			}
			act := openflow.Conjunction{ID: id, Clause: uint8(i + 1), NClauses: nd}
			k := matchKey(full)
			if j, ok := byKey[k]; ok {
				flows[j].Actions = append(flows[j].Actions, act)
				continue
			}
			byKey[k] = len(flows)
			flows = append(flows, mk(full, openflow.Actions{act}, 0))
		}
	}
	// The flow that carries the actions matches the conjunction id and,
	// like ovn-controller's, the part common to every clause.
	final, _ := mergeMatch(common, openflow.Match{{Field: openflow.MustField("conj_id"), Value: openflow.U64(uint64(id)), Mask: openflow.Ones(32)}})
	flows = append(flows, mk(final, acts, cookie))
	return flows, true, nil
}

// singleField reports whether every match of ms tests the same one field.
func singleField(ms []openflow.Match) bool {
	for _, m := range ms {
		if len(m) != 1 || m[0].Field != ms[0][0].Field {
			return false
		}
	}
	return true
}

// sharedPart returns the field matches identical in every match of ms.
func sharedPart(ms []openflow.Match) openflow.Match {
	var out openflow.Match
	for _, fm := range ms[0] {
		all := true
		for _, m := range ms[1:] {
			o, ok := m.Get(fm.Field)
			if !ok || o != fm {
				all = false
				break
			}
		}
		if all {
			out = append(out, fm)
		}
	}
	return out
}

func stripShared(ms []openflow.Match, shared openflow.Match) []openflow.Match {
	out := make([]openflow.Match, len(ms))
	for i, m := range ms {
		var nm openflow.Match
		for _, fm := range m {
			if _, ok := shared.Get(fm.Field); !ok {
				nm = append(nm, fm)
			}
		}
		out[i] = nm
	}
	return out
}

// compiler holds the state of one logical flow's compilation.
type compiler struct {
	lf      LogicalFlow
	env     *Env
	low     lowerer
	prereqs []*node
	groupN  int
}

func (c *compiler) tableBase(pipeline string) int {
	if pipeline == "egress" {
		return TableLogEgress
	}
	return TableLogIngress
}

func (c *compiler) nextTable() uint8 {
	return uint8(c.tableBase(c.lf.Pipeline) + int(c.lf.TableID) + 1)
}

// fieldOf resolves a field reference for an action.
func (c *compiler) fieldOf(r *FieldRef, write bool) (*symbol, openflow.Subfield, error) {
	sym, ok := builtins[r.Name]
	if !ok || sym.kind == symPredicate {
		return nil, openflow.Subfield{}, &Error{Pos: r.Pos, Token: r.Name, Msg: "unknown field " + r.Name}
	}
	if write && !sym.rw {
		return nil, openflow.Subfield{}, &Error{Pos: r.Pos, Token: r.Name, Msg: "field " + r.Name + " is read-only"}
	}
	s, err := c.low.subfield(sym, *r)
	if err != nil {
		return nil, openflow.Subfield{}, err
	}
	if sym.preNode != nil {
		c.prereqs = append(c.prereqs, sym.preNode)
	}
	return sym, openflow.Subfield{Field: s.f, Ofs: s.ofs, Bits: s.bits}, nil
}

func (c *compiler) requirePred(name string) {
	c.prereqs = append(c.prereqs, mustLower(c.low, name))
}

func mustLower(l lowerer, name string) *node {
	sym := builtins[name]
	var e Expr = &SymExpr{Ref: FieldRef{Name: name, Ofs: -1}}
	if sym == nil {
		panic("lflow: no predicate " + name)
	}
	n, err := l.lower(e, false)
	if err != nil {
		panic(fmt.Sprintf("lflow: predicate %s: %v", name, err))
	}
	return n
}

func regSub(name string, ofs, bits int) openflow.Subfield {
	return openflow.Subfield{Field: openflow.MustField(name), Ofs: ofs, Bits: bits}
}

func setSub(s openflow.Subfield, v openflow.U128) openflow.SetField {
	return openflow.SetField{Field: s.Field, Value: v.And(openflow.Ones(s.Bits)).Shl(s.Ofs), Mask: openflow.Range(s.Ofs, s.Bits)}
}

func (c *compiler) zone(kind string) openflow.Subfield {
	reg := RegCTZone
	switch {
	case c.lf.Router && kind == "dnat":
		reg = RegDNATZone
	case c.lf.Router && kind == "snat":
		reg = RegSNATZone
	case kind == "snat-nat":
		// ct_snat uses the SNAT zone on switches too (load balancer
		// hairpin), as ovn-controller does.
		reg = RegSNATZone
	}
	if kind == "czone" {
		reg = RegDNATZone
	}
	return regSub(reg, 0, 16)
}

// actions compiles a list of logical actions.
func (c *compiler) actions(as Actions, top bool) (openflow.Actions, error) {
	var out openflow.Actions
	for i := range as {
		a := &as[i]
		acts, err := c.action(a)
		if err != nil {
			return nil, err
		}
		out = append(out, acts...)
	}
	return out, nil
}

func (c *compiler) unsupported(a *Action) error {
	return &UnsupportedError{Pos: a.Pos, Action: a.Name}
}

func (c *compiler) action(a *Action) (openflow.Actions, error) {
	switch a.Name {
	case "drop":
		return nil, nil
	case "=":
		return c.assign(a)
	case "<->":
		_, d, err := c.fieldOf(a.Dst, true)
		if err != nil {
			return nil, err
		}
		_, s, err := c.fieldOf(a.Src, true)
		if err != nil {
			return nil, err
		}
		if d.Bits != s.Bits {
			return nil, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: fmt.Sprintf("cannot exchange %d-bit %s with %d-bit %s", d.Bits, a.Dst, s.Bits, a.Src)}
		}
		return openflow.Actions{openflow.Push{Src: s}, openflow.Push{Src: d}, openflow.Pop{Dst: s}, openflow.Pop{Dst: d}}, nil
	case "--":
		if a.Dst.Name != "ip.ttl" || a.Dst.Ranged {
			return nil, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: "only ip.ttl can be decremented"}
		}
		c.requirePred("ip")
		return openflow.Actions{openflow.DecTTL{}}, nil
	case "next":
		pipe, table, err := nextArgs(*a)
		if err != nil {
			return nil, err
		}
		if pipe == "" {
			pipe = c.lf.Pipeline
		}
		if table < 0 {
			if pipe != c.lf.Pipeline {
				table = 0
			} else {
				table = int(c.lf.TableID) + 1
			}
		}
		return openflow.Actions{openflow.Resubmit{Table: uint8(c.tableBase(pipe) + table)}}, nil
	case "output":
		t := uint8(TableOutputLargePkt)
		if c.lf.Pipeline == "egress" {
			t = TableSaveInport
		}
		return openflow.Actions{openflow.Resubmit{Table: t}}, nil
	case "ct_next":
		c.requirePred("ip")
		return openflow.Actions{openflow.CT{Table: int(c.nextTable()), Zone: ptr(c.zone("dnat"))}}, nil
	case "ct_clear":
		return openflow.Actions{openflow.CTClear{}}, nil
	case "ct_commit":
		c.requirePred("ip")
		// nat(src) without a range, as ovn-controller writes it: the
		// commit keeps any NAT the connection already has.
		ct := openflow.CT{Commit: true, Table: -1, Zone: ptr(c.zone("dnat")), NAT: &openflow.NAT{Flags: openflow.NATSrc}}
		if a.HasArgs && len(a.Args) > 0 {
			return nil, c.unsupported(a)
		}
		for i := range a.Nested {
			n := &a.Nested[i]
			if n.Name != "=" || !(strings.HasPrefix(n.Dst.Name, "ct_mark") || strings.HasPrefix(n.Dst.Name, "ct_label")) {
				return nil, &Error{Pos: n.Pos, Token: n.Name, Msg: "ct_commit may only set ct_mark and ct_label"}
			}
			acts, err := c.assign(n)
			if err != nil {
				return nil, err
			}
			ct.Exec = append(ct.Exec, acts...)
		}
		return openflow.Actions{ct}, nil
	case "ct_commit_nat":
		c.requirePred("ip")
		return openflow.Actions{openflow.CT{Commit: true, Table: int(c.nextTable()), Zone: ptr(c.zone("dnat")), NAT: &openflow.NAT{}}}, nil
	case "ct_dnat", "ct_snat", "ct_dnat_in_czone", "ct_snat_in_czone":
		spec, err := natArgs(*a)
		if err != nil {
			return nil, err
		}
		kind := "dnat"
		if strings.HasPrefix(a.Name, "ct_snat") {
			kind = "snat"
		}
		zk := kind
		if kind == "snat" {
			zk = "snat-nat"
		}
		zone := c.zone(zk)
		if strings.HasSuffix(a.Name, "_in_czone") {
			zone = c.zone("czone")
		}
		ct := openflow.CT{Table: int(c.nextTable()), Zone: &zone, NAT: &openflow.NAT{}}
		if spec.has {
			ct.Commit = true
			flags := uint16(openflow.NATDst)
			if kind == "snat" {
				flags = openflow.NATSrc
			}
			if spec.random {
				flags |= openflow.NATProtoRandom
			}
			if spec.hash {
				flags |= openflow.NATProtoHash
			}
			ct.NAT = &openflow.NAT{Flags: flags, IPv6: spec.ipv6, IPMin: spec.ip, PortMin: spec.portMin, PortMax: spec.portMax}
			if spec.ipv6 {
				c.requirePred("ip6")
			} else {
				c.requirePred("ip4")
			}
		} else {
			c.requirePred("ip")
		}
		return openflow.Actions{ct}, nil
	case "ct_lb", "ct_lb_mark":
		return c.ctLB(a)
	case "ct_snat_to_vip":
		return openflow.Actions{openflow.Resubmit{Table: TableCTSNATHairpin}}, nil
	case "clone":
		nested, err := c.actions(a.Nested, false)
		if err != nil {
			return nil, err
		}
		return openflow.Actions{openflow.Clone{Actions: nested}}, nil
	case "set_queue":
		v, err := intArg(a, 0, 0xffffffff)
		if err != nil {
			return nil, err
		}
		return openflow.Actions{openflow.SetQueue{Queue: uint32(v)}}, nil
	case "set_meter":
		var parts []string
		for _, x := range a.Args {
			parts = append(parts, x.String())
		}
		name := "__set_meter(" + strings.Join(parts, ",") + ")"
		if c.env == nil || c.env.Meter == nil {
			return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "no meter lookup for set_meter"}
		}
		id, ok := c.env.Meter(name)
		if !ok {
			return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "no meter for " + name}
		}
		return openflow.Actions{openflow.Meter{ID: id}}, nil
	case "check_pkt_larger":
		v, err := intArg(a, 0, 0xffff)
		if err != nil {
			return nil, err
		}
		_, d, err := c.fieldOf(a.Dst, true)
		if err != nil {
			return nil, err
		}
		if d.Bits != 1 {
			return nil, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: "check_pkt_larger result must be a 1-bit field"}
		}
		return openflow.Actions{openflow.CheckPktLarger{Len: uint16(v), Dst: d}}, nil
	case "select":
		return c.selectAction(a)
	case "fwd_group":
		return c.fwdGroup(a)
	case "sample":
		return c.sample(a)
	case "push", "pop":
		if len(a.Args) != 1 {
			return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: a.Name + " takes one field"}
		}
		_, f, err := c.argField(a, 0)
		if err != nil {
			return nil, err
		}
		if a.Name == "push" {
			return openflow.Actions{openflow.Push{Src: f}}, nil
		}
		return openflow.Actions{openflow.Pop{Dst: f}}, nil
	case "chk_lb_hairpin":
		return c.flagLookup(a, nil, TableChkLBHairpin, FlagLookupLBHairpin)
	case "chk_lb_hairpin_reply":
		return c.flagLookup(a, nil, TableChkLBHairpinReply, FlagLookupLBHairpin)
	case "check_in_port_sec":
		return c.flagLookup(a, nil, TableChkInPortSec, FlagCheckPortSec)
	case "check_out_port_sec":
		return c.flagLookup(a, nil, TableChkOutPortSec, FlagCheckPortSec)
	case "chk_ecmp_nh_mac":
		return c.flagLookup(a, nil, TableECMPNHMAC, FlagLookupCommitECMPNH)
	case "chk_lb_aff":
		return c.flagLookup(a, nil, TableChkLBAffinity, FlagUseLBAffSession)
	case "commit_lb_aff":
		return c.commitLBAff(a)
	case "commit_ecmp_nh":
		return c.commitECMPNH(a)
	case "chk_ecmp_nh":
		return c.flagLookup(a, nil, TableECMPNH, FlagLookupCommitECMPNH)
	}
	if acts, ok, err := c.controllerAction(a); ok {
		return acts, err
	}
	return nil, c.unsupported(a)
}

func ptr[T any](v T) *T { return &v }

func intArg(a *Action, i int, max uint64) (uint64, error) {
	if i >= len(a.Args) || len(a.Args[i].toks) != 1 || a.Args[i].toks[0].kind != tConst || a.Args[i].toks[0].masked {
		return 0, &Error{Pos: a.Pos, Token: a.Name, Msg: fmt.Sprintf("%s needs an integer argument", a.Name)}
	}
	t := a.Args[i].toks[0]
	if t.val.Hi != 0 || t.val.Lo > max {
		return 0, &Error{Pos: t.pos, Token: t.text, Msg: fmt.Sprintf("%s argument exceeds %d", a.Name, max)}
	}
	return t.val.Lo, nil
}

// assign compiles "dst = value" and "dst = src".
func (c *compiler) assign(a *Action) (openflow.Actions, error) {
	if a.Dst.Name == "icmp4.frag_mtu" || a.Dst.Name == "icmp6.frag_mtu" {
		return c.fragMTU(a)
	}
	dsym, d, err := c.fieldOf(a.Dst, true)
	if err != nil {
		return nil, err
	}
	if a.Src != nil {
		ssym, s, err := c.fieldOf(a.Src, false)
		if err != nil {
			return nil, err
		}
		if (dsym.kind == symString) != (ssym.kind == symString) {
			return nil, &Error{Pos: a.Pos, Token: a.Src.String(), Msg: "cannot assign between string and integer fields"}
		}
		if d.Bits != s.Bits {
			return nil, &Error{Pos: a.Pos, Token: a.Src.String(), Msg: fmt.Sprintf("cannot assign %d-bit %s to %d-bit %s", s.Bits, a.Src, d.Bits, a.Dst)}
		}
		return openflow.Actions{openflow.Move{Src: s, Dst: d}}, nil
	}
	t := a.Value.tok
	if dsym.kind == symString {
		if t.kind != tString {
			return nil, &Error{Pos: t.pos, Token: t.text, Msg: a.Dst.Name + " needs a string"}
		}
		var key uint32
		if t.s != "" {
			k, ok := c.low.port(t.s)
			if !ok {
				return nil, fmt.Errorf("%w %q (offset %d)", ErrUnknownPort, t.s, t.pos)
			}
			key = k
		}
		return openflow.Actions{setSub(d, openflow.U64(uint64(key)))}, nil
	}
	if t.kind != tConst {
		return nil, &Error{Pos: t.pos, Token: t.text, Msg: a.Dst.String() + " needs an integer constant"}
	}
	v, m, err := c.low.constFor(sub{f: d.Field, ofs: d.Ofs, bits: d.Bits}, t, *a.Dst)
	if err != nil {
		return nil, &Error{Pos: t.pos, Token: t.text, Msg: err.Error()}
	}
	return openflow.Actions{openflow.SetField{Field: d.Field, Value: v.And(m).Shl(d.Ofs), Mask: m.Shl(d.Ofs)}}, nil
}

// flagLookup compiles R = f(): clear the flag bit, resubmit to the
// lookup table, copy the flag into R.
func (c *compiler) flagLookup(a *Action, pre openflow.Actions, table uint8, flag int) (openflow.Actions, error) {
	_, d, err := c.fieldOf(a.Dst, true)
	if err != nil {
		return nil, err
	}
	if d.Bits != 1 {
		return nil, &Error{Pos: a.Pos, Token: a.Dst.String(), Msg: a.Name + " result must be a 1-bit field"}
	}
	fl := regSub(RegFlags, flag, 1)
	out := append(openflow.Actions{}, pre...)
	out = append(out, setSub(fl, openflow.U128{}), openflow.Resubmit{Table: table}, openflow.Move{Src: fl, Dst: d})
	return out, nil
}

// ctLB compiles ct_lb and ct_lb_mark.
func (c *compiler) ctLB(a *Action) (openflow.Actions, error) {
	spec, err := lbArgs(*a)
	if err != nil {
		return nil, err
	}
	zone := c.zone("dnat")
	next := int(c.nextTable())
	if len(spec.backends) == 0 {
		c.requirePred("ip")
		return openflow.Actions{openflow.CT{Table: next, Zone: &zone, NAT: &openflow.NAT{}}}, nil
	}
	markField := "ct_mark"
	if a.Name == "ct_lb" {
		markField = "ct_label"
	}
	exec := openflow.Actions{setSub(regSub(markField, 1, 1), openflow.U64(1))} // natted
	switch spec.flag {
	case "skip_snat":
		exec = append(exec, setSub(regSub(markField, 2, 1), openflow.U64(1)))
	case "force_snat":
		exec = append(exec, setSub(regSub(markField, 3, 1), openflow.U64(1)))
	}
	var buckets []openflow.Bucket
	v6 := spec.backends[0].ipv6
	for _, b := range spec.backends {
		if b.ipv6 != v6 {
			return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "ct_lb backends mix IPv4 and IPv6"}
		}
		ct := openflow.CT{Commit: true, Table: next, Zone: &zone, NAT: &openflow.NAT{Flags: openflow.NATDst, IPv6: b.ipv6, IPMin: b.ip, PortMin: b.port}, Exec: exec}
		buckets = append(buckets, openflow.Bucket{Weight: 100, Actions: openflow.Actions{ct}})
	}
	if v6 {
		c.requirePred("ip6")
	} else {
		c.requirePred("ip4")
	}
	if c.env == nil || c.env.Group == nil {
		if len(buckets) == 1 {
			return buckets[0].Actions, nil
		}
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "ct_lb with several backends needs a group allocator"}
	}
	g := openflow.GroupDesc{Type: openflow.GroupTypeSelect, SelectionMethod: "dp_hash", Buckets: buckets}
	if len(spec.hashFields) > 0 {
		g.SelectionMethod = "hash"
		g.Fields = spec.hashFields
	}
	return openflow.Actions{openflow.Group{ID: c.env.Group(g)}}, nil
}

// mergeOverlapping replaces dimensions that test a common field, or where
// one tests a field the other needs as its OpenFlow prerequisite (and the
// common part does not supply it), by their cross product: every
// OpenFlow flow must carry its own prerequisites.
func mergeOverlapping(dims [][]openflow.Match, common openflow.Match) ([][]openflow.Match, error) {
	fieldsOf := func(d []openflow.Match) map[*openflow.Field]bool {
		fs := map[*openflow.Field]bool{}
		for _, m := range d {
			for _, fm := range m {
				fs[fm.Field] = true
			}
		}
		return fs
	}
	needsOf := func(fs map[*openflow.Field]bool) map[*openflow.Field]bool {
		out := map[*openflow.Field]bool{}
		for f := range fs {
			for _, n := range ofPrereqs[f.Name] {
				nf := openflow.MustField(n)
				if _, ok := common.Get(nf); !ok {
					out[nf] = true
				}
			}
		}
		return out
	}
	intersects := func(a, b map[*openflow.Field]bool) bool {
		for f := range a {
			if b[f] {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(dims); i++ {
		fi := fieldsOf(dims[i])
		ni := needsOf(fi)
		for j := i + 1; j < len(dims); j++ {
			fj := fieldsOf(dims[j])
			if !intersects(fi, fj) && !intersects(ni, fj) && !intersects(needsOf(fj), fi) {
				continue
			}
			var prod []openflow.Match
			for _, a := range dims[i] {
				for _, b := range dims[j] {
					if m, ok := mergeMatch(a, b); ok {
						prod = append(prod, m)
					}
				}
				if len(prod) > maxMatches {
					return nil, tooBigError{maxMatches}
				}
			}
			out := append([][]openflow.Match{}, dims[:i]...)
			out = append(out, simplify(prod))
			out = append(out, dims[i+1:j]...)
			out = append(out, dims[j+1:]...)
			return mergeOverlapping(out, common)
		}
	}
	return dims, nil
}

// selectAction compiles R = select(v1[=w1], v2[=w2], ...): a select group
// whose buckets set R and continue in the next table.
func (c *compiler) selectAction(a *Action) (openflow.Actions, error) {
	_, d, err := c.fieldOf(a.Dst, true)
	if err != nil {
		return nil, err
	}
	var buckets []openflow.Bucket
	for _, x := range a.Args {
		t := x.toks
		w := uint64(100)
		if len(t) == 3 && t[1].kind == tEquals && t[2].kind == tConst && !t[2].masked && t[2].val.Hi == 0 && t[2].val.Lo <= 0xffff {
			w = t[2].val.Lo
			t = t[:1]
		}
		if len(t) != 1 || t[0].kind != tConst || t[0].masked {
			return nil, &Error{Pos: x.Pos, Token: x.String(), Msg: "select takes integer values with optional =weight"}
		}
		if t[0].val.Len() > d.Bits {
			return nil, &Error{Pos: x.Pos, Token: t[0].text, Msg: fmt.Sprintf("value does not fit %d-bit %s", d.Bits, a.Dst)}
		}
		buckets = append(buckets, openflow.Bucket{Weight: uint16(w), Actions: openflow.Actions{setSub(d, t[0].val), openflow.Resubmit{Table: c.nextTable()}}})
	}
	if len(buckets) == 0 {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "select needs at least one value"}
	}
	if len(buckets) == 1 {
		return buckets[0].Actions, nil
	}
	if c.env == nil || c.env.Group == nil {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "select with several values needs a group allocator"}
	}
	// dp_hash with the symmetric L4 hash (selection_method_param upper
	// word 1), as ovn-controller installs it: both directions of a
	// connection take the same bucket.
	g := openflow.GroupDesc{Type: openflow.GroupTypeSelect, SelectionMethod: "dp_hash", SelectionParam: 1 << 32, Buckets: buckets}
	return openflow.Actions{openflow.Group{ID: c.env.Group(g)}}, nil
}

// fwdGroup compiles fwd_group(liveness=B, childports="p1", "p2", ...): a
// select group whose buckets set outport to one child and output it.
// With liveness, as ovn-controller does, only children reached through a
// tunnel get a bucket, which watches that tunnel's port (Env.TunnelPort;
// children without a tunnel port are left out, local ones too). No
// bucket at all compiles to drop.
func (c *compiler) fwdGroup(a *Action) (openflow.Actions, error) {
	var buckets []openflow.Bucket
	inChildren, liveness, children := false, false, 0
	for _, x := range a.Args {
		switch x.Key {
		case "liveness":
			liveness = argText(x) == "true"
			inChildren = false
			continue
		case "childports":
			inChildren = true
		case "":
		default:
			return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: "unknown fwd_group argument " + x.Key}
		}
		if !inChildren || len(x.toks) != 1 || x.toks[0].kind != tString {
			return nil, &Error{Pos: x.Pos, Token: x.String(), Msg: "fwd_group child ports must be strings after childports="}
		}
		key, ok := c.low.port(x.toks[0].s)
		if !ok {
			return nil, fmt.Errorf("%w %q (offset %d)", ErrUnknownPort, x.toks[0].s, x.Pos)
		}
		children++
		var watch uint32
		if liveness {
			if c.env == nil || c.env.IsLocal == nil || c.env.IsLocal(x.toks[0].s) {
				continue
			}
			if c.env.TunnelPort != nil {
				p, ok := c.env.TunnelPort(x.toks[0].s)
				if !ok {
					continue
				}
				watch = p
			}
		}
		buckets = append(buckets, openflow.Bucket{Weight: 1, WatchPort: watch, Actions: openflow.Actions{
			setSub(regSub(RegOutport, 0, 16), openflow.U64(uint64(key))), openflow.Resubmit{Table: TableOutputLargePkt}}})
	}
	if children == 0 {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "fwd_group needs child ports"}
	}
	if len(buckets) == 0 {
		return nil, nil
	}
	if c.env == nil || c.env.Group == nil {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "fwd_group needs a group allocator"}
	}
	g := openflow.GroupDesc{Type: openflow.GroupTypeSelect, SelectionMethod: "dp_hash", Buckets: buckets}
	return openflow.Actions{openflow.Group{ID: c.env.Group(g)}}, nil
}

// ofPrereqs lists, for OpenFlow fields, the fields OpenFlow requires a
// flow to match before it may match them.
var ofPrereqs = func() map[string][]string {
	m := map[string][]string{}
	l3 := []string{"ip_src", "ip_dst", "ipv6_src", "ipv6_dst", "ipv6_label", "nw_proto", "ip_dscp", "nw_ecn", "nw_ttl", "ip_frag",
		"arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha"}
	for _, f := range l3 {
		m[f] = []string{"eth_type"}
	}
	for _, f := range []string{"tcp_src", "tcp_dst", "tcp_flags", "udp_src", "udp_dst", "sctp_src", "sctp_dst", "icmp_type", "icmp_code", "icmpv6_type", "icmpv6_code"} {
		m[f] = []string{"eth_type", "nw_proto"}
	}
	for _, f := range []string{"nd_target", "nd_sll", "nd_tll"} {
		m[f] = []string{"eth_type", "nw_proto", "icmpv6_type", "icmpv6_code"}
	}
	for _, f := range []string{"ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "ct_nw_proto", "ct_tp_src", "ct_tp_dst"} {
		m[f] = []string{"ct_state", "eth_type"}
	}
	return m
}()

// commitLBAff compiles commit_lb_aff(vip = "IP:PORT", backend = "IP:PORT",
// proto = P, timeout = T): a learn action that remembers, in table 78,
// the backend chosen for this client and VIP.
func (c *compiler) commitLBAff(a *Action) (openflow.Actions, error) {
	bad := func(msg string) error { return &Error{Pos: a.Pos, Token: a.Name, Msg: msg} }
	var vip, be backend
	var proto uint64
	var timeout uint64
	var haveVIP, haveBackend bool
	for _, x := range a.Args {
		v := argText(x)
		switch x.Key {
		case "vip", "backend":
			b, err := parseHostPort(v)
			if err != nil {
				return nil, &Error{Pos: x.Pos, Token: v, Msg: fmt.Sprintf("%s: %v", x.Key, err)}
			}
			if x.Key == "vip" {
				vip, haveVIP = b, true
			} else {
				be, haveBackend = b, true
			}
		case "proto":
			p, ok := map[string]uint64{"tcp": 6, "udp": 17, "sctp": 132}[v]
			if !ok {
				return nil, &Error{Pos: x.Pos, Token: v, Msg: "proto must be tcp, udp or sctp"}
			}
			proto = p
		case "timeout":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return nil, &Error{Pos: x.Pos, Token: v, Msg: "timeout must be a number of seconds up to 65535"}
			}
			timeout = n
		default:
			return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: "unknown commit_lb_aff argument " + x.Key}
		}
	}
	if !haveVIP || !haveBackend || proto == 0 {
		return nil, bad("commit_lb_aff needs vip, backend and proto")
	}
	if vip.ipv6 != be.ipv6 {
		return nil, bad("commit_lb_aff mixes IPv4 and IPv6")
	}
	sf := func(name string, ofs, bits int) openflow.Subfield { return regSub(name, ofs, bits) }
	ethType, src, dst, beReg := uint64(0x800), sf("ip_src", 0, 32), sf("ip_dst", 0, 32), sf("reg4", 0, 32)
	if vip.ipv6 {
		ethType, src, dst, beReg = 0x86dd, sf("ipv6_src", 0, 128), sf("ipv6_dst", 0, 128), sf("xxreg1", 0, 128)
		c.requirePred("ip6")
	} else {
		c.requirePred("ip4")
	}
	l := openflow.Learn{Table: TableChkLBAffinity, IdleTimeout: uint16(timeout), Flags: openflow.LearnDeleteLearned}
	md := sf("metadata", 0, 64)
	l.Specs = append(l.Specs,
		openflow.LearnSpec{Kind: openflow.LearnMatch, Src: md, Dst: md},
		openflow.LearnSpec{Kind: openflow.LearnMatch, Imm: openflow.U64(ethType), Dst: sf("eth_type", 0, 16)},
		openflow.LearnSpec{Kind: openflow.LearnMatch, Src: src, Dst: src},
		openflow.LearnSpec{Kind: openflow.LearnMatch, Imm: vip.ip, Dst: dst},
		openflow.LearnSpec{Kind: openflow.LearnMatch, Imm: openflow.U64(proto), Dst: sf("nw_proto", 0, 8)},
	)
	if vip.port != 0 {
		tp := map[uint64]string{6: "tcp_dst", 17: "udp_dst", 132: "sctp_dst"}[proto]
		l.Specs = append(l.Specs, openflow.LearnSpec{Kind: openflow.LearnMatch, Imm: openflow.U64(uint64(vip.port)), Dst: sf(tp, 0, 16)})
	}
	l.Specs = append(l.Specs,
		openflow.LearnSpec{Kind: openflow.LearnLoad, Imm: openflow.U64(1), Dst: sf(RegFlags, FlagUseLBAffSession, 1)},
		openflow.LearnSpec{Kind: openflow.LearnLoad, Imm: be.ip, Dst: beReg},
	)
	if be.port != 0 {
		l.Specs = append(l.Specs, openflow.LearnSpec{Kind: openflow.LearnLoad, Imm: openflow.U64(uint64(be.port)), Dst: sf("reg8", 0, 16)})
	}
	return openflow.Actions{l}, nil
}

// parseHostPort reads "IP", "IP:PORT" or "[IPv6]:PORT".
func parseHostPort(s string) (backend, error) {
	p, err := newParser(s)
	if err != nil {
		return backend{}, err
	}
	toks := p.toks[:len(p.toks)-1]
	return parseBackend(Arg{toks: toks})
}

// commitECMPNH compiles commit_ecmp_nh(ipv6 = B, proto = P): learn, in
// table 76, this connection's 5-tuple with the previous hop's MAC, and, in
// table 77, the reverse 5-tuple, both setting the ECMP lookup flag.
func (c *compiler) commitECMPNH(a *Action) (openflow.Actions, error) {
	ipv6, proto := false, ""
	for _, x := range a.Args {
		v := argText(x)
		switch x.Key {
		case "ipv6":
			if v != "true" && v != "false" {
				return nil, &Error{Pos: x.Pos, Token: v, Msg: "ipv6 must be true or false"}
			}
			ipv6 = v == "true"
		case "proto":
			if v != "tcp" && v != "udp" && v != "sctp" {
				return nil, &Error{Pos: x.Pos, Token: v, Msg: "proto must be tcp, udp or sctp"}
			}
			proto = v
		default:
			return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: "unknown commit_ecmp_nh argument " + x.Key}
		}
	}
	if proto == "" {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "commit_ecmp_nh needs proto"}
	}
	sf := regSub
	ethType, src, dst := uint64(0x800), sf("ip_src", 0, 32), sf("ip_dst", 0, 32)
	if ipv6 {
		ethType, src, dst = 0x86dd, sf("ipv6_src", 0, 128), sf("ipv6_dst", 0, 128)
		c.requirePred("ip6")
	} else {
		c.requirePred("ip4")
	}
	c.requirePred(proto)
	protoNum := map[string]uint64{"tcp": 6, "udp": 17, "sctp": 132}[proto]
	tpSrc, tpDst := sf(proto+"_src", 0, 16), sf(proto+"_dst", 0, 16)
	md := sf("metadata", 0, 64)
	match := func(s, d openflow.Subfield) openflow.LearnSpec {
		return openflow.LearnSpec{Kind: openflow.LearnMatch, Src: s, Dst: d}
	}
	imm := func(v uint64, d openflow.Subfield) openflow.LearnSpec {
		return openflow.LearnSpec{Kind: openflow.LearnMatch, Imm: openflow.U64(v), Dst: d}
	}
	flag := openflow.LearnSpec{Kind: openflow.LearnLoad, Imm: openflow.U64(1), Dst: sf(RegFlags, FlagLookupCommitECMPNH, 1)}
	// Timeouts as ovn-controller uses them: idle 20 s, hard 30 s.
	fwd := openflow.Learn{Table: TableECMPNHMAC, IdleTimeout: 20, HardTimeout: 30, Flags: openflow.LearnDeleteLearned, Specs: []openflow.LearnSpec{
		match(md, md), match(sf("eth_src", 0, 48), sf("eth_src", 0, 48)), imm(ethType, sf("eth_type", 0, 16)),
		match(src, src), match(dst, dst), imm(protoNum, sf("nw_proto", 0, 8)), match(tpSrc, tpSrc), match(tpDst, tpDst), flag,
	}}
	rev := openflow.Learn{Table: TableECMPNH, IdleTimeout: 20, HardTimeout: 30, Flags: openflow.LearnDeleteLearned, Specs: []openflow.LearnSpec{
		match(md, md), imm(ethType, sf("eth_type", 0, 16)), match(dst, src), match(src, dst),
		imm(protoNum, sf("nw_proto", 0, 8)), match(tpDst, tpSrc), match(tpSrc, tpDst), flag,
	}}
	return openflow.Actions{fwd, rev}, nil
}

// sample compiles sample(probability=N, collector_set=N, obs_domain=N,
// obs_point=N|@cookie). The observation domain id carries obs_domain in
// its top 8 bits and the datapath key in the low 24.
func (c *compiler) sample(a *Action) (openflow.Actions, error) {
	sa := openflow.Sample{}
	var domain uint64
	for _, x := range a.Args {
		if x.Key == "obs_point" && len(x.toks) == 1 && x.toks[0].kind == tPortGrp && x.toks[0].s == "cookie" {
			sa.ObsPointID = uint32(c.lf.Cookie)
			continue
		}
		max := map[string]uint64{"probability": 65535, "collector_set": 1<<32 - 1, "obs_domain": 255, "obs_point": 1<<32 - 1}[x.Key]
		if max == 0 {
			return nil, &Error{Pos: x.Pos, Token: x.Key, Msg: "unknown sample argument " + x.Key}
		}
		if len(x.toks) != 1 || x.toks[0].kind != tConst || x.toks[0].masked || x.toks[0].val.Hi != 0 || x.toks[0].val.Lo > max {
			return nil, &Error{Pos: x.Pos, Token: x.String(), Msg: fmt.Sprintf("%s must be an integer up to %d", x.Key, max)}
		}
		v := x.toks[0].val.Lo
		switch x.Key {
		case "probability":
			sa.Probability = uint16(v)
		case "collector_set":
			sa.CollectorSetID = uint32(v)
		case "obs_domain":
			domain = v
		case "obs_point":
			sa.ObsPointID = uint32(v)
		}
	}
	if sa.Probability == 0 {
		return nil, &Error{Pos: a.Pos, Token: a.Name, Msg: "sample needs probability of at least 1"}
	}
	sa.ObsDomainID = uint32(domain)<<24 | c.lf.Datapath&0xffffff
	return openflow.Actions{sa}, nil
}
