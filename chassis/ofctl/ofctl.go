package ofctl

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
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
		msg := strings.TrimSpace(errb.String())
		err = fmt.Errorf("ovs-ofctl %s %s: %w: %s", command(args), s.Target, err, msg)
		// "-:118: ..." names a line of the flows we sent.
		if rest, ok := strings.CutPrefix(msg, "ovs-ofctl: -:"); ok {
			if n, _, ok := strings.Cut(rest, ":"); ok {
				if i, aerr := strconv.Atoi(n); aerr == nil {
					if lines := strings.Split(stdin, "\n"); i >= 1 && i <= len(lines) {
						return "", &LineError{Line: i, Text: lines[i-1], Err: err}
					}
				}
			}
		}
		return "", err
	}
	return out.String(), nil
}

// LineError is a failure the switch pinned on one line of the flows sent
// (a flow it rejects); the rest of the bundle was not applied.
type LineError struct {
	Line int
	Text string
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%v (line %d: %s)", e.Err, e.Line, e.Text) }
func (e *LineError) Unwrap() error { return e.Err }

// command returns the ovs-ofctl command among args (the first argument
// that is not an option or an option's value).
func command(args []string) string {
	for i := 0; i < len(args); i++ {
		if args[i] == "-O" {
			i++
			continue
		}
		if !strings.HasPrefix(args[i], "-") {
			return args[i]
		}
	}
	return ""
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

// SetMeter adds or replaces meter id ("kbps,burst,stats,bands=type=drop,rate=100").
func (s Switch) SetMeter(ctx context.Context, id uint32, spec string) error {
	m := fmt.Sprintf("meter=%d,%s", id, spec)
	if _, err := s.run(ctx, "", "-O", "OpenFlow15", "mod-meter", s.Target, m); err == nil {
		return nil
	}
	_, err := s.run(ctx, "", "-O", "OpenFlow15", "add-meter", s.Target, m)
	return err
}

// SetGroup adds or replaces group id ("type=select,bucket=...").
func (s Switch) SetGroup(ctx context.Context, id uint32, desc string) error {
	_, err := s.run(ctx, "", "-O", "OpenFlow15", "--may-create", "mod-group", s.Target, fmt.Sprintf("group_id=%d,%s", id, desc))
	return err
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
