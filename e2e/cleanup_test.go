package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"hcnet/e2e/testbed"
)

// TestCleanup_Root checks the harness's hygiene: after a testbed's test
// ends, none of its processes runs, none of its namespaces exists, and its
// run directory is gone.
func TestCleanup_Root(t *testing.T) {
	var pids []int
	var namespaces []string
	var dir string
	t.Run("testbed", func(t *testing.T) {
		tb := testbed.Start(t, testbed.Config{Chassis: []testbed.ChassisSpec{{Name: "hv1", Site: 1, Gateway: true}}})
		tb.MustNBCtl(t, "ls-add", "ls1")
		tb.MustNBCtl(t, "lsp-add", "ls1", "vm1", "--", "lsp-set-addresses", "vm1", "0a:00:00:00:01:11 10.0.1.11")
		tb.MustAddVM(t, testbed.VMSpec{Name: "vm1", Chassis: "hv1", MAC: "0a:00:00:00:01:11", CIDR: "10.0.1.11/24"})
		for _, p := range tb.Processes() {
			pids = append(pids, p.PID())
		}
		namespaces, dir = tb.Namespaces(), tb.RunDir
	})
	if len(pids) == 0 {
		t.Skip("testbed did not start (see the subtest)")
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after cleanup (kill -0: %v)", pid, err)
		}
	}
	for _, ns := range namespaces {
		if _, err := os.Stat(filepath.Join("/var/run/netns", ns)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("namespace %s still exists after cleanup (%v)", ns, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run directory %s still exists after a passing test (%v)", dir, err)
	}
}
