package northd

import (
	"time"

	"hcnet/internal/metrics"
)

// Metrics are the daemon's Prometheus series (cmd/northd --metrics-addr).
// A nil *Metrics records nothing.
type Metrics struct {
	runs        *metrics.CounterVec   // kind=full|incremental
	runSeconds  *metrics.HistogramVec // kind
	datapaths   *metrics.CounterVec   // kind: datapaths recomputed
	active      *metrics.Gauge
	txns        *metrics.Counter
	txnSeconds  *metrics.Histogram
	rowsWritten *metrics.Counter
	writeErrors *metrics.Counter
}

// NewMetrics registers the northd series on reg.
func NewMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		runs:        reg.CounterVec("hcnet_northd_runs_total", "Translation runs while active, by kind: full (recompute everything) or incremental.", "kind"),
		runSeconds:  reg.HistogramVec("hcnet_northd_run_seconds", "Duration of a translation run (NB changes applied and SB written), by kind.", nil, "kind"),
		datapaths:   reg.CounterVec("hcnet_northd_datapaths_recomputed_total", "Datapaths recomputed by incremental runs (full runs recompute all).", "kind"),
		active:      reg.Gauge("hcnet_northd_active", "1 while this instance holds the SB lock and writes."),
		txns:        reg.Counter("hcnet_northd_sb_transactions_total", "SB transactions committed."),
		txnSeconds:  reg.Histogram("hcnet_northd_sb_transaction_seconds", "Duration of one SB transaction.", nil),
		rowsWritten: reg.Counter("hcnet_northd_sb_operations_total", "Operations sent to SB in committed transactions."),
		writeErrors: reg.Counter("hcnet_northd_write_errors_total", "Failed SB writes (each followed by a full recompute)."),
	}
}

func (m *Metrics) run(full bool, start time.Time, datapaths int) {
	if m == nil {
		return
	}
	kind := "incremental"
	if full {
		kind = "full"
	}
	m.runs.With(kind).Inc()
	m.runSeconds.With(kind).Since(start)
	m.datapaths.With(kind).Add(float64(datapaths))
}

func (m *Metrics) setActive(a bool) {
	if m != nil {
		m.active.SetBool(a)
	}
}

func (m *Metrics) txn(start time.Time, ops int) {
	if m == nil {
		return
	}
	m.txns.Inc()
	m.txnSeconds.Since(start)
	m.rowsWritten.Add(float64(ops))
}

func (m *Metrics) writeError() {
	if m != nil {
		m.writeErrors.Inc()
	}
}
