package lflows

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/chassis/flowtable"
	"hcnet/chassis/physical"
	"hcnet/chassis/replica"
	"hcnet/internal/lflow"
	"hcnet/internal/openflow"
)

// Input is what a compilation reads.
type Input struct {
	SB       *replica.DB
	Physical physical.Input
	LocalDPs map[string]bool
	// Changed are the SB rows (table -> UUIDs) changed since the previous
	// Compile of the same SB replica (replica.DB.TakeChanged). With it, a
	// round where the local datapaths, their keys and the shared lookups
	// are unchanged revisits only the changed logical flows and those of
	// datapaths whose ports changed. Nil: revisit every flow.
	Changed map[string]map[string]struct{}
}

// Output is a compilation's result.
type Output struct {
	// Flows by Logical_Flow UUID. The map is the compiler's own: valid
	// until the next Compile, never to be modified.
	Flows map[string][]flowtable.Flow
	// Groups are the OpenFlow groups the flows use, by id, in ovs-ofctl
	// syntax without group_id.
	Groups map[uint32]string
	// Meters are the OpenFlow meters the flows use, by id, in ovs-ofctl
	// syntax without meter=ID.
	Meters map[uint32]string
	// Errors are the flows that did not compile.
	Errors []error
}

type cacheKey struct {
	uuid, dp string
}

type cacheEntry struct {
	gen   string
	flows []flowtable.Flow
	err   error
	// env, res and version short-cut the fingerprint: while the
	// datapath's whole environment, the chassis's residence and the row
	// are unchanged, so is the result.
	env     uint64
	res     uint64
	version string
}

// Compiler compiles logical flows, caching results between rounds. The
// cache is invalidated per datapath when anything a flow of that datapath
// may look up changes (ports, groups, residence, sets, meters).
type Compiler struct {
	cache map[cacheKey]cacheEntry
	// groups assigns stable ids to group descriptions.
	groups  map[string]uint32
	nextGrp uint32
	// meters assigns stable ids to meter names (SB Meter rows and
	// set_meter rate limits); meterSpec holds their ovs-ofctl bands.
	meters    map[string]uint32
	meterSpec map[uint32]string
	nextMeter uint32
	// refs caches the names each flow text mentions.
	refs map[string]refs
	// Compiled counts compilations (cache misses), for tests and
	// benchmarks; Visited counts logical flows looked at.
	Compiled, Visited int

	// The previous round, for incremental rounds over the same replica.
	sb         *replica.DB
	shared     uint64
	resident   map[string]bool // ports resident here, and their hash
	resHash    uint64
	envHash    map[string]uint64 // local datapath -> its environment's hash
	dpKeys     map[string]uint32 // local datapath -> tunnel key
	addrSets   map[string][]string
	portGroups map[string][]string
	meterGen   string
	// templates are this chassis's template variables
	// (Chassis_Template_Var), templateGen their text form.
	templates   map[string]string
	templateGen string
	out         map[string][]flowtable.Flow // by Logical_Flow UUID
	errs        map[string][]error          // by Logical_Flow UUID
	lfDPs       map[string][]string         // Logical_Flow -> the local datapaths it compiled for
	byDP        map[string]map[string]struct{}
	curRes      uint64 // residence hash of the round being compiled
}

// New returns a Compiler.
func New() *Compiler {
	return &Compiler{cache: map[cacheKey]cacheEntry{}, groups: map[string]uint32{}, nextGrp: 1,
		meters: map[string]uint32{}, meterSpec: map[uint32]string{}, nextMeter: 1, refs: map[string]refs{}}
}

// dpEnv is the lookup environment of one datapath.
type dpEnv struct {
	key    uint32
	router bool
	ports  map[string]uint32
	local  map[string]bool
	hash   uint64 // of everything above plus the shared lookups
}

// envHash hashes the datapath's environment and the shared lookups.
func (e *dpEnv) envHash(shared uint64) uint64 {
	names := make([]string, 0, len(e.ports))
	for n := range e.ports {
		names = append(names, n)
	}
	sort.Strings(names)
	h := fnv.New64a()
	var buf []byte
	buf = strconv.AppendUint(buf, uint64(e.key), 10)
	buf = strconv.AppendBool(buf, e.router)
	buf = strconv.AppendUint(buf, shared, 16)
	for _, n := range names {
		buf = append(buf, n...)
		buf = append(buf, '=')
		buf = strconv.AppendUint(buf, uint64(e.ports[n]), 10)
		buf = append(buf, ';')
	}
	h.Write(buf)
	return h.Sum64()
}

