package chassis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/config"
	"hcnet/chassis/flowtable"
	"hcnet/chassis/hostnet"
	"hcnet/chassis/lflows"
	"hcnet/chassis/ofctl"
	"hcnet/chassis/ofinstall"
	"hcnet/chassis/physical"
	"hcnet/chassis/pinctrl"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
	"hcnet/internal/client"
	"hcnet/schema"
)

// Options configures the daemon.
type Options struct {
	// OVSDB is the local Open_vSwitch database, "unix:PATH". Required.
	OVSDB string
	// OVSRundir holds the bridges' OpenFlow sockets (<bridge>.mgmt).
	// Required.
	OVSRundir string
	// Override holds values that win over Open_vSwitch external_ids.
	Override config.Config
	// KeepRegistration leaves Chassis, Chassis_Private and bindings in
	// the southbound on exit (for a restart). Default false: removed.
	KeepRegistration bool
	// KeepOnExit, when set, is asked at exit instead of KeepRegistration
	// (cmd/chassis keeps the registration when stopped by SIGTERM, a
	// restart, as ovn-controller does).
	KeepOnExit func() bool
	// BFDMinRx and BFDMinTx are the BFD intervals on gateway tunnels, in
	// milliseconds. Default 100 each.
	BFDMinRx, BFDMinTx int
	// FullMesh builds tunnels to every chassis, as ovn-controller does,
	// instead of to the chassis of its own site plus those of other sites
	// sharing a local datapath. Default false.
	FullMesh bool
	// Resync is the interval of the check that the switch still holds
	// the installed flows (their count under our cookie); a difference
	// replaces the whole table (with OfctlFlows: always replaced).
	// Default 30 s.
	Resync time.Duration
	// HeartbeatInterval is how often the chassis writes the time to its
	// Chassis_Private external_ids:hcnet-heartbeat, so sbctl chassis-list
	// can tell a stopped daemon from a live one. Default 10 s; negative
	// disables.
	HeartbeatInterval time.Duration
	// Hostname for Chassis.hostname. Default os.Hostname().
	Hostname string
	// Ofctl is the ovs-ofctl binary (groups and meters, and flows with
	// OfctlFlows). Default "ovs-ofctl".
	Ofctl string
	// PerDatapathFlows keeps one OpenFlow flow per local datapath for
	// logical flows of datapath groups, as ovn-controller does, instead
	// of one flow for copies every local datapath shares.
	PerDatapathFlows bool
	// OfctlFlows installs flows by running ovs-ofctl --bundle instead of
	// over the chassis' own OpenFlow connection (a debugging fallback).
	OfctlFlows bool
	// HeapProfile, when set, receives a heap profile as the daemon
	// stops, while its state is still live (a debugging aid).
	HeapProfile string
	// Logger; default discard.
	Logger *slog.Logger
	// Metrics, when set, receives the daemon's Prometheus series.
	Metrics *Metrics
	// TracePortUp logs, at Info, each newly plugged port's way up: when
	// the Open_vSwitch update showing its interface arrived, when its
	// flows were planned, its claim sent and acknowledged, its flows sent
	// and acknowledged by the switch (a measuring aid).
	TracePortUp bool
}

