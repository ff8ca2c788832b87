package lflow

import (
	"fmt"
	"strings"

	"hcnet/internal/openflow"
)

// nextArgs interprets next, next(T) and next(pipeline=P, table=T).
// table is -1 when not given.
func nextArgs(a Action) (pipeline string, table int, err error) {
	table = -1
	for _, arg := range a.Args {
		key := arg.Key
		if key == "" {
			key = "table"
		}
		if len(arg.toks) != 1 {
			return "", 0, &Error{Pos: arg.Pos, Token: arg.String(), Msg: "bad next argument"}
		}
		t := arg.toks[0]
		switch key {
		case "table":
			if t.kind != tConst || t.masked || t.val.Lo >= MaxLogicalTables || t.val.Hi != 0 {
				return "", 0, &Error{Pos: t.pos, Token: t.text, Msg: fmt.Sprintf("table must be 0..%d", MaxLogicalTables-1)}
			}
			table = int(t.val.Lo)
		case "pipeline":
			if t.kind != tID || (t.s != "ingress" && t.s != "egress") {
				return "", 0, &Error{Pos: t.pos, Token: t.text, Msg: "pipeline must be ingress or egress"}
			}
			pipeline = t.s
		default:
			return "", 0, &Error{Pos: arg.Pos, Token: key, Msg: "unknown next argument " + key}
		}
	}
	return pipeline, table, nil
}

// natSpec is the argument of ct_dnat/ct_snat(_in_czone).
type natSpec struct {
	has              bool
	ipv6             bool
	ip               openflow.U128
	portMin, portMax uint16
	random, hash     bool
}

func natArgs(a Action) (natSpec, error) {
	var n natSpec
	if len(a.Args) == 0 {
		return n, nil
	}
	t := a.Args[0].toks
	if len(t) == 0 || t[0].kind != tConst || (t[0].format != fmtIPv4 && t[0].format != fmtIPv6) || t[0].masked {
		return n, &Error{Pos: a.Args[0].Pos, Token: a.Args[0].String(), Msg: a.Name + " needs an IP address"}
	}
	n.has, n.ip, n.ipv6 = true, t[0].val, t[0].format == fmtIPv6
	for _, arg := range a.Args[1:] {
		toks := arg.toks
		for len(toks) > 0 {
			x := toks[0]
			switch {
			case x.kind == tConst && x.format == fmtDecimal && x.val.Lo < 65536:
				n.portMin = uint16(x.val.Lo)
				n.portMax = n.portMin
				if len(toks) >= 3 && toks[1].kind == tMinus && toks[2].kind == tConst && toks[2].val.Lo < 65536 {
					n.portMax = uint16(toks[2].val.Lo)
					toks = toks[2:]
				}
			case x.kind == tID && x.s == "random":
				n.random = true
			case x.kind == tID && x.s == "hash":
				n.hash = true
			default:
				return n, &Error{Pos: x.pos, Token: x.text, Msg: "bad " + a.Name + " argument"}
			}
			toks = toks[1:]
		}
	}
	return n, nil
}

// backend is one load balancer backend.
type backend struct {
	ipv6 bool
	ip   openflow.U128
	port uint16
}

type lbSpec struct {
	backends   []backend
	hashFields []string
	flag       string // "skip_snat" or "force_snat" (ct_flag), or empty
}

// lbArgs interprets ct_lb(backends=IP[:PORT],...; hash_fields="...";
// skip_snat|force_snat).
// The older form ct_lb(IP:PORT, ...) is accepted too.
func lbArgs(a Action) (lbSpec, error) {
	var s lbSpec
	inBackends := true
	for _, arg := range a.Args {
		switch arg.Key {
		case "hash_fields":
			if len(arg.toks) != 1 || arg.toks[0].kind != tString {
				return s, &Error{Pos: arg.Pos, Token: arg.String(), Msg: "hash_fields must be a string"}
			}
			for _, f := range strings.Split(arg.toks[0].s, ",") {
				if f = strings.TrimSpace(f); f != "" {
					s.hashFields = append(s.hashFields, f)
				}
			}
			inBackends = false
			continue
		case "backends":
			inBackends = true
		case "":
			if len(arg.toks) == 1 && arg.toks[0].kind == tID {
				switch arg.toks[0].s {
				case "skip_snat", "force_snat":
					if s.flag != "" {
						return s, &Error{Pos: arg.Pos, Token: arg.toks[0].s, Msg: "ct_lb takes one of skip_snat and force_snat"}
					}
					s.flag = arg.toks[0].s
					inBackends = false
					continue
				}
			}
		default:
			return s, &Error{Pos: arg.Pos, Token: arg.Key, Msg: "unknown ct_lb argument " + arg.Key}
		}
		if !inBackends {
			return s, &Error{Pos: arg.Pos, Token: arg.String(), Msg: "unexpected ct_lb argument"}
		}
		b, err := parseBackend(arg)
		if err != nil {
			return s, err
		}
		s.backends = append(s.backends, b)
	}
	return s, nil
}

func parseBackend(arg Arg) (backend, error) {
	toks := arg.toks
	bad := &Error{Pos: arg.Pos, Token: arg.String(), Msg: "backend must be IP, IP:PORT or [IPv6]:PORT"}
	var b backend
	bracket := false
	if len(toks) > 0 && toks[0].kind == tLSquare {
		bracket = true
		toks = toks[1:]
	}
	if len(toks) == 0 || toks[0].kind != tConst || toks[0].masked || (toks[0].format != fmtIPv4 && toks[0].format != fmtIPv6) {
		return b, bad
	}
	b.ip, b.ipv6 = toks[0].val, toks[0].format == fmtIPv6
	toks = toks[1:]
	if bracket {
		if len(toks) == 0 || toks[0].kind != tRSquare {
			return b, bad
		}
		toks = toks[1:]
	}
	if len(toks) == 2 && toks[0].kind == tColon && toks[1].kind == tConst && toks[1].format == fmtDecimal && toks[1].val.Lo < 65536 {
		b.port = uint16(toks[1].val.Lo)
		toks = nil
	}
	if len(toks) != 0 {
		return b, bad
	}
	return b, nil
}
