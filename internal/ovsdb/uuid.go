package ovsdb

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// UUID is an OVSDB row identifier (RFC 7047 §5.1 <uuid>).
type UUID [16]byte

// String returns the canonical 8-4-4-4-12 lower-case form.
func (u UUID) String() string {
	var b [36]byte
	u.put(b[:])
	return string(b[:])
}

// put writes the canonical form into b[:36].
func (u UUID) put(b []byte) {
	const digits = "0123456789abcdef"
	_ = b[35]
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = digits[x>>4], digits[x&0xf]
		j += 2
	}
}

// appendUUIDString appends the quoted canonical form.
func appendUUIDString(b []byte, u UUID) []byte {
	b = append(b, `"000000000000000000000000000000000000"`...)
	u.put(b[len(b)-37:])
	return b
}

// AppendQuoted appends u's canonical form in double quotes (a JSON
// string).
func (u UUID) AppendQuoted(b []byte) []byte { return appendUUIDString(b, u) }

// IsZero reports whether u is the all-zeros UUID.
func (u UUID) IsZero() bool { return u == UUID{} }

// ParseUUID parses the canonical 8-4-4-4-12 form (either case).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if !isUUIDString(s) {
		return u, fmt.Errorf("%q is not a valid UUID", s)
	}
	j := 0
	for i := 0; i < 36; {
		if s[i] == '-' {
			i++
			continue
		}
		u[j] = unhex(s[i])<<4 | unhex(s[i+1])
		i += 2
		j++
	}
	return u, nil
}

// parseUUIDBytes is ParseUUID for bytes, without allocating.
func parseUUIDBytes(b []byte) (UUID, bool) {
	var u UUID
	if len(b) != 36 {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if b[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		if !isHex(b[i]) || !isHex(b[i+1]) {
			return u, false
		}
		u[j] = unhex(b[i])<<4 | unhex(b[i+1])
		i += 2
		j++
	}
	return u, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUUIDString(s string) bool {
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
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// uuidGen derives UUIDs deterministically from a transaction's seed, so that
// every replica executing the same transaction assigns the same identifiers.
type uuidGen struct {
	seed    [16]byte
	counter uint64
	buf     [24]byte
}

func (g *uuidGen) next() UUID {
	copy(g.buf[:16], g.seed[:])
	binary.BigEndian.PutUint64(g.buf[16:], g.counter)
	g.counter++
	sum := sha256.Sum256(g.buf[:])
	var u UUID
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}
