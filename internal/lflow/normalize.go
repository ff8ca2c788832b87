package lflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"hcnet/internal/openflow"
)

// node is a lowered expression: conjunctions and disjunctions of leaves,
// each leaf a set of bitwise field tests (an OpenFlow match). Negation is
// gone by the time a node exists.
type node struct {
	kind nodeKind
	kids []*node
	m    openflow.Match // nLeaf
}

type nodeKind uint8

const (
	nLeaf nodeKind = iota
	nAnd
	nOr
)

var (
	nodeTrue  = &node{kind: nLeaf}
	nodeFalse = &node{kind: nOr}
)

func isFalse(n *node) bool { return n.kind == nOr && len(n.kids) == 0 }
func isTrue(n *node) bool  { return n.kind == nLeaf && len(n.m) == 0 }

func mkAnd(kids ...*node) *node {
	out := make([]*node, 0, len(kids))
	for _, k := range kids {
		if isFalse(k) {
			return nodeFalse
		}
		if isTrue(k) {
			continue
		}
		if k.kind == nAnd {
			out = append(out, k.kids...)
		} else {
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return nodeTrue
	case 1:
		return out[0]
	}
	// Merge leaves together eagerly.
	var leaf openflow.Match
	rest := out[:0:0]
	nleaf := 0
	for _, k := range out {
		if k.kind == nLeaf {
			nleaf++
			m, ok := mergeMatch(leaf, k.m)
			if !ok {
				return nodeFalse
			}
			leaf = m
		} else {
			rest = append(rest, k)
		}
	}
	if nleaf > 0 {
		rest = append([]*node{{kind: nLeaf, m: leaf}}, rest...)
	}
	if len(rest) == 1 {
		return rest[0]
	}
	return &node{kind: nAnd, kids: rest}
}

func mkOr(kids ...*node) *node {
	out := make([]*node, 0, len(kids))
	for _, k := range kids {
		if isTrue(k) {
			return nodeTrue
		}
		if isFalse(k) {
			continue
		}
		if k.kind == nOr {
			out = append(out, k.kids...)
		} else {
			out = append(out, k)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return &node{kind: nOr, kids: out}
}

func leaf(f *openflow.Field, v, m openflow.U128) *node {
	return &node{kind: nLeaf, m: openflow.Match{{Field: f, Value: v.And(m), Mask: m}}}
}

// mergeMatch conjoins two matches; ok is false if they conflict.
func mergeMatch(a, b openflow.Match) (openflow.Match, bool) {
	if len(a) == 0 {
		return b, true
	}
	if len(b) == 0 {
		return a, true
	}
	out := make(openflow.Match, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && fieldOrder(a[i].Field) < fieldOrder(b[j].Field):
			out = append(out, a[i])
			i++
		case i >= len(a) || fieldOrder(b[j].Field) < fieldOrder(a[i].Field):
			out = append(out, b[j])
			j++
		default:
			x, y := a[i], b[j]
			common := x.Mask.And(y.Mask)
			if x.Value.And(common) != y.Value.And(common) {
				return nil, false
			}
			out = append(out, openflow.FieldMatch{Field: x.Field, Value: x.Value.Or(y.Value), Mask: x.Mask.Or(y.Mask)})
			i++
			j++
		}
	}
	return out, true
}

// fieldOrder gives the canonical order of fields (openflow.Fields order).
func fieldOrder(f *openflow.Field) int { return f.Order() }

// subsumes reports whether every packet matching b also matches a (a is
// no more specific than b).
func subsumes(a, b openflow.Match) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && fieldOrder(b[j].Field) < fieldOrder(x.Field) {
			j++
		}
		if j >= len(b) || b[j].Field != x.Field {
			return false
		}
		y := b[j]
		if x.Mask.And(y.Mask) != x.Mask || y.Value.And(x.Mask) != x.Value {
			return false
		}
	}
	return true
}

// errTooBig is returned when normalisation would produce too many matches.
type tooBigError struct{ n int }

func (e tooBigError) Error() string {
	return fmt.Sprintf("expression expands to more than %d OpenFlow matches", e.n)
}

// maxMatches bounds the number of matches one expression may produce.
const maxMatches = 65536

