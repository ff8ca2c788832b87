package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// Command describes one command of a CLI.
type Command struct {
	Name    string
	Usage   string // arguments, for help
	MinArgs int
	MaxArgs int // -1: unlimited
	// Options the command accepts, such as "--may-exist" or "--policy="
	// (a trailing "=" means the option takes a value).
	Options []string
	Run     func(*Ctx) error
}

// IDRule says how records of a table are named: by the value of a string
// column, or of one key of a string map column.
type IDRule struct {
	Column string
	Key    string // map key if Column is a map, e.g. external_ids:name
}

// Registry is the command set and record naming rules of one CLI.
type Registry struct {
	Prog     string // program name, for messages of the caller
	DBName   string
	Commands map[string]*Command
	IDRules  map[string][]IDRule // table -> rules
	// Singletons are tables whose only row is named ".".
	Singletons map[string]bool
	// Prepare runs before the first command of every attempt (e.g. to
	// create NB_Global as ovn-nbctl does).
	Prepare func(*Txn)
}

// Add registers commands.
func (reg *Registry) Add(cmds ...*Command) {
	if reg.Commands == nil {
		reg.Commands = map[string]*Command{}
	}
	for _, c := range cmds {
		if _, dup := reg.Commands[c.Name]; dup {
			panic(fmt.Sprintf("ctl: command %q registered twice", c.Name))
		}
		reg.Commands[c.Name] = c
	}
}

// Names returns the sorted command names.
func (reg *Registry) Names() []string { return sortedKeys(reg.Commands) }

// Invocation is one parsed command of a command line.
type Invocation struct {
	Cmd  *Command
	Args []string
	Opts map[string]string
}

