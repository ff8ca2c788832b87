package plan

import (
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/replica"
)

// InFlight remembers the rows the chassis's own Open_vSwitch transactions
// inserted until the replica shows them. The transaction's reply can
// arrive before its update notification has been applied to the replica;
// a plan made in between would insert the same named port (or bridge)
// again, and the whole second transaction would fail on the name index.
// While Pending reports true the daemon plans no new Open_vSwitch
// operations (flows are not held back).
//
// The zero value is ready to use.
type InFlight struct {
	rows     map[string]string // row UUID -> table
	deadline time.Time
}

// inFlightWait bounds how long a missing row holds planning back (a row
// someone deleted at once never shows up).
const inFlightWait = 3 * time.Second

// Record notes the rows a committed transaction inserted: the insert
// operations of ops and the UUIDs the server assigned them (results in
// the order of ops, as a transaction reply lists them).
func (f *InFlight) Record(ops []ovsdb.Operation, results []ovsdb.OperationResult, now time.Time) {
	for i, op := range ops {
		if op.Op != ovsdb.OperationInsert || i >= len(results) || results[i].UUID.GoUUID == "" {
			continue
		}
		if f.rows == nil {
			f.rows = map[string]string{}
		}
		f.rows[results[i].UUID.GoUUID] = op.Table
	}
	if len(f.rows) > 0 {
		f.deadline = now.Add(inFlightWait)
	}
}

// Pending reports whether a recorded insert is not in ovs yet. Rows that
// arrived are forgotten; after the deadline everything is.
func (f *InFlight) Pending(ovs *replica.DB, now time.Time) bool {
	if len(f.rows) == 0 {
		return false
	}
	if now.After(f.deadline) {
		f.rows = nil
		return false
	}
	for u, table := range f.rows {
		if ovs.Row(table, u) != nil {
			delete(f.rows, u)
		}
	}
	return len(f.rows) > 0
}
