package lflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"hcnet/internal/openflow"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus.json from the reference topology (needs OVN)")

// corpus is a dump of the Southbound tables the compiler needs, taken
// from real ovn-northd output for the reference topology.
type corpus struct {
	Datapaths   []corpusDatapath    `json:"datapaths"`
	Ports       []corpusPort        `json:"ports"`
	AddressSets map[string][]string `json:"address_sets"`
	PortGroups  map[string][]string `json:"port_groups"`
	DPGroups    map[string][]string `json:"dp_groups"`
	Flows       []corpusFlow        `json:"flows"`
	// Templates are chassis ch1's template variables.
	Templates map[string]string `json:"templates,omitempty"`
}

type corpusDatapath struct {
	UUID   string `json:"uuid"`
	Key    uint32 `json:"key"`
	Router bool   `json:"router"`
}

type corpusPort struct {
	Name     string `json:"name"`
	Key      uint32 `json:"key"`
	Datapath string `json:"datapath"`
}

type corpusFlow struct {
	UUID     string `json:"uuid"`
	Datapath string `json:"datapath,omitempty"`
	DPGroup  string `json:"dp_group,omitempty"`
	Pipeline string `json:"pipeline"`
	Table    uint8  `json:"table"`
	Priority uint16 `json:"priority"`
	Match    string `json:"match"`
	Actions  string `json:"actions"`
	Meter    string `json:"controller_meter,omitempty"`
}

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	raw, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var c corpus
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// instance is one logical flow on one datapath, ready to compile.
type instance struct {
	lf  LogicalFlow
	env *Env
}

// instances expands the corpus flows to every datapath they apply to,
// with an Env resolving names as the chassis would.
func (c *corpus) instances() []instance {
	dps := map[string]corpusDatapath{}
	for _, d := range c.Datapaths {
		dps[d.UUID] = d
	}
	ports := map[string]map[string]uint32{}
	for _, p := range c.Ports {
		if ports[p.Datapath] == nil {
			ports[p.Datapath] = map[string]uint32{}
		}
		ports[p.Datapath][p.Name] = p.Key
	}
	groups := map[string]uint32{}
	meters := map[string]uint32{}
	envs := map[string]*Env{}
	envFor := func(dp corpusDatapath) *Env {
		if e, ok := envs[dp.UUID]; ok {
			return e
		}
		pm := ports[dp.UUID]
		e := &Env{
			Port: func(n string) (uint32, bool) { k, ok := pm[n]; return k, ok },
			AddressSet: func(n string) ([]string, bool) {
				a, ok := c.AddressSets[n]
				return a, ok
			},
			PortGroup: func(n string) ([]string, bool) {
				if p, ok := c.PortGroups[fmt.Sprintf("%d_%s", dp.Key, n)]; ok {
					return p, true
				}
				p, ok := c.PortGroups[n]
				return p, ok
			},
			IsLocal:   func(string) bool { return true },
			Templates: c.Templates,
			Group: func(g openflow.GroupDesc) uint32 {
				k := g.String()
				if id, ok := groups[k]; ok {
					return id
				}
				groups[k] = uint32(len(groups) + 1)
				return groups[k]
			},
			Meter: func(n string) (uint32, bool) {
				if id, ok := meters[n]; ok {
					return id, true
				}
				meters[n] = uint32(len(meters) + 1)
				return meters[n], true
			},
		}
		envs[dp.UUID] = e
		return e
	}
	var out []instance
	for i, f := range c.Flows {
		var dpl []string
		if f.Datapath != "" {
			dpl = []string{f.Datapath}
		} else {
			dpl = c.DPGroups[f.DPGroup]
		}
		for _, d := range dpl {
			dp := dps[d]
			out = append(out, instance{
				lf: LogicalFlow{Pipeline: f.Pipeline, TableID: f.Table, Priority: f.Priority, Match: f.Match, Actions: f.Actions,
					Datapath: dp.Key, Router: dp.Router, Cookie: uint64(i + 1), ControllerMeter: f.Meter},
				env: envFor(dp),
			})
		}
	}
	return out
}

