package ctl

import (
	"errors"
	"fmt"
	"strings"
)

// GenericCommands returns the database commands of ovs-vsctl(8): list,
// find, get, set, add, remove, clear, create, destroy and wait-until.
func GenericCommands() []*Command {
	return []*Command{
		{Name: "list", Usage: "TABLE [RECORD]...", MinArgs: 1, MaxArgs: -1, Options: []string{"--if-exists", "--columns="}, Run: cmdList},
		{Name: "find", Usage: "TABLE CONDITION...", MinArgs: 1, MaxArgs: -1, Options: []string{"--columns="}, Run: cmdFind},
		{Name: "get", Usage: "TABLE RECORD [COLUMN[:KEY]]...", MinArgs: 2, MaxArgs: -1, Options: []string{"--if-exists", "--id="}, Run: cmdGet},
		{Name: "set", Usage: "TABLE RECORD COLUMN[:KEY]=VALUE...", MinArgs: 3, MaxArgs: -1, Options: []string{"--if-exists"}, Run: cmdSet},
		{Name: "add", Usage: "TABLE RECORD COLUMN [KEY=]VALUE...", MinArgs: 4, MaxArgs: -1, Options: []string{"--if-exists"}, Run: cmdAdd},
		{Name: "remove", Usage: "TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...", MinArgs: 4, MaxArgs: -1, Options: []string{"--if-exists"}, Run: cmdRemove},
		{Name: "clear", Usage: "TABLE RECORD COLUMN...", MinArgs: 3, MaxArgs: -1, Options: []string{"--if-exists"}, Run: cmdClear},
		{Name: "create", Usage: "TABLE COLUMN[:KEY]=VALUE...", MinArgs: 1, MaxArgs: -1, Options: []string{"--id="}, Run: cmdCreate},
		{Name: "destroy", Usage: "TABLE RECORD...", MinArgs: 1, MaxArgs: -1, Options: []string{"--if-exists", "--all"}, Run: cmdDestroy},
		{Name: "wait-until", Usage: "TABLE RECORD [COLUMN[:KEY]=VALUE]...", MinArgs: 2, MaxArgs: -1, Run: cmdWaitUntil},
	}
}

func (c *Ctx) table(i int) (string, error) { return FindTable(c.Schema, c.Args[i]) }

// record looks up args[i] in table honouring --if-exists (nil, nil when
// missing and allowed).
func (c *Ctx) record(table, id string) (*Row, error) {
	r, err := c.Lookup(table, id)
	if err != nil && c.Has("--if-exists") && errors.Is(err, ErrNoRow) {
		return nil, nil
	}
	return r, err
}

func cmdList(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	cols, err := c.listColumns(table, c.Opt("--columns"))
	if err != nil {
		return err
	}
	var rows []*Row
	if len(c.Args) == 1 {
		rows = c.Rows(table)
	} else {
		for _, id := range c.Args[1:] {
			r, err := c.record(table, id)
			if err != nil {
				return err
			}
			if r != nil {
				rows = append(rows, r)
			}
		}
	}
	c.WriteRows(table, rows, cols)
	return nil
}

var findOps = []string{"=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}"}

func cmdFind(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	cols, err := c.listColumns(table, c.Opt("--columns"))
	if err != nil {
		return err
	}
	c.Prefetch(table)
	var rows []*Row
	for _, r := range c.Rows(table) {
		ok := true
		for _, arg := range c.Args[1:] {
			m, err := c.condition(table, r, arg)
			if err != nil {
				return err
			}
			ok = ok && m
		}
		if ok {
			rows = append(rows, r)
		}
	}
	c.WriteRows(table, rows, cols)
	return nil
}

