package lflow

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"

	"hcnet/internal/openflow"
)

// Error is a parse or compile error at a position in the source text.
type Error struct {
	Pos   int    // byte offset in the source
	Token string // the offending token, if any
	Msg   string
}

func (e *Error) Error() string {
	if e.Token != "" {
		return fmt.Sprintf("lflow: offset %d near %q: %s", e.Pos, e.Token, e.Msg)
	}
	return fmt.Sprintf("lflow: offset %d: %s", e.Pos, e.Msg)
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tID
	tString
	tConst   // integer, MAC, IPv4 or IPv6, optionally masked
	tAddrSet // $name
	tPortGrp // @name
	tLParen
	tRParen
	tLCurly
	tRCurly
	tLSquare
	tRSquare
	tComma
	tSemi
	tColon
	tEquals   // =
	tEq       // ==
	tNe       // !=
	tLt       // <
	tLe       // <=
	tGt       // >
	tGe       // >=
	tNot      // !
	tAnd      // &&
	tOr       // ||
	tEllipsis // ..
	tExchange // <->
	tDecr     // --
	tMinus    // -
)

var tokNames = map[tokKind]string{
	tEOF: "end of input", tID: "identifier", tString: "string", tConst: "constant",
	tAddrSet: "address set", tPortGrp: "port group", tLParen: "(", tRParen: ")",
	tLCurly: "{", tRCurly: "}", tLSquare: "[", tRSquare: "]", tComma: ",", tSemi: ";",
	tColon: ":", tEquals: "=", tEq: "==", tNe: "!=", tLt: "<", tLe: "<=", tGt: ">",
	tGe: ">=", tNot: "!", tAnd: "&&", tOr: "||", tEllipsis: "..", tExchange: "<->",
	tDecr: "--", tMinus: "-",
}

// constFormat records how a constant was written, which decides how its
// mask is read and how it prints.
type constFormat uint8

const (
	fmtDecimal constFormat = iota
	fmtHexadecimal
	fmtIPv4
	fmtIPv6
	fmtMAC
)

type token struct {
	kind    tokKind
	pos     int
	text    string // source text
	s       string // identifier name, string value, set name
	val     openflow.U128
	mask    openflow.U128
	masked  bool
	format  constFormat
	valBits int // significant width implied by the format (32, 128, 48) or 0
}

type lexer struct {
	src string
	pos int
}

func isIDStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIDChar(c byte) bool { return isIDStart(c) || c >= '0' && c <= '9' || c == '.' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (l *lexer) errf(pos int, tok string, format string, args ...any) *Error {
	return &Error{Pos: pos, Token: tok, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) skipSpace() *Error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			i := strings.IndexByte(l.src[l.pos:], '\n')
			if i < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += i + 1
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			i := strings.Index(l.src[l.pos+2:], "*/")
			if i < 0 {
				return l.errf(l.pos, "/*", "unterminated comment")
			}
			l.pos += i + 4
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	two := ""
	if l.pos+1 < len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	simple := func(k tokKind, n int) (token, *Error) {
		l.pos += n
		return token{kind: k, pos: start, text: l.src[start:l.pos]}, nil
	}
	switch {
	case strings.HasPrefix(l.src[l.pos:], "<->"):
		return simple(tExchange, 3)
	case two == "==":
		return simple(tEq, 2)
	case two == "!=":
		return simple(tNe, 2)
	case two == "<=":
		return simple(tLe, 2)
	case two == ">=":
		return simple(tGe, 2)
	case two == "&&":
		return simple(tAnd, 2)
	case two == "||":
		return simple(tOr, 2)
	case two == "..":
		return simple(tEllipsis, 2)
	case two == "--":
		return simple(tDecr, 2)
	}
	switch c {
	case '(':
		return simple(tLParen, 1)
	case ')':
		return simple(tRParen, 1)
	case '{':
		return simple(tLCurly, 1)
	case '}':
		return simple(tRCurly, 1)
	case '[':
		return simple(tLSquare, 1)
	case ']':
		return simple(tRSquare, 1)
	case ',':
		return simple(tComma, 1)
	case ';':
		return simple(tSemi, 1)
	case '=':
		return simple(tEquals, 1)
	case '<':
		return simple(tLt, 1)
	case '>':
		return simple(tGt, 1)
	case '!':
		return simple(tNot, 1)
	case '-':
		return simple(tMinus, 1)
	case '"':
		return l.lexString()
	case '$', '@':
		l.pos++
		for l.pos < len(l.src) && isIDChar(l.src[l.pos]) {
			l.pos++
		}
		if l.pos == start+1 {
			return token{}, l.errf(start, string(c), "%c must be followed by a name", c)
		}
		k := tAddrSet
		if c == '@' {
			k = tPortGrp
		}
		return token{kind: k, pos: start, text: l.src[start:l.pos], s: l.src[start+1 : l.pos]}, nil
	}
	if c == ':' {
		if two == "::" {
			return l.lexConst()
		}
		return simple(tColon, 1)
	}
	if c >= '0' && c <= '9' {
		return l.lexConst()
	}
	if isIDStart(c) {
		// A run of hex digits and colons starting with a letter may be an
		// IPv6 address (fe80::1) or a MAC address (aa:bb:...).
		if isHex(c) {
			end := l.pos
			for end < len(l.src) && (isHex(l.src[end]) || l.src[end] == ':' || l.src[end] == '.') {
				end++
			}
			word := l.src[l.pos:end]
			if strings.Contains(word, ":") && (end >= len(l.src) || !isIDChar(l.src[end])) {
				if net.ParseIP(strings.TrimRight(word, ".")) != nil || isMAC(word) {
					return l.lexConst()
				}
			}
		}
		for l.pos < len(l.src) && isIDChar(l.src[l.pos]) {
			l.pos++
		}
		text := l.src[start:l.pos]
		return token{kind: tID, pos: start, text: text, s: text}, nil
	}
	return token{}, l.errf(start, string(c), "unexpected character")
}

func isMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	_, err := net.ParseMAC(s)
	return err == nil
}

func (l *lexer) lexString() (token, *Error) {
	start := l.pos
	i := l.pos + 1
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			i += 2
			continue
		case '"':
			text := l.src[start : i+1]
			var s string
			if err := json.Unmarshal([]byte(text), &s); err != nil {
				return token{}, l.errf(start, text, "bad string constant")
			}
			l.pos = i + 1
			return token{kind: tString, pos: start, text: text, s: s}, nil
		}
		i++
	}
	return token{}, l.errf(start, l.src[start:], "unterminated string")
}