// actionNames returns the keywords of the actions in a flow (for stats).
func actionNames(as Actions) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
		out = append(out, actionNames(a.Nested)...)
	}
	return out
}

// TestCorpus parses and compiles every logical flow real ovn-northd
// produced for the reference topology (testdata/corpus.json; regenerate
// with -update-corpus when OVN is installed).
func TestCorpus(t *testing.T) {
	if *updateCorpus {
		c := buildReferenceCorpus(t)
		raw, err := json.MarshalIndent(c, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/corpus.json", append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := loadCorpus(t)
	checkCorpus(t, c)
}

// TestCorpusLiveOVN regenerates the corpus with the installed OVN (in a
// temporary directory) and checks it, so a newer northd is caught too.
func TestCorpusLiveOVN(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	c := buildReferenceCorpus(t)
	checkCorpus(t, c)
}

func checkCorpus(t *testing.T, c *corpus) {
	parsed, total := 0, 0
	unsupported := map[string]int{}
	var failures []string
	compiled, supported, ofFlows := 0, 0, 0
	for _, f := range c.Flows {
		total++
		_, err1 := ParseExpr(ExpandTemplates(f.Match, c.Templates))
		_, err2 := ParseActions(ExpandTemplates(f.Actions, c.Templates))
		if err1 == nil && err2 == nil {
			parsed++
			continue
		}
		failures = append(failures, fmt.Sprintf("parse: match %q actions %q: %v %v", f.Match, f.Actions, err1, err2))
	}
	for _, in := range c.instances() {
		flows, err := Compile(in.lf, in.env)
		var ue *UnsupportedError
		switch {
		case errors.As(err, &ue):
			unsupported[ue.Action]++
			continue
		case err != nil:
			failures = append(failures, fmt.Sprintf("compile: %s table %d match %q actions %q: %v", in.lf.Pipeline, in.lf.TableID, in.lf.Match, in.lf.Actions, err))
		default:
			compiled++
			ofFlows += len(flows)
		}
		supported++
	}
	var names []string
	for n := range unsupported {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("unsupported action %s: %d flow instances", n, unsupported[n])
	}
	t.Logf("corpus: %d logical flows, %d parsed (%.1f%%); %d instances with supported actions, %d compiled (%.1f%%) into %d OpenFlow flows",
		total, parsed, 100*float64(parsed)/float64(total), supported, compiled, 100*float64(compiled)/float64(max(supported, 1)), ofFlows)
	for _, f := range failures {
		t.Error(f)
	}
	if total < 100 {
		t.Errorf("corpus has only %d flows; the reference topology did not come up", total)
	}
}

// ovnBinaries are the reference tools the live corpus needs.
var ovnBinaries = []string{"ovsdb-tool", "ovsdb-server", "ovn-northd", "ovn-nbctl", "ovn-sbctl"}

func requireOVN(t testing.TB) {
	t.Helper()
	if os.Getenv("HCNET_SKIP_OVS") == "1" {
		t.Skip("HCNET_SKIP_OVS=1")
	}
	for _, b := range ovnBinaries {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
}

// buildReferenceCorpus starts NB and SB ovsdb-servers and ovn-northd in a
// temporary directory, builds the reference topology with ovn-nbctl and
// dumps the Southbound tables.
func buildReferenceCorpus(t *testing.T) *corpus {
	c, _ := startReference(t)
	return c
}

// reference is a running NB/SB/northd set from startReference.
type reference struct {
	dir    string
	nb, sb string // unix: remotes
	env    []string
	nbctl  func(args ...string) string
}

// startReference is buildReferenceCorpus that leaves the databases and
// northd running until the test ends.
func startReference(t *testing.T) (*corpus, *reference) {
	requireOVN(t)
	dir, err := os.MkdirTemp("", "hclf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	schemaDir, _ := filepath.Abs("../../schema")
	env := append(os.Environ(), "OVS_RUNDIR="+dir, "OVN_RUNDIR="+dir, "OVS_LOGDIR="+dir, "OVN_LOGDIR="+dir)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, errb.String())
		}
		return strings.TrimSpace(out.String())
	}
	spawn := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
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
	}
	waitFor := func(path string) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(path); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s did not appear", path)
	}
	for _, db := range []string{"nb", "sb"} {
		schema := filepath.Join(schemaDir, "ovn-"+db+".ovsschema")
		file := filepath.Join(dir, db+".db")
		run("ovsdb-tool", "create", file, schema)
		spawn("ovsdb-server", "--remote=punix:"+filepath.Join(dir, db+".sock"), "--unixctl="+filepath.Join(dir, db+".ctl"),
			"--log-file="+filepath.Join(dir, db+".log"), file)
		waitFor(filepath.Join(dir, db+".sock"))
	}
	nb, sb := "unix:"+filepath.Join(dir, "nb.sock"), "unix:"+filepath.Join(dir, "sb.sock")
	spawn("ovn-northd", "--ovnnb-db="+nb, "--ovnsb-db="+sb, "--unixctl="+filepath.Join(dir, "northd.ctl"),
		"--log-file="+filepath.Join(dir, "northd.log"))
	nbctl := func(args ...string) string {
		t.Helper()
		return run("ovn-nbctl", append([]string{"--db=" + nb, "--timeout=60"}, args...)...)
	}
	for _, cmd := range referenceTopology {
		args := strings.Fields(cmd)
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "\x00", " ")
			if a == "''" {
				args[i] = ""
			}
		}
		nbctl(args...)
	}
	d4 := nbctl("create", "DHCP_Options", "cidr=10.0.0.0/24",
		`options="lease_time"="3600" "router"="10.0.0.1" "server_id"="10.0.0.1" "server_mac"="00:00:00:00:ff:01" "dns_server"="{8.8.8.8,8.8.4.4}" "mtu"="1400" "domain_name"="\"example.org\"" "classless_static_route"="{30.0.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}"`)
	nbctl("lsp-set-dhcpv4-options", "vm1", d4)
	d6 := nbctl("create", "DHCP_Options", `cidr="fd00::/64"`, `options="server_id"="00:00:00:00:ff:01" "dns_server"="{fd00::53}"`)
	nbctl("lsp-set-dhcpv6-options", "vm2", d6)
	// Probes unanswered for an hour before a status change: the flows
	// must not change under the differential test (a backend going
	// offline rewrites the load balancer's flows).
	nbctl("--id=@hc", "create", "Load_Balancer_Health_Check", `vip="10.0.0.100:80"`, "options:interval=3600", "options:timeout=3600",
		"options:failure_count=1000", "--", "add", "Load_Balancer", "lb0", "health_check", "@hc")
	dns := nbctl("create", "DNS", `records={"vm1.example.org"="10.0.0.11"}`)
	nbctl("add", "Logical_Switch", "sw0", "dns_records", dns)
	nbctl("set", "Logical_Switch_Port", "ext1", "ha_chassis_group="+nbctl("--bare", "--columns=_uuid", "find", "HA_Chassis_Group", "name=hcg0"))
	lbg := nbctl("--bare", "--columns=_uuid", "find", "Load_Balancer_Group", "name=lbg0")
	nbctl("add", "Load_Balancer_Group", lbg, "load_balancer", nbctl("--bare", "--columns=_uuid", "find", "Load_Balancer", "name=lb10"))
	nbctl("add", "Logical_Switch", "sw1", "load_balancer_group", lbg)
	nbctl("add", "Logical_Router", "r0", "load_balancer_group", lbg)
	nbctl("--wait=sb", "sync")

	sbctl := func(table string, cols string) [][]any {
		t.Helper()
		out := run("ovn-sbctl", "--db="+sb, "--timeout=60", "-f", "json", "--columns="+cols, "list", table)
		var d struct{ Data [][]any }
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("decode %s: %v", table, err)
		}
		return d.Data
	}
	c := &corpus{AddressSets: map[string][]string{}, PortGroups: map[string][]string{}, DPGroups: map[string][]string{}}
	for _, r := range sbctl("Datapath_Binding", "_uuid,tunnel_key,external_ids") {
		_, router := ovsMap(r[2])["logical-router"]
		c.Datapaths = append(c.Datapaths, corpusDatapath{UUID: ovsUUID(r[0]), Key: uint32(r[1].(float64)), Router: router})
	}
	for _, r := range sbctl("Port_Binding", "logical_port,tunnel_key,datapath") {
		c.Ports = append(c.Ports, corpusPort{Name: r[0].(string), Key: uint32(r[1].(float64)), Datapath: ovsUUID(r[2])})
	}
	for _, r := range sbctl("Multicast_Group", "name,tunnel_key,datapath") {
		c.Ports = append(c.Ports, corpusPort{Name: r[0].(string), Key: uint32(r[1].(float64)), Datapath: ovsUUID(r[2])})
	}
	for _, r := range sbctl("Address_Set", "name,addresses") {
		c.AddressSets[r[0].(string)] = ovsSet(r[1])
	}
	for _, r := range sbctl("Port_Group", "name,ports") {
		c.PortGroups[r[0].(string)] = ovsSet(r[1])
	}
	for _, r := range sbctl("Chassis_Template_Var", "chassis,variables") {
		if r[0] == "ch1" {
			c.Templates = ovsMap(r[1])
		}
	}
	for _, r := range sbctl("Logical_DP_Group", "_uuid,datapaths") {
		c.DPGroups[ovsUUID(r[0])] = ovsSet(r[1])
	}
	for _, r := range sbctl("Logical_Flow", "_uuid,logical_datapath,logical_dp_group,pipeline,table_id,priority,match,actions,controller_meter") {
		meter := ""
		if m := ovsSet(r[8]); len(m) == 1 {
			meter = m[0]
		}
		c.Flows = append(c.Flows, corpusFlow{UUID: ovsUUID(r[0]), Datapath: ovsUUID(r[1]), DPGroup: ovsUUID(r[2]),
			Pipeline: r[3].(string), Table: uint8(r[4].(float64)), Priority: uint16(r[5].(float64)), Match: r[6].(string), Actions: r[7].(string), Meter: meter})
	}
	sort.Slice(c.Flows, func(i, j int) bool {
		a, b := c.Flows[i], c.Flows[j]
		if a.Pipeline != b.Pipeline {
			return a.Pipeline > b.Pipeline
		}
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Match+a.Actions < b.Match+b.Actions
	})
	return c, &reference{dir: dir, nb: nb, sb: sb, env: env, nbctl: nbctl}
}