// condition evaluates "column[:key]OPvalue" on r.
func (c *Ctx) condition(table string, r *Row, arg string) (bool, error) {
	ca, err := ParseColumnArg(arg, findOps)
	if err != nil {
		return false, err
	}
	if ca.Op == "" {
		return false, fmt.Errorf("%s: missing operator and value", arg)
	}
	col, cs, err := FindColumn(c.Schema, table, ca.Column)
	if err != nil {
		return false, err
	}
	have := c.Get(r, col)
	var want Datum
	key, val, _, _ := colType(cs)
	if ca.HasKey {
		if val == nil {
			return false, fmt.Errorf("cannot specify key to check for non-map column %s", col)
		}
		k, err := ParseKey(key, ca.Key, c.Syms)
		if err != nil {
			return false, err
		}
		v, err := ParseAtom(val, ca.Value, c.Syms)
		if err != nil {
			return false, err
		}
		got, present := have.MapGet(k)
		if !present {
			return ca.Op == "!=" || ca.Op == "{!=}", nil
		}
		have = Datum{Keys: []Atom{got}}
		want = Datum{Keys: []Atom{v}}
	} else {
		want, err = ParseDatum(relaxed(cs), ca.Value, c.Syms)
		if err != nil {
			return false, err
		}
	}
	switch ca.Op {
	case "=", "{=}":
		return have.Equal(want), nil
	case "!=", "{!=}":
		return !have.Equal(want), nil
	case "{<=}":
		return want.Includes(have), nil
	case "{<}":
		return want.Includes(have) && !have.Equal(want), nil
	case "{>=}":
		return have.Includes(want), nil
	case "{>}":
		return have.Includes(want) && !have.Equal(want), nil
	}
	if have.Len() != 1 || want.Len() != 1 {
		return false, nil
	}
	cmp := compareAtoms(have.Keys[0], want.Keys[0])
	switch ca.Op {
	case "<":
		return cmp < 0, nil
	case ">":
		return cmp > 0, nil
	case "<=":
		return cmp <= 0, nil
	}
	return cmp >= 0, nil
}

func cmdGet(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.record(table, c.Args[1])
	if err != nil || r == nil {
		return err
	}
	if id := c.Opt("--id"); id != "" {
		if !strings.HasPrefix(id, "@") {
			return fmt.Errorf("--id option requires an @name argument, not %q", id)
		}
		c.Syms.uuids[id] = r.UUID
		c.Syms.defined[id] = true
	}
	for _, arg := range c.Args[2:] {
		ca, err := ParseColumnArg(arg, nil)
		if err != nil {
			return err
		}
		col, cs, err := FindColumn(c.Schema, table, ca.Column)
		if err != nil {
			return err
		}
		d := c.Get(r, col)
		if ca.HasKey {
			key, val, _, _ := colType(cs)
			if val == nil {
				return fmt.Errorf("cannot specify key to get for non-map column %s", col)
			}
			k, err := ParseKey(key, ca.Key, c.Syms)
			if err != nil {
				return err
			}
			v, ok := d.MapGet(k)
			if !ok {
				if c.Has("--if-exists") {
					continue
				}
				return fmt.Errorf("no key %q in %s record %q column %s", ca.Key, table, c.Args[1], col)
			}
			c.Printf("%s\n", AtomString(v, false))
			continue
		}
		// get prints values in the string format whatever --data says, as
		// ovs-vsctl does.
		c.Printf("%s\n", DatumString(cs, d))
	}
	return nil
}

// setColumn applies "column[:key]=value" to r.
func (c *Ctx) setColumn(table string, r *Row, arg string) error {
	ca, err := ParseColumnArg(arg, []string{"="})
	if err != nil {
		return err
	}
	if ca.Op == "" {
		return fmt.Errorf("%s: missing value", arg)
	}
	col, cs, err := FindColumn(c.Schema, table, ca.Column)
	if err != nil {
		return err
	}
	if col == "_uuid" || !cs.Mutable() && !r.IsNew() {
		return fmt.Errorf("cannot modify read-only column %s in table %s", col, table)
	}
	if ca.HasKey {
		key, val, _, _ := colType(cs)
		if val == nil {
			return fmt.Errorf("cannot specify key to set for non-map column %s", col)
		}
		k, err := ParseKey(key, ca.Key, c.Syms)
		if err != nil {
			return err
		}
		v, err := ParseAtom(val, ca.Value, c.Syms)
		if err != nil {
			return err
		}
		d := c.Get(r, col).Subtract(Datum{Keys: []Atom{k}})
		d.Keys = append(d.Keys, k)
		d.Vals = append(d.Vals, v)
		c.Set(r, col, d)
		return nil
	}
	d, err := ParseDatum(cs, ca.Value, c.Syms)
	if err != nil {
		return err
	}
	c.Set(r, col, d)
	return nil
}