// dnf converts n to disjunctive normal form: a list of matches, any of
// which selects the packet.
func dnf(n *node) ([]openflow.Match, error) {
	switch n.kind {
	case nLeaf:
		return []openflow.Match{n.m}, nil
	case nOr:
		var out []openflow.Match
		for _, k := range n.kids {
			d, err := dnf(k)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
			if len(out) > maxMatches {
				return nil, tooBigError{maxMatches}
			}
		}
		return out, nil
	default:
		acc := []openflow.Match{nil}
		for _, k := range n.kids {
			d, err := dnf(k)
			if err != nil {
				return nil, err
			}
			next := make([]openflow.Match, 0, len(acc)*len(d))
			for _, a := range acc {
				for _, b := range d {
					if m, ok := mergeMatch(a, b); ok {
						next = append(next, m)
					}
				}
				if len(next) > maxMatches {
					return nil, tooBigError{maxMatches}
				}
			}
			acc = simplify(next)
			if len(acc) == 0 {
				return nil, nil
			}
		}
		return acc, nil
	}
}

// simplify removes duplicate matches and matches subsumed by others.
//
// A match can only be subsumed by one that tests a subset of its bits, so
// matches are grouped by the bits they test (field and mask): within a
// group only duplicates can go, and a group is checked only against the
// groups whose bits it covers. Subsumption checks are bounded; past the
// bound redundant matches are kept, which is correct, just larger.
func simplify(ms []openflow.Match) []openflow.Match {
	if len(ms) < 2 {
		return ms
	}
	if len(ms) <= 16 {
		return simplifySmall(ms)
	}
	type group struct {
		sig  openflow.Match // fields and masks, zero values
		bits int
		ms   []openflow.Match
	}
	var groups []*group
	bySig := map[string]*group{}
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		k := matchKey(m)
		if seen[k] {
			continue
		}
		seen[k] = true
		sig := make(openflow.Match, len(m))
		bits := 0
		for i, fm := range m {
			sig[i] = openflow.FieldMatch{Field: fm.Field, Mask: fm.Mask}
			bits += fm.Mask.OnesCount()
		}
		sk := matchKey(sig)
		g := bySig[sk]
		if g == nil {
			g = &group{sig: sig, bits: bits}
			bySig[sk] = g
			groups = append(groups, g)
		}
		g.ms = append(g.ms, m)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].bits < groups[j].bits })
	budget := 1 << 21
	out := make([]openflow.Match, 0, len(ms))
	var kept []*group
	for _, g := range groups {
		var covering []*group
		for _, o := range kept {
			if subsumes(o.sig, g.sig) {
				covering = append(covering, o)
			}
		}
		var keep []openflow.Match
		for _, m := range g.ms {
			covered := false
			for _, o := range covering {
				if budget <= 0 {
					break
				}
				for _, om := range o.ms {
					budget--
					if subsumes(om, m) {
						covered = true
						break
					}
				}
				if covered {
					break
				}
			}
			if !covered {
				keep = append(keep, m)
			}
		}
		if len(keep) > 0 {
			kept = append(kept, &group{sig: g.sig, bits: g.bits, ms: keep})
			out = append(out, keep...)
		}
	}
	return out
}

// simplifySmall is simplify for a handful of matches: pairwise checks.
func simplifySmall(ms []openflow.Match) []openflow.Match {
	out := make([]openflow.Match, 0, len(ms))
	for i, m := range ms {
		covered := false
		for j, o := range ms {
			if i == j || !subsumes(o, m) {
				continue
			}
			// o covers m; when they are equal keep the first only.
			if !subsumes(m, o) || j < i {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, m)
		}
	}
	return out
}

// lowerer turns parsed expressions into nodes using the symbol table and
// the caller's lookups.
type lowerer struct {
	st  symtab
	env *Env
}

func (l *lowerer) errAt(pos int, tok, format string, args ...any) error {
	return &Error{Pos: pos, Token: tok, Msg: fmt.Sprintf(format, args...)}
}