// SplitGroups splits a command line at "--" separators.
func SplitGroups(args []string) [][]string {
	var groups [][]string
	cur := []string{}
	for _, a := range args {
		if a == "--" {
			groups = append(groups, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	return append(groups, cur)
}

// Parse turns groups of words ("[--opt...] command args...") into invocations.
func (reg *Registry) Parse(groups [][]string) ([]Invocation, error) {
	var out []Invocation
	for _, g := range groups {
		opts := map[string]string{}
		i := 0
		for i < len(g) && strings.HasPrefix(g[i], "-") && len(g[i]) > 1 {
			name, val, hasVal := strings.Cut(g[i], "=")
			if !strings.HasPrefix(name, "--") {
				name = "-" + name
			}
			if hasVal {
				opts[name] = val
			} else {
				opts[name] = ""
			}
			i++
		}
		if i >= len(g) {
			if len(opts) > 0 {
				return nil, fmt.Errorf("missing command name (use --help for help)")
			}
			continue
		}
		name := g[i]
		cmd, ok := reg.Commands[name]
		if !ok {
			return nil, fmt.Errorf("unknown command '%s'; use --help for help", name)
		}
		for o, v := range opts {
			ok := false
			for _, allowed := range cmd.Options {
				an := strings.TrimSuffix(allowed, "=")
				if an == o {
					ok = true
					if strings.HasSuffix(allowed, "=") && v == "" {
						return nil, fmt.Errorf("'%s' command requires a value for option '%s'", name, o)
					}
				}
			}
			if !ok {
				return nil, fmt.Errorf("'%s' command has no '%s' option", name, o)
			}
		}
		args := g[i+1:]
		if len(args) < cmd.MinArgs {
			return nil, fmt.Errorf("'%s' command requires at least %d arguments", name, cmd.MinArgs)
		}
		if cmd.MaxArgs >= 0 && len(args) > cmd.MaxArgs {
			return nil, fmt.Errorf("'%s' command takes at most %d arguments", name, cmd.MaxArgs)
		}
		out = append(out, Invocation{Cmd: cmd, Args: args, Opts: opts})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("missing command name (use --help for help)")
	}
	return out, nil
}

// Output settings for listings, as ovs-vsctl's --format, --data,
// --no-headings and --columns.
type Output struct {
	Format     string // list (default), table, csv, json
	Columns    string // comma-separated column names, empty for all
	Bare       bool   // --data=bare: no quotes, brackets or braces; items space-separated
	NoHeadings bool   // no heading row (table, csv) or column names (list)
}

// Ctx is what a command sees while it runs.
type Ctx struct {
	*Txn
	Reg    *Registry
	Args   []string
	Opts   map[string]string
	Out    *strings.Builder
	Output Output
	// Retry is set by a command (wait-until) whose condition does not hold
	// yet: the whole command line reruns on fresh data.
	Retry bool
	// ForceWait is set by commands (sync) that wait even without changes.
	ForceWait bool
	// post hooks run after commit with the real UUIDs of inserted rows.
	post []func(real map[UUID]UUID)
}

// Has reports whether option o was given.
func (c *Ctx) Has(o string) bool { _, ok := c.Opts[o]; return ok }

// Opt returns option o's value.
func (c *Ctx) Opt(o string) string { return c.Opts[o] }

// Printf writes command output.
func (c *Ctx) Printf(format string, a ...any) { fmt.Fprintf(c.Out, format, a...) }

// AfterCommit registers f to run once the transaction committed.
func (c *Ctx) AfterCommit(f func(real map[UUID]UUID)) { c.post = append(c.post, f) }

// RunOptions are the global settings of one run.
type RunOptions struct {
	Output  Output
	Timeout time.Duration // 0: wait forever
	// BeforeCommit, if set, may add operations to the transaction once the
	// commands ran (force: a command such as sync asked to wait even
	// without changes). The function it returns runs after a successful
	// commit with the results of the added operations (--wait handling).
	BeforeCommit func(t *Txn, force bool) (after func(ctx context.Context, res []ovsdb.OperationResult) error)
	// NewUUID makes the placeholders of inserted rows. Default RandomUUID.
	NewUUID     func() UUID
	ClientUUIDs bool // see Txn.ClientUUIDs
	// Poll is the interval between re-reads while a wait-until condition
	// does not hold.
	Poll time.Duration
	// DryRun runs the commands and prints their output but commits nothing.
	DryRun bool
}

// ErrTimeout is returned when --timeout expires.
var ErrTimeout = errors.New("timeout expired")

// Run executes the invocations as one transaction and writes their output.
func (reg *Registry) Run(ctx context.Context, db DB, invs []Invocation, ro RunOptions, w io.Writer) error {
	if ro.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ro.Timeout)
		defer cancel()
	}
	if ro.Poll == 0 {
		ro.Poll = 100 * time.Millisecond
	}
	raw, err := db.GetSchemaJSON(ctx, reg.DBName)
	if err != nil {
		return timeoutErr(ctx, err)
	}
	schema, err := ParseSchema(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", reg.DBName, err)
	}
	for {
		t := NewTxn(schema, ro.NewUUID)
		t.ClientUUIDs = ro.ClientUUIDs
		t.Attach(ctx, db)
		if reg.Prepare != nil {
			reg.Prepare(t)
		}
		if err := t.Err(); err != nil {
			return timeoutErr(ctx, err)
		}
		ctxs := make([]*Ctx, len(invs))
		retry, force := false, false
		for i, inv := range invs {
			c := &Ctx{Txn: t, Reg: reg, Args: inv.Args, Opts: inv.Opts, Out: &strings.Builder{}, Output: ro.Output}
			err := inv.Cmd.Run(c)
			if rerr := t.Err(); rerr != nil {
				return timeoutErr(ctx, rerr)
			}
			if err != nil {
				return err
			}
			ctxs[i] = c
			retry = retry || c.Retry
			force = force || c.ForceWait
		}
		if retry {
			select {
			case <-ctx.Done():
				return timeoutErr(ctx, ctx.Err())
			case <-time.After(ro.Poll):
			}
			continue
		}
		if undef := t.Syms.Undefined(); len(undef) > 0 {
			return fmt.Errorf("row id %q is referenced but never created (e.g. with \"-- --id=%s create ...\")", undef[0], undef[0])
		}
		if ro.DryRun {
			for _, c := range ctxs {
				io.WriteString(w, c.Out.String())
			}
			return nil
		}
		var after func(context.Context, []ovsdb.OperationResult) error
		if ro.BeforeCommit != nil {
			after = ro.BeforeCommit(t, force)
			if err := t.Err(); err != nil {
				return timeoutErr(ctx, err)
			}
		}
		real, extra, err := t.Commit(ctx, db)
		if err != nil {
			return timeoutErr(ctx, err)
		}
		for _, c := range ctxs {
			for _, f := range c.post {
				f(real)
			}
			s := c.Out.String()
			for p, r := range real {
				s = strings.ReplaceAll(s, string(p), string(r))
			}
			io.WriteString(w, s)
		}
		if after != nil {
			if err := after(ctx, extra); err != nil {
				return timeoutErr(ctx, err)
			}
		}
		return nil
	}
}

func timeoutErr(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return ErrTimeout
	}
	return err
}

