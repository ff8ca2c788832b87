package openflow

import (
	"fmt"
	"math/bits"
	"net"
	"strings"
)

// U128 is an unsigned 128-bit integer. Field values and masks of every width
// up to 128 bits (registers, addresses, ct_label) are U128s, right-aligned:
// a 48-bit MAC address occupies the low 48 bits of Lo.
type U128 struct{ Hi, Lo uint64 }

// U64 returns v as a U128.
func U64(v uint64) U128 { return U128{Lo: v} }

// Ones returns a value with the low n bits set.
func Ones(n int) U128 {
	switch {
	case n <= 0:
		return U128{}
	case n < 64:
		return U128{Lo: 1<<uint(n) - 1}
	case n == 64:
		return U128{Lo: ^uint64(0)}
	case n < 128:
		return U128{Hi: 1<<uint(n-64) - 1, Lo: ^uint64(0)}
	default:
		return U128{Hi: ^uint64(0), Lo: ^uint64(0)}
	}
}

// Range returns a mask with bits [ofs, ofs+n) set.
func Range(ofs, n int) U128 { return Ones(n).Shl(ofs) }

// And returns a&b.
func (a U128) And(b U128) U128 { return U128{a.Hi & b.Hi, a.Lo & b.Lo} }

// Or returns a|b.
func (a U128) Or(b U128) U128 { return U128{a.Hi | b.Hi, a.Lo | b.Lo} }

// Xor returns a^b.
func (a U128) Xor(b U128) U128 { return U128{a.Hi ^ b.Hi, a.Lo ^ b.Lo} }

// Not returns ^a.
func (a U128) Not() U128 { return U128{^a.Hi, ^a.Lo} }

// IsZero reports whether a == 0.
func (a U128) IsZero() bool { return a.Hi == 0 && a.Lo == 0 }

// Shl returns a<<n.
func (a U128) Shl(n int) U128 {
	switch {
	case n <= 0:
		return a
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{Hi: a.Lo << uint(n-64)}
	default:
		return U128{Hi: a.Hi<<uint(n) | a.Lo>>uint(64-n), Lo: a.Lo << uint(n)}
	}
}

// Shr returns a>>n.
func (a U128) Shr(n int) U128 {
	switch {
	case n <= 0:
		return a
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{Lo: a.Hi >> uint(n-64)}
	default:
		return U128{Hi: a.Hi >> uint(n), Lo: a.Lo>>uint(n) | a.Hi<<uint(64-n)}
	}
}

// Bit reports whether bit i is set.
func (a U128) Bit(i int) bool {
	if i < 64 {
		return a.Lo>>uint(i)&1 == 1
	}
	return a.Hi>>uint(i-64)&1 == 1
}

// SetBit returns a with bit i set.
func (a U128) SetBit(i int) U128 { return a.Or(Range(i, 1)) }

// ClearBit returns a with bit i cleared.
func (a U128) ClearBit(i int) U128 { return a.And(Range(i, 1).Not()) }

// OnesCount returns the number of set bits.
func (a U128) OnesCount() int { return bits.OnesCount64(a.Hi) + bits.OnesCount64(a.Lo) }

// Len returns the minimum number of bits needed to represent a.
func (a U128) Len() int {
	if a.Hi != 0 {
		return 64 + bits.Len64(a.Hi)
	}
	return bits.Len64(a.Lo)
}

// TrailingZeros returns the number of trailing zero bits (128 for zero).
func (a U128) TrailingZeros() int {
	if a.Lo != 0 {
		return bits.TrailingZeros64(a.Lo)
	}
	if a.Hi != 0 {
		return 64 + bits.TrailingZeros64(a.Hi)
	}
	return 128
}

// Cmp compares a and b.
func (a U128) Cmp(b U128) int {
	switch {
	case a.Hi < b.Hi:
		return -1
	case a.Hi > b.Hi:
		return 1
	case a.Lo < b.Lo:
		return -1
	case a.Lo > b.Lo:
		return 1
	}
	return 0
}

// Add returns a+b (mod 2^128).
func (a U128) Add(b U128) U128 {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	hi, _ := bits.Add64(a.Hi, b.Hi, c)
	return U128{hi, lo}
}

// Sub returns a-b (mod 2^128).
func (a U128) Sub(b U128) U128 {
	lo, c := bits.Sub64(a.Lo, b.Lo, 0)
	hi, _ := bits.Sub64(a.Hi, b.Hi, c)
	return U128{hi, lo}
}

// Bytes returns the low n bytes of a, big-endian.
func (a U128) Bytes(n int) []byte {
	b := make([]byte, n)
	a.Put(b)
	return b
}

// Put writes the low len(b) bytes of a into b, big-endian.
func (a U128) Put(b []byte) {
	v := a
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v.Lo)
		v = v.Shr(8)
	}
}

// FromBytes reads a big-endian value of up to 16 bytes.
func FromBytes(b []byte) U128 {
	var v U128
	for _, c := range b {
		v = v.Shl(8).Or(U64(uint64(c)))
	}
	return v
}

// Hex formats a as 0x-prefixed hexadecimal without leading zeros.
func (a U128) Hex() string {
	if a.Hi != 0 {
		return fmt.Sprintf("0x%x%016x", a.Hi, a.Lo)
	}
	return fmt.Sprintf("0x%x", a.Lo)
}

// String formats a in hexadecimal.
func (a U128) String() string { return a.Hex() }

// MAC formats the low 48 bits as an Ethernet address.
func (a U128) MAC() string {
	return net.HardwareAddr(a.Bytes(6)).String()
}

// IPv4 formats the low 32 bits as a dotted quad.
func (a U128) IPv4() string { return net.IP(a.Bytes(4)).String() }

// IPv6 formats a as an IPv6 address.
func (a U128) IPv6() string { return net.IP(a.Bytes(16)).String() }

// IsPrefix reports whether mask m (of width w bits) is a CIDR prefix mask,
// and returns its length.
func IsPrefix(m U128, w int) (int, bool) {
	n := m.OnesCount()
	return n, m == Range(w-n, n)
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte('.')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
