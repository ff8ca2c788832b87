package chassis

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// BenchmarkControllerTxns measures what the controller features add to
// every round (controllerTxnsLocked) on a southbound with 1,000 bound
// ports in 20 datapaths and none of the features configured: the price
// of looking.
func BenchmarkControllerTxns(b *testing.B) {
	sb := sbReplica(b)
	const me = "c0000000-0000-0000-0000-000000000001"
	if err := sb.ApplyRow("Chassis", me, "insert", ovsdb.Row{"name": "hv1"}); err != nil {
		b.Fatal(err)
	}
	for dp := 0; dp < 20; dp++ {
		du := fmt.Sprintf("d0000000-0000-0000-0000-%012d", dp)
		if err := sb.ApplyRow("Datapath_Binding", du, "insert", ovsdb.Row{"tunnel_key": dp + 1}); err != nil {
			b.Fatal(err)
		}
		for p := 0; p < 50; p++ {
			if err := sb.ApplyRow("Port_Binding", fmt.Sprintf("b%07d-0000-0000-0000-%012d", dp, p), "insert", ovsdb.Row{
				"logical_port": fmt.Sprintf("p%d-%d", dp, p), "datapath": ovsdb.UUID{GoUUID: du}, "tunnel_key": p + 1,
				"chassis": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: me}}},
				"mac":     ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("0a:00:00:00:%02x:%02x 10.%d.0.%d", dp, p, dp, p+2)}},
				"options": ovsdb.OvsMap{GoMap: map[any]any{"requested-chassis": "hv1"}}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	d := &daemon{sb: sb, log: slog.New(slog.DiscardHandler)}
	d.cfg.SystemID = "hv1"
	d.cfg.BridgeMappings = map[string]string{"physnet": "br-ex"}
	b.ReportAllocs()
	for b.Loop() {
		d.controllerTxnsLocked()
	}
}
