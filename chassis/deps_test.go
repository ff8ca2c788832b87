package chassis

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the pure packages free of sockets, processes and
// the OVSDB client, and the chassis apart from northd (STYLE.md §1, §2).
func TestDependencies(t *testing.T) {
	if d := deps(t, "hcnet/chassis/plan"); !contains(d, "hcnet/chassis/replica") {
		t.Fatalf("go list -deps does not resolve module packages: %v", d)
	}
	pure := []string{"config", "replica", "plan", "physical", "flowtable", "lflows", "pinctrl", "ofconn"}
	// Transitively: no OVSDB connection, process or netlink. Directly:
	// not even package net (parsing helpers come from net/netip).
	forbiddenPure := []string{"os/exec", "hcnet/internal/client", "hcnet/internal/jsonrpc", "hcnet/chassis/ofctl",
		"github.com/vishvananda/netlink"}
	for _, p := range pure {
		for _, imp := range deps(t, "hcnet/chassis/"+p) {
			for _, f := range forbiddenPure {
				if imp == f {
					t.Errorf("pure package chassis/%s depends on %s", p, imp)
				}
			}
		}
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", "hcnet/chassis/"+p).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		if contains(strings.Fields(string(out)), "net") {
			t.Errorf("pure package chassis/%s imports net", p)
		}
	}
	for _, p := range append(pure, "", "ofctl", "hostnet") {
		path := strings.TrimSuffix("hcnet/chassis/"+p, "/")
		for _, imp := range deps(t, path) {
			if strings.HasPrefix(imp, "hcnet/northd") {
				t.Errorf("%s depends on %s: chassis and northd never import each other", path, imp)
			}
		}
	}
}

// deps returns the transitive imports of pkg (go list -deps; test files
// excluded).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Skipf("go list -deps %s: %v", pkg, err)
	}
	var res []string
	for _, l := range strings.Fields(string(out)) {
		if l != pkg {
			res = append(res, l)
		}
	}
	return res
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