// scanConst reads one unmasked constant at l.pos.
func (l *lexer) scanConst() (openflow.U128, constFormat, *Error) {
	start := l.pos
	src := l.src
	// Maximal run of characters a constant may contain.
	end := l.pos
	for end < len(src) && (isHex(src[end]) || src[end] == ':' || src[end] == '.' || src[end] == 'x' || src[end] == 'X') {
		end++
	}
	word := src[start:end]
	// Trim a trailing ".." (subfield range can't follow a constant, but
	// "1..2" style never occurs) and trailing dots.
	if i := strings.Index(word, ".."); i >= 0 && !strings.Contains(word, ":") {
		word = word[:i]
	}
	// MAC address.
	if len(word) >= 17 && isMAC(word[:17]) && (len(word) == 17 || word[17] != ':') {
		hw, _ := net.ParseMAC(word[:17])
		l.pos = start + 17
		return openflow.FromBytes(hw), fmtMAC, nil
	}
	if strings.Contains(word, ":") {
		// IPv6, possibly followed by ":port" in backends ("[..]:80" form
		// uses brackets, so a bare colon run is the address).
		for e := len(word); e > 0; e-- {
			cand := word[:e]
			if ip := net.ParseIP(cand); ip != nil && strings.Contains(cand, ":") {
				l.pos = start + e
				return openflow.FromBytes(ip.To16()), fmtIPv6, nil
			}
		}
		// Could be an IPv4 address followed by ":port".
		word = word[:strings.IndexByte(word, ':')]
	}
	if strings.Count(word, ".") == 3 {
		if ip := net.ParseIP(word).To4(); ip != nil {
			l.pos = start + len(word)
			return openflow.FromBytes(ip), fmtIPv4, nil
		}
		return openflow.U128{}, 0, l.errf(start, word, "bad IPv4 address")
	}
	if strings.HasPrefix(word, "0x") || strings.HasPrefix(word, "0X") {
		digits := word[2:]
		if i := strings.IndexAny(digits, ".:xX"); i >= 0 {
			digits = digits[:i]
		}
		if digits == "" || len(digits) > 32 {
			return openflow.U128{}, 0, l.errf(start, word, "bad hexadecimal constant")
		}
		var v openflow.U128
		for i := 0; i < len(digits); i++ {
			d, _ := strconv.ParseUint(digits[i:i+1], 16, 8)
			v = v.Shl(4).Or(openflow.U64(d))
		}
		l.pos = start + 2 + len(digits)
		return v, fmtHexadecimal, nil
	}
	if strings.Contains(word, ".") && strings.Trim(word, "0123456789.") == "" && strings.Trim(word, ".") == word {
		return openflow.U128{}, 0, l.errf(start, word, "bad IPv4 address")
	}
	i := 0
	for i < len(word) && word[i] >= '0' && word[i] <= '9' {
		i++
	}
	if i == 0 {
		return openflow.U128{}, 0, l.errf(start, word, "bad constant")
	}
	if i < len(word) && isHex(word[i]) || start+i < len(src) && isIDStart(src[start+i]) {
		end := start + i
		for end < len(src) && isIDChar(src[end]) {
			end++
		}
		return openflow.U128{}, 0, l.errf(start, src[start:end], "bad decimal constant")
	}
	n, err := strconv.ParseUint(word[:i], 10, 64)
	if err != nil {
		return openflow.U128{}, 0, l.errf(start, word[:i], "decimal constant out of range")
	}
	l.pos = start + i
	return openflow.U64(n), fmtDecimal, nil
}

func (l *lexer) lexConst() (token, *Error) {
	start := l.pos
	v, f, err := l.scanConst()
	if err != nil {
		return token{}, err
	}
	t := token{kind: tConst, pos: start, val: v, format: f}
	switch f {
	case fmtIPv4:
		t.valBits = 32
	case fmtIPv6:
		t.valBits = 128
	case fmtMAC:
		t.valBits = 48
	}
	if l.pos < len(l.src) && l.src[l.pos] == '/' && !strings.HasPrefix(l.src[l.pos:], "//") && !strings.HasPrefix(l.src[l.pos:], "/*") {
		l.pos++
		mpos := l.pos
		if l.pos >= len(l.src) || !(isHex(l.src[l.pos]) || l.src[l.pos] == ':') {
			return token{}, l.errf(mpos, l.src[start:l.pos], "missing mask after /")
		}
		m, mf, err := l.scanConst()
		if err != nil {
			return token{}, err
		}
		if mf == fmtDecimal && (f == fmtIPv4 || f == fmtIPv6) {
			w := t.valBits
			if m.Lo > uint64(w) {
				return token{}, l.errf(mpos, l.src[mpos:l.pos], "prefix length %d exceeds %d", m.Lo, w)
			}
			m = openflow.Range(w-int(m.Lo), int(m.Lo))
		} else if mf != f && !(mf == fmtHexadecimal || mf == fmtDecimal) {
			return token{}, l.errf(mpos, l.src[mpos:l.pos], "mask format does not match value")
		}
		if !v.And(m.Not()).IsZero() {
			return token{}, l.errf(start, l.src[start:l.pos], "value has bits outside its mask")
		}
		t.mask, t.masked = m, true
	}
	t.text = l.src[start:l.pos]
	return t, nil
}

// tokenize splits src into tokens.
func tokenize(src string) ([]token, error) {
	l := &lexer{src: src}
	toks := make([]token, 0, len(src)/4+2)
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}