func (o *Options) fillDefaults() {
	if o.BFDMinRx <= 0 {
		o.BFDMinRx = 100
	}
	if o.BFDMinTx <= 0 {
		o.BFDMinTx = 100
	}
	if o.Resync <= 0 {
		o.Resync = 30 * time.Second
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 10 * time.Second
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate names the first bad field.
func (o Options) Validate() error {
	if !strings.HasPrefix(o.OVSDB, "unix:") && !strings.HasPrefix(o.OVSDB, "tcp:") {
		return fmt.Errorf("chassis: ovs-db %q: want unix:PATH", o.OVSDB)
	}
	if o.OVSRundir == "" {
		return fmt.Errorf("chassis: ovs-rundir is empty")
	}
	return nil
}

// SB tables the chassis monitors.
var sbTables = []string{
	"SB_Global", "Chassis", "Encap", "Chassis_Private", "Datapath_Binding", "Port_Binding",
	"Logical_Flow", "Logical_DP_Group", "Multicast_Group", "MAC_Binding", "HA_Chassis_Group",
	"HA_Chassis", "Gateway_Chassis", "DHCP_Options", "DHCPv6_Options", "Meter", "Meter_Band",
	"Address_Set", "Port_Group", "Load_Balancer", "DNS", "FDB", "Chassis_Template_Var",
	// The controller path's (controller.go): health checks, IGMP
	// snooping, controller events, BFD sessions.
	"Service_Monitor", "IGMP_Group", "Controller_Event", "BFD",
}

type daemon struct {
	opts Options
	log  *slog.Logger
	kick chan struct{}

	ovsC *client.Client

	// mu guards the replicas and the SB connection state; handlers write,
	// the loop reads.
	mu         sync.Mutex
	ovs        *replica.DB
	sb         *replica.DB
	sbC        *client.Client
	sbMon      *client.Monitor
	sbReady    bool
	learned    []pinctrl.MACBinding
	learnedFDB []pinctrl.FDBEntry
	// ctrl is the rest of the controller path's state (controller.go).
	ctrl ctrlState
	// pin is the southbound state the controller path reads (DNS for
	// dns_lookup); rebuilt, never modified, when pinDirty.
	pin      *pinctrl.Input
	pinDirty bool
	// pinNotify wakes the controller session when pin is rebuilt (it
	// releases packets held for neighbours now in MAC_Binding).
	pinNotify chan struct{}
	// switchReset is set when the controller connection (re)connects.
	switchReset bool
	// condDPs are the local datapaths of the last monitor condition;
	// condPendingSince is set while a change adding datapaths is
	// unanswered; condGen numbers the changes.
	condDPs          map[string]bool
	condPendingSince time.Time
	condGen          int
	dialing          bool
	applyErr         error
	// ovsInFlight holds the rows our Open_vSwitch transactions inserted
	// until the replica shows them; no new Open_vSwitch operations are
	// planned meanwhile (they would insert the same named ports again).
	ovsInFlight plan.InFlight
	// condReqs is the newest monitor condition (generation condGen);
	// one sender at a time (condSending) sends the newest request not
	// yet sent, so requests never overtake each other and superseded
	// ones are not sent at all.
	condReqs    map[string]client.MonitorRequest
	condSending bool
	// reinject sends packets of newly bound ports back through the flow
	// table (punt.go); safe for concurrent use.
	reinject reinjector
	// ifaceUpdateAt is when the last Interface update arrived; trace
	// follows ports up (Options.TracePortUp).
	ifaceUpdateAt time.Time
	trace         tracer

	// Loop-owned state.
	cfg        config.Config
	installed  map[string]flowtable.Flow
	rejected   map[string]string // flow key -> actions the switch refused
	groups     map[uint32]string
	meters     map[uint32]string
	needFull   bool
	lastFull   time.Time
	cookie     uint64
	tlvDone    bool
	ofc        *ofinstall.Conn // native flow connection; nil when down
	ofcTarget  string
	desiredTab *flowtable.Desired // merged desired flows, kept across rounds
	// inGen and ovsGen count the replica updates that wake a round
	// (not quiet ones), replica replacements and apply errors, of the
	// southbound and the Open_vSwitch replica; last is the plan of
	// the last round that computed one.
	inGen, ovsGen  uint64 // southbound; Open_vSwitch
	zoneMemo       zoneMemo
	ovsView        *ovsView
	last           *planned
	phys           physical.Generator // physical flows, kept across rounds
	agg            *flowtable.Aggregator
	aggOut         map[string]flowtable.Flow // the last aggregation, and for which datapaths
	aggLocal       map[uint32]bool
	sbSent         string // the last southbound writes sent, and when
	sbSentAt       time.Time
	pinctrlStarted bool
	derivedIP      string // encap IP from the default route, when not configured
	mtuChecked     string // encap IP whose MTU was checked
	zones          map[string]uint16
	zonesRead      bool
	cond           string
	condIn         string // the inputs of the last conditions computed
	compiler       *lflows.Compiler
	logMu          sync.Mutex // guards lastLog
	lastLog        map[string]string
	Stats          Stats

	// The inputs of the last plan.Installed (round); installedDirty
	// forces the next one.
	installedWanted  map[string]bool
	installedIfaceAt time.Time
	installedDirty   bool
}

// Stats are counters for tests and benchmarks.
type Stats struct {
	Rounds       int
	FlowsDesired int
	Installs     int
	// CompileErrors counts logical flows that did not compile.
	CompileErrors int
}

// Run runs the daemon until ctx ends.
func Run(ctx context.Context, opts Options) error {
	opts.fillDefaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	d := &daemon{
		opts:     opts,
		log:      opts.Logger,
		kick:     make(chan struct{}, 1),
		needFull: true,
		cookie:   uint64(time.Now().UnixNano()) &^ 0xffff,
		lastLog:  map[string]string{},
		compiler: lflows.New(),
	}
	return d.run(ctx)
}

func (d *daemon) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *daemon) run(ctx context.Context) error {
	var err error
	d.ovsC, err = client.Dial(ctx, d.opts.OVSDB, client.Options{Logger: d.log.With("db", "Open_vSwitch")})
	if err != nil {
		return fmt.Errorf("connect %s: %w", d.opts.OVSDB, err)
	}
	defer d.ovsC.Close()
	sch, err := d.ovsC.GetSchema(ctx, "Open_vSwitch")
	if err != nil {
		return fmt.Errorf("get Open_vSwitch schema: %w", err)
	}
	d.ovs = replica.New(sch)
	reqs := map[string]client.MonitorRequest{
		"Open_vSwitch": {Columns: []string{"external_ids", "bridges"}},
		"Bridge":       {Columns: []string{"name", "ports", "datapath_type", "fail_mode", "external_ids"}},
		"Port":         {Columns: []string{"name", "interfaces", "external_ids"}},
		"Interface":    {Columns: []string{"name", "type", "ofport", "external_ids", "options", "bfd", "bfd_status", "mtu"}},
	}
	if _, err := d.ovsC.Monitor(ctx, "Open_vSwitch", reqs, d.handler(func() *replica.DB { return d.ovs })); err != nil {
		return fmt.Errorf("monitor Open_vSwitch: %w", err)
	}
	d.log.Info("connected", "db", "Open_vSwitch", "remote", d.opts.OVSDB)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var beat <-chan time.Time
	if d.opts.HeartbeatInterval > 0 {
		hb := time.NewTicker(d.opts.HeartbeatInterval)
		defer hb.Stop()
		beat = hb.C
	}
	var lastBeat time.Time
	d.wake()
	for {
		select {
		case <-ctx.Done():
			d.shutdown()
			return nil
		case <-d.kick:
		case <-tick.C:
		case <-beat:
		}
		// The first heartbeat goes out as soon as the chassis is
		// registered, then one per interval.
		if d.opts.HeartbeatInterval > 0 && time.Since(lastBeat) >= d.opts.HeartbeatInterval && d.heartbeat(ctx) {
			lastBeat = time.Now()
		}
		d.round(ctx)
	}
}

func (d *daemon) handler(db func() *replica.DB) client.Handler {
	return func(u client.TableUpdates) {
		d.mu.Lock()
		r := db()
		gen := &d.inGen
		if r == d.ovs {
			gen = &d.ovsGen
		}
		wake := false
		for table, rows := range u {
			if table == "DNS" || table == "Datapath_Binding" || table == "MAC_Binding" {
				d.pinDirty = true
			}
			for uuid, ru := range rows {
				if !quiet(table, ru) {
					wake = true
					*gen++
					if table == "Interface" {
						d.ifaceUpdateAt = time.Now()
					}
				}
				if err := r.ApplyRow(table, uuid, ru.Kind, ru.Row); err != nil {
					d.applyErr = err
					*gen++
					wake = true
				}
			}
		}
		if len(u) == 0 {
			*gen++
		}
		d.mu.Unlock()
		if wake || len(u) == 0 {
			d.wake()
		}
	}
}

// logOnce logs msg at Warn the first time (or when it changes) for key.
func (d *daemon) logOnce(key, msg string, args ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	full := fmt.Sprint(msg, args)
	if d.lastLog[key] == full {
		return
	}
	d.lastLog[key] = full
	d.log.Warn(msg, args...)
}

func (d *daemon) dialSB(ctx context.Context, remote string) {
	c, err := client.Dial(ctx, remote, client.Options{Logger: d.log.With("db", "OVN_Southbound"), Database: "OVN_Southbound"})
	if err != nil {
		d.mu.Lock()
		d.dialing = false
		d.mu.Unlock()
		d.log.Warn("connect southbound", "remote", remote, "err", err)
		return
	}
	sch, err := c.GetSchema(ctx, "OVN_Southbound")
	if err != nil {
		d.log.Warn("get southbound schema", "err", err)
		var s ovsdb.DatabaseSchema
		if jerr := json.Unmarshal(schema.Southbound, &s); jerr != nil {
			c.Close()
			return
		}
		sch = &s
	}
	d.mu.Lock()
	d.sb = replica.New(sch)
	d.sb.TrackChanges() // the logical flow compiler revisits only what changed
	d.sbC = c
	d.inGen++
	d.mu.Unlock()
	reqs := map[string]client.MonitorRequest{}
	for _, t := range sbTables {
		if _, ok := sch.Tables[t]; ok {
			reqs[t] = client.MonitorRequest{}
		}
	}
	mon, err := c.Monitor(ctx, "OVN_Southbound", reqs, d.handler(func() *replica.DB { return d.sb }))
	if err != nil {
		d.log.Warn("monitor southbound", "err", err)
		return
	}
	d.mu.Lock()
	d.sbMon = mon
	d.sbReady = true
	d.inGen++
	d.mu.Unlock()
	d.log.Info("connected", "db", "OVN_Southbound", "remote", c.Remote())
	d.wake()
}

// work is what one round decided, computed under the lock.
type work struct {
	ovsOps []ovsdb.Operation
	// zoneOps record new conntrack zone assignments in the bridge's
	// external_ids. The flows already use the zones (the assignment is
	// deterministic), so they go after the flows, in the transaction
	// that marks interfaces ovn-installed: one Open_vSwitch write per
	// port-up, none while the switch installs the new flows.
	zoneOps []ovsdb.Operation
	sbOps   []ovsdb.Operation
	desired map[string]flowtable.Flow
	nbCfg   int64
	groups  map[uint32]string
	meters  map[uint32]string
	ready   bool
	hold    bool // a condition change adding datapaths is in flight
	// wanted are the Port_Bindings this chassis binds; claimed those of
	// them this round's sbOps claim. Their up=true waits for the flows.
	wanted, claimed map[string]bool
	// readyPorts are the OpenFlow ports of the local ports these flows
	// carry (for the reinjector, once the switch has them).
	readyPorts map[uint32]bool
	chassis    string // this chassis's Chassis UUID
	// ctrlTxns are the controller path's southbound writes (learned
	// neighbours and MACs, ...), each in its own transaction: a row
	// another chassis inserted first fails only that one.
	ctrlTxns []ctrlTxn
	bridge   string
	// With Options.TracePortUp: the logical ports this round claims, and
	// the local ports its flows carry.
	traceClaims, tracePorts []string
	stages                  stages // the decision's steps, when tracing
	traceNew                bool   // a traced port appeared this round
}

// heartbeat writes the time to the chassis's Chassis_Private row (one
// small transaction) and reports whether it did; not before the row
// exists.
func (d *daemon) heartbeat(ctx context.Context) bool {
	d.mu.Lock()
	sbC := d.sbC
	var ops []ovsdb.Operation
	if sbC != nil && d.sbReady && d.cfg.SystemID != "" {
		ops = plan.Heartbeat(d.sb, d.cfg.SystemID, time.Now().UnixMilli(), d.opts.HeartbeatInterval.Milliseconds())
	}
	d.mu.Unlock()
	if len(ops) == 0 {
		return false
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := sbC.Transact(tctx, "OVN_Southbound", ops...); err != nil {
		d.logOnce("heartbeat", "heartbeat", "err", err)
		return false
	}
	d.logMu.Lock()
	delete(d.lastLog, "heartbeat")
	d.logMu.Unlock()
	return true
}

func (d *daemon) round(ctx context.Context) {
	d.Stats.Rounds++
	t0 := time.Now()
	d.mu.Lock()
	w, err := d.decideLocked(ctx)
	sbC := d.sbC
	if d.switchReset {
		d.switchReset = false
		d.needFull, d.tlvDone = true, false
	}
	d.mu.Unlock()
	decided := time.Since(t0)
	defer d.opts.Metrics.round(t0)
	defer func() {
		d.log.Debug("round", "decide", decided, "total", time.Since(t0), "flows", len(w.desired), "sb_ops", len(w.sbOps), "ovs_ops", len(w.ovsOps))
	}()
	if err != nil {
		d.logOnce("decide", "cannot run yet", "err", err)
		return
	}
	// The transactions (bindings other chassis wait for, tunnels, zones)
	// and the flow installation (what local ports wait for) are
	// independent: run them side by side.
	// Writes identical to those sent less than a second ago whose update
	// has not arrived yet are not sent again (a busy server answers
	// before our monitor sees the change).
	sendSB := len(w.sbOps) > 0 && sbC != nil
	var sbKey string
	if sendSB {
		sbKey = fmt.Sprint(w.sbOps)
		if sbKey == d.sbSent && time.Since(d.sbSentAt) < time.Second {
			sendSB = false
		}
	}
	// claimsSent: this round's claims are on the server (sent now, or
	// the same ones sent successfully less than a second ago).
	claimsSent := len(w.sbOps) > 0 && sbC != nil && !sendSB
	var sbErr error
	txDone := make(chan struct{})
	var ovsErr error
	go func() {
		defer close(txDone)
		if len(w.ovsOps) > 0 {
			res, err := d.ovsC.Transact(ctx, "Open_vSwitch", w.ovsOps...)
			if err != nil {
				ovsErr = err
				d.log.Warn("transact", "db", "Open_vSwitch", "err", err)
			} else {
				d.mu.Lock()
				d.ovsInFlight.Record(w.ovsOps, res, time.Now())
				d.mu.Unlock()
			}
		}
		if sendSB {
			d.log.Debug("transact", "db", "OVN_Southbound", "ops", sbKey)
			sent := time.Now()
			if _, sbErr = sbC.Transact(ctx, "OVN_Southbound", w.sbOps...); sbErr != nil {
				d.log.Warn("transact", "db", "OVN_Southbound", "err", sbErr)
			} else if len(w.traceClaims) > 0 {
				acked := time.Now()
				d.mu.Lock()
				d.trace.claim(w.traceClaims, sent, acked)
				d.mu.Unlock()
			}
		}
		for _, t := range w.ctrlTxns {
			if len(t.ops) == 0 || sbC == nil {
				continue
			}
			if _, err := sbC.Transact(ctx, "OVN_Southbound", t.ops...); err != nil {
				d.log.Debug("write "+t.what, "err", err)
			}
		}
	}()
	defer func() {
		<-txDone
		switch {
		case sendSB && sbErr == nil:
			d.sbSent, d.sbSentAt = sbKey, time.Now()
		case sendSB:
			d.sbSent = ""
		}
		if ovsErr != nil && ctx.Err() == nil {
			// Plan again soon from a fresh replica (the zones the
			// failed transaction carried are read back from it); the
			// flows of this round do not wait for that.
			d.zonesRead = false
			time.AfterFunc(100*time.Millisecond, d.wake)
		}
	}()
	// The zone writes go with the ovn-installed marks below, or, when
	// this round installs no flows, as the round ends.
	zoneOps := w.zoneOps
	defer func() {
		if len(zoneOps) > 0 {
			d.transactOVS(ctx, zoneOps, "write conntrack zones")
		}
	}()
	if !w.ready {
		return
	}
	if w.hold {
		d.log.Debug("flow installation held for a monitor condition change")
		return
	}
	if !d.pinctrlStarted {
		d.pinctrlStarted = true
		go d.runController(ctx, "unix:"+d.opts.OVSRundir+"/"+w.bridge+".mgmt")
		go d.runReinjector(ctx, "unix:"+d.opts.OVSRundir+"/"+w.bridge+".mgmt")
	}
	flowsSent := time.Now()
	installs0 := d.Stats.Installs
	if err := d.installRejecting(ctx, w); err != nil {
		d.logOnce("install", "install flows", "err", err)
		d.needFull = true
		return
	}
	d.reinject.setReady(w.readyPorts)
	if len(w.tracePorts) > 0 {
		acked := time.Now()
		d.mu.Lock()
		d.trace.flows(w.tracePorts, flowsSent, acked)
		d.mu.Unlock()
	}
	d.logMu.Lock()
	delete(d.lastLog, "install")
	d.logMu.Unlock()
	<-txDone
	if sendSB && sbErr == nil {
		claimsSent = true
	}
	// The flows of the wanted ports are installed (the bundle is
	// committed and acknowledged): now they are up, as ovn-controller
	// reports them only after installing their flows.
	if sbC != nil {
		var justClaimed map[string]bool
		if claimsSent {
			justClaimed = w.claimed
		}
		d.mu.Lock()
		up := plan.MarkUp(d.sb, w.chassis, w.wanted, justClaimed)
		d.mu.Unlock()
		if len(up) > 0 {
			if _, err := sbC.Transact(ctx, "OVN_Southbound", up...); err != nil {
				d.log.Warn("set ports up", "err", err)
			}
		}
	}
	// Tell the cloud management system, as ovn-controller(8) does: the
	// interfaces whose flows ovs-vswitchd has now processed carry
	// external_ids:ovn-installed=true (and -ts); released ones lose it.
	// plan.Installed visits every interface of the bridge: only when
	// the flows, the wanted ports or the interfaces changed since it last
	// ran, or its transaction failed.
	var inst []ovsdb.Operation
	d.mu.Lock()
	ifaceAt := d.ifaceUpdateAt
	if d.installedDirty || d.Stats.Installs != installs0 || !ifaceAt.Equal(d.installedIfaceAt) || !maps.Equal(w.wanted, d.installedWanted) {
		inst = plan.Installed(d.ovs, d.sb, w.bridge, w.wanted, time.Now().UnixMilli())
		d.installedDirty, d.installedIfaceAt, d.installedWanted = false, ifaceAt, w.wanted
	}
	d.mu.Unlock()
	if len(inst) > 0 || len(zoneOps) > 0 {
		d.transactOVS(ctx, append(zoneOps, inst...), "mark interfaces ovn-installed")
		zoneOps = nil
	}
	if d.opts.TracePortUp {
		d.logTraces()
	}
	if len(w.sbOps) == 0 && sbC != nil {
		d.mu.Lock()
		ack := plan.AckNbCfg(d.sb, d.cfg.SystemID, w.nbCfg, time.Now().UnixMilli())
		d.mu.Unlock()
		if len(ack) > 0 {
			if _, err := sbC.Transact(ctx, "OVN_Southbound", ack...); err != nil {
				d.log.Warn("acknowledge nb_cfg", "err", err)
			}
		}
	}
}

// transactOVS sends ops to the Open_vSwitch database. After a failure
// the zones are read back from the replica and the daemon plans again
// soon (the zones a failed transaction carried were not written).
func (d *daemon) transactOVS(ctx context.Context, ops []ovsdb.Operation, what string) {
	if _, err := d.ovsC.Transact(ctx, "Open_vSwitch", ops...); err != nil {
		d.log.Warn(what, "err", err)
		if ctx.Err() == nil {
			d.zonesRead, d.installedDirty = false, true
			time.AfterFunc(100*time.Millisecond, d.wake)
		}
	}
}

// installRejecting installs w, leaving out, one at a time, the flows the
// switch rejects (a flow our compiler got wrong must not keep every
// other flow out). Rejected flows are logged once and retried when they
// change.
func (d *daemon) installRejecting(ctx context.Context, w work) error {
	if d.rejected == nil {
		d.rejected = map[string]string{}
	}
	for k, a := range d.rejected {
		if f, ok := w.desired[k]; !ok || f.Actions != a {
			delete(d.rejected, k)
		}
	}
	for attempt := 0; ; attempt++ {
		desired := w.desired
		if len(d.rejected) > 0 {
			desired = make(map[string]flowtable.Flow, len(w.desired))
			for k, f := range w.desired {
				if _, bad := d.rejected[k]; !bad {
					desired[k] = f
				}
			}
		}
		w2 := w
		w2.desired = desired
		err := d.install(ctx, w2)
		if err == nil || attempt >= 200 {
			return err
		}
		var f flowtable.Flow
		var cause error
		var le *ofctl.LineError
		var re *ofinstall.RejectedError
		switch {
		case errors.As(err, &le):
			pf, ok := flowtable.ParseLine(le.Text)
			if !ok {
				return err
			}
			f, cause = pf, le.Err
		case errors.As(err, &re):
			f, cause = re.Flow, re.Err
		default:
			return err
		}
		if _, known := w.desired[f.Key()]; !known {
			return err
		}
		d.rejected[f.Key()] = w.desired[f.Key()].Actions
		d.log.Error("switch rejected flow; leaving it out", "flow", w.desired[f.Key()].String(), "err", cause)
		if !d.needFull {
			// The failed bundle changed nothing; retry the same diff.
			continue
		}
	}
}

func (d *daemon) install(ctx context.Context, w work) error {
	target := "unix:" + d.opts.OVSRundir + "/" + w.bridge + ".mgmt"
	sw := ofctl.Switch{Target: target, Program: d.opts.Ofctl}
	if d.opts.OfctlFlows {
		return d.installOfctl(ctx, sw, w)
	}
	if d.ofc != nil && d.ofcTarget != target {
		d.ofc.Close()
		d.ofc = nil
		d.ofcTarget = ""
	}
	for attempt := 0; ; attempt++ {
		if d.ofc == nil {
			c, err := ofinstall.Dial(ctx, target)
			if err != nil {
				return err
			}
			// A new connection may face a new switch (restarted or
			// re-created bridge): map the TLV and replay everything.
			d.needFull, d.tlvDone = true, false
			d.ofc, d.ofcTarget = c, target
		}
		err := d.installNative(ctx, sw, w)
		if !ofinstall.IsConnError(err) || ctx.Err() != nil {
			return err
		}
		// The connection broke (idle close, restarted switch): redial
		// once and try again within this round.
		d.ofc.Close()
		d.ofc = nil
		if attempt > 0 {
			return err
		}
		d.log.Debug("flow connection lost; redialling", "target", target, "err", err)
	}
}

func (d *daemon) installNative(ctx context.Context, sw ofctl.Switch, w work) error {
	if !d.tlvDone {
		if err := d.ofc.EnsureGeneveTLV(ctx); err != nil {
			return err
		}
		d.tlvDone = true
	}
	if err := d.syncGroupsMeters(ctx, sw, w); err != nil {
		return err
	}
	if !d.needFull && time.Since(d.lastFull) > d.opts.Resync {
		// The periodic check: the switch must hold exactly the flows
		// installed under our cookie. Flows lost or added behind our
		// back (a restarted switch we did not notice, an operator's
		// del-flows) are replaced; otherwise nothing is resent.
		n, err := d.ofc.FlowCount(ctx, d.cookie)
		if err != nil {
			return err
		}
		if n == len(d.installed) {
			d.lastFull = time.Now()
		} else {
			d.log.Info("switch flows differ from the installed set; replacing", "switch", n, "installed", len(d.installed))
			d.needFull = true
		}
	}
	if d.needFull {
		t0 := time.Now()
		if err := d.ofc.Replace(ctx, w.desired, d.cookie); err != nil {
			return err
		}
		d.opts.Metrics.installed("full", t0, len(w.desired))
		d.installed = w.desired
		d.needFull = false
		d.lastFull = time.Now()
		d.Stats.Installs++
		d.log.Info("flows replaced", "flows", len(w.desired))
		return nil
	}
	if sameMap(d.installed, w.desired) {
		// The table returns the very map it returned before when
		// nothing changed: nothing to compare.
		return nil
	}
	ops := flowtable.Diff(d.installed, w.desired)
	if len(ops) == 0 {
		return nil
	}
	t0 := time.Now()
	if err := d.ofc.Apply(ctx, ops, d.cookie); err != nil {
		return err
	}
	d.opts.Metrics.installed("incremental", t0, len(w.desired))
	d.installed = w.desired
	d.Stats.Installs++
	d.log.Debug("flows updated", "mods", len(ops), "flows", len(w.desired))
	return nil
}

// sameMap reports whether a and b are the same map (not merely equal).
func sameMap(a, b map[string]flowtable.Flow) bool {
	return a != nil && b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// installOfctl is the ovs-ofctl fallback (Options.OfctlFlows).
func (d *daemon) installOfctl(ctx context.Context, sw ofctl.Switch, w work) error {
	if !d.tlvDone {
		if err := sw.EnsureGeneveTLV(ctx); err != nil {
			return err
		}
		d.tlvDone = true
	}
	if err := d.syncGroupsMeters(ctx, sw, w); err != nil {
		return err
	}
	if d.needFull || time.Since(d.lastFull) > d.opts.Resync {
		t0 := time.Now()
		if err := sw.Replace(ctx, w.desired, d.cookie); err != nil {
			return err
		}
		d.opts.Metrics.installed("full", t0, len(w.desired))
		d.installed = w.desired
		d.needFull = false
		d.lastFull = time.Now()
		d.Stats.Installs++
		d.log.Info("flows replaced", "flows", len(w.desired))
		return nil
	}
	ops := flowtable.Diff(d.installed, w.desired)
	if len(ops) == 0 {
		return nil
	}
	t0 := time.Now()
	if err := sw.Apply(ctx, ops, d.cookie); err != nil {
		return err
	}
	d.opts.Metrics.installed("incremental", t0, len(w.desired))
	d.installed = w.desired
	d.Stats.Installs++
	d.log.Debug("flows updated", "mods", len(ops), "flows", len(w.desired))
	return nil
}

// syncGroupsMeters adds or changes the groups and meters the flows use
// (meters over the flow connection, groups through ovs-ofctl: OVS's
// select-group selection_method has no OpenFlow 1.3 encoding here yet)
// before the flows are installed. Unused ones are left in place: ids are
// stable per description, so they cost nothing and may come back.
func (d *daemon) syncGroupsMeters(ctx context.Context, sw ofctl.Switch, w work) error {
	if d.needFull {
		d.groups, d.meters = nil, nil
	}
	for id, desc := range w.meters {
		if old, ok := d.meters[id]; ok && old == desc {
			continue
		}
		setMeter := sw.SetMeter
		if d.ofc != nil && !d.opts.OfctlFlows {
			setMeter = d.ofc.SetMeter
		}
		if err := setMeter(ctx, id, desc); err != nil {
			return err
		}
		if d.meters == nil {
			d.meters = map[uint32]string{}
		}
		d.meters[id] = desc
	}
	for id, desc := range w.groups {
		if old, ok := d.groups[id]; ok && old == desc {
			continue
		}
		if err := sw.SetGroup(ctx, id, desc); err != nil {
			return err
		}
		if d.groups == nil {
			d.groups = map[uint32]string{}
		}
		d.groups[id] = desc
	}
	return nil
}

func rootRow(ovs *replica.DB) ovsdb.Row {
	for _, r := range ovs.Table("Open_vSwitch") {
		return r
	}
	return nil
}

func (d *daemon) decideLocked(ctx context.Context) (work, error) {
	var w work
	if d.applyErr != nil {
		err := d.applyErr
		d.applyErr = nil
		d.log.Warn("apply update", "err", err)
	}
	root := rootRow(d.ovs)
	if root == nil {
		return w, errors.New("no Open_vSwitch row")
	}
	cfg := config.FromExternalIDs(replica.Map(root, "external_ids")).Merge(d.opts.Override).WithDefaults()
	if err := cfg.Validate(); err != nil {
		return w, err
	}
	if d.cfg.Remote != "" && d.cfg.Remote != cfg.Remote {
		d.logOnce("remote", "ovn-remote changed; restart the chassis to use it", "old", d.cfg.Remote, "new", cfg.Remote)
		cfg.Remote = d.cfg.Remote
	}
	d.cfg = cfg
	w.bridge = cfg.Bridge
	ovsPending := d.ovsInFlight.Pending(d.ovs, time.Now())
	if ops := plan.EnsureBridge(d.ovs, cfg); len(ops) > 0 {
		if ovsPending {
			return w, nil
		}
		d.log.Info("creating integration bridge", "bridge", cfg.Bridge)
		w.ovsOps = ops
		return w, nil
	}
	if d.sbC == nil && !d.dialing {
		d.dialing = true
		go d.dialSB(ctx, cfg.Remote)
	}
	if !d.sbReady {
		return w, nil
	}
	if cfg.EncapIP == "" {
		if d.derivedIP == "" {
			a, err := hostnet.DefaultAddr()
			if err != nil {
				return w, fmt.Errorf("ovn-encap-ip is not set and could not be derived: %w", err)
			}
			d.derivedIP = a.String()
			d.log.Info("tunnel address from the default route", "encap_ip", d.derivedIP)
		}
		cfg.EncapIP = d.derivedIP
		d.cfg = cfg
	}
	if d.mtuChecked != cfg.EncapIP {
		d.mtuChecked = cfg.EncapIP
		if a, err := netip.ParseAddr(cfg.EncapIP); err == nil {
			if dev, mtu, err := hostnet.MTUOf(a); err == nil {
				inner := hostnet.TunnelPayloadMTU(mtu, cfg.EncapTypes[0])
				d.log.Info("tunnel MTU", "device", dev, "mtu", mtu, "inner_max", inner)
				if inner < 1500 {
					d.log.Warn("VM interfaces need an MTU at most inner_max (or a larger underlay MTU); larger packets are dropped",
						"device", dev, "inner_max", inner)
				}
			} else {
				d.log.Debug("tunnel MTU", "err", err)
			}
		}
	}
	w.stages.start(d.opts.TracePortUp)
	// Everything below the configuration is a function of the replicas,
	// the configuration and ovsPending (and, for the flows, the zones):
	// while none of them changed (a tick, the wake of an answered
	// condition change, an echo), the last round's results stand.
	// A plan is made again at least once a second all the same (the
	// rounds of a burst share one): the fresh-clone CI twice saw a
	// chassis keep a stale plan for minutes under load (nb_cfg never
	// acknowledged; a port never claimed), cause not found.
	p := d.last
	stale := p != nil && time.Since(p.at) > time.Second
	if p == nil || stale || p.gen != d.inGen || p.ovsGen != d.ovsGen || p.ovsPending != ovsPending || !reflect.DeepEqual(p.cfg, cfg) {
		p = d.planLocked(ctx, cfg, ovsPending)
	}
	w.stages.mark("local")
	w.sbOps = append(slices.Clone(p.register), p.claims...)
	w.wanted, w.chassis, w.claimed = p.wanted, p.chUUID, p.claimed
	w.ctrlTxns = d.controllerTxnsLocked()
	if d.pinDirty || d.pin == nil {
		d.pin = pinInput(d.sb)
		d.pinDirty = false
		select {
		case d.pinNotifyLocked() <- struct{}{}:
		default:
		}
	}
	if !ovsPending {
		w.ovsOps = p.ovsOps
	}

	// Conntrack zones, kept in the bridge's external_ids across restarts.
	// While an insert is in flight the assignment is recomputed from the
	// same base next round (it is deterministic), so the flows use the
	// zones that will be written.
	if !d.zonesRead {
		d.zones = readZones(d.ovs, cfg.Bridge)
		d.zonesRead = true
	}
	// The assignment is a function of the plan's zone users and d.zones:
	// computed again only when either changed.
	m := d.zoneMemo
	if m.p != p || m.base == nil || reflect.ValueOf(m.base).UnsafePointer() != reflect.ValueOf(d.zones).UnsafePointer() {
		m.p, m.base = p, d.zones
		m.zones, m.changed = plan.AssignZones(d.zones, p.zoneNames)
		d.zoneMemo = m
	}
	zones, changed := m.zones, m.changed
	if changed && !ovsPending {
		w.zoneOps = zoneOps(d.ovs, cfg.Bridge, d.zones, zones)
		d.zones = zones
	}
	w.stages.mark("ovsops")
	if p.flows == nil || !maps.Equal(p.flows.zones, zones) {
		d.flowsLocked(p, zones, &w.stages)
	}
	f := p.flows
	w.groups, w.meters, w.readyPorts = f.groups, f.meters, f.readyPorts
	d.Stats.CompileErrors = f.compileErrors
	d.opts.Metrics.waitingInterfaces(len(f.in.Waiting))
	d.Stats.FlowsDesired = len(f.desired)
	d.opts.Metrics.decided(len(f.desired), f.compileErrors, len(p.wanted), len(p.localDPs), p.tunnels, d.sbReady)
	w.desired = f.desired
	w.nbCfg = plan.NbCfg(d.sb)
	w.ready = true
	if d.opts.TracePortUp {
		d.traceLocked(&w, p.ifaces, f.in)
		if w.traceNew {
			d.log.Info("port-up round", "stages", w.stages.String())
		}
	}
	if !d.condPendingSince.IsZero() && time.Since(d.condPendingSince) < time.Second {
		w.hold = true
	}
	return w, nil
}

// planned is what a round derives from the replicas and the
// configuration: reused by the rounds after it while the replicas saw no
// update that wakes a round (daemon.inGen), the configuration and
// ovsPending are the same. Its maps and slices are never modified.
type planned struct {
	gen        uint64
	ovsGen     uint64
	cfg        config.Config
	ovsPending bool
	at         time.Time // when it was made

	register, claims []ovsdb.Operation
	ovsOps           []ovsdb.Operation // SyncPorts' answer, when !ovsPending
	chUUID           string
	ifaces           map[string]plan.Iface
	tunnels          map[string]plan.TunnelState
	localnet         map[string]int
	gws              plan.Gateways
	wanted, claimed  map[string]bool
	localDPs         map[string]bool
	zoneNames        []string
	flows            *plannedFlows // nil until computed for some zones
}

// zoneMemo is the last zone assignment: for plan p from base (d.zones
// then).
type zoneMemo struct {
	p       *planned
	base    map[string]uint16
	zones   map[string]uint16
	changed bool
}

// ovsView is what the plan reads of the integration bridge, kept while
// the Open_vSwitch replica saw no update that wakes a round.
type ovsView struct {
	gen      uint64
	bridge   string
	ifaces   map[string]plan.Iface
	tunnels  map[string]plan.TunnelState
	localnet map[string]int
}

// plannedFlows are the desired flows of a planned for one zone
// assignment.
type plannedFlows struct {
	zones         map[string]uint16
	in            physical.Input
	desired       map[string]flowtable.Flow
	groups        map[uint32]string
	meters        map[uint32]string
	readyPorts    map[uint32]bool
	compileErrors int
}

// planLocked decides bindings, gateways, tunnels and local datapaths from
// the replicas, and updates the monitor conditions; it becomes d.last.
func (d *daemon) planLocked(ctx context.Context, cfg config.Config, ovsPending bool) *planned {
	p := &planned{gen: d.inGen, ovsGen: d.ovsGen, cfg: cfg, ovsPending: ovsPending, at: time.Now()}
	me := cfg.SystemID
	p.register = plan.Register(d.sb, plan.DesiredChassis(cfg, d.opts.Hostname))
	p.chUUID = plan.ChassisUUID(d.sb, me)

	if v := d.ovsView; v == nil || v.gen != d.ovsGen || v.bridge != cfg.Bridge {
		d.ovsView = &ovsView{gen: d.ovsGen, bridge: cfg.Bridge, ifaces: plan.LocalIfaces(d.ovs, cfg.Bridge),
			tunnels: plan.TunnelPorts(d.ovs, cfg.Bridge), localnet: plan.LocalnetOFPorts(d.ovs, cfg.Bridge)}
	}
	ifaces, tunnels := d.ovsView.ifaces, d.ovsView.tunnels
	p.localnet = d.ovsView.localnet
	alive := func(ch string) bool {
		t, ok := tunnels[ch]
		if !ok {
			return false
		}
		if t.BFDEnabled {
			return t.BFDUp
		}
		return plan.ChassisUUID(d.sb, ch) != ""
	}
	gws := plan.DecideGateways(d.sb, me, alive)
	wanted := plan.Wanted(d.sb, me, ifaces, gws.Active)
	seeds := map[string]bool{}
	for u := range wanted {
		seeds[u] = true
	}
	for cr, members := range gws.Members {
		for _, m := range members {
			if m == me {
				seeds[cr] = true
			}
		}
	}
	localDPs := plan.LocalDatapaths(d.sb, seeds)
	p.claims = plan.Claims(d.sb, p.chUUID, wanted)
	p.claimed = map[string]bool{}
	for _, op := range p.claims {
		if u, ok := op.Where[0].Value.(ovsdb.UUID); ok && wanted[u.GoUUID] {
			p.claimed[u.GoUUID] = true
		}
	}
	p.ifaces, p.tunnels, p.gws, p.wanted, p.localDPs = ifaces, tunnels, gws, wanted, localDPs

	bfdPeers := gws.Peers
	if gws.Gateway {
		// A gateway runs BFD towards every chassis so both ends agree.
		bfdPeers = map[string]bool{}
		for _, r := range d.sb.Table("Chassis") {
			bfdPeers[replica.Str(r, "name")] = true
		}
	}
	var needed map[string]bool
	if !d.opts.FullMesh {
		needed = plan.NeededChassis(d.sb, me, cfg.Site, localDPs, gws)
	}
	specs := plan.Tunnels(d.sb, cfg, needed, bfdPeers, d.opts.BFDMinRx, d.opts.BFDMinTx)
	specs = append(specs, plan.LocalnetPatches(d.sb, cfg, localDPs)...)
	if !ovsPending {
		p.ovsOps = plan.SyncPorts(d.ovs, specs, plan.KeyChassisID, plan.KeyLocalnetPort)
	}
	p.zoneNames = plan.ZoneNames(d.sb, localDPs, ifaces)
	d.updateConditionLocked(ctx, localDPs, ifaces)
	d.last = p
	return p
}

// flowsLocked compiles p's physical and logical flows for zones into the
// desired table and sets p.flows.
func (d *daemon) flowsLocked(p *planned, zones map[string]uint16, stages *stages) {
	in := plan.Physical(plan.PhysInput{Me: p.cfg.SystemID, SB: d.sb, LocalDPs: p.localDPs, Ifaces: p.ifaces, Tunnels: p.tunnels,
		Localnet: p.localnet, Gateways: p.gws, Zones: zones})
	if d.desiredTab == nil {
		d.desiredTab = flowtable.NewDesired()
	}
	tab := d.desiredTab
	// Physical flows: only the owners whose inputs changed are generated
	// again; the others keep their slices, which the table recognises
	// without comparing flows.
	stages.mark("physin")
	physOut := d.phys.Generate(in)
	stages.mark("physical")
	for owner, fs := range physOut {
		tab.Set(owner, fs)
	}
	stages.mark("set")
	lf := d.compiler.Compile(lflows.Input{SB: d.sb, Physical: in, LocalDPs: p.localDPs, Changed: d.sb.TakeChanged()})
	stages.mark("compile")
	for _, e := range lf.Errors {
		d.log.Debug("logical flow not compiled", "err", e)
	}
	for owner, fs := range lf.Flows {
		tab.Set(owner, fs)
	}
	f := &plannedFlows{zones: zones, in: in, groups: lf.Groups, meters: lf.Meters, compileErrors: len(lf.Errors)}
	if len(in.Waiting) > 0 {
		f.meters = maps.Clone(lf.Meters)
		if f.meters == nil {
			f.meters = map[uint32]string{}
		}
		f.meters[physical.PuntMeterID] = physical.PuntMeter
	}
	f.readyPorts = map[uint32]bool{}
	for _, p := range in.Ports {
		if p.OFPort > 0 && p.Chassis == in.Chassis {
			f.readyPorts[uint32(p.OFPort)] = true
		}
	}
	// The aggregation copies what it keeps: it may read the table's own
	// map.
	finish := tab.Finish
	if !d.opts.PerDatapathFlows {
		finish = tab.FinishView
	}
	desired, conflicts := finish()
	stages.mark("finish")
	if !d.opts.PerDatapathFlows {
		if d.agg == nil {
			d.agg = flowtable.NewAggregator()
		}
		localKeys := make(map[uint32]bool, len(in.Datapaths))
		for _, dp := range in.Datapaths {
			localKeys[dp.Key] = true
		}
		if tab.Changed() || d.aggOut == nil || !maps.Equal(localKeys, d.aggLocal) {
			d.aggOut, d.aggLocal = d.agg.Update(desired, localKeys, tab.ChangedKeys()), localKeys
		}
		desired = d.aggOut
	}
	stages.mark("aggregate")
	for _, c := range conflicts {
		d.log.Debug("flow conflict", "flow", c)
	}
	f.desired = desired
	p.flows = f
}

// updateConditionLocked narrows the southbound monitor to what the local
// datapaths need (monitor_cond_change), as ovn-controller does with
// monitor-all=false.
func (d *daemon) updateConditionLocked(ctx context.Context, localDPs map[string]bool, ifaces map[string]plan.Iface) {
	if d.sbMon == nil {
		return
	}
	// The conditions follow from the local datapaths, the local
	// iface-ids and this chassis's row: skip building them (and their
	// JSON key) while those are unchanged.
	var in strings.Builder
	for _, dp := range plan.SortedKeys(localDPs) {
		in.WriteString(dp)
		in.WriteByte(',')
	}
	in.WriteByte('|')
	ids := make([]string, 0, len(ifaces))
	for id := range ifaces {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		in.WriteString(id)
		in.WriteByte(',')
	}
	in.WriteByte('|')
	in.WriteString(plan.ChassisUUID(d.sb, d.cfg.SystemID))
	if in.String() == d.condIn {
		return
	}
	d.condIn = in.String()
	conds := plan.Conditions(d.sb, d.cfg.SystemID, localDPs, ifaces)
	key := conds.Key()
	if key == d.cond {
		return
	}
	d.cond = key
	// A datapath that just became local has no logical flows here yet:
	// hold flow installation until the server answered the condition
	// change (its rows come first), so the switch never runs half a
	// pipeline and the flows go out in one bundle.
	grew := false
	for dp := range localDPs {
		if !d.condDPs[dp] {
			grew = true
		}
	}
	d.condDPs = localDPs
	mon := d.sbMon
	reqs := map[string]client.MonitorRequest{}
	for t, w := range conds {
		reqs[t] = client.MonitorRequest{Where: w}
	}
	d.condGen++
	d.condReqs = reqs
	if grew {
		d.condPendingSince = time.Now()
	}
	if !d.condSending {
		d.condSending = true
		go d.sendConditions(ctx, mon)
	}
}

// sendConditions sends the newest monitor condition until the one last
// answered is the newest. Each request replaces the whole condition, so
// only the order matters: one request in flight at a time, and those
// superseded meanwhile are skipped.
func (d *daemon) sendConditions(ctx context.Context, mon *client.Monitor) {
	sent := 0
	for {
		d.mu.Lock()
		if sent == d.condGen || ctx.Err() != nil {
			d.condSending = false
			d.mu.Unlock()
			return
		}
		gen, reqs := d.condGen, d.condReqs
		d.mu.Unlock()
		if err := mon.Change(ctx, reqs); err != nil {
			d.log.Warn("monitor_cond_change", "db", "OVN_Southbound", "err", err)
		}
		sent = gen
		d.mu.Lock()
		if d.condGen == gen {
			d.condPendingSince = time.Time{}
		}
		d.mu.Unlock()
		d.wake()
	}
}

func (d *daemon) writeHeapProfile() {
	f, err := os.Create(d.opts.HeapProfile)
	if err != nil {
		d.log.Error("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		d.log.Error("heap profile", "path", d.opts.HeapProfile, "err", err)
	}
}

func readZones(ovs *replica.DB, bridge string) map[string]uint16 {
	out := map[string]uint16{}
	for _, br := range ovs.Table("Bridge") {
		if replica.Str(br, "name") != bridge {
			continue
		}
		for k, v := range replica.Map(br, "external_ids") {
			if name, ok := strings.CutPrefix(k, "ct-zone-"); ok {
				if z, err := strconv.Atoi(v); err == nil && z > 0 && z < 65536 {
					out[name] = uint16(z)
				}
			}
		}
	}
	return out
}

func zoneOps(ovs *replica.DB, bridge string, old, cur map[string]uint16) []ovsdb.Operation {
	var buuid string
	for u, br := range ovs.Table("Bridge") {
		if replica.Str(br, "name") == bridge {
			buuid = u
		}
	}
	if buuid == "" {
		return nil
	}
	var del []any
	ins := map[any]any{}
	var keys []string
	for k := range old {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cur[k] != old[k] {
			del = append(del, "ct-zone-"+k)
		}
	}
	for k, z := range cur {
		if old[k] != z {
			ins["ct-zone-"+k] = strconv.Itoa(int(z))
		}
	}
	w := []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: buuid}}}
	var muts []ovsdb.Mutation
	if len(del) > 0 {
		muts = append(muts, ovsdb.Mutation{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: del}})
	}
	if len(ins) > 0 {
		muts = append(muts, ovsdb.Mutation{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: ins}})
	}
	if len(muts) == 0 {
		return nil
	}
	return []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Bridge", Where: w, Mutations: muts}}
}

func (d *daemon) shutdown() {
	if d.opts.HeapProfile != "" {
		d.writeHeapProfile()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	d.mu.Lock()
	sbC := d.sbC
	var ops []ovsdb.Operation
	keep := d.opts.KeepRegistration
	if d.opts.KeepOnExit != nil {
		keep = d.opts.KeepOnExit()
	}
	if sbC != nil && !keep && d.cfg.SystemID != "" && d.sb != nil {
		ops = append(plan.Claims(d.sb, plan.ChassisUUID(d.sb, d.cfg.SystemID), nil), plan.Unregister(d.cfg.SystemID)...)
	}
	d.mu.Unlock()
	if len(ops) > 0 {
		if _, err := sbC.Transact(ctx, "OVN_Southbound", ops...); err != nil {
			d.log.Warn("unregister", "chassis", d.cfg.SystemID, "err", err)
		} else {
			d.log.Info("unregistered", "chassis", d.cfg.SystemID)
		}
	}
	if sbC != nil {
		sbC.Close()
	}
	if d.ofc != nil {
		d.ofc.Close()
	}
}
