package ctl

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// listColumns returns the columns to show for table: the --columns
// selection, or _uuid followed by every column in name order.
func (c *Ctx) listColumns(table string, sel string) ([]string, error) {
	if sel == "" {
		sel = c.Output.Columns
	}
	if sel != "" {
		var out []string
		for _, name := range strings.Split(sel, ",") {
			name = strings.TrimSpace(name)
			if name == "_uuid" {
				out = append(out, name)
				continue
			}
			col, _, err := FindColumn(c.Schema, table, name)
			if err != nil {
				return nil, err
			}
			out = append(out, col)
		}
		return out, nil
	}
	ts := c.TableSchema(table)
	cols := make([]string, 0, len(ts.Columns))
	for name := range ts.Columns {
		cols = append(cols, name)
	}
	sort.Strings(cols)
	return append([]string{"_uuid"}, cols...), nil
}

// WriteRows prints rows in the selected output format.
func (c *Ctx) WriteRows(table string, rows []*Row, cols []string) {
	var fetch []string
	for _, col := range cols {
		if col != "_uuid" {
			fetch = append(fetch, col)
		}
	}
	if len(fetch) > 0 {
		c.Prefetch(table, fetch...)
	}
	str := func(r *Row, col string) string {
		d := c.Get(r, col)
		if c.Output.Bare {
			return DatumBare(d)
		}
		return DatumString(c.TableSchema(table).Column(col), d)
	}
	format := c.Output.Format
	if format == "" {
		format = "list"
	}
	switch format {
	case "json":
		data := [][]any{}
		for _, r := range rows {
			var line []any
			for _, col := range cols {
				line = append(line, DatumToJSON(c.TableSchema(table).Column(col), c.Get(r, col)))
			}
			data = append(data, line)
		}
		b, _ := json.Marshal(struct {
			Data     [][]any  `json:"data"`
			Headings []string `json:"headings"`
		}{data, cols})
		c.Out.Write(b)
		c.Out.WriteByte('\n')
	case "csv":
		w := csv.NewWriter(c.Out)
		if !c.Output.NoHeadings {
			w.Write(cols)
		}
		for _, r := range rows {
			var line []string
			for _, col := range cols {
				line = append(line, str(r, col))
			}
			w.Write(line)
		}
		w.Flush()
	case "table":
		cells := [][]string{}
		heads := !c.Output.NoHeadings
		if heads {
			cells = append(cells, cols)
		}
		for _, r := range rows {
			var line []string
			for _, col := range cols {
				line = append(line, str(r, col))
			}
			cells = append(cells, line)
		}
		widths := make([]int, len(cols))
		for _, line := range cells {
			for i, s := range line {
				widths[i] = max(widths[i], len(s))
			}
		}
		writeLine := func(line []string) {
			var b strings.Builder
			for i, s := range line {
				if i > 0 {
					b.WriteByte(' ')
				}
				if i < len(line)-1 {
					fmt.Fprintf(&b, "%-*s", widths[i], s)
				} else {
					b.WriteString(s)
				}
			}
			c.Out.WriteString(strings.TrimRight(b.String(), " ") + "\n")
		}
		for i, line := range cells {
			writeLine(line)
			if i == 0 && heads {
				dashes := make([]string, len(cols))
				for j := range cols {
					dashes[j] = strings.Repeat("-", widths[j])
				}
				writeLine(dashes)
			}
		}
	default: // list
		for i, r := range rows {
			if i > 0 {
				c.Out.WriteByte('\n')
			}
			for _, col := range cols {
				if c.Output.NoHeadings {
					fmt.Fprintf(c.Out, "%s\n", str(r, col))
				} else {
					fmt.Fprintf(c.Out, "%-20s: %s\n", col, str(r, col))
				}
			}
		}
	}
}
