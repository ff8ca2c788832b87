package translate

import "fmt"

// flowSet collects the flows of one datapath.
type flowSet struct {
	dp    string
	flows []Flow
}

func (f *flowSet) add(s Stage, prio int, match, actions string) {
	f.flows = append(f.flows, Flow{
		Datapath: f.dp, Pipeline: s.Pipeline, Table: s.Table, Stage: s.Name,
		Priority: prio, Match: match, Actions: actions,
	})
}

func (f *flowSet) addf(s Stage, prio int, match string, actions string, args ...any) {
	f.add(s, prio, match, fmt.Sprintf(actions, args...))
}

// defaults adds "priority 0, match 1, next;" to every listed stage.
func (f *flowSet) defaults(stages ...Stage) {
	for _, s := range stages {
		f.add(s, 0, "1", "next;")
	}
}

// quote renders a port name as a logical flow string literal.
func quote(s string) string { return fmt.Sprintf("%q", s) }
