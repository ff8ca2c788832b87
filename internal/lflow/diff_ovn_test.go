package lflow

import (
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"hcnet/internal/openflow"
	"hcnet/internal/openflow/ovstest"
)

var dumpLineRE = regexp.MustCompile(`^cookie=(0x[0-9a-f]+), (?:[a-z_]+=[^ ,]*, )*table=(\d+), priority=(\d+),?(\S*) actions=(.*)$`)

type dumped struct {
	cookie  uint64
	table   int
	key     string // table, priority and match
	actions string
}

func parseDump(t *testing.T, lines []string) []dumped {
	var out []dumped
	for _, l := range lines {
		m := dumpLineRE.FindStringSubmatch(l)
		if m == nil {
			t.Logf("unparsed dump line %q", l)
			continue
		}
		ck, _ := strconv.ParseUint(m[1], 0, 64)
		tb, _ := strconv.Atoi(m[2])
		out = append(out, dumped{cookie: ck, table: tb, key: fmt.Sprintf("table=%s,priority=%s,%s", m[2], m[3], m[4]), actions: m[5]})
	}
	return out
}

func isLogicalTable(t int) bool {
	return t >= TableLogIngress && t < TableOutputLargePkt || t >= TableLogEgress && t < TableLogEgress+MaxLogicalTables-7
}

