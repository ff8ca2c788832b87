package northd

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// tBFD is the SB table of BFD sessions: northd writes one row per NB BFD
// row, the chassis that owns the logical port runs the session and writes
// its status, which northd copies back to NB (translate.BFDStatusNB).
const tBFD = "BFD"

// BFD source ports, as ovn-northd allocates them: the lowest free one.
const (
	bfdSrcPortMin = 49152
	bfdSrcPortMax = 65535
)

type bfdKey struct{ port, dst string }

// bfd reconciles SB BFD with the desired rows: inserts get the lowest free
// src_port and a random non-zero disc; timers follow NB; the status
// follows NB when either side is admin_down (translate.BFDStatusSB).
func (w *writer) bfd(desired []translate.BFDRow) {
	want := make(map[bfdKey]translate.BFDRow, len(desired))
	for _, r := range desired {
		want[bfdKey{r.LogicalPort, r.DstIP}] = r
	}
	rows := w.sb.table(tBFD)
	used := map[int]bool{}
	seen := map[bfdKey]bool{}
	for _, u := range slices.Sorted(maps.Keys(rows)) {
		cur := rows[u]
		k := bfdKey{str(cur, "logical_port"), str(cur, "dst_ip")}
		r, ok := want[k]
		if !ok || seen[k] {
			w.t.delete(tBFD, u)
			continue
		}
		seen[k] = true
		used[num(cur, "src_port")] = true
		row := ovsdb.Row{}
		for col, v := range map[string]int{"min_tx": r.MinTx, "min_rx": r.MinRx, "detect_mult": r.DetectMult} {
			if num(cur, col) != v {
				row[col] = v
			}
		}
		if s := translate.BFDStatusSB(r.NBStatus, str(cur, "status")); s != str(cur, "status") {
			row["status"] = s
		}
		if len(row) > 0 {
			w.t.update(tBFD, u, row)
		}
	}
	next := bfdSrcPortMin
	for _, r := range desired {
		if seen[bfdKey{r.LogicalPort, r.DstIP}] {
			continue
		}
		for used[next] {
			next++
		}
		if next > bfdSrcPortMax {
			return // out of source ports, as ovn-northd: the session waits
		}
		used[next] = true
		status := r.NBStatus
		if status == "" {
			status = nb.BFDStatusAdminDown
		}
		w.t.insert(tBFD, ovsdb.Row{
			"logical_port": r.LogicalPort, "dst_ip": r.DstIP, "src_port": next, "disc": w.bfdDisc(),
			"min_tx": r.MinTx, "min_rx": r.MinRx, "detect_mult": r.DetectMult, "status": status,
		}, "")
	}
}

// bfdDisc returns a random BFD discriminator, 1 to 2^32-1 as ovn-northd's.
func (w *writer) bfdDisc() int {
	var b [4]byte
	w.random(b[:])
	d := int(binary.BigEndian.Uint32(b[:]))
	if d == 0 {
		d = 1
	}
	return d
}

// bfdNBOps returns the NB updates of BFD.status northd owes: unset becomes
// admin_down, and translate.BFDStatusNB against the SB rows and the routes
// that use each session.
func bfdNBOps(n *translate.NB, sb *sbState) []ovsdb.Operation {
	if len(n.BFD) == 0 {
		return nil
	}
	sbStatus := map[bfdKey]string{}
	for _, r := range sb.table(tBFD) {
		sbStatus[bfdKey{str(r, "logical_port"), str(r, "dst_ip")}] = str(r, "status")
	}
	refs := translate.BFDReferenced(n)
	var ops []ovsdb.Operation
	for _, u := range slices.Sorted(maps.Keys(n.BFD)) {
		b := n.BFD[u]
		cur := ""
		if b.Status != nil {
			cur = *b.Status
		}
		want := translate.BFDStatusNB(cur, sbStatus[bfdKey{b.LogicalPort, b.DstIP}], refs[u])
		if want != cur {
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: nb.BFDTable,
				Row: ovsdb.Row{"status": ovsdb.OvsSet{GoSet: []any{want}}}, Where: byUUID(u)})
		}
	}
	return ops
}