// referenceTopology is the NB the corpus comes from: two switches and a
// localnet, a distributed router with a gateway port, NAT, a load
// balancer, ACLs with port groups, address sets, logging and meters, QoS,
// DNS, ECMP routes and router policies. "\x00" in a word stands for a
// space, and the word ” for an empty argument.
var referenceTopology = []string{
	"set NB_Global . options:controller_event=true",
	"ls-add sw0", "ls-add sw1", "ls-add pub",
	"set Logical_Switch sw1 other_config:mcast_snoop=true",
	"lsp-add sw0 vm1", "lsp-set-addresses vm1 00:00:00:00:00:01\x0010.0.0.11", "lsp-set-port-security vm1 00:00:00:00:00:01\x0010.0.0.11",
	"lsp-add sw0 vm2", "lsp-set-addresses vm2 00:00:00:00:00:02\x0010.0.0.12\x00fd00::12",
	"lsp-add sw0 vm4", "lsp-set-addresses vm4 dynamic",
	"lsp-add sw0 lp0", "lsp-set-type lp0 localport", "lsp-set-addresses lp0 00:00:00:00:00:09\x0010.0.0.9",
	"lsp-add sw0 vip0", "lsp-set-type vip0 virtual", "lsp-set-addresses vip0 00:00:00:00:00:a0\x0010.0.0.100",
	"set Logical_Switch_Port vip0 options:virtual-ip=10.0.0.100 options:virtual-parents=vm1,vm2",
	"lsp-add sw1 vm3", "lsp-set-addresses vm3 00:00:00:00:00:03\x0010.0.1.13", "lsp-set-port-security vm3 00:00:00:00:00:03\x0010.0.1.13",
	"lsp-add sw1 vm5", "lsp-set-addresses vm5 unknown",
	"lsp-add pub ln1", "lsp-set-type ln1 localnet", "lsp-set-addresses ln1 unknown", "lsp-set-options ln1 network_name=phys qos_max_rate=1000000",
	"lr-add r0",
	"lrp-add r0 r0-sw0 00:00:00:00:ff:01 10.0.0.1/24 fd00::1/64",
	"lrp-add r0 r0-sw1 00:00:00:00:ff:02 10.0.1.1/24",
	"lrp-add r0 r0-pub 00:00:00:00:ff:03 172.16.0.10/24",
	"lrp-set-gateway-chassis r0-pub ch1 10",
	"lsp-add sw0 sw0-r0", "lsp-set-type sw0-r0 router", "lsp-set-addresses sw0-r0 router", "lsp-set-options sw0-r0 router-port=r0-sw0",
	"lsp-add sw1 sw1-r0", "lsp-set-type sw1-r0 router", "lsp-set-addresses sw1-r0 router", "lsp-set-options sw1-r0 router-port=r0-sw1",
	"lsp-add pub pub-r0", "lsp-set-type pub-r0 router", "lsp-set-addresses pub-r0 router", "lsp-set-options pub-r0 router-port=r0-pub",
	"set Logical_Router_Port r0-sw0 ipv6_ra_configs:address_mode=slaac ipv6_ra_configs:send_periodic=true",
	"set Logical_Router_Port r0-pub options:gateway_mtu=1400",
	"set Logical_Switch sw0 other_config:subnet=10.0.0.0/24",
	"pg-add pg_web vm1 vm2", "pg-add pg_db vm3",
	"create Address_Set name=as_clients addresses=\"10.0.0.0/24\",\"192.168.1.5\"",
	"create Address_Set name=as_v6 addresses=\"fd00::/64\",\"fd01::5\"",
	"meter-add acl_meter drop 100 pktps",
	"meter-add qos_meter drop 1000 kbps",
	"acl-add pg_web to-lport 1000 outport\x00==\x00@pg_web\x00&&\x00ip4.src\x00==\x00$as_clients\x00&&\x00tcp.dst\x00==\x00{80,\x00443} allow-related",
	"acl-add pg_web to-lport 999 outport\x00==\x00@pg_web\x00&&\x00ip6.src\x00==\x00$as_v6 allow",
	"acl-add pg_web to-lport 900 outport\x00==\x00@pg_web\x00&&\x00ip4 drop",
	"acl-add pg_db from-lport 1100 inport\x00==\x00@pg_db\x00&&\x00ip4.dst\x00==\x00$pg_web_ip4\x00&&\x00udp.dst\x00>=\x001000\x00&&\x00udp.dst\x00<=\x002000 allow-related",
	"acl-add sw0 from-lport 1001 inport\x00==\x00\"vm1\"\x00&&\x00tcp.flags\x00==\x000x2 allow",
	"acl-add sw0 from-lport 1002 inport\x00==\x00\"vm2\"\x00&&\x00icmp4 allow-stateless",
	"--log --severity=info --name=rej --meter=acl_meter acl-add sw1 to-lport 100 ip4.src\x00==\x0010.0.0.0/8 reject",
	"--log --severity=warning acl-add sw1 from-lport 200 ip6 drop",
	"qos-add sw0 from-lport 100 inport\x00==\x00\"vm1\" dscp=10",
	"qos-add sw0 from-lport 101 inport\x00==\x00\"vm2\" rate=1000 burst=100",
	"lb-add lb0 10.0.0.100:80 10.0.0.11:8080,10.0.0.12:8080 tcp",
	"lb-add lb1 [fd00::100]:80 [fd00::12]:8080 tcp",
	"lb-add lb2 172.16.0.100 10.0.1.13",
	"set Load_Balancer lb0 selection_fields=ip_src,ip_dst options:hairpin_snat_ip=10.0.0.250",
	"lb-add lb3 10.0.0.200:80 '' tcp",
	"lb-add lb4 10.0.0.201:80 10.0.0.11:80 sctp",
	"lb-add lb5 10.0.1.100:80 10.0.1.13:80,10.0.0.12:80 udp",
	"set Load_Balancer lb5 options:affinity_timeout=60",
	"ls-lb-add sw0 lb0", "ls-lb-add sw0 lb1", "lr-lb-add r0 lb0", "lr-lb-add r0 lb2",
	"ls-lb-add sw0 lb3", "ls-lb-add sw0 lb4", "ls-lb-add sw1 lb5", "lr-lb-add r0 lb5",
	"set Load_Balancer lb0 ip_port_mappings:10.0.0.11=vm1:10.0.0.1",
	"lr-add gr1", "set Logical_Router gr1 options:chassis=ch1",
	"lrp-add gr1 gr1-pub 00:00:00:00:ee:01 172.16.0.20/24",
	"lsp-add pub pub-gr1", "lsp-set-type pub-gr1 router", "lsp-set-addresses pub-gr1 router", "lsp-set-options pub-gr1 router-port=gr1-pub",
	"set Logical_Router gr1 options:lb_force_snat_ip=172.16.0.20",
	"lb-add lb6 172.16.0.120:80 10.0.0.11:80,10.0.0.12:80 tcp", "set Load_Balancer lb6 options:skip_snat=true", "lr-lb-add gr1 lb6",
	"lb-add lb7 172.16.0.121:80 10.0.0.12:80 tcp", "lr-lb-add gr1 lb7",
	"--liveness fwd-group-add fg0 sw1 10.0.1.200 00:00:00:00:00:fd vm3 vm5", "fwd-group-add fg1 sw0 10.0.0.210 00:00:00:00:00:fe vm1 vm2",
	"--ecmp-symmetric-reply lr-route-add gr1 60.0.0.0/24 172.16.0.100",
	"--ecmp-symmetric-reply lr-route-add gr1 60.0.0.0/24 172.16.0.101",
	"lr-nat-add r0 snat 172.16.0.1 10.0.0.0/24",
	"lr-nat-add r0 dnat_and_snat 172.16.0.2 10.0.0.11",
	"lr-nat-add r0 dnat 172.16.0.3 10.0.1.13",
	"lr-route-add r0 0.0.0.0/0 172.16.0.254",
	"--ecmp lr-route-add r0 30.0.0.0/24 10.0.1.100",
	"--ecmp lr-route-add r0 30.0.0.0/24 10.0.1.101",
	"--policy=src-ip lr-route-add r0 10.0.0.0/25 10.0.1.102",
	"lr-policy-add r0 100 ip4.src\x00==\x0010.0.0.11 reroute 10.0.1.103",
	"lr-policy-add r0 90 ip4.dst\x00==\x0040.0.0.0/8 drop",
	"lr-policy-add r0 80 ip4.dst\x00==\x0041.0.0.0/8 allow",
	// IPv6 routing, distributed NAT, policy ECMP, route tables, ACL labels.
	"lrp-add r0 r0-sw1b 00:00:00:00:ff:04 fd01::1/64",
	"lr-route-add r0 fd02::/64 fd01::10",
	"--ecmp lr-route-add r0 fd03::/64 fd01::11", "--ecmp lr-route-add r0 fd03::/64 fd01::12",
	"lr-nat-add r0 dnat_and_snat 172.16.0.4 10.0.0.12 vm2 00:00:00:00:aa:01",
	"lr-nat-add r0 dnat_and_snat fd10::5 fd00::12",
	"lr-policy-add r0 70 ip4.src\x00==\x0010.0.0.12 reroute 10.0.1.104,10.0.1.105",
	"--route-table=rtb1 lr-route-add r0 50.0.0.0/24 10.0.1.106",
	"--label=1234 acl-add sw0 to-lport 950 ip4\x00&&\x00udp.dst\x00==\x0053 allow-related",
	"lb-add lb8 [fd10::100]:80 [fd00::12]:8080 tcp", "lr-lb-add r0 lb8",
	// More switch and router options ovn-northd 23.03 turns into flows.
	"lsp-set-port-security vm2 00:00:00:00:00:02\x0010.0.0.12\x00fd00::12",
	"acl-add pg_web from-lport 1200 inport\x00==\x00@pg_web\x00&&\x00ip6.dst\x00==\x00$pg_db_ip6 allow-related",
	"acl-add sw1 from-lport 300 ip4.dst\x00==\x0010.0.1.99 allow-stateless",
	"--apply-after-lb acl-add sw0 from-lport 400 ip4.dst\x00==\x0010.0.0.100 drop",
	"lb-add lb9 10.0.0.202:80 '' tcp", "set Load_Balancer lb9 options:reject=true", "ls-lb-add sw0 lb9",
	"set Logical_Router r0 options:mcast_relay=true options:always_learn_from_arp_request=false options:dynamic_neigh_routers=true",
	"set Logical_Router r0 options:mac_binding_age_threshold=300",
	"lr-nat-add gr1 snat 172.16.0.20 10.9.0.0/16",
	"set Logical_Router gr1 options:snat-ct-zone=100",
	"--stateless lr-nat-add gr1 dnat_and_snat 172.16.0.30 10.9.0.30",
	"create Address_Set name=as_ext addresses=\"172.16.0.200\"",
	"lr-route-add r0 60.0.0.0/24 discard",
	"set Logical_Router r0 options:lb_force_snat_ip=router_ip",
	"--log --severity=alert --name=rej6 acl-add sw0 to-lport 600 ip6\x00&&\x00tcp.dst\x00==\x0022 reject",
	"set Logical_Switch sw1 other_config:ipv6_prefix=fd01:: other_config:subnet=10.0.1.0/24",
	"lsp-add sw1 vm6", "lsp-set-addresses vm6 dynamic",
	"lsp-set-options vm3 requested-chassis=ch1",
	// Control plane protection: controller actions metered (controller_meter).
	"meter-add copp_meter drop 200 pktps",
	"copp-add copp0 arp copp_meter", "copp-add copp0 icmp4-error copp_meter", "copp-add copp0 dhcpv4-opts copp_meter",
	"copp-add copp0 reject copp_meter", "copp-add copp0 nd-ns copp_meter", "copp-add copp0 dns copp_meter",
	"lr-copp-add copp0 r0", "ls-copp-add copp0 sw0", "ls-copp-add copp0 sw1",
	// External ports, bridged redirect, multicast querier, BFD route.
	"ha-chassis-group-add hcg0", "ha-chassis-group-add-chassis hcg0 ch1 10",
	"lsp-add pub ext1", "lsp-set-type ext1 external", "lsp-set-addresses ext1 00:00:00:00:00:e1\x00172.16.0.99",
	"set Logical_Switch sw1 other_config:mcast_querier=true other_config:mcast_eth_src=00:00:00:00:ff:02 other_config:mcast_ip4_src=10.0.1.1",
	"create BFD logical_port=r0-pub dst_ip=172.16.0.250", "--bfd lr-route-add r0 70.0.0.0/24 172.16.0.250",
	// Bridged redirect, a VLAN localnet, prefix delegation, a second
	// gateway port with its own NAT, ARP broadcast limits.
	"ls-add pub2", "lsp-add pub2 ln2", "lsp-set-type ln2 localnet", "lsp-set-addresses ln2 unknown",
	"lsp-set-options ln2 network_name=phys2", "set Logical_Switch_Port ln2 tag_request=100",
	"lrp-add r0 r0-pub2 00:00:00:00:ff:05 192.168.50.10/24", "lrp-set-gateway-chassis r0-pub2 ch1 10",
	"lsp-add pub2 pub2-r0", "lsp-set-type pub2-r0 router", "lsp-set-addresses pub2-r0 router", "lsp-set-options pub2-r0 router-port=r0-pub2",
	"lrp-set-redirect-type r0-pub2 bridged",
	"--gateway-port=r0-pub2 lr-nat-add r0 snat 192.168.50.1 10.0.1.0/24",
	"set Logical_Router_Port r0-pub options:prefix_delegation=true",
	"set Logical_Switch sw0 other_config:broadcast-arps-to-all-routers=false",
	// Template variables (Chassis_Template_Var): a template load balancer
	// and an ACL, instantiated for ch1.
	"create Chassis_Template_Var chassis=ch1 variables:vip=172.16.0.150 variables:vport=8080 variables:backends=10.0.0.11:80",
	"create Load_Balancer name=lbt protocol=tcp vips:\"^vip:^vport\"=\"^backends\" options:template=true options:address-family=ipv4",
	"lr-lb-add gr1 lbt", "ls-lb-add sw0 lbt",
	"acl-add sw0 to-lport 990 ip4.dst\x00==\x00^vip\x00&&\x00tcp.dst\x00==\x00^vport allow",
	// Global options that change the pipelines, a VTEP port, an LB group.
	"set NB_Global . options:default_acl_drop=true options:use_ct_inv_match=false options:check_lsp_is_up=true",
	"lsp-add sw1 vt0", "lsp-set-type vt0 vtep", "lsp-set-addresses vt0 unknown",
	"lsp-set-options vt0 vtep-physical-switch=ps0 vtep-logical-switch=lsw0",
	"lb-add lb10 10.0.1.110:80 10.0.1.13:80 tcp",
	// A gateway router with lb_force_snat_ip=router_ip set after its load
	// balancer (two VIPs) and a skip_snat load balancer: ovn-northd writes
	// ct_lb_mark(...; force_snat) / (...; skip_snat) only while every
	// chassis advertises other_config:ovn-ct-lb-related (ovn-controller
	// does); the groups must carry ct_mark bit 3 / 2 as ovn-controller's.
	"lr-add gr2", "set Logical_Router gr2 options:chassis=ch1",
	"lrp-add gr2 gr2-pub 00:00:00:00:ee:02 172.16.0.21/24",
	"lsp-add pub pub-gr2", "lsp-set-type pub-gr2 router", "lsp-set-addresses pub-gr2 router", "lsp-set-options pub-gr2 router-port=gr2-pub",
	"lb-add lb11 172.16.0.130:80 10.0.0.11:80,10.0.0.12:80 tcp", "lr-lb-add gr2 lb11",
	"--may-exist lb-add lb11 172.16.0.130:81 10.0.0.11:81,10.0.0.12:81 tcp",
	"set Logical_Router gr2 options:lb_force_snat_ip=router_ip",
	"lb-add lb12 172.16.0.131:80 10.0.0.11:80,10.0.0.12:80 tcp", "set Load_Balancer lb12 options:skip_snat=true", "lr-lb-add gr2 lb12",
	"create Load_Balancer_Group name=lbg0",
}

