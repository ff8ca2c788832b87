package flowtable

import (
	"fmt"

	"hcnet/internal/openflow"
	"sort"
	"strconv"
	"strings"
)

// Flow is one OpenFlow flow in ovs-ofctl syntax.
type Flow struct {
	Table    uint8
	Priority uint16
	// Match is the ovs-ofctl match without table and priority ("" matches
	// everything), e.g. "reg15=0x1,metadata=0x1".
	Match string
	// Actions is the ovs-ofctl action list; "drop" when empty.
	Actions string
	// OF, when set, is the same flow compiled (its table, priority and
	// cookie are ignored); flows without it are parsed from the text
	// when installed natively.
	OF *openflow.Flow
}

// Key identifies a flow in a switch: OpenFlow's (table, priority, match).
func (f Flow) Key() string {
	return "table=" + strconv.Itoa(int(f.Table)) + ",priority=" + strconv.Itoa(int(f.Priority)) + "," + f.Match
}

// String renders the flow like `ovs-ofctl dump-flows --no-stats`.
func (f Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table=%d, priority=%d", f.Table, f.Priority)
	if f.Match != "" {
		b.WriteString(",")
		b.WriteString(f.Match)
	}
	b.WriteString(" actions=")
	b.WriteString(f.actions())
	return b.String()
}

func (f Flow) actions() string {
	if f.Actions == "" {
		return "drop"
	}
	return f.Actions
}

// Table holds desired flows by owner. Two owners may want the same flow
// (logical flows shared by datapath groups); a key is desired while any
// owner wants it, and the first owner (in owner order) decides its
// actions when they disagree.
type Table struct {
	owners map[string][]Flow
}

// New returns an empty table.
func New() *Table { return &Table{owners: map[string][]Flow{}} }

// Set replaces the flows of one owner.
func (t *Table) Set(owner string, flows []Flow) {
	if len(flows) == 0 {
		delete(t.owners, owner)
		return
	}
	t.owners[owner] = flows
}

// Remove forgets an owner's flows.
func (t *Table) Remove(owner string) { delete(t.owners, owner) }

// Owners returns the owners in sorted order.
func (t *Table) Owners() []string {
	out := make([]string, 0, len(t.owners))
	for o := range t.owners {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// Flows returns the desired flows by key, and the conflicts found: keys
// two owners want with different actions.
func (t *Table) Flows() (map[string]Flow, []string) {
	out := map[string]Flow{}
	var conflicts []string
	for _, o := range t.Owners() {
		for _, f := range t.owners[o] {
			k := f.Key()
			if prev, ok := out[k]; ok {
				if merged, ok := mergeConjunctions(prev.actions(), f.actions()); ok {
					prev.Actions = merged
					if prev.OF != nil {
						of := *prev.OF
						of.Actions = nil
						for _, c := range strings.Split(merged, "),") {
							a, err := parseAction(strings.TrimSuffix(c, ")") + ")")
							if err != nil {
								panic(fmt.Sprintf("flowtable: merged conjunctions %q: %v", merged, err))
							}
							of.Actions = append(of.Actions, a)
						}
						prev.OF = &of
					}
					out[k] = prev
					continue
				}
				if prev.actions() != f.actions() {
					conflicts = append(conflicts, fmt.Sprintf("%s: %q (kept) vs %q (owner %s)", k, prev.actions(), f.actions(), o))
				}
				continue
			}
			out[k] = f
		}
	}
	return out, conflicts
}

// Op is one flow-mod of a bundle.
type Op struct {
	// Kind is "add" (new key or new actions) or "delete".
	Kind string
	Flow Flow
}

// Diff returns the flow-mods that turn installed into desired, deletes
// first, then adds, each in key order. Applying an empty diff changes
// nothing.
func Diff(installed, desired map[string]Flow) []Op {
	var dels, adds []Op
	for k, f := range installed {
		if _, ok := desired[k]; !ok {
			dels = append(dels, Op{Kind: "delete", Flow: f})
		}
	}
	for k, f := range desired {
		if old, ok := installed[k]; !ok || old.actions() != f.actions() {
			adds = append(adds, Op{Kind: "add", Flow: f})
		}
	}
	sort.Slice(dels, func(i, j int) bool { return dels[i].Flow.Key() < dels[j].Flow.Key() })
	sort.Slice(adds, func(i, j int) bool { return adds[i].Flow.Key() < adds[j].Flow.Key() })
	return append(dels, adds...)
}

// ParseLine returns the flow a line of Render or RenderAll output names.
func ParseLine(line string) (Flow, bool) {
	line = strings.TrimPrefix(strings.TrimPrefix(line, "add "), "delete_strict ")
	var f Flow
	head, actions, hasActions := strings.Cut(line, ",actions=")
	f.Actions = actions
	_ = hasActions
	var match []string
	for _, part := range splitTop(head) {
		switch {
		case strings.HasPrefix(part, "cookie="):
		case strings.HasPrefix(part, "table="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "table="))
			if err != nil {
				return f, false
			}
			f.Table = uint8(n)
		case strings.HasPrefix(part, "priority="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "priority="))
			if err != nil {
				return f, false
			}
			f.Priority = uint16(n)
		default:
			match = append(match, part)
		}
	}
	f.Match = strings.Join(match, ",")
	return f, true
}

