package testbed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// State is what another process needs to add VMs to a running testbed
// (Attach): names, directories and remotes, no processes.
type State struct {
	Prefix   string `json:"prefix"`
	RunDir   string `json:"run_dir"`
	BinDir   string `json:"bin_dir"`
	Ctl      Impl   `json:"ctl"`
	NBRemote string `json:"nb_remote"`
	SBRemote string `json:"sb_remote"`
	// ExtNS is the external network namespace (ExternalHostIP on br0).
	ExtNS   string         `json:"ext_ns"`
	Chassis []ChassisState `json:"chassis"`
}

// ChassisState describes one running chassis.
type ChassisState struct {
	Name    string `json:"name"`
	Site    int    `json:"site"`
	Gateway bool   `json:"gateway"`
	NS      string `json:"ns"`
	Dir     string `json:"dir"`
	IP      string `json:"ip"`
}

// State returns the testbed's State.
func (tb *Testbed) State() State {
	st := State{Prefix: tb.Prefix, RunDir: tb.RunDir, BinDir: tb.binDir(), Ctl: tb.cfg.Ctl,
		NBRemote: tb.Central.NBRemote, SBRemote: tb.Central.SBRemote, ExtNS: tb.ExtNS}
	for _, c := range tb.AllChassis() {
		st.Chassis = append(st.Chassis, ChassisState{Name: c.Name, Site: c.Site, Gateway: c.Gateway, NS: c.NS, Dir: c.Dir, IP: c.IP})
	}
	return st
}

// Attach returns a testbed for a topology another process runs (described
// by its State): VMs can be added, pinged and inspected, the databases
// queried. Close removes only the VMs (namespaces and br-int ports) this
// testbed added; the chassis and their processes are left alone.
func Attach(st State, log *slog.Logger) (*Testbed, error) {
	if st.Prefix == "" || st.NBRemote == "" || st.SBRemote == "" || len(st.Chassis) == 0 {
		return nil, fmt.Errorf("testbed attach: incomplete state (prefix %q, nb %q, sb %q, %d chassis)", st.Prefix, st.NBRemote, st.SBRemote, len(st.Chassis))
	}
	for _, c := range st.Chassis {
		if _, err := os.Stat(c.Dir); err != nil {
			return nil, fmt.Errorf("testbed attach: chassis %s: run dir: %w", c.Name, err)
		}
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if st.Ctl == "" {
		st.Ctl = OVN
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb := &Testbed{
		cfg: Config{Combo: Combo{DB: Ours, Translator: Ours, Chassis: Ours}, BinDir: st.BinDir, RunDir: st.RunDir,
			Prefix: st.Prefix, NBRemote: st.NBRemote, SBRemote: st.SBRemote, Ctl: st.Ctl, Logger: log},
		log:       log,
		ctx:       ctx,
		cancel:    cancel,
		attached:  true,
		Prefix:    st.Prefix,
		RunDir:    st.RunDir,
		Central:   &Central{NBRemote: st.NBRemote, SBRemote: st.SBRemote},
		ExtNS:     st.ExtNS,
		vms:       map[string]*VM{},
		underlays: map[int]string{},
	}
	for _, c := range st.Chassis {
		tb.chassis = append(tb.chassis, &Chassis{Name: c.Name, Site: c.Site, Gateway: c.Gateway, NS: c.NS, Dir: c.Dir, IP: c.IP, tb: tb})
	}
	return tb, nil
}
