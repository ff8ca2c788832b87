package translate

import (
	"cmp"
	"slices"

	"hcnet/schema/nb"
)

// BFD timers ovn-northd 23.03 uses when an NB BFD row leaves them unset.
const (
	bfdDefMinTx      = 1000
	bfdDefMinRx      = 1000
	bfdDefDetectMult = 5
)

// BFDRow is a desired SB BFD row, from the NB BFD row Key: one per NB row,
// whatever its logical port, identified in SB by (LogicalPort, DstIP).
// NBStatus is the NB row's status ("" when unset), which the writer
// reconciles with the SB row's (see northd's bfd.go); the writer also
// allocates src_port and disc.
type BFDRow struct {
	Key         string
	LogicalPort string
	DstIP       string
	MinTx       int
	MinRx       int
	DetectMult  int
	NBStatus    string
}

// BFDRows returns the desired SB BFD rows sorted by (LogicalPort, DstIP),
// the first NB row by UUID winning when two name the same pair.
func (x *Index) BFDRows() []BFDRow {
	if len(x.NB.BFD) == 0 {
		return nil
	}
	out := make([]BFDRow, 0, len(x.NB.BFD))
	for u, b := range x.NB.BFD {
		r := BFDRow{Key: u, LogicalPort: b.LogicalPort, DstIP: b.DstIP, MinTx: bfdDefMinTx, MinRx: bfdDefMinRx, DetectMult: bfdDefDetectMult}
		if b.MinTx != nil {
			r.MinTx = *b.MinTx
		}
		if b.MinRx != nil {
			r.MinRx = *b.MinRx
		}
		if b.DetectMult != nil {
			r.DetectMult = *b.DetectMult
		}
		if b.Status != nil {
			r.NBStatus = *b.Status
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b BFDRow) int {
		return cmp.Or(cmp.Compare(a.LogicalPort, b.LogicalPort), cmp.Compare(a.DstIP, b.DstIP), cmp.Compare(a.Key, b.Key))
	})
	return slices.CompactFunc(out, func(a, b BFDRow) bool { return a.LogicalPort == b.LogicalPort && a.DstIP == b.DstIP })
}

// BFDReferenced reports whether a static route of some router names NB BFD
// row u as its bfd and routes to its dst_ip: ovn-northd then asks for the
// session (NB status down until the chassis reports it up), and sets
// sessions nobody references admin_down.
func BFDReferenced(n *NB) map[string]bool {
	out := map[string]bool{}
	if len(n.BFD) == 0 {
		return out
	}
	for _, r := range n.Routers {
		for _, ru := range r.StaticRoutes {
			rt := n.StaticRoutes[ru]
			if rt == nil || rt.BFD == nil {
				continue
			}
			if b := n.BFD[*rt.BFD]; b != nil && b.DstIP == rt.Nexthop {
				out[*rt.BFD] = true
			}
		}
	}
	return out
}

// BFDStatusNB decides the NB BFD status northd writes, as ovn-northd 23.03:
// nb is the NB row's status, sb the SB row's (after northd's own SB
// write; "" when there is no SB row), referenced whether a route uses the
// session. It returns the status NB should have.
func BFDStatusNB(nbStatus, sbStatus string, referenced bool) string {
	s := nbStatus
	if s == "" {
		s = nb.BFDStatusAdminDown
	}
	if sbStatus != "" && s != sbStatus && s != nb.BFDStatusAdminDown && sbStatus != nb.BFDStatusAdminDown {
		// The chassis's word wins between live states.
		s = sbStatus
	}
	if referenced && sbStatus == nb.BFDStatusAdminDown {
		s = nb.BFDStatusDown
	}
	if !referenced && s != nb.BFDStatusAdminDown {
		s = nb.BFDStatusAdminDown
	}
	return s
}

// BFDStatusSB decides the SB BFD status northd writes: NB's when either
// side is admin_down (an operator switching a session off or on), else
// the SB status stays (the chassis's).
func BFDStatusSB(nbStatus, sbStatus string) string {
	if nbStatus == "" {
		nbStatus = nb.BFDStatusAdminDown
	}
	if nbStatus != sbStatus && (nbStatus == nb.BFDStatusAdminDown || sbStatus == nb.BFDStatusAdminDown) {
		return nbStatus
	}
	return sbStatus
}
