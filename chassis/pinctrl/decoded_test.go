package pinctrl

import (
	"testing"

	"hcnet/chassis/ofconn"
	"hcnet/internal/lflow"
	"hcnet/internal/openflow"
)

// punted compiles a logical flow and returns the userdata of its
// (non-pausing) controller action.
func punted(t testing.TB, actions string) []byte {
	t.Helper()
	env := &lflow.Env{Port: func(n string) (uint32, bool) {
		return map[string]uint32{"vip0": 9, "vm1": 1}[n], n == "vip0" || n == "vm1"
	}}
	flows, err := lflow.Compile(lflow.LogicalFlow{Pipeline: "ingress", Priority: 100, Match: "ip4", Actions: actions, Datapath: 3}, env)
	if err != nil {
		t.Fatalf("compile %q: %v", actions, err)
	}
	for _, f := range flows {
		for _, a := range f.Actions {
			if c, ok := a.(openflow.Controller2); ok {
				return c.UserData
			}
		}
	}
	t.Fatalf("%q compiles without a controller action", actions)
	return nil
}

func TestDecodedOpcodes(t *testing.T) {
	pkt := ipv4(vm4, far4, protoTCP, tcpSeg(1, 0, tcpSYN, ""))
	md := []ofconn.OXM{
		{Header: ofconn.FieldMetadata, Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
		{Header: ofconn.FieldReg(14), Value: []byte{0, 0, 0, 2}},
	}
	handle := func(ud []byte) Result {
		t.Helper()
		res, err := HandleWith(&ofconn.PacketIn{Packet: pkt, Metadata: md, Userdata: ud}, 1, nil)
		if err != nil || len(res.Send) != 0 {
			t.Fatalf("err %v, %d messages", err, len(res.Send))
		}
		return res
	}
	if r := handle(punted(t, `put_fdb(inport, eth.src);`)); r.FDB == nil || *r.FDB != (FDBEntry{Datapath: 3, Port: 2, MAC: "0a:00:00:00:01:11"}) {
		t.Fatalf("put_fdb: %+v", r.FDB)
	}
	if r := handle(punted(t, `bind_vport("vip0", inport); next;`)); r.Vport == nil || *r.Vport != (VirtualBinding{Datapath: 3, Virtual: 9, Parent: 2}) {
		t.Fatalf("bind_vport: %+v", r.Vport)
	}
	r := handle(punted(t, `log(name="acl1", severity=warning, verdict=drop); /* drop */`))
	want := LogEntry{Name: "acl1", Verdict: "drop", Severity: "warning",
		Packet: "dl_src=0a:00:00:00:01:11,dl_dst=00:00:00:00:ff:01,nw_src=10.0.1.11,nw_dst=10.0.9.9,nw_proto=6,nw_ttl=64,tp_src=40000,tp_dst=80"}
	if r.Log == nil || *r.Log != want {
		t.Fatalf("log: %+v", r.Log)
	}
	r = handle(punted(t, `trigger_event(event = "empty_lb_backends", meter = "m1", vip = "10.0.0.100:80", protocol = "tcp", load_balancer = "b7d3");`))
	if r.Event == nil || r.Event.Type != "empty_lb_backends" || len(r.Event.Info) != 3 || r.Event.Info["vip"] != "10.0.0.100:80" ||
		r.Event.Info["protocol"] != "tcp" || r.Event.Info["load_balancer"] != "b7d3" {
		t.Fatalf("trigger_event: %+v", r.Event)
	}
	if d := Describe(buildARPFrame()); d != "dl_src=0a:00:00:00:01:11,dl_dst=00:00:00:00:ff:01,dl_type=0x0806" {
		t.Fatalf("describe ARP: %s", d)
	}
}
