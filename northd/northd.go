package northd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ovn-org/libovsdb/mapper"
	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/internal/client"
	"hcnet/northd/engine"
	"hcnet/northd/translate"
	"hcnet/schema"
	"hcnet/schema/nb"
)

// Config configures the daemon.
type Config struct {
	// NBRemotes and SBRemotes are comma-separated "unix:PATH" or
	// "tcp:IP:PORT" lists, as ovn-northd's --ovnnb-db and --ovnsb-db.
	NBRemotes string
	SBRemotes string
	// LockName is the SB lock that elects the active instance. Default
	// "ovn_northd".
	LockName string
	// Logger receives events. Default: discard.
	Logger *slog.Logger
	// SyncTimeout bounds the wait for SB's monitor to show our own
	// transaction. Default 30 s.
	SyncTimeout time.Duration
	// Probe is the connections' inactivity probe (client.Options.Probe).
	// Default 30 s: a large database's first monitor reply can keep the
	// server busy for many seconds.
	Probe time.Duration
	// MaxMessageSize bounds one message from a server, in bytes. Default
	// 1 GiB (the first SB monitor reply of a big deployment is large).
	MaxMessageSize int
	// Metrics, when set, receives the daemon's Prometheus series.
	Metrics *Metrics
}

// FillDefaults sets unset fields to their defaults.
func (c *Config) FillDefaults() {
	if c.LockName == "" {
		c.LockName = "ovn_northd"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = 30 * time.Second
	}
	if c.Probe == 0 {
		c.Probe = 30 * time.Second
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 1 << 30
	}
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if c.NBRemotes == "" {
		return errors.New("northd config: NBRemotes is empty")
	}
	if c.SBRemotes == "" {
		return errors.New("northd config: SBRemotes is empty")
	}
	if _, err := client.ParseRemotes(c.NBRemotes); err != nil {
		return fmt.Errorf("northd config: NBRemotes %q: %w", c.NBRemotes, err)
	}
	if _, err := client.ParseRemotes(c.SBRemotes); err != nil {
		return fmt.Errorf("northd config: SBRemotes %q: %w", c.SBRemotes, err)
	}
	return nil
}

// queue hands monitor updates from the client's event goroutine to Run
// without blocking it.
type queue struct {
	mu      sync.Mutex
	pending []client.TableUpdates
	signal  chan struct{}
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(u client.TableUpdates) {
	q.mu.Lock()
	q.pending = append(q.pending, u)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) take() []client.TableUpdates {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	return p
}

// Daemon is one northd instance. Run owns all its state.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	nbc    *client.Client
	sbc    *client.Client
	nbRows *rowCache
	nbMap  mapper.Mapper
	sb     *sbState
	eng    *engine.Engine
	nbQ    *queue
	sbQ    *queue
	active bool
	// lastSBCfg is the SB_Global.nb_cfg we last committed; sb_cfg in NB
	// follows it.
	lastSBCfg int
	// upDirty names the switch ports whose up column may need writing
	// (their NB row or Port_Binding changed); upAll asks for all.
	upDirty map[string]bool
	upAll   bool
	// pendingNB holds the NB models decoded in the current drain, by
	// "table/uuid" (nil: deleted), ahead of the engine.
	pendingNB map[string]any
	// svcDirty is set when SB Service_Monitor rows changed since the
	// engine last took their status (svcStatusChanges).
	svcDirty bool
	// igmpDirty is set when SB IGMP_Group rows changed since the engine
	// last took them (igmpChanges).
	igmpDirty bool
	// vportDirty is set when SB Port_Binding rows that may be virtual
	// ports changed since the engine last took their virtual_parent
	// (vparentChanges).
	vportDirty bool
	// svcMAC is the svc_monitor_mac this instance gives NB_Global if it
	// has none (translate.NB.SvcMonitorMACDefault).
	svcMAC string

	// Stats for tests and benchmarks, guarded by statsMu.
	statsMu sync.Mutex
	stats   Stats
}

// Stats counts the daemon's work.
type Stats struct {
	Active       bool
	Transactions int
	RowsWritten  int // operations sent to SB
}

// Stats returns a copy of the counters.
func (d *Daemon) Stats() Stats {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	return d.stats
}

