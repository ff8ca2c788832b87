package northd

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/engine"
	"hcnet/northd/translate"
	"hcnet/schema/nb"
)

// tServiceMonitor is the SB table of load balancer health checks: northd
// writes one row per monitored backend, the chassis of the backend's port
// writes its status.
const tServiceMonitor = "Service_Monitor"

// svcKeyOf returns the key of an SB Service_Monitor row.
func svcKeyOf(r ovsdb.Row) translate.SvcKey {
	return translate.SvcKey{IP: str(r, "ip"), Port: num(r, "port"), Protocol: cmpOr(optString(r, "protocol"), "tcp"),
		LogicalPort: str(r, "logical_port")}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// svcStatusChanges returns the engine changes that bring the engine's view
// of Service_Monitor status (translate.NB.ServiceStatus) in line with the
// SB mirror. Rows with the same key (the schema's index forbids them)
// would resolve to the one with the smallest UUID.
func (d *Daemon) svcStatusChanges() []engine.Change {
	want := map[string]*translate.ServiceStatus{}
	rows := d.sb.table(tServiceMonitor)
	for _, u := range slices.Sorted(maps.Keys(rows)) {
		k := svcKeyOf(rows[u])
		if _, ok := want[k.String()]; !ok {
			want[k.String()] = &translate.ServiceStatus{Key: k, Status: optString(rows[u], "status")}
		}
	}
	have := d.eng.NB().ServiceStatus
	var out []engine.Change
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		if h, ok := have[k]; !ok || *h != *w {
			out = append(out, engine.Change{Table: translate.ServiceMonitorTable, UUID: k, Row: w})
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			out = append(out, engine.Change{Table: translate.ServiceMonitorTable, UUID: k})
		}
	}
	return out
}

// serviceMonitors reconciles SB Service_Monitor with the desired rows: one
// row per key, with the desired probe source and options; status is the
// chassis's, except that an online monitor whose logical port is not up
// is set offline, as ovn-northd does.
func (w *writer) serviceMonitors(desired []translate.ServiceMonitor) {
	want := make(map[translate.SvcKey]translate.ServiceMonitor, len(desired))
	for _, m := range desired {
		want[m.Key] = m
	}
	seen := map[translate.SvcKey]bool{}
	rows := w.sb.table(tServiceMonitor)
	for _, u := range slices.Sorted(maps.Keys(rows)) {
		r := rows[u]
		k := svcKeyOf(r)
		m, ok := want[k]
		if !ok || seen[k] {
			w.t.delete(tServiceMonitor, u)
			continue
		}
		seen[k] = true
		row := ovsdb.Row{}
		if str(r, "src_ip") != m.SrcIP {
			row["src_ip"] = m.SrcIP
		}
		if str(r, "src_mac") != m.SrcMAC {
			row["src_mac"] = m.SrcMAC
		}
		if !maps.Equal(strMap(r, "options"), m.Options) {
			row["options"] = omap(m.Options)
		}
		if optString(r, "status") == "online" && !m.PortUp {
			row["status"] = optStr("offline")
		}
		if len(row) > 0 {
			w.t.update(tServiceMonitor, u, row)
		}
	}
	for _, m := range desired {
		if seen[m.Key] {
			continue
		}
		w.t.insert(tServiceMonitor, ovsdb.Row{
			"ip": m.Key.IP, "port": m.Key.Port, "protocol": optStr(m.Key.Protocol), "logical_port": m.Key.LogicalPort,
			"src_ip": m.SrcIP, "src_mac": m.SrcMAC, "options": omap(m.Options),
		}, "")
	}
}

// randomMAC returns a random unicast, locally administered MAC address.
func randomMAC(random func([]byte)) string {
	mac := make([]byte, 6)
	random(mac)
	mac[0] = mac[0]&^1 | 2
	return net.HardwareAddr(mac).String()
}

// svcMonitorMACOp returns the NB operation that gives NB_Global
// options:svc_monitor_mac = s when it has no valid one (ovn-northd
// generates it too: it is the source MAC of health-check probes), or nil.
func svcMonitorMACOp(g *nb.NBGlobal, s string) *ovsdb.Operation {
	if g == nil {
		return nil
	}
	cur, ok := g.Options["svc_monitor_mac"]
	if hw, err := net.ParseMAC(cur); ok && err == nil && len(hw) == 6 {
		return nil
	}
	muts := []ovsdb.Mutation{}
	if ok {
		muts = append(muts, ovsdb.Mutation{Column: "options", Mutator: ovsdb.MutateOperationDelete,
			Value: ovsdb.OvsSet{GoSet: []any{"svc_monitor_mac"}}})
	}
	muts = append(muts, ovsdb.Mutation{Column: "options", Mutator: ovsdb.MutateOperationInsert,
		Value: ovsdb.OvsMap{GoMap: map[any]any{"svc_monitor_mac": strings.ToLower(s)}}})
	return &ovsdb.Operation{Op: ovsdb.OperationMutate, Table: nb.NBGlobalTable, Mutations: muts, Where: byUUID(g.UUID)}
}

// cryptoRandom fills b from crypto/rand.
func cryptoRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
}
