package ofinstall

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hcnet/chassis/flowtable"
	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

func flows(n int, actions string) map[string]flowtable.Flow {
	out := map[string]flowtable.Flow{}
	for i := 1; i <= n; i++ {
		f := flowtable.Flow{Table: 40, Priority: 100, Match: fmt.Sprintf("reg15=%#x,metadata=0x1", i), Actions: actions}
		out[f.Key()] = f
	}
	return out
}

func TestRootInstall(t *testing.T) {
	sw := ovstest.Start(t)
	br := sw.AddBridge("brinst")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, "unix:"+br)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if err := c.EnsureGeneveTLV(ctx); err != nil {
			t.Fatalf("TLV map, attempt %d: %v", i, err)
		}
	}
	// Generation 1.
	gen1 := flows(50, "set_field:0x2->tun_metadata0,resubmit(,41)")
	if err := c.Replace(ctx, gen1, 0x1000); err != nil {
		t.Fatal(err)
	}
	if got := sw.DumpFlows(br); len(got) != 50 || !strings.Contains(got[0], "cookie=0x1000") {
		t.Fatalf("after replace: %d flows: %v", len(got), got[:min(2, len(got))])
	}
	for cookie, want := range map[uint64]int{0x1000: 50, 0x2000: 0} {
		if n, err := c.FlowCount(ctx, cookie); err != nil || n != want {
			t.Fatalf("flow count of cookie %#x: %d, %v; want %d", cookie, n, err, want)
		}
	}
	// A diff: one delete, one add.
	add := flowtable.Flow{Table: 0, Priority: 100, Match: "in_port=3", Actions: "move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,40)"}
	ops := []flowtable.Op{{Kind: "delete", Flow: gen1["table=40,priority=100,reg15=0x1,metadata=0x1"]}, {Kind: "add", Flow: add}}
	if err := c.Apply(ctx, ops, 0x1000); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(sw.DumpFlows(br), "\n")
	if strings.Contains(got, "reg15=0x1,metadata=0x1 ") || !strings.Contains(got, "in_port=3") {
		t.Fatalf("after apply:\n%s", got)
	}
	// A bundle with a flow the switch refuses changes nothing and names it.
	bad := flowtable.Flow{Table: 8, Priority: 1, Match: "reg15=0x9", Actions: "group:99",
		OF: &openflow.Flow{Actions: openflow.Actions{openflow.Group{ID: 99}}}}
	good := flowtable.Flow{Table: 8, Priority: 1, Match: "reg15=0x8", Actions: "drop"}
	err = c.Apply(ctx, []flowtable.Op{{Kind: "add", Flow: good}, {Kind: "add", Flow: bad}}, 0x1000)
	var re *RejectedError
	if !errors.As(err, &re) || re.Flow.Key() != bad.Key() {
		t.Fatalf("apply with a bad flow: err %v, want one naming %s", err, bad)
	}
	if IsConnError(err) {
		t.Errorf("rejection reported as connection error")
	}
	if got := strings.Join(sw.DumpFlows(br), "\n"); strings.Contains(got, "table=8,") {
		t.Errorf("rejected bundle partly applied:\n%s", got)
	}
	// Restart: a new connection installs generation 2 over generation 1.
	c.Close()
	c2, err := Dial(ctx, "unix:"+br)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	gen2 := flows(30, "resubmit(,41)")
	if err := c2.Replace(ctx, gen2, 0x2000); err != nil {
		t.Fatal(err)
	}
	dump := sw.DumpFlows(br)
	if len(dump) != 30 {
		t.Fatalf("after generation 2: %d flows, want 30", len(dump))
	}
	for _, l := range dump {
		if !strings.Contains(l, "cookie=0x2000") {
			t.Errorf("old generation left: %s", l)
		}
	}
}

func TestRejectedWithoutSwitch(t *testing.T) {
	// A flow outside the native vocabulary is refused before any I/O.
	c := &Conn{target: "none"}
	err := c.Apply(context.Background(), []flowtable.Op{{Kind: "add", Flow: flowtable.Flow{Actions: "frobnicate"}}}, 1)
	var re *RejectedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("err %v", err)
	}
}

func TestRootMeter(t *testing.T) {
	sw := ovstest.Start(t)
	br := sw.AddBridge("brmeter")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, "unix:"+br)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, spec := range []string{"kbps,burst,stats,bands=type=drop,rate=100,burst_size=50", "kbps,stats,bands=type=drop,rate=200"} {
		if err := c.SetMeter(ctx, 3, spec); err != nil {
			t.Fatal(err)
		}
		out, err := sw.Ofctl("dump-meters", "unix:"+br)
		if err != nil {
			t.Fatal(err)
		}
		rate := strings.TrimPrefix(strings.Split(spec, "rate=")[1], "")
		rate, _, _ = strings.Cut(rate, ",")
		if !strings.Contains(out, "meter=3") || !strings.Contains(out, "rate="+rate) {
			t.Errorf("after SetMeter(%q):\n%s", spec, out)
		}
	}
	if _, _, err := ParseMeter("kbps,bands=type=dscp_remark,rate=1"); err == nil {
		t.Error("dscp_remark band accepted")
	}
}
