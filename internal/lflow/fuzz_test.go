package lflow

import (
	"errors"
	"strings"
	"testing"
)

// checkPositioned fails unless err is an *Error whose position lies
// within the input.
func checkPositioned(t *testing.T, input string, err error) {
	t.Helper()
	var le *Error
	if !errors.As(err, &le) {
		t.Fatalf("input %q: error %v (%T) does not name a position", input, err, err)
	}
	if le.Pos < 0 || le.Pos > len(input) {
		t.Fatalf("input %q: error position %d outside the input", input, le.Pos)
	}
	if !strings.Contains(err.Error(), "offset") {
		t.Fatalf("input %q: error text %q does not name the offset", input, err)
	}
}

// FuzzParseExpr: parsing never panics, errors name their position, and
// whatever parses can be normalised and compiled without panicking.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"ip4 && tcp.dst == 80", `inport == "vm1"`, "reg0[0..3] != 5", "1", "ct.est && !ct.rel"} {
		f.Add(s)
	}
	env := testEnv()
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			checkPositioned(t, s, err)
			return
		}
		if e.String() == "" {
			t.Fatalf("input %q parsed to an empty expression", s)
		}
		if len(s) > 300 {
			return
		}
		if _, err := CompileParsed(LogicalFlow{Pipeline: "ingress", Match: s}, e, Actions{}, env); err != nil {
			var le *Error
			var tb tooBigError
			if !errors.As(err, &le) && !errors.As(err, &tb) {
				t.Fatalf("input %q: compile error %v (%T) is neither positioned nor a size limit", s, err, err)
			}
		}
	})
}

// FuzzParseActions: parsing never panics, errors name their position, and
// whatever parses compiles (or fails cleanly) without panicking.
func FuzzParseActions(f *testing.F) {
	for _, s := range []string{"next;", `outport = "vm2"; output;`, "ct_commit { ct_mark.blocked = 1; }; next;", "eth.dst <-> eth.src;", "reg0[3] = put_dhcp_opts(router = 10.0.0.1);",
		`fwd_group(liveness="true", childports="vm1", "vm3");`, "handle_bfd_msg();", "ct_lb_mark(backends=10.0.0.1:80,10.0.0.2:80; skip_snat);",
		"reg8[16..31] = select(1, 2=50);", "reg9[3] = lookup_arp_ip(inport, arp.spa);"} {
		f.Add(s)
	}
	env, _ := goldenEnv()
	f.Fuzz(func(t *testing.T, s string) {
		as, err := ParseActions(s)
		if err != nil {
			checkPositioned(t, s, err)
			return
		}
		_ = as.String()
		flows, err := CompileParsed(LogicalFlow{Pipeline: "ingress", Match: "1"}, BoolExpr(true), as, env)
		if err != nil {
			return
		}
		for _, fl := range flows {
			_ = fl.String()
			func() {
				defer func() {
					if r := recover(); r != nil && !strings.Contains(r.(string), "meter") {
						t.Fatalf("input %q: encoding panicked: %v", s, r)
					}
				}()
				_ = fl.Marshal(0, 1)
			}()
		}
	})
}
