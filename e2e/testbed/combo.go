package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Impl names who fills a role.
type Impl string

const (
	// OVN is OVN's (or Open vSwitch's) own component from the Debian packages.
	OVN Impl = "ovn"
	// Ours is hcnet's component built from ./cmd.
	Ours Impl = "hcnet"
)

// Combo chooses the implementation of each role for one run.
type Combo struct {
	// DB serves NB and SB: ovsdb-server (OVN) or nbdb/sbdb (Ours).
	DB Impl
	// Translator is ovn-northd (OVN) or northd (Ours).
	Translator Impl
	// Chassis is ovn-controller (OVN) or chassis (Ours).
	Chassis Impl
}

// String renders the combo as "db=ovn,translator=hcnet,chassis=ovn"; the
// all-OVN and all-ours combos render as "ovn" and "hcnet".
func (c Combo) String() string {
	if c.DB == c.Translator && c.Translator == c.Chassis {
		return string(c.DB)
	}
	return fmt.Sprintf("db=%s,translator=%s,chassis=%s", c.DB, c.Translator, c.Chassis)
}

// Short renders the combo as a compact column title, e.g. "ovn/hcnet/ovn"
// (db/translator/chassis).
func (c Combo) Short() string {
	return fmt.Sprintf("%s/%s/%s", c.DB, c.Translator, c.Chassis)
}

// OursCommands returns the ./cmd directories this combo needs built.
func (c Combo) OursCommands() []string {
	var cmds []string
	if c.DB == Ours {
		cmds = append(cmds, "nbdb", "sbdb")
	}
	if c.Translator == Ours {
		cmds = append(cmds, "northd")
	}
	if c.Chassis == Ours {
		cmds = append(cmds, "chassis")
	}
	return cmds
}

// AllCombos returns every combination, all-OVN first and all-ours last.
func AllCombos() []Combo {
	impls := []Impl{OVN, Ours}
	var out []Combo
	for _, db := range impls {
		for _, tr := range impls {
			for _, ch := range impls {
				out = append(out, Combo{DB: db, Translator: tr, Chassis: ch})
			}
		}
	}
	return out
}

// ParseCombos parses a semicolon-separated list of combos: "ovn", "hcnet",
// "all", or "db=X,translator=Y,chassis=Z" with X, Y, Z in {ovn, hcnet}
// (omitted roles default to ovn). Duplicates are dropped; order is kept.
func ParseCombos(s string) ([]Combo, error) {
	var out []Combo
	seen := map[Combo]bool{}
	add := func(c Combo) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		switch item {
		case "":
			continue
		case "all":
			for _, c := range AllCombos() {
				add(c)
			}
			continue
		case string(OVN), string(Ours):
			i := Impl(item)
			add(Combo{DB: i, Translator: i, Chassis: i})
			continue
		}
		c := Combo{DB: OVN, Translator: OVN, Chassis: OVN}
		for _, kv := range strings.Split(item, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return nil, fmt.Errorf("combo %q: %q is not role=impl", item, kv)
			}
			impl := Impl(strings.TrimSpace(v))
			if impl != OVN && impl != Ours {
				return nil, fmt.Errorf("combo %q: implementation %q is neither %q nor %q", item, v, OVN, Ours)
			}
			switch strings.TrimSpace(k) {
			case "db":
				c.DB = impl
			case "translator", "northd":
				c.Translator = impl
			case "chassis", "controller":
				c.Chassis = impl
			default:
				return nil, fmt.Errorf("combo %q: unknown role %q (want db, translator or chassis)", item, k)
			}
		}
		add(c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("combo list %q names no combination", s)
	}
	return out, nil
}

// MissingCommands returns the ./cmd directories the combo needs that do
// not exist under repoRoot: such a combo is "not yet".
func MissingCommands(repoRoot string, c Combo) []string {
	var missing []string
	for _, name := range c.OursCommands() {
		if st, err := os.Stat(filepath.Join(repoRoot, "cmd", name)); err != nil || !st.IsDir() {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}

// RepoRoot walks up from dir to the directory holding go.mod.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repo root from %s: %w", dir, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("repo root: no go.mod above %s", dir)
		}
		d = parent
	}
}
