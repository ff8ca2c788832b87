package ofctl

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"hcnet/chassis/flowtable"
)

// GeneveTLV maps OVN's Geneve option (class 0x0102, type 0x80, 4 bytes:
// ingress and egress port keys) to tun_metadata0.
const GeneveTLV = "{class=0x102,type=0x80,len=4}->tun_metadata0"

// Switch is one bridge's OpenFlow endpoint.
type Switch struct {
	// Target is what ovs-ofctl connects to: "unix:/run/openvswitch/br-int.mgmt".
	Target string
	// Program is the ovs-ofctl binary. Default "ovs-ofctl".
	Program string
}

func (s Switch) run(ctx context.Context, stdin string, args ...string) (string, error) {
	prog := s.Program
	if prog == "" {
		prog = "ovs-ofctl"
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ovs-ofctl %s %s: %w: %s", args[0], s.Target, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// EnsureGeneveTLV adds the Geneve option mapping unless present.
func (s Switch) EnsureGeneveTLV(ctx context.Context) error {
	out, err := s.run(ctx, "", "-O", "OpenFlow15", "dump-tlv-map", s.Target)
	if err != nil {
		return err
	}
	if strings.Contains(out, "0x80") && strings.Contains(out, "tun_metadata0") {
		return nil
	}
	_, err = s.run(ctx, "", "-O", "OpenFlow15", "add-tlv-map", s.Target, GeneveTLV)
	return err
}

// Apply sends ops in one bundle.
func (s Switch) Apply(ctx context.Context, ops []flowtable.Op, cookie uint64) error {
	if len(ops) == 0 {
		return nil
	}
	_, err := s.run(ctx, flowtable.Render(ops, cookie), "-O", "OpenFlow15", "--bundle", "add-flows", s.Target, "-")
	return err
}

// Replace makes the bridge's flow table equal flows in one bundle; flows
// already installed with the same match and actions stay untouched.
func (s Switch) Replace(ctx context.Context, flows map[string]flowtable.Flow, cookie uint64) error {
	_, err := s.run(ctx, flowtable.RenderAll(flows, cookie), "-O", "OpenFlow15", "--bundle", "replace-flows", s.Target, "-")
	return err
}

// Meter is an OpenFlow meter in ovs-ofctl syntax ("meter=1,kbps,band=type=drop,rate=1000").
type Meter struct {
	ID   uint32
	Spec string // after "meter=ID,"
}

// SetMeters adds or modifies the given meters (ovs-ofctl add-meter /
// mod-meter).
func (s Switch) SetMeters(ctx context.Context, add, mod []Meter, del []uint32) error {
	for _, m := range add {
		if _, err := s.run(ctx, "", "-O", "OpenFlow15", "add-meter", s.Target, fmt.Sprintf("meter=%d,%s", m.ID, m.Spec)); err != nil {
			return err
		}
	}
	for _, m := range mod {
		if _, err := s.run(ctx, "", "-O", "OpenFlow15", "mod-meter", s.Target, fmt.Sprintf("meter=%d,%s", m.ID, m.Spec)); err != nil {
			return err
		}
	}
	for _, id := range del {
		if _, err := s.run(ctx, "", "-O", "OpenFlow15", "del-meter", s.Target, fmt.Sprintf("meter=%d", id)); err != nil {
			return err
		}
	}
	return nil
}

// Count returns the number of flows installed.
func (s Switch) Count(ctx context.Context) (int, error) {
	out, err := s.run(ctx, "", "-O", "OpenFlow15", "dump-flows", "--no-stats", s.Target)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "actions=") {
			n++
		}
	}
	return n, nil
}