func cmdSet(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.record(table, c.Args[1])
	if err != nil || r == nil {
		return err
	}
	for _, arg := range c.Args[2:] {
		if err := c.setColumn(table, r, arg); err != nil {
			return err
		}
	}
	return nil
}

func (c *Ctx) mutableColumn(table, name string) (string, *columnSchema, error) {
	col, cs, err := FindColumn(c.Schema, table, name)
	if err != nil {
		return "", nil, err
	}
	if col == "_uuid" || !cs.Mutable() {
		return "", nil, fmt.Errorf("cannot modify read-only column %s in table %s", col, table)
	}
	return col, cs, nil
}

func cmdAdd(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.record(table, c.Args[1])
	if err != nil || r == nil {
		return err
	}
	col, cs, err := c.mutableColumn(table, c.Args[2])
	if err != nil {
		return err
	}
	d := c.Get(r, col)
	for _, v := range c.Args[3:] {
		add, err := ParseDatum(relaxed(cs), v, c.Syms)
		if err != nil {
			return err
		}
		d = d.Union(add)
	}
	_, _, _, max := colType(cs)
	if d.Len() > max {
		return fmt.Errorf("\"add\" operation would put %d values in column %s of table %s but the maximum number is %d", d.Len(), col, table, max)
	}
	c.Set(r, col, d)
	return nil
}

func cmdRemove(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.record(table, c.Args[1])
	if err != nil || r == nil {
		return err
	}
	col, cs, err := c.mutableColumn(table, c.Args[2])
	if err != nil {
		return err
	}
	key, val, min, _ := colType(cs)
	d := c.Get(r, col)
	for _, v := range c.Args[3:] {
		rm, err := ParseDatum(relaxed(cs), v, c.Syms)
		if err != nil && val != nil {
			// a bare key (or set of keys) removes map entries by key
			keyCol := setOf(key)
			rm, err = ParseDatum(keyCol, v, c.Syms)
			rm.Vals = nil
		}
		if err != nil {
			return err
		}
		d = d.Subtract(rm)
	}
	if d.Len() < min {
		return fmt.Errorf("\"remove\" operation would put %d values in column %s of table %s but the minimum number is %d", d.Len(), col, table, min)
	}
	c.Set(r, col, d)
	return nil
}

func cmdClear(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.record(table, c.Args[1])
	if err != nil || r == nil {
		return err
	}
	for _, name := range c.Args[2:] {
		col, cs, err := c.mutableColumn(table, name)
		if err != nil {
			return err
		}
		if _, _, min, _ := colType(cs); min > 0 {
			return fmt.Errorf("\"clear\" operation cannot be applied to column %s of table %s, which is not allowed to be empty", col, table)
		}
		d := Datum{Keys: []Atom{}}
		if _, val, _, _ := colType(cs); val != nil {
			d.Vals = []Atom{}
		}
		c.Set(r, col, d)
	}
	return nil
}

func cmdCreate(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	var u UUID
	if id := c.Opt("--id"); id != "" {
		switch {
		case strings.HasPrefix(id, "@"):
			u, err = c.Syms.Define(id)
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("--id option requires an @name argument, not %q", id)
		}
	}
	r := c.Insert(table, u)
	for _, arg := range c.Args[1:] {
		if err := c.setColumn(table, r, arg); err != nil {
			return err
		}
	}
	c.Printf("%s\n", r.UUID)
	return nil
}

func cmdDestroy(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	if c.Has("--all") {
		if len(c.Args) > 1 {
			return fmt.Errorf("--all and records argument should not be specified together")
		}
		for _, r := range c.Rows(table) {
			c.Delete(r)
		}
		return nil
	}
	for _, id := range c.Args[1:] {
		r, err := c.record(table, id)
		if err != nil {
			return err
		}
		if r != nil {
			c.Delete(r)
		}
	}
	return nil
}

func cmdWaitUntil(c *Ctx) error {
	table, err := c.table(0)
	if err != nil {
		return err
	}
	r, err := c.Lookup(table, c.Args[1])
	if err != nil {
		if errors.Is(err, ErrNoRow) {
			c.Retry = true
			return nil
		}
		return err
	}
	for _, arg := range c.Args[2:] {
		ok, err := c.condition(table, r, arg)
		if err != nil {
			return err
		}
		if !ok {
			c.Retry = true
		}
	}
	return nil
}