// sbColumns are the SB columns northd reads, per table (nil: all). Fewer
// columns keep the mirror small: Port_Binding and Logical_Flow are large.
var sbColumns = map[string][]string{
	tPortBinding: {"logical_port", "datapath", "tunnel_key", "type", "options", "mac", "port_security",
		"nat_addresses", "parent_port", "tag", "ha_chassis_group", "chassis", "up", "virtual_parent"},
	tLogicalFlow:    {"logical_datapath", "logical_dp_group"}, // content: see sbState.flowRows
	tDatapath:       {"tunnel_key", "external_ids"},
	tMulticastGroup: {"datapath", "name", "tunnel_key", "ports"},
	tChassis:        {"name"},
	tChassisPrivate: {"name", "nb_cfg"},
}

// nbTables are the NB tables northd monitors.
var nbTables = []string{nb.NBGlobalTable, nb.LogicalSwitchTable, nb.LogicalSwitchPortTable, nb.LogicalRouterTable,
	nb.LogicalRouterPortTable, nb.ACLTable, nb.AddressSetTable, nb.PortGroupTable, nb.DHCPOptionsTable, nb.NATTable,
	nb.LogicalRouterStaticRouteTable, nb.LogicalRouterPolicyTable, nb.GatewayChassisTable, nb.HAChassisGroupTable,
	nb.HAChassisTable, nb.QoSTable, nb.LoadBalancerTable, nb.DNSTable, nb.BFDTable, nb.LoadBalancerGroupTable,
	nb.LoadBalancerHealthCheckTable}

// newModel returns an empty model for an NB table.
func newModel(table string) any {
	switch table {
	case nb.NBGlobalTable:
		return &nb.NBGlobal{}
	case nb.LogicalSwitchTable:
		return &nb.LogicalSwitch{}
	case nb.LogicalSwitchPortTable:
		return &nb.LogicalSwitchPort{}
	case nb.LogicalRouterTable:
		return &nb.LogicalRouter{}
	case nb.LogicalRouterPortTable:
		return &nb.LogicalRouterPort{}
	case nb.ACLTable:
		return &nb.ACL{}
	case nb.AddressSetTable:
		return &nb.AddressSet{}
	case nb.PortGroupTable:
		return &nb.PortGroup{}
	case nb.DHCPOptionsTable:
		return &nb.DHCPOptions{}
	case nb.NATTable:
		return &nb.NAT{}
	case nb.LogicalRouterStaticRouteTable:
		return &nb.LogicalRouterStaticRoute{}
	case nb.LogicalRouterPolicyTable:
		return &nb.LogicalRouterPolicy{}
	case nb.GatewayChassisTable:
		return &nb.GatewayChassis{}
	case nb.HAChassisGroupTable:
		return &nb.HAChassisGroup{}
	case nb.HAChassisTable:
		return &nb.HAChassis{}
	case nb.QoSTable:
		return &nb.QoS{}
	case nb.LoadBalancerTable:
		return &nb.LoadBalancer{}
	case nb.DNSTable:
		return &nb.DNS{}
	case nb.BFDTable:
		return &nb.BFD{}
	case nb.LoadBalancerGroupTable:
		return &nb.LoadBalancerGroup{}
	case nb.LoadBalancerHealthCheckTable:
		return &nb.LoadBalancerHealthCheck{}
	}
	return nil
}

// Run connects, monitors and translates until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	d, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Loop(ctx)
}

