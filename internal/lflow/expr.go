package lflow

import (
	"fmt"
	"strings"
)

// Expr is a parsed match expression. Its concrete types are *AndExpr,
// *OrExpr, *NotExpr, BoolExpr, *CmpExpr, *SymExpr and *CallExpr.
type Expr interface {
	String() string
	isExpr()
}

// AndExpr is the conjunction of its terms.
type AndExpr struct{ Terms []Expr }

// OrExpr is the disjunction of its terms.
type OrExpr struct{ Terms []Expr }

// NotExpr negates X.
type NotExpr struct{ X Expr }

// BoolExpr is a constant truth value ("1" or "0").
type BoolExpr bool

// FieldRef names a symbol, optionally with a bit range: reg0[0..15].
type FieldRef struct {
	Pos    int
	Name   string
	Ofs    int // -1: whole symbol
	Bits   int
	Ranged bool
}

func (r FieldRef) String() string {
	switch {
	case !r.Ranged:
		return r.Name
	case r.Bits == 1:
		return fmt.Sprintf("%s[%d]", r.Name, r.Ofs)
	default:
		return fmt.Sprintf("%s[%d..%d]", r.Name, r.Ofs, r.Ofs+r.Bits-1)
	}
}

// Operand is one right-hand side value: a constant, a string, an address
// set ($name) or a port group (@name).
type Operand struct {
	tok token
}

func (o Operand) String() string { return o.tok.text }

// CmpExpr compares a field with a set of operands: Field Op {Values}.
type CmpExpr struct {
	Pos    int
	Field  FieldRef
	Op     string // == != < <= > >=
	Values []Operand
	Set    bool // written with braces
}

// SymExpr is a bare symbol: a predicate or a one-bit field.
type SymExpr struct{ Ref FieldRef }

// CallExpr is a function such as is_chassis_resident("port").
type CallExpr struct {
	Pos  int
	Name string
	Args []string
}

func (*AndExpr) isExpr()  {}
func (*OrExpr) isExpr()   {}
func (*NotExpr) isExpr()  {}
func (BoolExpr) isExpr()  {}
func (*CmpExpr) isExpr()  {}
func (*SymExpr) isExpr()  {}
func (*CallExpr) isExpr() {}

func join(ts []Expr, sep string) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		s := t.String()
		switch t.(type) {
		case *AndExpr, *OrExpr:
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

func (e *AndExpr) String() string { return join(e.Terms, " && ") }
func (e *OrExpr) String() string  { return join(e.Terms, " || ") }
func (e *NotExpr) String() string { return "!(" + e.X.String() + ")" }
func (e BoolExpr) String() string {
	if e {
		return "1"
	}
	return "0"
}
func (e *SymExpr) String() string { return e.Ref.String() }
func (e *CallExpr) String() string {
	q := make([]string, len(e.Args))
	for i, a := range e.Args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return e.Name + "(" + strings.Join(q, ", ") + ")"
}
func (e *CmpExpr) String() string {
	vals := make([]string, len(e.Values))
	for i, v := range e.Values {
		vals[i] = v.String()
	}
	rhs := strings.Join(vals, ", ")
	if e.Set || len(vals) != 1 {
		rhs = "{" + rhs + "}"
	}
	return fmt.Sprintf("%s %s %s", e.Field, e.Op, rhs)
}

// parser is a recursive-descent parser over a token slice.
type parser struct {
	toks []token
	i    int
}

func newParser(src string) (*parser, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	text := t.text
	if t.kind == tEOF {
		text = ""
	}
	return &Error{Pos: t.pos, Token: text, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, p.errAt(t, "expected %s, found %s", tokNames[k], describe(t))
	}
	return p.advance(), nil
}

func (p *parser) accept(k tokKind) bool {
	if p.peek().kind == k {
		p.advance()
		return true
	}
	return false
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tID, tConst, tString, tAddrSet, tPortGrp:
		return fmt.Sprintf("%s %s", tokNames[t.kind], t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// ParseExpr parses a Logical_Flow match expression.
func ParseExpr(s string) (Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "empty match expression")
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %s after expression", describe(t))
	}
	return e, nil
}

func (p *parser) parseExpr() (Expr, error) {
	first, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	op := p.peek().kind
	if op != tAnd && op != tOr {
		return first, nil
	}
	terms := []Expr{first}
	for {
		t := p.peek()
		if t.kind != tAnd && t.kind != tOr {
			break
		}
		if t.kind != op {
			return nil, p.errAt(t, "&& and || must be parenthesized when used together")
		}
		p.advance()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		terms = append(terms, x)
	}
	if op == tAnd {
		return &AndExpr{Terms: terms}, nil
	}
	return &OrExpr{Terms: terms}, nil
}

func isRelop(k tokKind) bool {
	switch k {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return true
	}
	return false
}

func (p *parser) parseTerm() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tNot:
		p.advance()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		if _, ok := x.(*CmpExpr); ok && p.toks[p.i-1].kind != tRParen {
			return nil, p.errAt(t, "! applied to a comparison must be parenthesized")
		}
		return &NotExpr{X: x}, nil
	case tLParen:
		p.advance()
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return x, nil
	case tID:
		if p.peekN(1).kind == tLParen {
			return p.parseCall()
		}
	}
	// A relational expression or a bare symbol/constant.
	lhsTok := p.peek()
	lhs, lhsRef, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if !isRelop(p.peek().kind) {
		if lhsRef != nil {
			return &SymExpr{Ref: *lhsRef}, nil
		}
		if len(lhs) == 1 && lhs[0].tok.kind == tConst && !lhs[0].tok.masked && lhs[0].tok.val.Hi == 0 && lhs[0].tok.val.Lo <= 1 {
			return BoolExpr(lhs[0].tok.val.Lo == 1), nil
		}
		return nil, p.errAt(lhsTok, "expected a comparison, a field or a predicate")
	}
	op1 := p.advance()
	rhsTok := p.peek()
	rhs, rhsRef, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if lhsRef != nil && rhsRef != nil {
		return nil, p.errAt(rhsTok, "cannot compare two fields")
	}
	if lhsRef == nil && rhsRef == nil {
		return nil, p.errAt(lhsTok, "comparison needs a field on one side")
	}
	if lhsRef != nil {
		if isRelop(p.peek().kind) {
			return nil, p.errAt(p.peek(), "a range comparison must put the field in the middle")
		}
		return &CmpExpr{Pos: lhsTok.pos, Field: *lhsRef, Op: op1.text, Values: rhs, Set: rhsTok.kind == tLCurly}, nil
	}
	first := &CmpExpr{Pos: lhsTok.pos, Field: *rhsRef, Op: flipOp(op1.text), Values: lhs, Set: lhsTok.kind == tLCurly}
	if !isRelop(p.peek().kind) {
		return first, nil
	}
	op2 := p.advance()
	if !isRangeOp(op1.kind) || !isRangeOp(op2.kind) || (op1.kind == tLt || op1.kind == tLe) != (op2.kind == tLt || op2.kind == tLe) {
		return nil, p.errAt(op2, "range comparison needs two < or <= (or two > or >=)")
	}
	rhs2Tok := p.peek()
	rhs2, ref2, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if ref2 != nil {
		return nil, p.errAt(rhs2Tok, "range bound must be a constant")
	}
	second := &CmpExpr{Pos: rhsTok.pos, Field: *rhsRef, Op: op2.text, Values: rhs2, Set: rhs2Tok.kind == tLCurly}
	return &AndExpr{Terms: []Expr{first, second}}, nil
}