// splitTop splits on commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// Render writes ops in the syntax of `ovs-ofctl add-flows` files with
// per-line commands; cookie is stamped on every added flow.
func Render(ops []Op, cookie uint64) string {
	var b strings.Builder
	for _, op := range ops {
		f := op.Flow
		switch op.Kind {
		case "delete":
			fmt.Fprintf(&b, "delete_strict table=%d,priority=%d", f.Table, f.Priority)
			if f.Match != "" {
				b.WriteString(",")
				b.WriteString(f.Match)
			}
		default:
			fmt.Fprintf(&b, "add cookie=%#x,table=%d,priority=%d", cookie, f.Table, f.Priority)
			if f.Match != "" {
				b.WriteString(",")
				b.WriteString(f.Match)
			}
			b.WriteString(",actions=")
			b.WriteString(f.actions())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// RenderAll writes every flow of a table as plain flow lines (for
// `ovs-ofctl replace-flows`), sorted by key.
func RenderAll(flows map[string]Flow, cookie uint64) string {
	keys := make([]string, 0, len(flows))
	for k := range flows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		f := flows[k]
		fmt.Fprintf(&b, "cookie=%#x,table=%d,priority=%d", cookie, f.Table, f.Priority)
		if f.Match != "" {
			b.WriteString(",")
			b.WriteString(f.Match)
		}
		b.WriteString(",actions=")
		b.WriteString(f.actions())
		b.WriteByte('\n')
	}
	return b.String()
}

// mergeConjunctions combines two action lists made only of conjunction()
// actions, as OpenFlow requires when several logical flows share a clause
// match. The result is sorted and without duplicates.
func mergeConjunctions(a, b string) (string, bool) {
	pa, ok1 := conjunctions(a)
	pb, ok2 := conjunctions(b)
	if !ok1 || !ok2 {
		return "", false
	}
	seen := map[string]bool{}
	var all []string
	for _, c := range append(pa, pb...) {
		if !seen[c] {
			seen[c] = true
			all = append(all, c)
		}
	}
	sort.Strings(all)
	return strings.Join(all, ","), true
}

func conjunctions(s string) ([]string, bool) {
	var out []string
	for s != "" {
		if !strings.HasPrefix(s, "conjunction(") {
			return nil, false
		}
		end := strings.Index(s, ")")
		if end < 0 {
			return nil, false
		}
		out = append(out, s[:end+1])
		s = strings.TrimPrefix(s[end+1:], ",")
	}
	return out, len(out) > 0
}