// Start connects to both databases and loads their contents; Loop then runs
// the daemon.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	cfg.FillDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, nbQ: newQueue(), sbQ: newQueue(), upDirty: map[string]bool{}, upAll: true,
		pendingNB: map[string]any{}}
	var err error
	d.sbc, err = client.Dial(ctx, cfg.SBRemotes, client.Options{Logger: cfg.Logger.With("db", schema.SouthboundName), Database: schema.SouthboundName,
		LeaderOnly: true, Probe: cfg.Probe, MaxMessageSize: cfg.MaxMessageSize})
	if err != nil {
		return nil, fmt.Errorf("connect to SB %s: %w", cfg.SBRemotes, err)
	}
	d.nbc, err = client.Dial(ctx, cfg.NBRemotes, client.Options{Logger: cfg.Logger.With("db", schema.NorthboundName), Database: schema.NorthboundName,
		LeaderOnly: true, Probe: cfg.Probe, MaxMessageSize: cfg.MaxMessageSize})
	if err != nil {
		d.sbc.Close()
		return nil, fmt.Errorf("connect to NB %s: %w", cfg.NBRemotes, err)
	}
	sbSchema, err := d.sbc.GetSchema(ctx, schema.SouthboundName)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("SB schema: %w", err)
	}
	nbSchema, err := d.nbc.GetSchema(ctx, schema.NorthboundName)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("NB schema: %w", err)
	}
	d.sb = newSBState(sbSchema)
	d.nbRows = newRowCache(nbSchema)
	d.nbMap = mapper.NewMapper(*nbSchema)
	// NB rows live once, as the engine's models; a row is rebuilt from its
	// model when an update2 diff needs the old value.
	d.nbRows.compact = map[string]bool{}
	for _, t := range nbTables {
		d.nbRows.compact[t] = true
	}
	d.nbRows.rebuild = d.nbRow

	sbReqs := map[string]client.MonitorRequest{}
	for _, t := range sbTables {
		if _, ok := sbSchema.Tables[t]; ok {
			sbReqs[t] = client.MonitorRequest{Columns: sbColumns[t]}
		}
	}
	if _, err := d.sbc.Monitor(ctx, schema.SouthboundName, sbReqs, d.sbQ.push); err != nil {
		d.Close()
		return nil, fmt.Errorf("monitor SB: %w", err)
	}
	nbReqs := map[string]client.MonitorRequest{}
	for _, t := range nbTables {
		nbReqs[t] = client.MonitorRequest{}
	}
	if _, err := d.nbc.Monitor(ctx, schema.NorthboundName, nbReqs, d.nbQ.push); err != nil {
		d.Close()
		return nil, fmt.Errorf("monitor NB: %w", err)
	}
	if _, err := d.drainSB(); err != nil {
		d.Close()
		return nil, err
	}
	n := translate.NewNB()
	d.svcMAC = randomMAC(cryptoRandom)
	n.SvcMonitorMACDefault = d.svcMAC
	d.eng = engine.New(n, d.sb.keys())
	changes, err := d.drainNB()
	if err != nil {
		d.Close()
		return nil, err
	}
	if _, err := d.eng.Apply(changes); err != nil {
		d.Close()
		return nil, err
	}
	d.svcDirty, d.igmpDirty, d.vportDirty = false, false, false
	if _, err := d.eng.Apply(slices.Concat(d.svcStatusChanges(), d.igmpChanges(), d.vparentChanges())); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close disconnects.
func (d *Daemon) Close() {
	if d.nbc != nil {
		d.nbc.Close()
	}
	if d.sbc != nil {
		d.sbc.Close()
	}
}

// drainSB applies queued SB updates and reports what kinds of rows changed.
func (d *Daemon) drainSB() (map[string]bool, error) {
	touched := map[string]bool{}
	for _, u := range d.sbQ.take() {
		chs, err := d.sb.rows.apply(u)
		if err != nil {
			return nil, err
		}
		d.sb.update(chs)
		for _, c := range chs {
			touched[c.Table] = true
			if c.Table == tPortBinding && c.Row != nil {
				d.upDirty[str(c.Row, "logical_port")] = true
			}
			if c.Table == tServiceMonitor {
				d.svcDirty = true
			}
			if c.Table == tIGMPGroup {
				d.igmpDirty = true
			}
			if c.Table == tPortBinding && (c.Row == nil || str(c.Row, "type") == "virtual") {
				d.vportDirty = true
			}
		}
	}
	return touched, nil
}

// nbRow rebuilds the full row of an NB model: the latest one decoded in the
// current drain, else the engine's.
func (d *Daemon) nbRow(table, uuid string) ovsdb.Row {
	model, ok := d.pendingNB[table+"/"+uuid]
	if !ok {
		model = d.eng.Row(table, uuid)
	}
	if model == nil {
		return ovsdb.Row{}
	}
	ts, ok := d.nbRows.schema.Tables[table]
	if !ok {
		return ovsdb.Row{}
	}
	info, err := mapper.NewInfo(table, &ts, model)
	if err != nil {
		return ovsdb.Row{}
	}
	row, err := d.nbMap.NewRow(info)
	if err != nil {
		return ovsdb.Row{}
	}
	return row
}

