package lflow

import (
	"strings"
	"testing"
)

func TestExpandTemplates(t *testing.T) {
	vars := map[string]string{"vip": "172.16.0.150", "vport": "8080", "backends": "10.0.0.11:80,10.0.0.12:80"}
	for _, c := range []struct{ name, in, want string }{
		{"none", "ip4.dst == 10.0.0.1", "ip4.dst == 10.0.0.1"},
		{"match", "ip4.dst == ^vip && tcp.dst == ^vport", "ip4.dst == 172.16.0.150 && tcp.dst == 8080"},
		{"lb", "ct_lb_mark(backends=^backends);", "ct_lb_mark(backends=10.0.0.11:80,10.0.0.12:80);"},
		{"vip:port", "^vip:^vport", "172.16.0.150:8080"},
		{"undefined stays", "ip4.dst == ^nope", "ip4.dst == ^nope"},
		{"not in strings", `outport = "^vip"; ip4.dst == ^vip`, `outport = "^vip"; ip4.dst == 172.16.0.150`},
		{"escaped quote", `"a\"^vip" ^vip`, `"a\"^vip" 172.16.0.150`},
		{"field after name", "^vport.x", "8080.x"},
		{"bare caret", "a ^ b", "a ^ b"},
		{"unterminated string", `"^vip`, `"^vip`},
	} {
		if got := ExpandTemplates(c.in, vars); got != c.want {
			t.Errorf("%s: %q -> %q, want %q", c.name, c.in, got, c.want)
		}
	}
	flows, err := Compile(LogicalFlow{Pipeline: "ingress", Priority: 1, Match: "ip4.dst == ^vip", Actions: "next;", Datapath: 1}, &Env{Templates: vars})
	if err != nil || len(flows) != 1 || flows[0].String() != "table=8,priority=1,ip,metadata=0x1,ip_dst=172.16.0.150 actions=resubmit(,9)" {
		t.Fatalf("%v %v", flows, err)
	}
	if _, err := Compile(LogicalFlow{Pipeline: "ingress", Priority: 1, Match: "ip4.dst == ^vip", Actions: "next;", Datapath: 1}, &Env{}); err == nil {
		t.Fatal("undefined template variable compiled")
	}
}

func FuzzExpandTemplates(f *testing.F) {
	for _, s := range []string{"ip4.dst == ^vip", `"^vip" ^vport`, "^", `"a\"`, "^^vip", "ct_lb_mark(backends=^b);"} {
		f.Add(s)
	}
	vars := map[string]string{"vip": "10.0.0.1", "vport": "80", "b": "10.0.0.2:80"}
	f.Fuzz(func(t *testing.T, s string) {
		out := ExpandTemplates(s, vars)
		if !strings.Contains(s, "^") && out != s {
			t.Fatalf("%q changed to %q without templates", s, out)
		}
		if again := ExpandTemplates(s, nil); again != s {
			t.Fatalf("%q changed to %q without variables", s, again)
		}
	})
}