// residenceHash hashes the names of the ports resident here.
func residenceHash(resident map[string]bool) uint64 {
	names := make([]string, 0, len(resident))
	for n := range resident {
		names = append(names, n)
	}
	sort.Strings(names)
	h := fnv.New64a()
	var buf []byte
	for _, n := range names {
		buf = append(buf, n...)
		buf = append(buf, ';')
	}
	h.Write(buf)
	return h.Sum64()
}

// sharedHash hashes what every datapath's flows may read besides their
// own ports and residence: address sets, port groups, meters.
// Residence is apart: a port bound here revisits only the flows that
// name it (see Compile).
func sharedHash(sb *replica.DB, meterGen string) uint64 {
	h := fnv.New64a()
	var buf []byte
	for _, t := range []string{"Address_Set", "Port_Group"} {
		for _, r := range sb.Sorted(t) {
			buf = append(buf, t...)
			buf = append(buf, replica.UUID(r)...)
			buf = append(buf, rowVersion(r)...)
		}
	}
	buf = append(buf, meterGen...)
	h.Write(buf)
	return h.Sum64()
}

// rowVersion is a row's _version, or its content when the server sends
// none.
func rowVersion(r ovsdb.Row) string {
	if v := replica.Ref(r, "_version"); v != "" {
		return v
	}
	return fmt.Sprint(r)
}

// refs are the names a logical flow's text mentions: quoted strings (port
// and multicast group names), $address_sets and @port_groups. A cached
// compilation stays valid while what these names resolve to is unchanged.
type refs struct {
	names, sets, groups []string
}

