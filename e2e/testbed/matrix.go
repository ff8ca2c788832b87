package testbed

import (
	"fmt"
	"strings"
	"sync"
)

// Outcome of one scenario under one combo.
type Outcome string

const (
	Pass   Outcome = "pass"
	Fail   Outcome = "fail"
	NotYet Outcome = "not yet"
	// Skipped means the machine could not run it (not root, no OVS).
	Skipped Outcome = "skipped"
	// Blocked means it did not run because a scenario it builds on failed.
	Blocked Outcome = "blocked"
	// KnownGap means it did not run because it is listed as failing for a
	// known reason in this combination.
	KnownGap Outcome = "known gap"
)

// Results collects scenario outcomes and measured figures per combo. It is
// safe for concurrent use.
type Results struct {
	mu       sync.Mutex                    // guards the fields below
	outcomes map[string]map[string]Outcome // combo -> scenario -> outcome
	figures  map[string][]string           // combo -> "name: value"
}

// NewResults returns an empty collection.
func NewResults() *Results {
	return &Results{outcomes: map[string]map[string]Outcome{}, figures: map[string][]string{}}
}

// Record sets the outcome of scenario under combo.
func (r *Results) Record(combo, scenario string, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outcomes[combo] == nil {
		r.outcomes[combo] = map[string]Outcome{}
	}
	r.outcomes[combo][scenario] = o
}

// Figure records a measured value under combo.
func (r *Results) Figure(combo, name, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.figures[combo] = append(r.figures[combo], name+": "+value)
}

// Get returns the outcome of scenario under combo ("" if none).
func (r *Results) Get(combo, scenario string) Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[combo][scenario]
}

// Markdown renders the scenario × combo table (combos as columns, in the
// given order, titled db/translator/chassis) followed by the figures.
func (r *Results) Markdown(scenarios []string, combos []Combo) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString("| scenario |")
	for _, c := range combos {
		fmt.Fprintf(&b, " %s |", c.Short())
	}
	b.WriteString("\n|---|")
	for range combos {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range scenarios {
		fmt.Fprintf(&b, "| %s |", s)
		for _, c := range combos {
			o := r.outcomes[c.String()][s]
			if o == "" {
				o = "-"
			}
			fmt.Fprintf(&b, " %s |", o)
		}
		b.WriteString("\n")
	}
	var keys []string
	for _, c := range combos {
		if len(r.figures[c.String()]) > 0 {
			keys = append(keys, c.String())
		}
	}
	if len(keys) > 0 {
		b.WriteString("\nMeasured:\n\n")
		for _, k := range keys {
			for _, f := range r.figures[k] {
				fmt.Fprintf(&b, "- %s — %s\n", k, f)
			}
		}
	}
	return b.String()
}

// ReplaceSection returns doc with the text between the lines begin and end
// replaced by body; the markers are appended when doc lacks them.
func ReplaceSection(doc, begin, end, body string) string {
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		return doc + begin + "\n" + body + end + "\n"
	}
	return doc[:i] + begin + "\n" + body + doc[j:]
}
