package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"hcnet/e2e/testbed"
)

// StateFile is the name of the state file under the run directory.
const StateFile = "state.json"

// State is what a running `hcnet run` tells other commands (`hcnet demo`,
// tests, operators): who runs, where the logs are, and the chassis
// topology (namespaces, bridges' run directories, remotes).
type State struct {
	// PID is the launcher's process id.
	PID int `json:"pid"`
	// NBRemote and SBRemote reach the databases from the host and from
	// every namespace.
	NBRemote string `json:"nb_remote"`
	SBRemote string `json:"sb_remote"`
	// NBTCP and SBTCP are the databases' TCP remotes.
	NBTCP string `json:"nb_tcp"`
	SBTCP string `json:"sb_tcp"`
	// Metrics are the Prometheus endpoints of nbdb, sbdb and northd.
	Metrics []string `json:"metrics,omitempty"`
	// Processes lists every process started, in start order.
	Processes []ProcState `json:"processes"`
	// Topology is the chassis topology; nil when no chassis run.
	Topology *testbed.State `json:"topology,omitempty"`
	// ChassisNote says why no chassis run, when they do not.
	ChassisNote string `json:"chassis_note,omitempty"`
}

// ProcState is one started process.
type ProcState struct {
	Name string   `json:"name"`
	PID  int      `json:"pid"`
	Logs []string `json:"logs"`
}

// WriteState writes st to dir/state.json atomically.
func WriteState(dir string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := filepath.Join(dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, StateFile)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// ErrNotRunning is returned by ReadState when no state file exists.
var ErrNotRunning = errors.New("launch: hcnet is not running (no state file)")

// ReadState reads dir/state.json.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("%w in %s", ErrNotRunning, dir)
	}
	if err != nil {
		return st, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read state %s: %w", filepath.Join(dir, StateFile), err)
	}
	return st, nil
}