// drainNB applies queued NB updates and returns them as engine changes.
func (d *Daemon) drainNB() ([]engine.Change, error) {
	var out []engine.Change
	clear(d.pendingNB)
	for _, u := range d.nbQ.take() {
		chs, err := d.nbRows.apply(u)
		if err != nil {
			return nil, err
		}
		for _, c := range chs {
			ec := engine.Change{Table: c.Table, UUID: c.UUID}
			if c.Row == nil {
				d.pendingNB[c.Table+"/"+c.UUID] = nil
			}
			if c.Row != nil {
				m := newModel(c.Table)
				if m == nil {
					continue
				}
				if err := decode(d.nbMap, d.nbRows.schema, c.Table, c.UUID, c.Row, m); err != nil {
					return nil, err
				}
				ec.Row = m
				d.pendingNB[c.Table+"/"+c.UUID] = m
				if p, ok := m.(*nb.LogicalSwitchPort); ok {
					d.upDirty[p.Name] = true
				}
			}
			out = append(out, ec)
		}
	}
	return out, nil
}

// Loop runs until ctx ends: it asks for the lock, and translates and writes
// while holding it.
func (d *Daemon) Loop(ctx context.Context) error {
	lock, err := d.sbc.Lock(ctx, d.cfg.LockName)
	if err != nil {
		return fmt.Errorf("SB lock %q: %w", d.cfg.LockName, err)
	}
	if lock.Held() {
		d.setActive(true)
	} else {
		d.log.Info("standby, waiting for the lock", "lock", d.cfg.LockName)
	}
	full := d.active
	for {
		if full {
			d.upAll = true
		}
		var nbChanges []engine.Change
		var sbTouched map[string]bool
		if !full && !d.svcDirty && !d.igmpDirty && !d.vportDirty {
			select {
			case <-ctx.Done():
				return nil
			case held := <-lock.Acquired():
				if held != d.active {
					d.setActive(held)
					full = held
				}
			case <-d.nbQ.signal:
			case <-d.sbQ.signal:
			}
		}
		runStart := time.Now()
		sbTouched, err = d.drainSB()
		if err != nil {
			return err
		}
		nbChanges, err = d.drainNB()
		if err != nil {
			return err
		}
		if d.svcDirty {
			// Status the chassis reported (also while we waited for
			// our own transaction, see waitSB).
			d.svcDirty = false
			nbChanges = append(nbChanges, d.svcStatusChanges()...)
		}
		if d.igmpDirty {
			d.igmpDirty = false
			nbChanges = append(nbChanges, d.igmpChanges()...)
		}
		if d.vportDirty {
			d.vportDirty = false
			nbChanges = append(nbChanges, d.vparentChanges()...)
		}
		applyStart := time.Now()
		delta, err := d.eng.Apply(nbChanges)
		if err != nil {
			return err
		}
		if len(nbChanges) > 0 {
			d.log.Debug("NB changes applied", "rows", len(nbChanges), "datapaths", len(delta.Datapaths), "took", time.Since(applyStart))
		}
		if !d.active {
			continue
		}
		if err := d.write(ctx, delta, full, sbTouched); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.log.Warn("write failed, will recompute", "err", err)
			d.cfg.Metrics.writeError()
			full = true
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		d.cfg.Metrics.run(full, runStart, len(delta.Datapaths))
		full = false
	}
}

func (d *Daemon) setActive(a bool) {
	if a != d.active {
		if a {
			d.log.Info("acquired lock, now active", "lock", d.cfg.LockName)
		} else {
			d.log.Info("lost lock, now standby", "lock", d.cfg.LockName)
		}
	}
	d.active = a
	d.cfg.Metrics.setActive(a)
	d.statsMu.Lock()
	d.stats.Active = a
	d.statsMu.Unlock()
}

