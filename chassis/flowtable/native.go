package flowtable

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"hcnet/internal/openflow"
)

// OpenFlow returns the flow as an openflow.Flow stamped with cookie: the
// compiled form when the flow carries one, else its text parsed. The
// parser knows the vocabulary of the chassis' own physical flows and of
// merged conjunction clauses; anything else is an error naming the flow.
func (f Flow) OpenFlow(cookie uint64) (openflow.Flow, error) {
	if f.OF != nil {
		of := *f.OF
		of.Table, of.Priority, of.Cookie = f.Table, f.Priority, cookie
		return of, nil
	}
	m, err := parseMatch(f.Match)
	if err != nil {
		return openflow.Flow{}, fmt.Errorf("flow %s: %w", f, err)
	}
	as, err := parseActions(f.actions())
	if err != nil {
		return openflow.Flow{}, fmt.Errorf("flow %s: %w", f, err)
	}
	return openflow.Flow{Table: f.Table, Priority: f.Priority, Cookie: cookie, Match: m, Actions: as}, nil
}

var fieldAlias = map[string]string{"dl_src": "eth_src", "dl_dst": "eth_dst", "dl_type": "eth_type"}

func field(name string) (*openflow.Field, error) {
	if a, ok := fieldAlias[name]; ok {
		name = a
	}
	fl, ok := openflow.FieldByName(name)
	if !ok {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	return fl, nil
}

func parseValue(fl *openflow.Field, s string) (openflow.U128, error) {
	if hw, ok := parseMAC(s); ok {
		return openflow.FromBytes(hw), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		if ip.Is4() {
			a := ip.As4()
			return openflow.FromBytes(a[:]), nil
		}
		a := ip.As16()
		return openflow.FromBytes(a[:]), nil
	}
	n, ok := new(big.Int).SetString(s, 0)
	if !ok || n.Sign() < 0 || n.BitLen() > 128 {
		return openflow.U128{}, fmt.Errorf("bad value %q for %s", s, fl.Name)
	}
	lo := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(n, 64).Uint64()
	return openflow.U128{Hi: hi, Lo: lo}, nil
}

func parseMatch(s string) (openflow.Match, error) {
	var m openflow.Match
	if s == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		switch part {
		case "arp":
			m = append(m, openflow.FieldMatch{Field: openflow.MustField("eth_type"), Value: openflow.U64(0x806), Mask: openflow.Ones(16)})
			continue
		case "ip":
			m = append(m, openflow.FieldMatch{Field: openflow.MustField("eth_type"), Value: openflow.U64(0x800), Mask: openflow.Ones(16)})
			continue
		case "ipv6":
			m = append(m, openflow.FieldMatch{Field: openflow.MustField("eth_type"), Value: openflow.U64(0x86dd), Mask: openflow.Ones(16)})
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("match %q: no value", part)
		}
		fl, err := field(name)
		if err != nil {
			return nil, fmt.Errorf("match %q: %w", part, err)
		}
		v, mk, masked := strings.Cut(val, "/")
		value, err := parseValue(fl, v)
		if err != nil {
			return nil, fmt.Errorf("match %q: %w", part, err)
		}
		mask := openflow.Ones(fl.Bits)
		if masked {
			if mask, err = parseValue(fl, mk); err != nil {
				return nil, fmt.Errorf("match %q: %w", part, err)
			}
		}
		m = append(m, openflow.FieldMatch{Field: fl, Value: value.And(mask), Mask: mask})
	}
	m.Normalize()
	return m, nil
}

// splitActions splits on commas outside parentheses.
func splitActions(s string) []string { return splitTop(s) }

func parseSubfield(s string) (openflow.Subfield, error) {
	name, rng, ok := strings.Cut(strings.TrimSuffix(s, "]"), "[")
	if !ok || !strings.HasSuffix(s, "]") {
		return openflow.Subfield{}, fmt.Errorf("subfield %q", s)
	}
	fl, err := field(name)
	if err != nil {
		return openflow.Subfield{}, err
	}
	if rng == "" {
		return openflow.Subfield{Field: fl, Bits: fl.Bits}, nil
	}
	lo, hi, isRange := strings.Cut(rng, "..")
	a, err1 := strconv.Atoi(lo)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(hi)
	}
	if err1 != nil || err2 != nil || b < a || b >= fl.Bits {
		return openflow.Subfield{}, fmt.Errorf("subfield %q: bad range", s)
	}
	return openflow.Subfield{Field: fl, Ofs: a, Bits: b - a + 1}, nil
}

