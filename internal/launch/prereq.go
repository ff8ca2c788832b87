package launch

import (
	"os/exec"
	"sort"
)

// ChassisCommands maps each command the local chassis (and the demo's VMs)
// need to the Debian package that provides it.
var ChassisCommands = map[string]string{
	"ovsdb-tool":   "openvswitch-common",
	"ovsdb-server": "openvswitch-common",
	"ovs-appctl":   "openvswitch-common",
	"ovs-vsctl":    "openvswitch-switch",
	"ovs-vswitchd": "openvswitch-switch",
	"ovs-ofctl":    "openvswitch-common",
	"ip":           "iproute2",
	"tc":           "iproute2",
	"ethtool":      "ethtool",
	"ping":         "iputils-ping",
}

// VSwitchSchema is the Open_vSwitch schema the chassis's databases use.
const VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// Missing returns the commands of need that lookPath cannot find and the
// sorted, deduplicated packages that provide them.
func Missing(need map[string]string, lookPath func(string) (string, error)) (cmds, pkgs []string) {
	seen := map[string]bool{}
	for c, p := range need {
		if _, err := lookPath(c); err != nil {
			cmds = append(cmds, c)
			if !seen[p] {
				seen[p] = true
				pkgs = append(pkgs, p)
			}
		}
	}
	sort.Strings(cmds)
	sort.Strings(pkgs)
	return cmds, pkgs
}

// LookPath is exec.LookPath that also tries /usr/sbin and /sbin, which a
// non-login root shell may lack in PATH.
func LookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if q, err2 := exec.LookPath(dir + "/" + name); err2 == nil {
			return q, nil
		}
	}
	return "", err
}