// A write of at most oneTxnDatapaths datapaths and oneTxnFlows flow
// contents is one transaction. Larger ones are split into transactions of
// maxDatapathsPerTxn datapaths or maxFlowsPerTxn contents: small
// transactions cost ovsdb-server much less CPU per row than large ones (a
// first translation of 1,050 datapaths: 2.2 s of server CPU in
// transactions of 2 datapaths, 5.0 s of 10, 7.0 s of 40), and inFlight
// of them keep it busy while we build the next (2 in flight: 5.3 s to
// write 525 transactions, 4: 3.0 s, 8: 5.1 s; noisy, shared machine).
const (
	inFlight           = 4
	oneTxnDatapaths    = 40
	oneTxnFlows        = 5000
	maxDatapathsPerTxn = 2
	maxFlowsPerTxn     = 200
)

// commitSB builds n writers in order and sends each one's operations, if
// any, as one transaction asserting the lock (at most inFlight at once), then
// waits until the SB monitor shows all of them.
func (d *Daemon) commitSB(ctx context.Context, n int, build func(int) *writer, start time.Time) error {
	type learned struct {
		uuid    string
		content translate.Flow
	}
	type result struct {
		inserted, deleted []string
		flows             []learned
		ops               int
		err               error
	}
	results := make([]result, n)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{} // build only when a slot is free
		w := build(i)
		if w.err != nil {
			<-sem
			wg.Wait()
			return w.err
		}
		if len(w.t.ops) == 0 {
			<-sem
			continue
		}
		wg.Add(1)
		go func(i int, w *writer) {
			defer func() { <-sem; wg.Done() }()
			res, err := d.transactSB(ctx, w.t.ops)
			r := result{deleted: w.t.deletes, ops: len(w.t.ops), err: err}
			if err == nil {
				for j, op := range w.t.ops {
					if op.Op == ovsdb.OperationInsert {
						r.inserted = append(r.inserted, res[j].UUID.GoUUID)
					}
				}
				r.flows = make([]learned, 0, len(w.t.flowIns))
				for j, c := range w.t.flowIns {
					r.flows = append(r.flows, learned{res[j].UUID.GoUUID, c})
				}
			}
			results[i] = r
		}(i, w)
	}
	wg.Wait()
	var inserted, deleted []string
	ops := 0
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		inserted = append(inserted, r.inserted...)
		deleted = append(deleted, r.deleted...)
		ops += r.ops
		for _, l := range r.flows {
			d.sb.learn(l.uuid, l.content)
		}
	}
	if ops == 0 {
		return nil
	}
	written := time.Now()
	d.log.Debug("SB written", "ops", ops, "transactions", n, "took", written.Sub(start))
	if err := d.waitSB(ctx, inserted, deleted); err != nil {
		return err
	}
	// Every row we inserted is in the mirror now; what is left was
	// deleted meanwhile.
	clear(d.sb.taught)
	d.log.Debug("SB monitor caught up", "took", time.Since(written))
	return nil
}

// transactSB sends one SB transaction asserting the lock and returns the
// results of body's operations.
func (d *Daemon) transactSB(ctx context.Context, body []ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	// The assertion makes the transaction fail if we lost the lock.
	lock := d.cfg.LockName
	ops := append([]ovsdb.Operation{{Op: ovsdb.OperationAssert, Lock: &lock}}, body...)
	txnStart := time.Now()
	raw, err := encodeOps(ops)
	if err != nil {
		return nil, fmt.Errorf("SB transaction of %d operations: %w", len(ops), err)
	}
	reply, err := d.sbc.TransactJSON(ctx, schema.SouthboundName, raw...)
	if err != nil {
		return nil, fmt.Errorf("SB transaction of %d operations: %w", len(ops), err)
	}
	res, err := decodeResults(reply)
	if err != nil {
		return nil, fmt.Errorf("SB transaction of %d operations: reply: %w", len(ops), err)
	}
	if err := checkResults(res, ops); err != nil {
		for i, r := range res {
			if r.Error != "" && i < len(ops) {
				d.log.Debug("failed operation", "op", string(raw[i]))
			}
		}
		return nil, err
	}
	d.cfg.Metrics.txn(txnStart, len(body))
	d.statsMu.Lock()
	d.stats.Transactions++
	d.stats.RowsWritten += len(body)
	d.statsMu.Unlock()
	if len(res) < len(ops) {
		return nil, fmt.Errorf("SB transaction of %d operations: %d results", len(ops), len(res))
	}
	return res[1:], nil
}