// TestRootDifferentialOVNController runs the real ovn-controller against
// the reference topology on a private switch, installs our compilation of
// the same logical flows on a second bridge of that switch, and compares
// the two as the switch normalises them: per logical flow (cookie), the
// set of (table, priority, match) must be equal, and so must the actions
// of flows whose actions do not involve the controller, groups, meters or
// conjunctions (ids and userdata encodings differ by design), after
// rewriting register spellings that differ only in form (xxreg0[96..127]
// is reg0).
func TestRootDifferentialOVNController(t *testing.T) {
	if _, err := exec.LookPath("ovn-controller"); err != nil {
		t.Skip("ovn-controller not installed")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	sw := ovstest.Start(t)
	c, ref := startReference(t)
	brInt := sw.AddBridge("br-int")
	sw.Vsctl("set", "open", ".", "external_ids:system-id=ch1", "external_ids:ovn-remote="+ref.sb,
		"external_ids:ovn-encap-type=geneve", "external_ids:ovn-encap-ip=127.0.0.1", "external_ids:ovn-bridge=br-int")
	local := []string{"vm1", "vm2", "vm3", "vm4", "vm5"}
	for _, p := range local {
		sw.Vsctl("add-port", "br-int", p, "--", "set", "interface", p, "type=internal", "external_ids:iface-id="+p)
	}
	cmd := exec.Command("ovn-controller", "unix:"+filepath.Join(sw.Dir, "db.sock"),
		"--log-file="+filepath.Join(ref.dir, "ovn-controller.log"))
	cmd.Env = append(sw.Env(), "OVN_RUNDIR="+ref.dir)
	stderr, err := os.Create(filepath.Join(ref.dir, "ovn-controller.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	// Wait for the chassis to register, then for its flow table to settle.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command("ovn-sbctl", "--db="+ref.sb, "--bare", "--columns=name", "list", "Chassis_Private").Output()
		if err == nil && strings.TrimSpace(string(out)) == "ch1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chassis ch1 did not register: %v %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	prev := -1
	var theirs []dumped
	var theirGroups map[string]string
	for time.Now().Before(deadline) {
		ref.nbctl("--wait=hv", "sync")
		theirs = parseDump(t, sw.DumpFlowsVersion(brInt, "OpenFlow15"))
		theirGroups = parseGroups(sw.DumpGroupsVersion(brInt, "OpenFlow15"))
		// Settled: the same number of flows twice, and every group
		// they use dumped (ovn-controller may still be replacing
		// groups when the flows are in place).
		if len(theirs) > 100 && len(theirs) == prev && groupsResolve(theirs, theirGroups) {
			break
		}
		prev = len(theirs)
		time.Sleep(300 * time.Millisecond)
	}
	if len(theirs) < 100 {
		log, _ := os.ReadFile(filepath.Join(ref.dir, "ovn-controller.log"))
		errs, _ := os.ReadFile(filepath.Join(ref.dir, "ovn-controller.stderr"))
		t.Fatalf("ovn-controller installed only %d flows:\n%s\n%s", len(theirs), log, errs)
	}

	// Our compilation, with the chassis's view: every port local that
	// ovn-controller binds here (and the gateway port, ch1 hosts it).
	resident := map[string]bool{"cr-r0-pub": true, "cr-r0-pub2": true}
	for _, p := range local {
		resident[p] = true
	}
	set := &installSet{groups: map[uint32]openflow.GroupDesc{}}
	meters := map[uint32]bool{}
	source := map[uint64]string{}
	for _, in := range c.instances() {
		env := *in.env
		env.IsLocal = func(p string) bool { return resident[p] }
		env.Group = func(g openflow.GroupDesc) uint32 { id := in.env.Group(g); set.groups[id] = g; return id }
		env.Meter = func(n string) (uint32, bool) { id, ok := in.env.Meter(n); meters[id] = true; return id, ok }
		lf := in.lf
		uuid := c.Flows[lf.Cookie-1].UUID
		ck, _ := strconv.ParseUint(strings.ReplaceAll(uuid, "-", "")[:8], 16, 64)
		lf.Cookie = ck
		source[ck] = fmt.Sprintf("%s table %d router=%v: match %q actions %q", lf.Pipeline, lf.TableID, lf.Router, lf.Match, lf.Actions)
		env.ConjIDBase = uint32(lf.Cookie&0xffffff) << 4
		flows, err := Compile(lf, &env)
		if err != nil {
			continue
		}
		set.flows = append(set.flows, flows...)
	}
	for id := range meters {
		set.meters = append(set.meters, id)
	}
	set.flows = mergeConjunctions(set.flows)
	ours := sw.AddBridge("brours")
	set.text(t, sw, ours)
	mine := parseDump(t, sw.DumpFlowsVersion(ours, "OpenFlow15"))

	group := func(ds []dumped) map[uint64][]dumped {
		m := map[uint64][]dumped{}
		for _, d := range ds {
			if d.cookie != 0 && isLogicalTable(d.table) {
				m[d.cookie] = append(m[d.cookie], d)
			}
		}
		return m
	}
	tg, mg := group(theirs), group(mine)
	myGroups := parseGroups(sw.DumpGroupsVersion(ours, "OpenFlow15"))
	var groupSame, groupDiffer int
	opaque := regexp.MustCompile(`meter:|conj`)
	var same, differ, actSame, actDiffer, onlyTheirs int
	var examples []string
	for ck, td := range tg {
		md, ok := mg[ck]
		if !ok {
			onlyTheirs++
			if len(examples) < 40 {
				examples = append(examples, fmt.Sprintf("cookie %#x only from ovn-controller: %s actions=%s", ck, td[0].key, td[0].actions))
			}
			continue
		}
		keys := func(ds []dumped) string {
			var ks []string
			for _, d := range ds {
				ks = append(ks, conjIDRE.ReplaceAllString(d.key, "conj_id=N"))
			}
			sort.Strings(ks)
			return strings.Join(ks, "\n")
		}
		if keys(td) == keys(md) {
			same++
		} else {
			differ++
			if len(examples) < 40 {
				examples = append(examples, fmt.Sprintf("cookie %#x matches differ (%s):\novn-controller:\n%s\nours:\n%s", ck, source[ck], keys(td), keys(md)))
			}
			continue
		}
		if groupRE.MatchString(td[0].actions) || groupRE.MatchString(md[0].actions) {
			// Group ids are ours to choose: compare the actions with
			// each group replaced by its description.
			ta, ma := withGroups(td[0].actions, theirGroups), withGroups(md[0].actions, myGroups)
			if normActions(ta) == normActions(ma) {
				groupSame++
			} else {
				groupDiffer++
				if len(examples) < 40 {
					examples = append(examples, fmt.Sprintf("cookie %#x group actions differ (%s):\novn-controller: %s\nours:           %s", ck, source[ck], normActions(ta), normActions(ma)))
				}
			}
			continue
		}
		if opaque.MatchString(td[0].actions) || opaque.MatchString(md[0].actions) {
			continue
		}
		ta, ma := normController(normActions(td[0].actions)), normController(normActions(md[0].actions))
		if ta != ma && strings.Contains(source[ck], "ct_commit") && strings.Contains(source[ck], "reject {") &&
			ta == ctCommitRE.ReplaceAllString(ma, "") {
			// ovn-controller 23.03 installs reject ACL flows without
			// the ct_commit { ct_mark.blocked = 1; } they ask for; we
			// compile what the logical flow says.
			t.Logf("cookie %#x: ovn-controller leaves out the ct_commit of %s", ck, source[ck])
			ta = ma
		}
		if ta == ma {
			actSame++
		} else {
			actDiffer++
			if len(examples) < 40 {
				examples = append(examples, fmt.Sprintf("cookie %#x actions differ (%s):\novn-controller: %s\nours:           %s", ck, source[ck], normActions(td[0].actions), normActions(md[0].actions)))

			}
		}
	}
	// Conjunction clause flows (cookie 0) must cover the same packets:
	// group them by their match without transport ports and by the
	// number of clauses (ids and clause order are ours to choose), and
	// compare the union of the port values each group covers (ranges may
	// be split into prefixes differently).
	conjSet := func(ds []dumped) map[string]string {
		ports := map[string]map[string][]bool{}
		for _, d := range ds {
			if d.cookie != 0 || !isLogicalTable(d.table) || !strings.HasPrefix(d.actions, "conjunction(") {
				continue
			}
			var rest, tp []string
			for _, f := range strings.Split(d.key, ",") {
				if strings.HasPrefix(f, "tp_src=") || strings.HasPrefix(f, "tp_dst=") {
					tp = append(tp, f)
				} else {
					rest = append(rest, f)
				}
			}
			var ns []string
			for _, m := range conjNRE.FindAllStringSubmatch(d.actions, -1) {
				ns = append(ns, m[1])
			}
			sort.Strings(ns)
			k := strings.Join(rest, ",") + " conj/" + strings.Join(ns, ",")
			if ports[k] == nil {
				ports[k] = map[string][]bool{}
			}
			if len(tp) == 0 {
				tp = []string{"tp_any=0/0"}
			}
			for _, f := range tp {
				name, v, _ := strings.Cut(f, "=")
				val, mask := v, "0xffff"
				if i := strings.IndexByte(v, '/'); i >= 0 {
					val, mask = v[:i], v[i+1:]
				}
				vv, _ := strconv.ParseUint(val, 0, 16)
				mm, _ := strconv.ParseUint(mask, 0, 16)
				if ports[k][name] == nil {
					ports[k][name] = make([]bool, 65536)
				}
				for p := 0; p < 65536; p++ {
					if uint64(p)&mm == vv&mm {
						ports[k][name][p] = true
					}
				}
			}
		}
		out := map[string]string{}
		for k, byName := range ports {
			var sig []string
			for name, set := range byName {
				n := 0
				h := 0
				for p, in := range set {
					if in {
						n++
						h = h*31 + p
					}
				}
				sig = append(sig, fmt.Sprintf("%s:%d:%x", name, n, h))
			}
			sort.Strings(sig)
			out[k] = strings.Join(sig, ";")
		}
		return out
	}
	tc, mc := conjSet(theirs), conjSet(mine)
	conjDiff := 0
	for k, v := range tc {
		if mc[k] != v {
			conjDiff++
			if len(examples) < 60 {
				examples = append(examples, fmt.Sprintf("conjunction clauses differ: %s: ovn-controller %q, ours %q", k, v, mc[k]))
			}
		}
	}
	for k := range mc {
		if _, ok := tc[k]; !ok {
			conjDiff++
			if len(examples) < 60 {
				examples = append(examples, "conjunction clauses only from us: "+k)
			}
		}
	}
	t.Logf("conjunction clause flows: ovn-controller %d, ours %d, differing %d", len(tc), len(mc), conjDiff)
	for _, e := range examples {
		t.Log(e)
	}
	if conjDiff > 0 {
		t.Errorf("%d conjunction clause flows differ from ovn-controller's", conjDiff)
	}
	t.Logf("logical flows using groups: same actions and groups: %d, different: %d", groupSame, groupDiffer)
	if groupSame == 0 {
		t.Error("no logical flow with a group compared (the reference topology has load balancers and ECMP routes)")
	}
	if differ > 0 || onlyTheirs > 0 || actDiffer > 0 || groupDiffer > 0 {
		t.Errorf("compared with ovn-controller: %d logical flows with different matches, %d not compiled, %d with different actions, %d with different groups", differ, onlyTheirs, actDiffer, groupDiffer)
	}
	t.Logf("logical flows installed by ovn-controller: %d; same matches: %d, different: %d, not compiled by us: %d; comparable actions same: %d, different: %d",
		len(tg), same, differ, onlyTheirs, actSame, actDiffer)
}

var (
	ctCommitRE    = regexp.MustCompile(`ct\(commit,zone=[^,]*,nat\(src\),exec\([^)]*\)\),`)
	ctlUserdataRE = regexp.MustCompile(`userdata=[0-9a-f.]+`)
	ctlMeterRE    = regexp.MustCompile(`meter_id=\d+`)
)

// normController hides what is ours by design in controller actions: the
// userdata encoding and the meter id (their presence is compared).
func normController(s string) string {
	s = ctlUserdataRE.ReplaceAllString(s, "userdata=U")
	return ctlMeterRE.ReplaceAllString(s, "meter_id=M")
}

var (
	groupRE   = regexp.MustCompile(`group:(\d+)`)
	groupIDRE = regexp.MustCompile(`^group_id=(\d+),`)
	bucketRE  = regexp.MustCompile(`bucket=bucket_id:\d+,`)
)

// parseGroups maps group ids to their dumped descriptions, without the
// id and bucket ids (assigned in order either way).
func parseGroups(lines []string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		g := groupIDRE.FindStringSubmatch(l)
		if g == nil {
			continue
		}
		m[g[1]] = bucketRE.ReplaceAllString(strings.TrimPrefix(l, g[0]), "bucket=")
	}
	return m
}

// groupsResolve reports whether every group:N in the flows' actions is
// among groups.
func groupsResolve(flows []dumped, groups map[string]string) bool {
	for _, f := range flows {
		for _, m := range groupRE.FindAllStringSubmatch(f.actions, -1) {
			if _, ok := groups[m[1]]; !ok {
				return false
			}
		}
	}
	return true
}

// withGroups replaces group:N in actions by the group's description.
func withGroups(actions string, groups map[string]string) string {
	return groupRE.ReplaceAllStringFunc(actions, func(x string) string {
		return "group{" + groups[groupRE.FindStringSubmatch(x)[1]] + "}"
	})
}

var (
	conjNRE    = regexp.MustCompile(`conjunction\(\d+,\d+/(\d+)\)`)
	conjIDRE   = regexp.MustCompile(`conj_id=\d+`)
	setWideRE  = regexp.MustCompile(`set_field:(0x[0-9a-f]+|0)/(0x[0-9a-f]+)->(xx?reg)(\d)`)
	moveWideRE = regexp.MustCompile(`NXM_NX_XXREG(\d)\[(\d+)(?:\.\.(\d+))?\]|OXM_OF_PKT_REG(\d)\[(\d+)(?:\.\.(\d+))?\]`)
)

// normActions rewrites ovn-controller's spellings that differ from ours
// only in form: loads and moves on xreg/xxreg subfields become the 32-bit
// registers they cover, and dec_ttl() becomes dec_ttl.
func normActions(s string) string {
	s = strings.ReplaceAll(s, "dec_ttl()", "dec_ttl")
	s = setWideRE.ReplaceAllStringFunc(s, func(x string) string {
		m := setWideRE.FindStringSubmatch(x)
		v, ok1 := new(big.Int).SetString(strings.TrimPrefix(m[1], "0x"), 16)
		mask, ok2 := new(big.Int).SetString(m[2][2:], 16)
		if !ok1 || !ok2 {
			return x
		}
		n := 4
		if m[3] == "xreg" {
			n = 2
		}
		idx, _ := strconv.Atoi(m[4])
		var parts []string
		for k := 0; k < n; k++ {
			shift := uint((n - 1 - k) * 32)
			part := new(big.Int).Rsh(mask, shift)
			part.And(part, big.NewInt(0xffffffff))
			if part.Sign() == 0 {
				continue
			}
			val := new(big.Int).Rsh(v, shift)
			val.And(val, part)
			reg := fmt.Sprintf("reg%d", idx*n+k)
			if part.Uint64() == 0xffffffff {
				parts = append(parts, fmt.Sprintf("set_field:%#x->%s", val, reg))
			} else {
				parts = append(parts, fmt.Sprintf("set_field:%#x/%#x->%s", val, part, reg))
			}
		}
		return strings.Join(parts, ",")
	})
	s = moveWideRE.ReplaceAllStringFunc(s, func(x string) string {
		m := moveWideRE.FindStringSubmatch(x)
		n, idxS, loS, hiS := 4, m[1], m[2], m[3]
		if idxS != "" && hiS == "" {
			hiS = loS
		}
		if idxS == "" {
			n, idxS, loS, hiS = 2, m[4], m[5], m[6]
			if hiS == "" {
				hiS = loS
			}
		}
		idx, _ := strconv.Atoi(idxS)
		lo, _ := strconv.Atoi(loS)
		hi, _ := strconv.Atoi(hiS)
		return regPieces(idx, n, lo, hi)
	})
	s = zeroHexRE.ReplaceAllString(s, "set_field:0$1")
	s = strings.ReplaceAll(s, "/0x3f->ip_dscp", "->ip_dscp")
	return s
}

// regPieces names bits lo..hi of xreg/xxreg idx (n 32-bit registers) as
// the 32-bit register pieces they cover.
func regPieces(idx, n, lo, hi int) string {
	var parts []string
	for b := lo; b <= hi; {
		reg := idx*n + (n - 1 - b/32)
		end := min(hi, (b/32)*32+31)
		l, h := b%32, end%32
		switch {
		case l == 0 && h == 31:
			parts = append(parts, fmt.Sprintf("NXM_NX_REG%d[]", reg))
		case l == h:
			parts = append(parts, fmt.Sprintf("NXM_NX_REG%d[%d]", reg, l))
		default:
			parts = append(parts, fmt.Sprintf("NXM_NX_REG%d[%d..%d]", reg, l, h))
		}
		b = end + 1
	}
	return strings.Join(parts, "+")
}

var zeroHexRE = regexp.MustCompile(`set_field:0x0([/-])`)

// mergeConjunctions merges flows with equal table, priority and match whose
// actions are all conjunctions, as a chassis must before installing them.
func mergeConjunctions(flows []openflow.Flow) []openflow.Flow {
	index := map[string]int{}
	var out []openflow.Flow
	for _, f := range flows {
		conj := len(f.Actions) > 0
		for _, a := range f.Actions {
			if _, ok := a.(openflow.Conjunction); !ok {
				conj = false
			}
		}
		if !conj {
			out = append(out, f)
			continue
		}
		k := fmt.Sprintf("%d/%d/%s", f.Table, f.Priority, f.Match)
		if i, ok := index[k]; ok {
			out[i].Actions = append(append(openflow.Actions{}, out[i].Actions...), f.Actions...)
			continue
		}
		index[k] = len(out)
		out = append(out, f)
	}
	return out
}
