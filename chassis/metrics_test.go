package chassis

import (
	"strings"
	"testing"
	"time"

	"hcnet/chassis/plan"
	"hcnet/internal/metrics"
)

func TestMetrics(t *testing.T) {
	var nilM *Metrics // a daemon without --metrics-addr
	nilM.round(time.Now())
	nilM.installed("full", time.Now(), 1)
	nilM.decided(1, 0, 0, 0, nil, true)
	nilM.waitingInterfaces(1)
	nilM.reinjectedPacket()

	reg := metrics.NewRegistry()
	m := NewMetrics(reg)
	m.round(time.Now())
	m.installed("full", time.Now(), 120)
	m.installed("incremental", time.Now(), 125)
	m.decided(125, 2, 3, 4, map[string]plan.TunnelState{
		"gw1": {BFDEnabled: true, BFDUp: true},
		"gw2": {BFDEnabled: true},
		"hv2": {},
	}, true)
	m.waitingInterfaces(2)
	m.reinjectedPacket()
	text := func() string {
		var b strings.Builder
		if err := reg.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out := text()
	for _, want := range []string{
		"hcnet_chassis_rounds_total 1\n",
		"hcnet_chassis_flows_installed 125\n",
		`hcnet_chassis_flow_installs_total{kind="full"} 1` + "\n",
		`hcnet_chassis_flow_installs_total{kind="incremental"} 1` + "\n",
		"hcnet_chassis_flows_desired 125\n",
		"hcnet_chassis_lflow_compile_errors 2\n",
		"hcnet_chassis_ports_bound 3\n",
		"hcnet_chassis_local_datapaths 4\n",
		"hcnet_chassis_tunnels 3\n",
		`hcnet_chassis_bfd_up{peer="gw1"} 1` + "\n",
		`hcnet_chassis_bfd_up{peer="gw2"} 0` + "\n",
		"hcnet_chassis_sb_connected 1\n",
		"hcnet_chassis_waiting_interfaces 2\n",
		"hcnet_chassis_reinjected_packets_total 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `peer="hv2"`) {
		t.Errorf("a tunnel without BFD has a bfd_up series:\n%s", out)
	}
	// A peer whose tunnel went away loses its series.
	m.decided(125, 0, 3, 4, map[string]plan.TunnelState{"gw1": {BFDEnabled: true}}, false)
	out = text()
	if strings.Contains(out, `peer="gw2"`) || !strings.Contains(out, `hcnet_chassis_bfd_up{peer="gw1"} 0`) {
		t.Errorf("after gw2's tunnel went away:\n%s", out)
	}
}