func isRangeOp(k tokKind) bool { return k == tLt || k == tLe || k == tGt || k == tGe }

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func (p *parser) parseCall() (Expr, error) {
	name := p.advance()
	p.advance() // (
	c := &CallExpr{Pos: name.pos, Name: name.s}
	for p.peek().kind != tRParen {
		t, err := p.expect(tString)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, t.s)
		if !p.accept(tComma) {
			break
		}
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	return c, nil
}

// parseFieldRef parses ID ['[' N ['..' M] ']'].
func (p *parser) parseFieldRef() (FieldRef, error) {
	t, err := p.expect(tID)
	if err != nil {
		return FieldRef{}, err
	}
	r := FieldRef{Pos: t.pos, Name: t.s, Ofs: -1}
	if !p.accept(tLSquare) {
		return r, nil
	}
	lo, err := p.parseSmallInt()
	if err != nil {
		return r, err
	}
	hi := lo
	if p.accept(tEllipsis) {
		if hi, err = p.parseSmallInt(); err != nil {
			return r, err
		}
	}
	if _, err := p.expect(tRSquare); err != nil {
		return r, err
	}
	if hi < lo {
		return r, &Error{Pos: t.pos, Token: t.text, Msg: fmt.Sprintf("bit range %d..%d is reversed", lo, hi)}
	}
	r.Ofs, r.Bits, r.Ranged = lo, hi-lo+1, true
	return r, nil
}

func (p *parser) parseSmallInt() (int, error) {
	t, err := p.expect(tConst)
	if err != nil {
		return 0, err
	}
	if t.masked || t.format != fmtDecimal || t.val.Lo > 1<<20 {
		return 0, p.errAt(t, "expected a small decimal integer")
	}
	return int(t.val.Lo), nil
}

// parseOperand parses a field reference, or a constant, string, set,
// address set or port group. Exactly one of vals and ref is set.
func (p *parser) parseOperand() ([]Operand, *FieldRef, error) {
	t := p.peek()
	switch t.kind {
	case tID:
		r, err := p.parseFieldRef()
		if err != nil {
			return nil, nil, err
		}
		return nil, &r, nil
	case tConst, tString, tAddrSet, tPortGrp:
		p.advance()
		return []Operand{{tok: t}}, nil, nil
	case tLCurly:
		p.advance()
		var vals []Operand
		for {
			t := p.peek()
			switch t.kind {
			case tRCurly:
				p.advance()
				if len(vals) == 0 {
					return nil, nil, p.errAt(t, "empty set")
				}
				return vals, nil, nil
			case tConst, tString, tAddrSet, tPortGrp:
				vals = append(vals, Operand{tok: p.advance()})
				p.accept(tComma)
			default:
				return nil, nil, p.errAt(t, "expected a constant or }, found %s", describe(t))
			}
		}
	}
	return nil, nil, p.errAt(t, "expected a field or a constant, found %s", describe(t))
}
