package northd_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
)

// TestDaemonLargeWriteOneGroupPerSet: a first translation large enough to
// go in several flow transactions in flight together (60 switches sharing
// 300 ACLs, 3 routers) still writes one Logical_DP_Group per datapath set
// (they each inserted one for the same set before splitNewSets).
func TestDaemonLargeWriteOneGroupPerSet(t *testing.T) {
	nb, sb := dbs(t)
	nbctl(t, nb, "init")
	ctx := context.Background()
	nbc, err := client.Dial(ctx, nb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nbc.Close()
	var ops []ovsdb.Operation
	var acls []any
	for a := 0; a < 300; a++ {
		n := fmt.Sprintf("acl%d", a)
		acls = append(acls, ovsdb.UUID{GoUUID: n})
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "ACL", UUIDName: n, Row: ovsdb.Row{
			"direction": "to-lport", "priority": 1000, "match": fmt.Sprintf("ip4.src == 10.9.%d.%d", a/250, a%250), "action": "drop"}})
	}
	for r := 0; r < 3; r++ {
		var rps []any
		for i := 0; i < 20; i++ {
			n := r*20 + i
			p := fmt.Sprintf("p%d", n)
			rp := fmt.Sprintf("rp%d", n)
			rps = append(rps, ovsdb.UUID{GoUUID: rp})
			ops = append(ops,
				ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Router_Port", UUIDName: rp, Row: ovsdb.Row{
					"name": fmt.Sprintf("lrp%d", n), "mac": fmt.Sprintf("0a:ff:00:00:%02x:%02x", r, i), "networks": ovsdb.OvsSet{GoSet: []any{fmt.Sprintf("10.%d.%d.1/24", r, i)}}}},
				ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: p, Row: ovsdb.Row{
					"name": fmt.Sprintf("lsp%d", n), "type": "router", "addresses": ovsdb.OvsSet{GoSet: []any{"router"}},
					"options": ovsdb.OvsMap{GoMap: map[any]any{"router-port": fmt.Sprintf("lrp%d", n)}}}},
				ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{
					"name": fmt.Sprintf("sw%d", n), "ports": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: p}}}, "acls": ovsdb.OvsSet{GoSet: acls}}})
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Router", Row: ovsdb.Row{
			"name": fmt.Sprintf("lr%d", r), "ports": ovsdb.OvsSet{GoSet: rps}}})
	}
	mustTransact(t, nbc, "OVN_Northbound", ops...)
	startInProcess(t, nb, sb)
	nbctl(t, nb, "--wait=sb", "sync")
	sbc, err := client.Dial(ctx, sb, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sbc.Close()
	f := readSBFlows(t, sbc)
	t.Logf("%d rows, %d groups", len(f.rows), len(f.groups))
	f.checkShape(t)
	if len(f.groups) != 2 {
		t.Errorf("%d groups, want 2 (the switches', the routers')", len(f.groups))
	}
}