// FindTable resolves a table name case-insensitively, with "-" and "_"
// interchangeable and unique prefixes accepted.
func FindTable(s *Schema, name string) (string, error) {
	if s.Table(name) != nil {
		return name, nil
	}
	norm := func(x string) string { return strings.ToLower(strings.ReplaceAll(x, "-", "_")) }
	n := norm(name)
	var matches []string
	for _, t := range s.TableNames() {
		if norm(t) == n {
			return t, nil
		}
		if strings.HasPrefix(norm(t), n) {
			matches = append(matches, t)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("unknown table %q", name)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("multiple table names match %q", name)
}

// FindColumn resolves a column name of table (exact, then unique prefix).
func FindColumn(s *Schema, table, name string) (string, *ovsdb.ColumnSchema, error) {
	ts := s.Table(table)
	if c := ts.Column(name); c != nil {
		return name, c, nil
	}
	var matches []string
	for c := range ts.Columns {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(name)) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 1 {
		return matches[0], ts.Columns[matches[0]], nil
	}
	if len(matches) > 1 {
		return "", nil, fmt.Errorf("%s contains more than one column whose name matches %q", table, name)
	}
	return "", nil, fmt.Errorf("%s does not contain a column whose name matches %q", table, name)
}

// ErrNoRow matches (errors.Is) lookup failures for missing records.
var ErrNoRow = errors.New("no row")

type noRowError struct{ id, table string }

func (e noRowError) Error() string        { return fmt.Sprintf("no row %q in table %s", e.id, e.table) }
func (e noRowError) Is(target error) bool { return target == ErrNoRow }

// Lookup finds the row of table named by id: a UUID (or a unique prefix of
// at least 4 hex digits), "." for singleton tables, or a name per the
// table's IDRules.
func (c *Ctx) Lookup(table, id string) (*Row, error) {
	rows, err := c.lookupAll(table, id)
	if err != nil {
		return nil, err
	}
	switch len(rows) {
	case 0:
		return nil, noRowError{id, table}
	case 1:
		return rows[0], nil
	}
	return nil, fmt.Errorf("multiple rows in %s match %q", table, id)
}

func (c *Ctx) lookupAll(table, id string) ([]*Row, error) {
	if c.Reg.Singletons[table] && id == "." {
		return c.Rows(table), nil
	}
	if IsUUID(id) {
		if r := c.Row(table, UUID(strings.ToLower(id))); r != nil {
			return []*Row{r}, nil
		}
	}
	if strings.HasPrefix(id, "@") {
		if u, ok := c.Syms.uuids[id]; ok {
			if r := c.Row(table, u); r != nil {
				return []*Row{r}, nil
			}
		}
	}
	for _, rule := range c.Reg.IDRules[table] {
		if rule.Key == "" {
			if found := c.FindByString(table, rule.Column, id); len(found) > 0 {
				return found, nil
			}
			continue
		}
		var found []*Row
		for _, r := range c.Rows(table) {
			d := c.Get(r, rule.Column)
			if rule.Key != "" {
				if v, ok := d.MapGet(rule.Key); ok && v == id {
					found = append(found, r)
				}
			} else if d.Str() == id {
				found = append(found, r)
			}
		}
		if len(found) > 0 {
			return found, nil
		}
	}
	if len(id) >= 4 && isHexPrefix(id) {
		var found []*Row
		for _, r := range c.Rows(table) {
			if strings.HasPrefix(string(r.UUID), strings.ToLower(id)) {
				found = append(found, r)
			}
		}
		return found, nil
	}
	return nil, nil
}

func isHexPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}