var (
	reQuoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	reSet    = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_.]*)`)
	reGroup  = regexp.MustCompile(`@([A-Za-z_0-9][A-Za-z0-9_.:-]*)`)
)

func extractRefs(text string) refs {
	var r refs
	for _, m := range reQuoted.FindAllStringSubmatch(text, -1) {
		r.names = append(r.names, m[1])
	}
	for _, m := range reSet.FindAllStringSubmatch(text, -1) {
		r.sets = append(r.sets, m[1])
	}
	for _, m := range reGroup.FindAllStringSubmatch(text, -1) {
		r.groups = append(r.groups, m[1])
	}
	return r
}

// changedAny reports whether any of tables has a changed row.
func changedAny(ch map[string]map[string]struct{}, tables ...string) bool {
	for _, t := range tables {
		if len(ch[t]) > 0 {
			return true
		}
	}
	return false
}

// Compile returns the flows of every Logical_Flow of the local datapaths.
func (c *Compiler) Compile(in Input) Output {
	sb := in.SB
	// Lookups shared by every datapath: rebuilt when their tables
	// changed (or nothing says what changed).
	fresh := in.Changed == nil || sb != c.sb
	if fresh || changedAny(in.Changed, "Meter", "Meter_Band") {
		c.meterGen = ""
		specs := meterSpecs(sb)
		names := make([]string, 0, len(specs))
		for name := range specs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			c.meterSpec[c.meterID(name)] = specs[name]
			c.meterGen += name + "=" + specs[name] + ";"
		}
	}
	// $svc_monitor_mac is a one-address set, as ovn-controller defines
	// it: SB_Global options:svc_monitor_mac (the source of service
	// monitor probes, which ovn-northd's health-check flows match).
	var svcMAC string
	for _, r := range sb.Table("SB_Global") {
		svcMAC, _ = replica.MapValue(r, "options", "svc_monitor_mac")
	}
	if fresh || changedAny(in.Changed, "Address_Set", "SB_Global") {
		c.addrSets = map[string][]string{}
		for _, r := range sb.Table("Address_Set") {
			c.addrSets[replica.Str(r, "name")] = replica.Strs(r, "addresses")
		}
		if svcMAC != "" {
			c.addrSets["svc_monitor_mac"] = []string{svcMAC}
		}
	}
	if fresh || changedAny(in.Changed, "Chassis_Template_Var") {
		c.templates, c.templateGen = nil, ""
		for _, r := range sb.Table("Chassis_Template_Var") {
			if replica.Str(r, "chassis") == in.Physical.Chassis {
				c.templates = replica.Map(r, "variables")
			}
		}
		names := make([]string, 0, len(c.templates))
		for n := range c.templates {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c.templateGen += n + "=" + c.templates[n] + ";"
		}
	}
	if fresh || changedAny(in.Changed, "Port_Group") {
		c.portGroups = map[string][]string{}
		for _, r := range sb.Table("Port_Group") {
			c.portGroups[replica.Str(r, "name")] = replica.Strs(r, "ports")
		}
	}
	envs := map[string]*dpEnv{}
	dpKeys := make(map[string]uint32, len(in.LocalDPs))
	for dp := range in.LocalDPs {
		r := sb.Row("Datapath_Binding", dp)
		if r == nil {
			continue
		}
		ids := replica.Map(r, "external_ids")
		envs[dp] = &dpEnv{key: uint32(replica.Int(r, "tunnel_key")), router: ids["logical-router"] != "",
			ports: map[string]uint32{}}
		dpKeys[dp] = envs[dp].key
	}
	// Residence is global: is_chassis_resident() in a switch's flow
	// names a router's chassisredirect port.
	residentHere := map[string]bool{}
	for _, p := range in.Physical.Ports {
		if resident(in.Physical, p) {
			residentHere[p.Name] = true
		}
		if e := envs[p.Datapath]; e != nil {
			e.ports[p.Name] = p.Key
		}
	}
	for _, e := range envs {
		e.local = residentHere
	}
	for _, g := range in.Physical.Groups {
		if e := envs[g.Datapath]; e != nil {
			e.ports[g.Name] = g.Key
		}
	}
	shared := sharedHash(sb, c.meterGen+"|"+c.templateGen+"|"+svcMAC)
	resHash := residenceHash(residentHere)
	c.curRes = resHash
	envHash := make(map[string]uint64, len(envs))
	for dp, e := range envs {
		e.hash = e.envHash(shared)
		envHash[dp] = e.hash
	}
	usedGroups := map[uint32]string{}
	full := fresh || c.out == nil || shared != c.shared || !maps.Equal(dpKeys, c.dpKeys) ||
		changedAny(in.Changed, "Datapath_Binding", "Logical_DP_Group")
	if full {
		if sb != c.sb {
			// Another replica (a new southbound connection): row
			// versions start over, so nothing cached can be trusted.
			clear(c.cache)
		}
		c.compileAll(sb, envs, usedGroups)
	} else {
		dirty := map[string]struct{}{}
		for u := range in.Changed["Logical_Flow"] {
			dirty[u] = struct{}{}
		}
		for dp, h := range envHash {
			if c.envHash[dp] != h {
				for u := range c.byDP[dp] {
					dirty[u] = struct{}{}
				}
			}
		}
		if resHash != c.resHash {
			c.residenceDirty(sb, c.resident, residentHere, dirty)
		}
		us := make([]string, 0, len(dirty))
		for u := range dirty {
			us = append(us, u)
		}
		sort.Strings(us) // group ids are handed out in flow order
		for _, u := range us {
			old := c.forget(u)
			if r := sb.Row("Logical_Flow", u); r != nil {
				c.compileRowFrom(sb, r, envs, usedGroups, c.cache)
			}
			for _, dp := range old {
				if !slices.Contains(c.lfDPs[u], dp) {
					delete(c.cache, cacheKey{u, dp})
				}
			}
		}
	}
	c.sb, c.shared, c.envHash, c.dpKeys = sb, shared, envHash, dpKeys
	c.resident, c.resHash = residentHere, resHash
	out := Output{Flows: c.out, Groups: make(map[uint32]string, len(c.groups)), Meters: make(map[uint32]string, len(c.meterSpec))}
	if len(c.errs) > 0 {
		us := make([]string, 0, len(c.errs))
		for u := range c.errs {
			us = append(us, u)
		}
		sort.Strings(us)
		for _, u := range us {
			out.Errors = append(out.Errors, c.errs[u]...)
		}
	}
	// Groups and meters referenced by cached flows stay known.
	for desc, id := range c.groups {
		out.Groups[id] = desc
	}
	for id, spec := range c.meterSpec {
		out.Meters[id] = spec
	}
	return out
}

// residenceDirty adds to dirty the compiled flows whose result may
// depend on the residence of a port that changed between old and cur:
// those naming the port, and those naming a port group when the port
// belongs to one (as the fingerprint reads residence).
func (c *Compiler) residenceDirty(sb *replica.DB, old, cur map[string]bool, dirty map[string]struct{}) {
	changed := map[string]bool{}
	for n := range old {
		if !cur[n] {
			changed[n] = true
		}
	}
	for n := range cur {
		if !old[n] {
			changed[n] = true
		}
	}
	inGroup := false
	for _, members := range c.portGroups {
		for _, m := range members {
			if changed[m] {
				inGroup = true
			}
		}
	}
	for u := range c.lfDPs {
		if _, ok := dirty[u]; ok {
			continue
		}
		r := sb.Row("Logical_Flow", u)
		if r == nil {
			dirty[u] = struct{}{}
			continue
		}
		rf, ok := c.refs[replica.Str(r, "match")+" "+replica.Str(r, "actions")]
		if !ok || (inGroup && len(rf.groups) > 0) {
			dirty[u] = struct{}{}
			continue
		}
		for _, n := range rf.names {
			if changed[n] {
				dirty[u] = struct{}{}
				break
			}
		}
	}
}

// compileAll revisits every logical flow (full recompute; the per-flow
// cache still spares unchanged compilations).
func (c *Compiler) compileAll(sb *replica.DB, envs map[string]*dpEnv, usedGroups map[uint32]string) {
	prevCache := c.cache
	c.cache = make(map[cacheKey]cacheEntry, len(prevCache))
	c.out = map[string][]flowtable.Flow{}
	c.errs = map[string][]error{}
	c.lfDPs = map[string][]string{}
	c.byDP = map[string]map[string]struct{}{}
	texts := map[string]bool{}
	for _, r := range sb.Sorted("Logical_Flow") {
		if text, ok := c.compileRowFrom(sb, r, envs, usedGroups, prevCache); ok {
			texts[text] = true
		}
	}
	for t := range c.refs {
		if !texts[t] {
			delete(c.refs, t)
		}
	}
}

// forget removes one logical flow's output and indexes (its cache
// entries stay for the caller to reuse or drop) and returns the
// datapaths it was compiled for.
func (c *Compiler) forget(u string) []string {
	old := c.lfDPs[u]
	for _, dp := range old {
		delete(c.byDP[dp], u)
	}
	delete(c.lfDPs, u)
	delete(c.out, u)
	delete(c.errs, u)
	return old
}

// compileRowFrom compiles one logical flow, taking cached compilations
// from prev and recording them in c.cache, the output and the indexes.
// It returns the flow's text when the flow is on a local datapath.
func (c *Compiler) compileRowFrom(sb *replica.DB, r ovsdb.Row, envs map[string]*dpEnv, usedGroups map[uint32]string, prev map[cacheKey]cacheEntry) (string, bool) {
	c.Visited++
	u := replica.UUID(r)
	var dps []string
	if dp := replica.Ref(r, "logical_datapath"); dp != "" {
		dps = append(dps, dp)
	}
	if g := sb.Row("Logical_DP_Group", replica.Ref(r, "logical_dp_group")); g != nil {
		dps = append(dps, replica.Refs(g, "datapaths")...)
	}
	var rf *refs
	var text string
	version := rowVersion(r)
	for _, dp := range dps {
		e := envs[dp]
		if e == nil {
			continue
		}
		if rf == nil {
			text = replica.Str(r, "match") + " " + replica.Str(r, "actions")
			x, ok := c.refs[text]
			if !ok {
				x = extractRefs(text)
				c.refs[text] = x
			}
			rf = &x
		}
		k := cacheKey{u, dp}
		ce, ok := prev[k]
		if !ok || ce.env != e.hash || ce.res != c.curRes || ce.version != version {
			gen := fingerprint(r, e, *rf, c.addrSets, c.portGroups, c.meterGen, c.templateGen)
			if !ok || ce.gen != gen {
				ce = c.compileOne(r, e, c.addrSets, c.portGroups, usedGroups)
				ce.gen = gen
				c.Compiled++
			}
			ce.env, ce.res, ce.version = e.hash, c.curRes, version
		}
		c.cache[k] = ce
		c.lfDPs[u] = append(c.lfDPs[u], dp)
		m := c.byDP[dp]
		if m == nil {
			m = map[string]struct{}{}
			c.byDP[dp] = m
		}
		m[u] = struct{}{}
		if ce.err != nil {
			c.errs[u] = append(c.errs[u], ce.err)
			continue
		}
		if prev := c.out[u]; prev == nil {
			// Shared with the cache: clipped, so a second
			// datapath's append copies instead of writing into it.
			c.out[u] = slices.Clip(ce.flows)
		} else {
			c.out[u] = append(prev, ce.flows...)
		}
	}
	return text, rf != nil
}

// fingerprint identifies everything one compilation of row r in
// datapath e read: the row's text, the datapath, and what each name it
// mentions resolved to.
func fingerprint(r ovsdb.Row, e *dpEnv, rf refs, addrSets, portGroups map[string][]string, meterGen, templateGen string) string {
	h := fnv.New64a()
	var buf []byte
	w := func(parts ...string) {
		for _, p := range parts {
			buf = append(buf, p...)
			buf = append(buf, '|')
		}
	}
	w(replica.Str(r, "pipeline"), strconv.FormatInt(replica.Int(r, "table_id"), 10), strconv.FormatInt(replica.Int(r, "priority"), 10),
		replica.Str(r, "match"), replica.Str(r, "actions"), strconv.FormatUint(uint64(e.key), 10), strconv.FormatBool(e.router))
	name := func(n string) {
		k, ok := e.ports[n]
		w(n, strconv.FormatUint(uint64(k), 10), strconv.FormatBool(ok), strconv.FormatBool(e.local[n]))
	}
	for _, n := range rf.names {
		name(n)
	}
	for _, s := range rf.sets {
		w("$" + s)
		w(addrSets[s]...)
	}
	for _, g := range rf.groups {
		members := portGroups[strconv.FormatUint(uint64(e.key), 10)+"_"+g]
		if members == nil {
			members = portGroups[g]
		}
		w("@" + g)
		w(members...)
		for _, m := range members {
			name(m)
		}
	}
	if strings.Contains(replica.Str(r, "match"), "^") || strings.Contains(replica.Str(r, "actions"), "^") {
		w("templates", templateGen)
	}
	if cm := replica.Str(r, "controller_meter"); cm != "" {
		w("copp", cm)
	}
	if strings.Contains(replica.Str(r, "actions"), "meter") || strings.Contains(replica.Str(r, "actions"), "log(") ||
		replica.Str(r, "controller_meter") != "" {
		w(meterGen)
	}
	h.Write(buf)
	return strconv.FormatUint(h.Sum64(), 16)
}

func resident(in physical.Input, p physical.Port) bool {
	switch p.Type {
	case physical.TypeVIF, physical.TypeVirtual:
		return p.Chassis == in.Chassis && p.OFPort > 0
	case physical.TypeChassisRedirect, physical.TypeL3Gateway:
		return p.Chassis == in.Chassis
	case physical.TypeLocalport, physical.TypeLocalnet, physical.TypePatch:
		return true
	}
	return p.Chassis == in.Chassis
}

func (c *Compiler) meterID(name string) uint32 {
	id, ok := c.meters[name]
	if !ok {
		id = c.nextMeter
		c.nextMeter++
		c.meters[name] = id
	}
	return id
}

// setMeterSpec turns internal/lflow's name for a set_meter rate limit,
// "__set_meter(RATE)" or "__set_meter(RATE,BURST)" in kbps/kbits, into
// an ovs-ofctl meter specification.
func setMeterSpec(name string) (string, bool) {
	args, ok := strings.CutPrefix(name, "__set_meter(")
	if !ok {
		return "", false
	}
	args = strings.TrimSuffix(args, ")")
	rate, burst, hasBurst := strings.Cut(args, ",")
	r, err := strconv.ParseUint(strings.TrimSpace(rate), 10, 32)
	if err != nil {
		return "", false
	}
	if !hasBurst {
		return fmt.Sprintf("kbps,stats,bands=type=drop,rate=%d", r), true
	}
	b, err := strconv.ParseUint(strings.TrimSpace(burst), 10, 32)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("kbps,burst,stats,bands=type=drop,rate=%d,burst_size=%d", r, b), true
}

// meterSpecs renders SB Meter rows as ovs-ofctl meter specifications, by
// name.
func meterSpecs(sb *replica.DB) map[string]string {
	out := map[string]string{}
	for _, r := range sb.Table("Meter") {
		name := replica.Str(r, "name")
		unit := replica.Str(r, "unit")
		var bands []string
		for _, bu := range replica.Refs(r, "bands") {
			b := sb.Row("Meter_Band", bu)
			if b == nil {
				continue
			}
			band := fmt.Sprintf("type=drop,rate=%d", replica.Int(b, "rate"))
			if bs := replica.Int(b, "burst_size"); bs > 0 {
				band += fmt.Sprintf(",burst_size=%d", bs)
			}
			bands = append(bands, band)
		}
		if len(bands) == 0 {
			continue
		}
		spec := unit
		if replica.Int(sb.Row("Meter_Band", firstRef(replica.Refs(r, "bands"))), "burst_size") > 0 {
			spec += ",burst"
		}
		spec += ",stats,bands=" + strings.Join(bands, " ")
		out[name] = spec
	}
	return out
}

func firstRef(refs []string) string {
	if len(refs) > 0 {
		return refs[0]
	}
	return ""
}

func (c *Compiler) compileOne(r ovsdb.Row, e *dpEnv, addrSets, portGroups map[string][]string, used map[uint32]string) cacheEntry {
	u := replica.UUID(r)
	cookie, _ := hex.DecodeString(strings.ReplaceAll(u, "-", "")[:8])
	var ck uint64
	for _, b := range cookie {
		ck = ck<<8 | uint64(b)
	}
	lf := lflow.LogicalFlow{
		Pipeline: replica.Str(r, "pipeline"),
		TableID:  uint8(replica.Int(r, "table_id")),
		Priority: uint16(replica.Int(r, "priority")),
		Match:    replica.Str(r, "match"),
		Actions:  replica.Str(r, "actions"),
		Datapath: e.key,
		Cookie:   ck,
		Router:   e.router,
		// CoPP: the meter of the flow's controller actions.
		ControllerMeter: replica.Str(r, "controller_meter"),
	}
	env := &lflow.Env{
		Port: func(name string) (uint32, bool) {
			if name == "none" {
				// OVN's name for "no port" (key 0), e.g. after get_fdb
				// found nothing.
				return 0, true
			}
			k, ok := e.ports[name]
			return k, ok
		},
		AddressSet: func(name string) ([]string, bool) {
			a, ok := addrSets[name]
			return a, ok
		},
		PortGroup: func(name string) ([]string, bool) {
			// northd writes per-datapath port groups "<key>_<name>".
			if p, ok := portGroups[fmt.Sprintf("%d_%s", e.key, name)]; ok {
				return p, true
			}
			p, ok := portGroups[name]
			return p, ok
		},
		IsLocal:   func(port string) bool { return e.local[port] },
		Templates: c.templates,
		Meter: func(name string) (uint32, bool) {
			if spec, ok := setMeterSpec(name); ok {
				id := c.meterID(name)
				c.meterSpec[id] = spec
				return id, true
			}
			id, ok := c.meters[name]
			return id, ok
		},
		Group: func(g openflow.GroupDesc) uint32 {
			desc := g.String()
			id, ok := c.groups[desc]
			if !ok {
				id = c.nextGrp
				c.nextGrp++
				c.groups[desc] = id
			}
			used[id] = desc
			return id
		},
	}
	fs, err := lflow.Compile(lf, env)
	if err != nil {
		return cacheEntry{err: fmt.Errorf("logical flow %s (%s table %d, %q / %q): %w", u, lf.Pipeline, lf.TableID, lf.Match, lf.Actions, err)}
	}
	out := make([]flowtable.Flow, 0, len(fs))
	for _, f := range fs {
		of := f
		out = append(out, flowtable.Flow{Table: f.Table, Priority: f.Priority, Match: f.Match.String(), Actions: f.Actions.String(), OF: &of})
	}
	return cacheEntry{flows: out}
}
