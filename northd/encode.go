package northd

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// appendOp appends one operation as RFC 7047 JSON, as libovsdb would
// marshal it but without reflection: the SB transactions of a first
// translation carry tens of thousands of rows. Values of types the writer
// does not use fall back to encoding/json.
func appendOp(b []byte, op ovsdb.Operation) ([]byte, error) {
	var err error
	b = append(b, `{"op":`...)
	b = appendJSONString(b, op.Op)
	if op.Table != "" {
		b = append(b, `,"table":`...)
		b = appendJSONString(b, op.Table)
	}
	if op.Lock != nil {
		b = append(b, `,"lock":`...)
		b = appendJSONString(b, *op.Lock)
	}
	if op.UUIDName != "" {
		b = append(b, `,"uuid-name":`...)
		b = appendJSONString(b, op.UUIDName)
	}
	if op.Row != nil {
		b = append(b, `,"row":`...)
		if b, err = appendRow(b, op.Row); err != nil {
			return nil, err
		}
	}
	if op.UUID != "" {
		b = append(b, `,"uuid":`...)
		b = appendJSONString(b, op.UUID)
	}
	switch {
	case op.Where == nil && (op.Op == ovsdb.OperationSelect || op.Op == ovsdb.OperationUpdate ||
		op.Op == ovsdb.OperationMutate || op.Op == ovsdb.OperationDelete || op.Op == ovsdb.OperationWait):
		b = append(b, `,"where":[]`...)
	case op.Where != nil:
		b = append(b, `,"where":[`...)
		for i, c := range op.Where {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, c.Column)
			b = append(b, ',')
			b = appendJSONString(b, string(c.Function))
			b = append(b, ',')
			if b, err = appendValue(b, c.Value); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if op.Mutations != nil {
		b = append(b, `,"mutations":[`...)
		for i, m := range op.Mutations {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, m.Column)
			b = append(b, ',')
			b = appendJSONString(b, string(m.Mutator))
			b = append(b, ',')
			if b, err = appendValue(b, m.Value); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if op.Columns != nil || op.Rows != nil || op.Timeout != nil || op.Until != "" || op.Durable != nil || op.Comment != nil {
		return nil, fmt.Errorf("encode %s %s: unsupported operation members", op.Op, op.Table)
	}
	return append(b, '}'), nil
}

// appendRow appends a row object with its columns in sorted order.
func appendRow(b []byte, row ovsdb.Row) ([]byte, error) {
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	b = append(b, '{')
	var err error
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c)
		b = append(b, ':')
		if b, err = appendValue(b, row[c]); err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
	}
	return append(b, '}'), nil
}

// appendValue appends an OVSDB <value>.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case ovsdb.OvsSet:
		if len(x.GoSet) == 1 {
			return appendValue(b, x.GoSet[0])
		}
		b = append(b, `["set",[`...)
		for i, e := range x.GoSet {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, "]]"...), nil
	case ovsdb.OvsMap:
		keys := make([]string, 0, len(x.GoMap))
		vals := make(map[string]any, len(x.GoMap))
		for k, val := range x.GoMap {
			ks, ok := k.(string)
			if !ok {
				return appendMarshal(b, v)
			}
			keys = append(keys, ks)
			vals[ks] = val
		}
		slices.Sort(keys)
		b = append(b, `["map",[`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, k)
			b = append(b, ',')
			var err error
			if b, err = appendValue(b, vals[k]); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		return append(b, "]]"...), nil
	case ovsdb.UUID:
		if isUUID(x.GoUUID) {
			b = append(b, `["uuid",`...)
		} else {
			b = append(b, `["named-uuid",`...)
		}
		b = appendJSONString(b, x.GoUUID)
		return append(b, ']'), nil
	case string:
		return appendJSONString(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	return appendMarshal(b, v)
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// isUUID reports whether s has the 8-4-4-4-12 hex form of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259): quotes,
// backslashes and control characters escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// encodeOps encodes operations for client.TransactJSON, in one buffer.
func encodeOps(ops []ovsdb.Operation) ([]json.RawMessage, error) {
	var b []byte
	ends := make([]int, len(ops))
	for i, op := range ops {
		var err error
		if b, err = appendOp(b, op); err != nil {
			return nil, err
		}
		ends[i] = len(b)
	}
	out := make([]json.RawMessage, len(ops))
	start := 0
	for i, end := range ends {
		out[i] = json.RawMessage(b[start:end:end])
		start = end
	}
	return out, nil
}

// opResult is one operation's result as the writer reads it.
type opResult struct {
	UUID    []string `json:"uuid"` // ["uuid", "<uuid>"] for an insert
	Count   int      `json:"count"`
	Error   string   `json:"error"`
	Details string   `json:"details"`
}

// decodeResults decodes a transaction's result array (RFC 7047 5.2: one
// object per operation, null for those not executed) without libovsdb's
// per-value decoding; rows of select results are not read.
func decodeResults(raw json.RawMessage) ([]ovsdb.OperationResult, error) {
	var rs []*opResult
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, err
	}
	out := make([]ovsdb.OperationResult, len(rs))
	for i, r := range rs {
		if r == nil {
			continue
		}
		out[i] = ovsdb.OperationResult{Count: r.Count, Error: r.Error, Details: r.Details}
		if len(r.UUID) == 2 {
			out[i].UUID = ovsdb.UUID{GoUUID: r.UUID[1]}
		}
	}
	return out, nil
}
