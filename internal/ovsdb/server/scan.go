package server

import (
	"encoding/json"
	"errors"
)

// A minimal scanner over JSON that the framing layer has already validated:
// the transaction path needs only the elements of the params array and each
// operation's "op", which is cheaper to find this way than by decoding.

var errScan = errors.New("malformed JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the JSON value starting at i.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, errScan
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, err := valueEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errScan
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errScan
		}
		return j, nil
	}
}

// arrayElements returns the elements of a JSON array.
func arrayElements(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errScan
	}
	var out []json.RawMessage
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, nil
	}
	for {
		e, err := valueEnd(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(b[i:e]))
		i = skipSpace(b, e)
		if i >= len(b) {
			return nil, errScan
		}
		if b[i] == ']' {
			return out, nil
		}
		if b[i] != ',' {
			return nil, errScan
		}
		i = skipSpace(b, i+1)
	}
}

// member returns the raw value of key in a JSON object, if present (the
// last one when the key repeats, as encoding/json decodes it).
func member(b []byte, key string) (val json.RawMessage, found bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false
	}
	for i < len(b) {
		if b[i] == '}' {
			return val, found
		}
		ke, err := valueEnd(b, i)
		if err != nil || b[i] != '"' {
			return nil, false
		}
		k := b[i+1 : ke-1]
		var name string
		if containsByte(k, '\\') {
			if json.Unmarshal(b[i:ke], &name) != nil {
				return nil, false
			}
		} else {
			name = string(k)
		}
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		ve, err := valueEnd(b, i)
		if err != nil {
			return nil, false
		}
		if name == key {
			val, found = json.RawMessage(b[i:ve]), true
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == '}' {
			return val, found
		}
		if i >= len(b) || b[i] != ',' {
			return nil, false
		}
		i = skipSpace(b, i+1)
	}
	return nil, false
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}