func parseActions(s string) (openflow.Actions, error) {
	var out openflow.Actions
	if s == "drop" || s == "" {
		return out, nil
	}
	for _, a := range splitActions(s) {
		act, err := parseAction(a)
		if err != nil {
			return nil, fmt.Errorf("action %q: %w", a, err)
		}
		out = append(out, act)
	}
	return out, nil
}

func parseAction(a string) (openflow.Action, error) {
	switch {
	case a == "ct_clear":
		return openflow.CTClear{}, nil
	case a == "set_field:ANY->in_port":
		return openflow.SetField{Field: openflow.MustField("nxm_in_port"), Value: openflow.U64(0xffff), Mask: openflow.Ones(16)}, nil
	case strings.HasPrefix(a, "resubmit(,") && strings.HasSuffix(a, ")"):
		n, err := strconv.Atoi(a[len("resubmit(,") : len(a)-1])
		if err != nil || n < 0 || n > 254 {
			return nil, fmt.Errorf("bad table")
		}
		return openflow.Resubmit{Table: uint8(n), InPort: openflow.PortInPort}, nil
	case strings.HasPrefix(a, "output:"):
		n, err := strconv.ParseUint(a[len("output:"):], 10, 32)
		if err != nil {
			return nil, err
		}
		return openflow.Output{Port: uint32(n)}, nil
	case strings.HasPrefix(a, "set_field:"):
		v, dst, ok := strings.Cut(a[len("set_field:"):], "->")
		if !ok {
			return nil, fmt.Errorf("no destination")
		}
		fl, err := field(dst)
		if err != nil {
			return nil, err
		}
		val, mk, masked := strings.Cut(v, "/")
		value, err := parseValue(fl, val)
		if err != nil {
			return nil, err
		}
		mask := openflow.Ones(fl.Bits)
		if masked {
			if mask, err = parseValue(fl, mk); err != nil {
				return nil, err
			}
		}
		return openflow.SetField{Field: fl, Value: value.And(mask), Mask: mask}, nil
	case strings.HasPrefix(a, "move:"):
		src, dst, ok := strings.Cut(a[len("move:"):], "->")
		if !ok {
			return nil, fmt.Errorf("no destination")
		}
		s, err := parseSubfield(src)
		if err != nil {
			return nil, err
		}
		d, err := parseSubfield(dst)
		if err != nil {
			return nil, err
		}
		if s.Bits != d.Bits {
			return nil, fmt.Errorf("widths differ")
		}
		return openflow.Move{Src: s, Dst: d}, nil
	case strings.HasPrefix(a, "push:"):
		s, err := parseSubfield(a[len("push:"):])
		return openflow.Push{Src: s}, err
	case strings.HasPrefix(a, "pop:"):
		s, err := parseSubfield(a[len("pop:"):])
		return openflow.Pop{Dst: s}, err
	case strings.HasPrefix(a, "controller(") && strings.HasSuffix(a, ")"):
		c := openflow.Controller2{Reason: 1}
		for _, kv := range strings.Split(a[len("controller("):len(a)-1], ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch {
			case k == "reason" && v == "no_match":
				c.Reason = 0
			case k == "reason" && v == "action":
				c.Reason = 1
			case k == "meter_id":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return nil, err
				}
				c.MeterID = uint32(n)
			default:
				return nil, fmt.Errorf("controller option %q", kv)
			}
		}
		return c, nil
	case strings.HasPrefix(a, "clone(") && strings.HasSuffix(a, ")"):
		inner, err := parseActions(a[len("clone(") : len(a)-1])
		return openflow.Clone{Actions: inner}, err
	case strings.HasPrefix(a, "conjunction(") && strings.HasSuffix(a, ")"):
		var id, k, n uint64
		if _, err := fmt.Sscanf(a, "conjunction(%d,%d/%d)", &id, &k, &n); err != nil {
			return nil, err
		}
		return openflow.Conjunction{ID: uint32(id), Clause: uint8(k), NClauses: uint8(n)}, nil
	case strings.HasPrefix(a, "bundle(eth_src,0,active_backup,ofport,members:") && strings.HasSuffix(a, ")"):
		var ms []uint16
		for _, p := range strings.Split(a[len("bundle(eth_src,0,active_backup,ofport,members:"):len(a)-1], ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, err
			}
			ms = append(ms, uint16(n))
		}
		return openflow.BundleAction{Algorithm: openflow.BundleActiveBackup, Fields: openflow.HashEthSrc, Members: ms}, nil
	}
	return nil, fmt.Errorf("not in the native vocabulary")
}

// parseMAC reads xx:xx:xx:xx:xx:xx.
func parseMAC(s string) ([]byte, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return nil, false
	}
	out := make([]byte, 6)
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return nil, false
		}
		out[i] = byte(n)
	}
	return out, true
}
