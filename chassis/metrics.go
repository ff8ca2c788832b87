package chassis

import (
	"time"

	"hcnet/chassis/plan"
	"hcnet/internal/metrics"
)

// Metrics are the daemon's Prometheus series (cmd/chassis --metrics-addr).
// A nil *Metrics records nothing.
type Metrics struct {
	rounds         *metrics.Counter
	roundSeconds   *metrics.Histogram
	installs       *metrics.CounterVec   // kind=full|incremental
	installSeconds *metrics.HistogramVec // kind
	flowsInstalled *metrics.Gauge
	flowsDesired   *metrics.Gauge
	compileErrors  *metrics.Gauge
	portsBound     *metrics.Gauge
	localDatapaths *metrics.Gauge
	tunnels        *metrics.Gauge
	bfdUp          *metrics.GaugeVec // peer
	bfdPeers       map[string]bool   // peers with a bfdUp series (loop-owned)
	sbConnected    *metrics.Gauge
	waiting        *metrics.Gauge
	reinjected     *metrics.Counter
}

// NewMetrics registers the chassis series on reg.
func NewMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		rounds:         reg.Counter("hcnet_chassis_rounds_total", "Decision rounds run (each computes the desired flows, bindings and tunnels)."),
		roundSeconds:   reg.Histogram("hcnet_chassis_round_seconds", "Duration of a decision round, flow installation included.", nil),
		installs:       reg.CounterVec("hcnet_chassis_flow_installs_total", "OpenFlow bundles sent to the integration bridge, by kind (full replace or incremental).", "kind"),
		installSeconds: reg.HistogramVec("hcnet_chassis_flow_install_seconds", "Duration of one flow installation, by kind.", nil, "kind"),
		flowsInstalled: reg.Gauge("hcnet_chassis_flows_installed", "OpenFlow flows installed on the integration bridge."),
		flowsDesired:   reg.Gauge("hcnet_chassis_flows_desired", "OpenFlow flows the last round computed."),
		compileErrors:  reg.Gauge("hcnet_chassis_lflow_compile_errors", "Logical flows of local datapaths that did not compile."),
		portsBound:     reg.Gauge("hcnet_chassis_ports_bound", "Port bindings this chassis claims (VIFs and gateway ports)."),
		localDatapaths: reg.Gauge("hcnet_chassis_local_datapaths", "Datapaths with a port on this chassis (and those reachable from them)."),
		tunnels:        reg.Gauge("hcnet_chassis_tunnels", "Tunnel ports on the integration bridge."),
		bfdUp:          reg.GaugeVec("hcnet_chassis_bfd_up", "1 when BFD on the tunnel to peer is up and forwarding, 0 when down; absent without BFD.", "peer"),
		bfdPeers:       map[string]bool{},
		sbConnected:    reg.Gauge("hcnet_chassis_sb_connected", "1 while the southbound monitor is established."),
		waiting:        reg.Gauge("hcnet_chassis_waiting_interfaces", "Interfaces on the integration bridge whose iface-id no local port binding has (yet); what they send goes to the controller."),
		reinjected:     reg.Counter("hcnet_chassis_reinjected_packets_total", "Packets of newly bound ports sent back through the flow table by the chassis (they had reached the controller before the switch's datapath cache caught up)."),
	}
}

func (m *Metrics) round(start time.Time) {
	if m == nil {
		return
	}
	m.rounds.Inc()
	m.roundSeconds.Since(start)
}

// waitingInterfaces records the waiting interfaces of a round.
func (m *Metrics) waitingInterfaces(n int) {
	if m == nil {
		return
	}
	m.waiting.Set(float64(n))
}

// reinjectedPacket counts one packet sent back through the flow table
// (called from the reinjector's goroutine; the counter is atomic).
func (m *Metrics) reinjectedPacket() {
	if m == nil {
		return
	}
	m.reinjected.Inc()
}

func (m *Metrics) installed(kind string, start time.Time, flows int) {
	if m == nil {
		return
	}
	m.installs.With(kind).Inc()
	m.installSeconds.With(kind).Since(start)
	m.flowsInstalled.Set(float64(flows))
}

func (m *Metrics) decided(desired, compileErrors, bound, localDPs int, tunnels map[string]plan.TunnelState, sbReady bool) {
	if m == nil {
		return
	}
	m.flowsDesired.Set(float64(desired))
	m.compileErrors.Set(float64(compileErrors))
	m.portsBound.Set(float64(bound))
	m.localDatapaths.Set(float64(localDPs))
	m.tunnels.Set(float64(len(tunnels)))
	m.sbConnected.SetBool(sbReady)
	seen := map[string]bool{}
	for peer, t := range tunnels {
		if t.BFDEnabled {
			seen[peer] = true
			m.bfdUp.With(peer).SetBool(t.BFDUp)
		}
	}
	for peer := range m.bfdPeers {
		if !seen[peer] {
			m.bfdUp.Delete(peer)
		}
	}
	m.bfdPeers = seen
}
