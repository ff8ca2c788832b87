package testbed

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PingStats is what a ping run reported.
type PingStats struct {
	Transmitted, Received int
	// Seqs are the icmp_seq numbers answered, ascending.
	Seqs []int
	// MinRTT and AvgRTT come from ping's summary line (zero when absent).
	MinRTT, AvgRTT time.Duration
	// Times are the reply timestamps (ping -D), in arrival order; empty
	// when ping did not print them.
	Times []time.Time
}

var (
	seqRE     = regexp.MustCompile(`icmp_seq=(\d+)`)
	rttRE     = regexp.MustCompile(`rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/`)
	stampRE   = regexp.MustCompile(`^\[(\d+)\.(\d+)\]`)
	summaryRE = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
)

// ParsePing parses iputils ping output.
func ParsePing(out string) PingStats {
	var st PingStats
	seen := map[int]bool{}
	for _, l := range strings.Split(out, "\n") {
		if m := summaryRE.FindStringSubmatch(l); m != nil {
			st.Transmitted, _ = strconv.Atoi(m[1])
			st.Received, _ = strconv.Atoi(m[2])
			continue
		}
		if m := rttRE.FindStringSubmatch(l); m != nil {
			st.MinRTT = msDuration(m[1])
			st.AvgRTT = msDuration(m[2])
			continue
		}
		if !strings.Contains(l, "bytes from") {
			continue
		}
		if m := seqRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			if !seen[n] {
				seen[n] = true
				st.Seqs = append(st.Seqs, n)
				if ts := stampRE.FindStringSubmatch(l); ts != nil {
					sec, _ := strconv.ParseInt(ts[1], 10, 64)
					frac := (ts[2] + "000000000")[:9]
					nsec, _ := strconv.ParseInt(frac, 10, 64)
					st.Times = append(st.Times, time.Unix(sec, nsec))
				}
			}
		}
	}
	sort.Ints(st.Seqs)
	return st
}