// ovsUUID, ovsSet and ovsMap decode OVSDB JSON values from ovn-sbctl -f json.
func ovsUUID(v any) string {
	if a, ok := v.([]any); ok && len(a) == 2 {
		if a[0] == "uuid" {
			return a[1].(string)
		}
		if a[0] == "set" {
			if s, ok := a[1].([]any); ok && len(s) == 1 {
				return ovsUUID(s[0])
			}
		}
	}
	return ""
}

func ovsSet(v any) []string {
	var out []string
	a, ok := v.([]any)
	if !ok {
		if s, ok := v.(string); ok {
			return []string{s}
		}
		return nil
	}
	if len(a) == 2 && (a[0] == "uuid" || a[0] == "named-uuid") {
		return []string{a[1].(string)}
	}
	if len(a) == 2 && a[0] == "set" {
		for _, e := range a[1].([]any) {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, ovsUUID(e))
			}
		}
	}
	return out
}

func ovsMap(v any) map[string]string {
	out := map[string]string{}
	a, ok := v.([]any)
	if !ok || len(a) != 2 || a[0] != "map" {
		return out
	}
	for _, kv := range a[1].([]any) {
		p := kv.([]any)
		out[fmt.Sprint(p[0])] = fmt.Sprint(p[1])
	}
	return out
}
