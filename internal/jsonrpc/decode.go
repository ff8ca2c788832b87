package jsonrpc

import "bytes"

// decodeFast decodes the common shape of a message without encoding/json:
// an object whose members are among "method" (a string without escapes),
// "params", "id" (not null), "result" and "error", each at most once, in
// valid JSON. It declines (false) anything else, and Decode then uses
// encoding/json, so that only encoding/json decides errors and the rarer
// forms (escaped or differently cased member names, nulls where a pointer
// decodes them to nil, repeated members).
func decodeFast(data []byte) (*Message, bool) {
	s := scanner{b: data}
	s.space()
	if !s.byte('{') {
		return nil, false
	}
	var method, params, result, errv, id []byte
	var seen uint8
	s.space()
	if !s.byte('}') {
		for {
			s.space()
			key, ok := s.plainString()
			if !ok {
				return nil, false
			}
			s.space()
			if !s.byte(':') {
				return nil, false
			}
			s.space()
			start := s.i
			if !s.value(0) {
				return nil, false
			}
			val := data[start:s.i]
			var bit uint8
			switch string(key) {
			case "method":
				if val[0] != '"' || bytes.IndexByte(val, '\\') >= 0 {
					return nil, false
				}
				method, bit = val[1:len(val)-1], 1
			case "params":
				params, bit = val, 2
			case "result":
				result, bit = val, 4
			case "error":
				errv, bit = val, 8
			case "id":
				if string(val) == "null" {
					return nil, false
				}
				id, bit = val, 16
			default:
				// encoding/json matches member names without regard to
				// case: leave anything unusual to it.
				return nil, false
			}
			if seen&bit != 0 {
				return nil, false
			}
			seen |= bit
			s.space()
			if s.byte('}') {
				break
			}
			if !s.byte(',') {
				return nil, false
			}
		}
	}
	s.space()
	if s.i != len(data) {
		return nil, false
	}
	m := &Message{}
	if seen&1 != 0 {
		if len(method) == 0 || params == nil || params[0] != '[' {
			return nil, false // an error: encoding/json's path words it
		}
		// One allocation holds the copies (the input is the reader's buffer).
		buf := make([]byte, 0, len(method)+len(params)+len(id))
		buf = append(buf, params...)
		buf = append(buf, id...)
		m.Params = buf[:len(params):len(params)]
		if id != nil {
			m.ID = buf[len(params):]
		}
		m.Method = string(method)
		return m, true
	}
	if id == nil {
		return nil, false
	}
	buf := make([]byte, 0, len(params)+len(id)+len(result)+len(errv))
	copyOut := func(v []byte) []byte {
		if v == nil {
			return nil
		}
		n := len(buf)
		buf = append(buf, v...)
		return buf[n:len(buf):len(buf)]
	}
	m.Params, m.ID = copyOut(params), copyOut(id)
	if result != nil && string(result) != "null" {
		m.Result = copyOut(result)
	}
	if errv != nil && string(errv) != "null" {
		m.Error = copyOut(errv)
	}
	return m, true
}

// scanner validates JSON (RFC 8259; like encoding/json it does not check
// the UTF-8 in strings) without decoding it.
type scanner struct {
	b []byte
	i int
}

// maxScanDepth bounds nesting; deeper input goes to encoding/json.
const maxScanDepth = 1000

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string without escapes and returns its contents.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) value(depth int) bool {
	if depth > maxScanDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.space()
		if s.byte('}') {
			return true
		}
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
				return false
			}
			s.space()
			if !s.byte(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte('}') {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		s.space()
		if s.byte(']') {
			return true
		}
		for {
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte(']') {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	case c == '"':
		return s.str()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// str validates a string literal at s.i.
func (s *scanner) str() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// number validates -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.byte('.') {
		if s.digits() == 0 {
			return false
		}
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}
