package northd

import (
	"strings"
	"testing"
	"time"

	"hcnet/internal/metrics"
)

func TestMetrics(t *testing.T) {
	var nilM *Metrics // a daemon without --metrics-addr
	nilM.run(true, time.Now(), 1)
	nilM.setActive(true)
	nilM.txn(time.Now(), 1)
	nilM.writeError()

	reg := metrics.NewRegistry()
	m := NewMetrics(reg)
	m.setActive(true)
	m.run(true, time.Now(), 10)
	m.run(false, time.Now(), 2)
	m.run(false, time.Now(), 1)
	m.txn(time.Now(), 40)
	m.txn(time.Now(), 2)
	m.writeError()
	var b strings.Builder
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"hcnet_northd_active 1\n",
		`hcnet_northd_runs_total{kind="full"} 1` + "\n",
		`hcnet_northd_runs_total{kind="incremental"} 2` + "\n",
		`hcnet_northd_run_seconds_count{kind="incremental"} 2` + "\n",
		`hcnet_northd_datapaths_recomputed_total{kind="incremental"} 3` + "\n",
		"hcnet_northd_sb_transactions_total 2\n",
		"hcnet_northd_sb_transaction_seconds_count 2\n",
		"hcnet_northd_sb_operations_total 42\n",
		"hcnet_northd_write_errors_total 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}