func msDuration(ms string) time.Duration {
	f, err := strconv.ParseFloat(ms, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

// LongestGap returns the longest run of consecutive unanswered sequence
// numbers among 1..Transmitted.
func (s PingStats) LongestGap() int {
	longest, prev := 0, 0
	for _, q := range s.Seqs {
		if q-prev-1 > longest {
			longest = q - prev - 1
		}
		prev = q
	}
	if s.Transmitted-prev > longest {
		longest = s.Transmitted - prev
	}
	return longest
}

// LossWindow is how long traffic was interrupted: with reply timestamps,
// the longest silence between two consecutive replies less one interval
// (what a perfect path would show); without them, the longest gap in
// sequence numbers times the interval. A loaded machine may send later
// than asked, so the timestamps are the honest measure.
func (s PingStats) LossWindow(interval time.Duration) time.Duration {
	if len(s.Times) < 2 {
		return time.Duration(s.LongestGap()) * interval
	}
	var longest time.Duration
	for i := 1; i < len(s.Times); i++ {
		if d := s.Times[i].Sub(s.Times[i-1]); d > longest {
			longest = d
		}
	}
	if longest < interval {
		return 0
	}
	return longest - interval
}

// Explain is tb.Explain from this VM.
func (vm *VM) Explain(dst, problem string) string { return vm.tb.Explain(vm, dst, problem) }

// Explain describes a failed check from vm towards dst and what an
// operator should look at next: the chassis involved, whether their
// daemons run, how many flows br-int holds, the port bindings, the
// commands to run and the log files.
func (tb *Testbed) Explain(from *VM, dst, problem string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s: %s\n", from.where(), dst, problem)
	involved := map[string]*Chassis{}
	if from.Chassis != nil {
		involved[from.Chassis.Name] = from.Chassis
	}
	tb.mu.Lock()
	for _, v := range tb.vms {
		if v.IP() == dst && v != from {
			fmt.Fprintf(&b, "  destination: %s\n", v.where())
			involved[v.Chassis.Name] = v.Chassis
		}
	}
	tb.mu.Unlock()
	if strings.HasPrefix(dst, "172.16.") || from.Chassis == nil {
		for _, c := range tb.AllChassis() {
			if c.Gateway {
				involved[c.Name] = c
			}
		}
	}
	tb.mu.Lock()
	var bound []*VM
	for _, v := range tb.vms {
		if v == from || v.IP() == dst {
			bound = append(bound, v)
		}
	}
	tb.mu.Unlock()
	sort.Slice(bound, func(i, j int) bool { return bound[i].Spec.Name < bound[j].Spec.Name })
	for _, v := range bound {
		fmt.Fprintf(&b, "  port %s: %s\n", v.Spec.Port, tb.bindingState(v))
	}
	names := make([]string, 0, len(involved))
	for n := range involved {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("check next:\n")
	for _, n := range names {
		c := involved[n]
		state := "not started"
		if c.Daemon != nil {
			state = fmt.Sprintf("pid %d running", c.Daemon.PID())
			if c.Daemon.Exited() {
				state = fmt.Sprintf("pid %d EXITED", c.Daemon.PID())
			}
		}
		flows := "?"
		if k, err := c.FlowCount(); err == nil {
			flows = fmt.Sprint(k)
			if k == 0 {
				flows += " (NONE: the chassis daemon programmed nothing on br-int; is external_ids:ovn-bridge br-int? see its log)"
			}
		} else {
			flows = fmt.Sprintf("? (%v)", err)
		}
		fmt.Fprintf(&b, "  chassis %s (netns %s, underlay %s): daemon %s, br-int flows %s\n", c.Name, c.NS, c.IP, state, flows)
		fmt.Fprintf(&b, "    flows: ovs-ofctl -O OpenFlow13 dump-flows %s\n", c.BrIntMgmt())
		if from.Chassis == c {
			fmt.Fprintf(&b, "    trace: ovs-appctl -t %s ofproto/trace br-int 'in_port=%s,icmp,dl_src=%s,nw_src=%s,nw_dst=%s'\n", c.SwitchCtl(), from.OVSPort, from.Spec.MAC, from.IP(), dst)
		}
		fmt.Fprintf(&b, "    tunnels/BFD: ovs-appctl -t %s bfd/show; ovs-vsctl --db=%s show\n", c.SwitchCtl(), c.DBRemote())
		if c.Daemon != nil {
			fmt.Fprintf(&b, "    logs: %s\n", strings.Join(c.Daemon.LogFiles, " "))
		}
		if c.Switch != nil {
			fmt.Fprintf(&b, "    switch log: %s\n", c.Switch.LogFiles[len(c.Switch.LogFiles)-1])
		}
	}
	fmt.Fprintf(&b, "  port bindings: ovn-sbctl --db=%s show\n", tb.Central.SBRemote)
	if out, err := tb.SBCtl("show"); err == nil {
		b.WriteString(indent(out, "    "))
	} else {
		fmt.Fprintf(&b, "    (sbctl failed: %v)\n", err)
	}
	fmt.Fprintf(&b, "  logical network: ovn-nbctl --db=%s show\n", tb.Central.NBRemote)
	var tr []string
	for _, p := range tb.Central.Translators {
		if p != nil {
			st := "running"
			if p.Exited() {
				st = "exited"
			}
			tr = append(tr, fmt.Sprintf("%s %s, log %s", p.Name, st, p.LogFiles[len(p.LogFiles)-1]))
		}
	}
	fmt.Fprintf(&b, "  translators: %s\n", strings.Join(tr, "; "))
	fmt.Fprintf(&b, "  all logs under %s (kept when the test fails)\n", tb.RunDir)
	return b.String()
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// bindingState says which chassis the SB binds vm's logical port to, and
// whether that is the chassis the VM is plugged into.
func (tb *Testbed) bindingState(vm *VM) string {
	out, err := tb.SBCtl("--bare", "--columns=chassis", "find", "Port_Binding", "logical_port="+fmt.Sprintf("%q", vm.Spec.Port))
	if err != nil {
		return fmt.Sprintf("cannot read its Port_Binding (%v)", err)
	}
	uuid := strings.TrimSpace(out)
	if uuid == "" {
		return fmt.Sprintf("NOT BOUND in SB Port_Binding (expected chassis %s to claim it: is its daemon running and external_ids:iface-id=%s set on %s?)", vm.Chassis.Name, vm.Spec.Port, vm.OVSPort)
	}
	name, err := tb.SBCtl("--bare", "--columns=name", "list", "Chassis", uuid)
	if err != nil {
		return fmt.Sprintf("bound to chassis row %s (%v)", uuid, err)
	}
	name = strings.TrimSpace(name)
	if name != vm.Chassis.Name {
		return fmt.Sprintf("bound to chassis %s, but the VM is plugged into %s", name, vm.Chassis.Name)
	}
	return "bound to " + name
}