// fetchFlows reads the content of the Logical_Flow rows the mirror knows
// only by placement (see sbState.flowRows).
func (d *Daemon) fetchFlows(ctx context.Context) error {
	start := time.Now()
	res, err := d.sbc.Transact(ctx, schema.SouthboundName, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: tLogicalFlow,
		Where: []ovsdb.Condition{}, Columns: []string{"_uuid", "pipeline", "table_id", "priority", "match", "actions", "external_ids"}})
	if err != nil {
		return fmt.Errorf("read SB logical flows: %w", err)
	}
	if len(res) != 1 {
		return fmt.Errorf("read SB logical flows: %d results", len(res))
	}
	for _, r := range res[0].Rows {
		if u, ok := r["_uuid"].(ovsdb.UUID); ok {
			d.sb.learn(u.GoUUID, flowContent(r))
		}
	}
	d.log.Debug("SB logical flows read", "rows", len(res[0].Rows), "unknown", d.sb.unknown, "took", time.Since(start))
	return nil
}

// write brings SB in line: everything when full, else the datapaths and
// flows in delta; then NB acknowledgements.
//
// A small change is one transaction. Many datapaths (a first translation,
// a takeover) go in several, so neither we nor the server hold one huge
// transaction in memory, in three steps whose order referential integrity
// needs: datapaths with their ports and the flows only they want; then the
// other flows, on groups of datapaths that all exist by now; then the
// deleted datapaths, whose flows are gone by now. Chunks of one step touch
// disjoint rows, so each is built against the current mirror just before
// it is sent, with several in flight: the server applies one while we encode
// the next. SB_Global.nb_cfg goes with the last.
func (d *Daemon) write(ctx context.Context, delta engine.Delta, full bool, sbTouched map[string]bool) error {
	start := time.Now()
	if full && d.sb.unknown > 0 {
		if err := d.fetchFlows(ctx); err != nil {
			return err
		}
	}
	desired := d.eng.SB()
	sets := d.eng.Flows()
	var keys []string
	if full {
		for k := range desired.Datapaths {
			keys = append(keys, k)
		}
		for k := range d.sb.dpByKey {
			if desired.Datapaths[k] == nil {
				keys = append(keys, k)
			}
		}
	} else {
		for k := range delta.Datapaths {
			keys = append(keys, k)
		}
		if sbTouched[tChassis] || sbTouched[tHAGroup] || sbTouched[tHAChassis] || sbTouched[tPortBinding] {
			// HA_Chassis rows refer to Chassis rows by UUID, and
			// ref_chassis follows Port_Binding.chassis.
			for k, dp := range desired.Datapaths {
				if len(dp.HAGroups) > 0 && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var upserts, deletes []string
	for _, k := range keys {
		if desired.Datapaths[k] != nil {
			upserts = append(upserts, k)
		} else {
			deletes = append(deletes, k)
		}
	}
	var contents []translate.Flow
	if full {
		contents = make([]translate.Flow, 0, sets.Len())
		for c := range sets.All() {
			contents = append(contents, c)
		}
		for c := range d.sb.flowRows {
			if sets.Datapaths(c) == nil {
				contents = append(contents, c)
			}
		}
	} else {
		for c := range delta.Flows {
			contents = append(contents, c)
		}
	}
	want := sets.Datapaths

	if len(keys) <= oneTxnDatapaths && len(contents) <= oneTxnFlows {
		build := func(int) *writer {
			w := newWriter(d.sb, desired, d.eng.PortDatapath)
			for _, k := range upserts {
				w.datapath(k, desired.Datapaths[k])
			}
			w.flows(contents, want)
			w.shared(desired)
			for _, k := range deletes {
				w.deleteDatapath(k)
			}
			w.globals(desired, full)
			return w
		}
		if err := d.commitSB(ctx, 1, build, start); err != nil {
			return err
		}
	} else {
		// Step 0: what flows may name (SB_Global options, address
		// sets), so that no chassis sees a flow before them.
		if err := d.commitSB(ctx, 1, func(int) *writer {
			w := newWriter(d.sb, desired, d.eng.PortDatapath)
			w.early(desired)
			return w
		}, start); err != nil {
			return err
		}
		// Step 1: datapaths, and the flows that only one of them wants
		// and that this write reconciles.
		upserted := make(map[string]bool, len(upserts))
		for _, k := range upserts {
			upserted[k] = true
		}
		reconciled := func(c translate.Flow) bool { return full || delta.Flows[c] }
		single := func(c translate.Flow) bool {
			dps := want(c)
			return len(dps) == 1 && upserted[dps[0]]
		}
		chunks := chunk(upserts, maxDatapathsPerTxn)
		step1 := func(i int) *writer {
			w := newWriter(d.sb, desired, d.eng.PortDatapath)
			var mine []translate.Flow
			seen := map[translate.Flow]bool{}
			for _, k := range chunks[i] {
				out := desired.Datapaths[k]
				w.datapath(k, out)
				for _, f := range out.Flows {
					if c := engine.Content(f); single(c) && reconciled(c) && !seen[c] {
						seen[c] = true
						mine = append(mine, c)
					}
				}
			}
			w.flows(mine, want)
			return w
		}
		if err := d.commitSB(ctx, len(chunks), step1, start); err != nil {
			return err
		}
		// Step 2: the other flows, in two rounds. Transactions in
		// flight together each see SB without the others' inserts, so
		// two of them would each insert a Logical_DP_Group for the same
		// new datapath set: the first round has every new set in one
		// transaction only; the second, sent once the groups are in
		// the mirror, the remaining contents.
		var rest []translate.Flow
		for _, c := range contents {
			if !single(c) {
				rest = append(rest, c)
			}
		}
		first, later := splitNewSets(rest, want, d.sb.groupFor, maxFlowsPerTxn)
		for _, flowChunks := range [][][]translate.Flow{first, chunk(later, maxFlowsPerTxn)} {
			step2 := func(i int) *writer {
				w := newWriter(d.sb, desired, d.eng.PortDatapath)
				w.flows(flowChunks[i], want)
				return w
			}
			if err := d.commitSB(ctx, len(flowChunks), step2, start); err != nil {
				return err
			}
		}
		// Step 3: load balancers and DNS rows, which refer to datapaths
		// strongly; then deleted datapaths, and the globals.
		if err := d.commitSB(ctx, 1, func(int) *writer {
			w := newWriter(d.sb, desired, d.eng.PortDatapath)
			w.shared(desired)
			return w
		}, start); err != nil {
			return err
		}
		delChunks := chunk(deletes, maxDatapathsPerTxn)
		if len(delChunks) == 0 {
			delChunks = [][]string{nil}
		}
		step3 := func(i int) *writer {
			w := newWriter(d.sb, desired, d.eng.PortDatapath)
			for _, k := range delChunks[i] {
				w.deleteDatapath(k)
			}
			if i == len(delChunks)-1 {
				w.globals(desired, full)
			}
			return w
		}
		if err := d.commitSB(ctx, len(delChunks), step3, start); err != nil {
			return err
		}
	}
	d.lastSBCfg = desired.Global.NbCfg
	ackStart := time.Now()
	err := d.ackNB(ctx)
	d.log.Debug("NB acknowledged", "took", time.Since(ackStart))
	return err
}

// splitNewSets splits contents for the flow transactions of a large write:
// first holds chunks of at most n contents in which every datapath set of
// two or more that SB has no group for (groupFor returns "") appears in one
// chunk only; later holds the rest, to be sent after first is in SB.
func splitNewSets(contents []translate.Flow, want func(translate.Flow) []string, groupFor func([]string) string, n int) (first [][]translate.Flow, later []translate.Flow) {
	bySet := map[string][]translate.Flow{}
	var order []string
	for _, c := range contents {
		dps := want(c)
		if len(dps) < 2 || groupFor(dps) != "" {
			later = append(later, c)
			continue
		}
		k := setKey(dps)
		if _, ok := bySet[k]; !ok {
			order = append(order, k)
		}
		bySet[k] = append(bySet[k], c)
	}
	var cur []translate.Flow
	for _, k := range order {
		cs := bySet[k]
		take := min(len(cs), n-len(cur))
		cur = append(cur, cs[:take]...)
		later = append(later, cs[take:]...)
		if len(cur) == n {
			first = append(first, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		first = append(first, cur)
	}
	return first, later
}

// chunk splits s into slices of at most n elements.
func chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

func checkResults(res []ovsdb.OperationResult, ops []ovsdb.Operation) error {
	for i, r := range res {
		if r.Error != "" {
			what := "commit"
			if i < len(ops) {
				what = fmt.Sprintf("%s %s", ops[i].Op, ops[i].Table)
			}
			return fmt.Errorf("SB transaction: %s: %s: %s", what, r.Error, r.Details)
		}
	}
	return nil
}

// waitSB waits until the SB monitor shows our inserts and deletes, so the
// next diff starts from what we wrote.
func (d *Daemon) waitSB(ctx context.Context, inserted, deleted []string) error {
	deadline := time.NewTimer(d.cfg.SyncTimeout)
	defer deadline.Stop()
	for {
		done := true
		for _, u := range inserted {
			if !d.sb.has(u) {
				done = false
				break
			}
		}
		if done {
			for _, u := range deleted {
				if d.sb.has(u) {
					done = false
					break
				}
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return errors.New("SB monitor did not show our transaction in time")
		case <-d.sbQ.signal:
			if _, err := d.drainSB(); err != nil {
				return err
			}
		}
	}
}

// has reports whether any monitored table holds the row.
func (s *sbState) has(u string) bool {
	if _, ok := s.flowOf[u]; ok {
		return true
	}
	for _, t := range s.rows.tables {
		if _, ok := t[u]; ok {
			return true
		}
	}
	return false
}

// ackNB writes NB_Global.sb_cfg/hv_cfg and Logical_Switch_Port.up.
func (d *Daemon) ackNB(ctx context.Context) error {
	var ops []ovsdb.Operation
	n := d.eng.NB()
	if op := svcMonitorMACOp(n.Global, d.svcMAC); op != nil {
		ops = append(ops, *op)
	}
	ops = append(ops, bfdNBOps(n, d.sb)...)
	if g := n.Global; g != nil {
		row := ovsdb.Row{}
		now := int(time.Now().UnixMilli())
		if g.SbCfg != d.lastSBCfg {
			row["sb_cfg"] = d.lastSBCfg
			row["sb_cfg_timestamp"] = now
		}
		hv := d.lastSBCfg
		for _, r := range d.sb.table(tChassisPrivate) {
			if c := num(r, "nb_cfg"); c < hv {
				hv = c
			}
		}
		if g.HvCfg != hv {
			row["hv_cfg"] = hv
			row["hv_cfg_timestamp"] = now
		}
		if len(row) > 0 {
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: nb.NBGlobalTable, Row: row, Where: byUUID(g.UUID)})
		}
	}
	pbs := d.sb.table(tPortBinding)
	check := func(u string, p *nb.LogicalSwitchPort) {
		want := false
		if pu, ok := d.sb.portByName[p.Name]; ok {
			want, _ = boolean(pbs[pu], "up")
		}
		if p.Type == "router" {
			want = true
		} else if p.Type != "" {
			return
		}
		if p.Up == nil || *p.Up != want {
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: nb.LogicalSwitchPortTable,
				Row: ovsdb.Row{"up": ovsdb.OvsSet{GoSet: []any{want}}}, Where: byUUID(u)})
		}
	}
	if d.upAll {
		for u, p := range n.SwitchPorts {
			check(u, p)
		}
	} else {
		for name := range d.upDirty {
			if sp, ok := d.eng.SwitchPort(name); ok {
				check(sp.UUID, sp)
			}
		}
	}
	d.upAll = false
	clear(d.upDirty)
	if len(ops) == 0 {
		return nil
	}
	res, err := d.nbc.Transact(ctx, schema.NorthboundName, ops...)
	if err != nil {
		return fmt.Errorf("NB acknowledgements: %w", err)
	}
	return checkResults(res, ops)
}
