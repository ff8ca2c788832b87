package lflow

import (
	"errors"
	"strings"
	"testing"
)

func testEnv() *Env {
	ports := map[string]uint32{"vm1": 1, "vm2": 2, "vm3": 3, "r0": 4, "_MC_flood": 32768}
	return &Env{
		Port:       func(n string) (uint32, bool) { k, ok := ports[n]; return k, ok },
		PortGroup:  func(n string) ([]string, bool) { return []string{"vm1", "vm2", "nope"}, n == "pg1" },
		AddressSet: func(n string) ([]string, bool) { return []string{"10.0.0.0/24", "192.168.1.5"}, n == "as1" },
		IsLocal:    func(p string) bool { return p == "vm1" },
	}
}

func TestCompileSimple(t *testing.T) {
	for _, tc := range []struct {
		name, pipeline string
		match, actions string
		want           []string
	}{
		{"next", "ingress", "1", "next;", []string{"table=11,priority=100,metadata=0x5 actions=resubmit(,12)"}},
		{"inport-output", "ingress", `inport == "vm1" && ip4.src == 10.0.0.0/8`, `outport = "vm2"; output;`,
			[]string{"table=11,priority=100,ip,reg14=0x1,metadata=0x5,ip_src=10.0.0.0/8 actions=set_field:0x2->reg15,resubmit(,37)"}},
		{"egress-output", "egress", `outport == "vm3"`, `output;`, []string{"table=45,priority=100,reg15=0x3,metadata=0x5 actions=resubmit(,64)"}},
		{"set", "ingress", "arp", "reg0[3] = 1; eth.dst = 00:00:00:00:00:01; next(pipeline=egress, table=2);",
			[]string{"table=11,priority=100,arp,metadata=0x5 actions=set_field:0x8/0x8->reg0,set_field:00:00:00:00:00:01->eth_dst,resubmit(,44)"}},
		{"set-prereq", "ingress", "1", "tcp.dst = 80; next;", []string{
			"table=11,priority=100,tcp,metadata=0x5 actions=set_field:80->tcp_dst,resubmit(,12)",
			"table=11,priority=100,tcp6,metadata=0x5 actions=set_field:80->tcp_dst,resubmit(,12)"}},
		{"resident", "ingress", `is_chassis_resident("vm2")`, "next;", nil},
		{"drop", "ingress", "ct.inv", "drop;", []string{"table=11,priority=100,ct_state=+inv+trk,metadata=0x5 actions=drop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flows, err := Compile(LogicalFlow{Pipeline: tc.pipeline, TableID: 3, Priority: 100, Match: tc.match, Actions: tc.actions, Datapath: 5}, testEnv())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range flows {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestErrorsNamePosition(t *testing.T) {
	for _, tc := range []struct{ match, actions string }{
		{"ip4.src == 1.2.3", "next;"},
		{"ip4 && (tcp || udp", "next;"},
		{"foo.bar == 1", "next;"},
		{"ip4 && tcp || udp", "next;"},
		{"1", "frobnicate;"},
		{"1", "next(table=99);"},
		{"1", "reg0 = 00:00:00:00:00:01;"},
	} {
		_, err := Compile(LogicalFlow{Pipeline: "ingress", Match: tc.match, Actions: tc.actions}, testEnv())
		var le *Error
		if !errors.As(err, &le) {
			t.Errorf("%q / %q: error %v has no position", tc.match, tc.actions, err)
		}
	}
}
