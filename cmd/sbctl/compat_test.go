package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"hcnet/internal/ctl/ctltest"
	"hcnet/internal/ovstest"
)

var anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestMatchesOVNSbctl builds a Southbound database with sbctl and checks
// that listings print as ovn-sbctl prints them on the same database.
func TestMatchesOVNSbctl(t *testing.T) {
	ovstest.Need(t, "ovn-sbctl")
	remote := ctltest.Start(t, ctltest.OVSDBServer, "sb")
	ours := func(line string) (string, bool) {
		args, err := ctltest.Fields(line)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		code := run(ctx, append([]string{"--db=" + remote}, args...), env{getenv: func(string) string { return "" }}, &out, &out)
		return out.String(), code == 0
	}
	theirs := func(line string) (string, bool) {
		args, err := ctltest.Fields(line)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("ovn-sbctl", append([]string{"--db=" + remote}, args...)...).CombinedOutput()
		return string(out), err == nil
	}
	for _, l := range []string{
		"chassis-add hv1 geneve 192.168.0.1",
		"chassis-add gw1 geneve,vxlan 192.168.0.9",
		"--id=@dp create datapath_binding tunnel_key=1 external_ids:name=sw0 -- create port_binding logical_port=p1 datapath=@dp tunnel_key=1",
		"--id=@dp create datapath_binding tunnel_key=2 external_ids:name=r0",
		"lsp-bind p1 hv1",
		`--id=@dp get datapath_binding sw0 -- create logical_flow logical_datapath=@dp pipeline=ingress table_id=0 priority=100 match="eth.src[40]" actions="drop;" external_ids:stage-name=ls_in_port_sec_l2`,
		`--id=@dp get datapath_binding sw0 -- create logical_flow logical_datapath=@dp pipeline=egress table_id=3 priority=0 match=1 actions="next;" external_ids:stage-name=ls_out_acl`,
		`--id=@dp get datapath_binding sw0 -- create logical_flow logical_datapath=@dp pipeline=ingress table_id=10 priority=50 'match="eth.dst == 00:00:00:00:00:01"' 'actions="outport = \"p1\"; output;"' external_ids:stage-name=ls_in_l2_lkup`,
		`--id=@dp get datapath_binding sw0 -- create logical_flow logical_datapath=@dp pipeline=ingress table_id=10 priority=50 'match="eth.dst == 00:00:00:00:00:02"' 'actions="drop;"' external_ids:stage-name=ls_in_l2_lkup`,
		`--id=@dp get datapath_binding r0 -- create logical_flow logical_datapath=@dp pipeline=ingress table_id=0 priority=50 'match="eth.mcast"' 'actions="next;"' external_ids:stage-name=lr_in_admission`,
	} {
		if out, ok := ours(l); !ok {
			t.Fatalf("%s: %s", l, out)
		}
	}
	for _, l := range []string{
		"lflow-list", "lflow-list sw0", "lflow-list r0", "dump-flows sw0",
		"list Chassis", "--columns=type,ip,options list Encap", "--format=table --columns=logical_port,tunnel_key list Port_Binding",
		"get Chassis hv1 name encaps", "find Encap type=vxlan",
	} {
		o, ook := ours(l)
		r, rok := theirs(l)
		if ook != rok || normalize(o) != normalize(r) {
			t.Errorf("%q differs\novn-sbctl:\n%s\nsbctl:\n%s", l, r, o)
		}
	}
}

// normalize sorts record lines (row order follows UUIDs) but keeps
// lflow-list's order, which both tools define.
func normalize(s string) string {
	if strings.HasPrefix(s, "Datapath:") {
		return s
	}
	lines := strings.Split(anyUUID.ReplaceAllString(s, "<uuid>"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