func (l *lowerer) lower(e Expr, neg bool) (*node, error) {
	switch e := e.(type) {
	case BoolExpr:
		if bool(e) != neg {
			return nodeTrue, nil
		}
		return nodeFalse, nil
	case *NotExpr:
		return l.lower(e.X, !neg)
	case *AndExpr, *OrExpr:
		var terms []Expr
		isAnd := false
		if a, ok := e.(*AndExpr); ok {
			terms, isAnd = a.Terms, true
		} else {
			terms = e.(*OrExpr).Terms
		}
		kids := make([]*node, 0, len(terms))
		for _, t := range terms {
			k, err := l.lower(t, neg)
			if err != nil {
				return nil, err
			}
			kids = append(kids, k)
		}
		if isAnd != neg {
			return mkAnd(kids...), nil
		}
		return mkOr(kids...), nil
	case *CallExpr:
		switch e.Name {
		case "is_chassis_resident":
			if len(e.Args) != 1 {
				return nil, l.errAt(e.Pos, e.Name, "is_chassis_resident takes one port name")
			}
			res := l.env != nil && l.env.IsLocal != nil && l.env.IsLocal(e.Args[0])
			if res != neg {
				return nodeTrue, nil
			}
			return nodeFalse, nil
		}
		return nil, l.errAt(e.Pos, e.Name, "unknown function %s", e.Name)
	case *SymExpr:
		sym, ok := l.st[e.Ref.Name]
		if !ok {
			return nil, l.errAt(e.Ref.Pos, e.Ref.Name, "unknown symbol %s", e.Ref.Name)
		}
		if sym.kind == symPredicate {
			if e.Ref.Ranged {
				return nil, l.errAt(e.Ref.Pos, e.Ref.Name, "predicate %s cannot take a bit range", e.Ref.Name)
			}
			if n := sym.expNode[b2i(neg)]; n != nil {
				return n, nil
			}
			x, _ := l.st.expansion(sym)
			n, err := l.lower(x, neg)
			if err != nil {
				var le *Error
				if errors.As(err, &le) {
					return nil, l.errAt(e.Ref.Pos, e.Ref.Name, "%s (expanding %s)", le.Msg, e.Ref.Name)
				}
				return nil, err
			}
			return n, nil
		}
		sf, err := l.subfield(sym, e.Ref)
		if err != nil {
			return nil, err
		}
		if sf.bits != 1 || sym.kind == symString {
			return nil, l.errAt(e.Ref.Pos, e.Ref.Name, "%s is %d bits wide: compare it explicitly (e.g. %s != 0)", e.Ref, sf.bits, e.Ref)
		}
		one := openflow.U64(1)
		op := "=="
		if neg {
			op = "!="
		}
		n, err := l.bitCmp(sf, op, one, openflow.Ones(1), e.Ref)
		if err != nil {
			return nil, err
		}
		return l.withPrereq(sym, n)
	case *CmpExpr:
		return l.lowerCmp(e, neg)
	}
	panic(fmt.Sprintf("lflow: unknown expression type %T", e))
}

// sub describes the bits of an OpenFlow field a reference covers.
type sub struct {
	f         *openflow.Field
	ofs, bits int
}

func (l *lowerer) subfield(sym *symbol, r FieldRef) (sub, error) {
	s := sub{f: sym.field, ofs: sym.ofs, bits: sym.bits}
	if r.Ranged {
		if sym.kind == symString {
			return s, l.errAt(r.Pos, r.Name, "string field %s cannot take a bit range", r.Name)
		}
		if sym.nominal || !sym.field.Mask {
			return s, l.errAt(r.Pos, r.Name, "nominal field %s cannot take a bit range", r.Name)
		}
		if r.Ofs+r.Bits > sym.bits {
			return s, l.errAt(r.Pos, r.Name, "bit range %s exceeds the %d-bit field %s", r, sym.bits, r.Name)
		}
		s.ofs += r.Ofs
		s.bits = r.Bits
	}
	return s, nil
}

func (l *lowerer) withPrereq(sym *symbol, n *node) (*node, error) {
	if sym.prereq == "" {
		return n, nil
	}
	if sym.preNode != nil {
		return mkAnd(n, sym.preNode), nil
	}
	x, err := l.st.prereq(sym)
	if err != nil {
		return nil, err
	}
	p, err := l.lower(x, false)
	if err != nil {
		return nil, err
	}
	return mkAnd(n, p), nil
}

func negOp(op string) string {
	switch op {
	case "==":
		return "!="
	case "!=":
		return "=="
	case "<":
		return ">="
	case "<=":
		return ">"
	case ">":
		return "<="
	case ">=":
		return "<"
	}
	return op
}

func (l *lowerer) lowerCmp(e *CmpExpr, neg bool) (*node, error) {
	sym, ok := l.st[e.Field.Name]
	if !ok {
		return nil, l.errAt(e.Field.Pos, e.Field.Name, "unknown field %s", e.Field.Name)
	}
	if sym.kind == symPredicate {
		return nil, l.errAt(e.Field.Pos, e.Field.Name, "predicate %s cannot be compared; use it alone", e.Field.Name)
	}
	op := e.Op
	if neg {
		op = negOp(op)
	}
	nominal := sym.nominal || sym.kind == symField && !sym.field.Mask
	if nominal && sym.kind != symString && op == "!=" {
		return nil, l.errAt(e.Pos, e.Op, "nominal field %s may only be tested for equality (taking enclosing ! into account)", e.Field.Name)
	}
	if (nominal || sym.kind == symString) && op != "==" && op != "!=" {
		return nil, l.errAt(e.Pos, e.Op, "nominal field %s supports only == and !=", e.Field.Name)
	}
	sf, err := l.subfield(sym, e.Field)
	if err != nil {
		return nil, err
	}
	if len(e.Values) > 1 && op != "==" && op != "!=" {
		return nil, l.errAt(e.Pos, e.Op, "only == and != take a set")
	}
	// Expand every operand to a list of (value, mask).
	type vm struct {
		v, m openflow.U128
		pos  int
		text string
	}
	var vals []vm
	for _, o := range e.Values {
		t := o.tok
		switch t.kind {
		case tString:
			if sym.kind != symString {
				return nil, l.errAt(t.pos, t.text, "string constant compared with integer field %s", e.Field.Name)
			}
			if key, ok := l.port(t.s); ok {
				vals = append(vals, vm{v: openflow.U64(uint64(key)), m: openflow.Ones(32), pos: t.pos, text: t.text})
			}
		case tPortGrp:
			if sym.kind != symString {
				return nil, l.errAt(t.pos, t.text, "port group compared with integer field %s", e.Field.Name)
			}
			var names []string
			if l.env != nil && l.env.PortGroup != nil {
				if ns, ok := l.env.PortGroup(t.s); ok {
					names = ns
				}
			}
			for _, n := range names {
				if key, ok := l.port(n); ok {
					vals = append(vals, vm{v: openflow.U64(uint64(key)), m: openflow.Ones(32), pos: t.pos, text: t.text})
				}
			}
		case tAddrSet:
			if sym.kind == symString {
				return nil, l.errAt(t.pos, t.text, "address set compared with string field %s", e.Field.Name)
			}
			var addrs []string
			if l.env != nil && l.env.AddressSet != nil {
				if as, ok := l.env.AddressSet(t.s); ok {
					addrs = as
				}
			}
			for _, a := range addrs {
				at, lerr := (&lexer{src: strings.TrimSpace(a)}).lexConst()
				if lerr != nil {
					return nil, l.errAt(t.pos, t.text, "address set %s has bad address %q", t.s, a)
				}
				v, m, err := l.constFor(sf, at, e.Field)
				if err != nil {
					return nil, l.errAt(t.pos, t.text, "address set %s: %v", t.s, err)
				}
				vals = append(vals, vm{v: v, m: m, pos: t.pos, text: t.text})
			}
		case tConst:
			if sym.kind == symString {
				return nil, l.errAt(t.pos, t.text, "integer constant compared with string field %s", e.Field.Name)
			}
			v, m, err := l.constFor(sf, t, e.Field)
			if err != nil {
				return nil, l.errAt(t.pos, t.text, "%v", err)
			}
			if t.masked && op != "==" && op != "!=" {
				return nil, l.errAt(t.pos, t.text, "masked constant not allowed with %s", op)
			}
			vals = append(vals, vm{v: v, m: m, pos: t.pos, text: t.text})
		}
	}
	var kids []*node
	for _, x := range vals {
		n, err := l.bitCmp(sf, op, x.v, x.m, e.Field)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	var n *node
	if op == "!=" {
		n = mkAnd(kids...) // x != {a, b} is x != a && x != b
	} else {
		n = mkOr(kids...)
	}
	return l.withPrereq(sym, n)
}

func (l *lowerer) port(name string) (uint32, bool) {
	if name == "none" {
		// No port (key 0), as ovn-controller resolves it
		// (ls_in_l2_unknown: outport == "none").
		return 0, true
	}
	if l.env == nil || l.env.Port == nil {
		return 0, false
	}
	return l.env.Port(name)
}

// constFor checks that a constant fits a subfield and returns its value
// and mask (relative to the subfield).
func (l *lowerer) constFor(sf sub, t token, r FieldRef) (openflow.U128, openflow.U128, error) {
	w := sf.bits
	if t.valBits > w || t.val.Len() > w {
		return openflow.U128{}, openflow.U128{}, fmt.Errorf("constant %s is wider than the %d-bit field %s", t.text, w, r)
	}
	m := openflow.Ones(w)
	if t.masked {
		if t.mask.Len() > w {
			return openflow.U128{}, openflow.U128{}, fmt.Errorf("mask of %s is wider than the %d-bit field %s", t.text, w, r)
		}
		m = t.mask
	}
	return t.val, m, nil
}

// bitCmp compares subfield sf (value v, mask m in subfield coordinates)
// with op and returns the node.
func (l *lowerer) bitCmp(sf sub, op string, v, m openflow.U128, r FieldRef) (*node, error) {
	w := sf.bits
	switch op {
	case "==":
		return fieldLeaf(sf.f, v.Shl(sf.ofs), m.Shl(sf.ofs)), nil
	case "!=":
		var kids []*node
		for i := 0; i < w; i++ {
			if !m.Bit(i) {
				continue
			}
			bit := openflow.Range(i, 1)
			val := bit
			if v.Bit(i) {
				val = openflow.U128{}
			}
			kids = append(kids, fieldLeaf(sf.f, val.Shl(sf.ofs), bit.Shl(sf.ofs)))
		}
		return mkOr(kids...), nil
	case ">=", ">", "<=", "<":
		max := openflow.Ones(w)
		switch op {
		case ">":
			if v == max {
				return nodeFalse, nil
			}
			v, op = v.Add(openflow.U64(1)), ">="
		case "<":
			if v.IsZero() {
				return nodeFalse, nil
			}
			v, op = v.Sub(openflow.U64(1)), "<="
		}
		var kids []*node
		if op == ">=" {
			// x >= v: x == v on bits above a clear bit i of v, bit i set;
			// or x == v on every bit from the lowest set bit up.
			for i := w - 1; i >= 0; i-- {
				if v.Bit(i) {
					continue
				}
				hi := openflow.Range(i+1, w-i-1)
				kids = append(kids, fieldLeaf(sf.f, v.And(hi).SetBit(i).Shl(sf.ofs), hi.SetBit(i).Shl(sf.ofs)))
			}
			tz := v.TrailingZeros()
			if tz >= w {
				return nodeTrue, nil
			}
			hi := openflow.Range(tz, w-tz)
			kids = append(kids, fieldLeaf(sf.f, v.And(hi).Shl(sf.ofs), hi.Shl(sf.ofs)))
		} else {
			for i := w - 1; i >= 0; i-- {
				if !v.Bit(i) {
					continue
				}
				hi := openflow.Range(i+1, w-i-1)
				kids = append(kids, fieldLeaf(sf.f, v.And(hi).Shl(sf.ofs), hi.SetBit(i).Shl(sf.ofs)))
			}
			to := v.Not().TrailingZeros() // trailing ones
			if to >= w {
				return nodeTrue, nil
			}
			hi := openflow.Range(to, w-to)
			kids = append(kids, fieldLeaf(sf.f, v.And(hi).Shl(sf.ofs), hi.Shl(sf.ofs)))
		}
		return mkOr(kids...), nil
	}
	return nil, l.errAt(r.Pos, op, "unknown operator %s", op)
}

// fieldLeaf builds a leaf, splitting the wide xreg/xxreg registers into
// the 32-bit registers they overlay so that matches are canonical.
func fieldLeaf(f *openflow.Field, v, m openflow.U128) *node {
	n := 0
	switch {
	case strings.HasPrefix(f.Name, "xxreg"):
		n = 4
	case strings.HasPrefix(f.Name, "xreg"):
		n = 2
	default:
		return leaf(f, v, m)
	}
	idx := int(f.Name[len(f.Name)-1] - '0')
	var mt openflow.Match
	for k := 0; k < n; k++ {
		// Register idx*n+k holds bits [(n-1-k)*32, (n-k)*32).
		reg := openflow.MustField(fmt.Sprintf("reg%d", idx*n+k))
		shift := (n - 1 - k) * 32
		rm := m.Shr(shift).And(openflow.Ones(32))
		if rm.IsZero() {
			continue
		}
		mt = append(mt, openflow.FieldMatch{Field: reg, Value: v.Shr(shift).And(rm), Mask: rm})
	}
	mt.Normalize()
	return &node{kind: nLeaf, m: mt}
}

// matchKey is a compact string that is equal for equal matches.
func matchKey(m openflow.Match) string {
	b := make([]byte, 0, len(m)*33)
	for _, fm := range m {
		b = append(b, byte(fieldOrder(fm.Field)))
		b = binary.BigEndian.AppendUint64(b, fm.Value.Hi)
		b = binary.BigEndian.AppendUint64(b, fm.Value.Lo)
		b = binary.BigEndian.AppendUint64(b, fm.Mask.Hi)
		b = binary.BigEndian.AppendUint64(b, fm.Mask.Lo)
	}
	return string(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
