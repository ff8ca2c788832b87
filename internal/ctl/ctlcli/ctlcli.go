// Package ctlcli is the command-line shell that nbctl and sbctl share: the
// listing flags they both take and the bridge from kong's flag model to
// ctl.SplitGlobal. It holds no state and reads no flags itself; cmd/nbctl and
// cmd/sbctl embed its types in their kong CLIs.
package ctlcli

import (
	"strings"

	"github.com/alecthomas/kong"

	"hcnet/internal/ctl"
)

// Listing holds the listing flags of both tools; embed it in a kong CLI
// with `embed:""`.
type Listing struct {
	Format     string `name:"format" short:"f" help:"Listing format: list, table, csv or json." enum:"list,table,csv,json" default:"list"`
	Columns    string `name:"columns" help:"Comma-separated columns for list and find."`
	Data       string `name:"data" help:"Value format in listings: string or bare." enum:"string,bare" default:"string"`
	Bare       bool   `name:"bare" help:"Same as --format=list --data=bare --no-headings."`
	NoHeadings bool   `name:"no-headings" help:"Omit table headings."`
}

// Output turns the listing flags into ctl.Output. global is the global
// part of the command line (from ctl.SplitGlobal): --bare implies
// --format=list unless a format was given there.
func (l Listing) Output(global []string) ctl.Output {
	formatGiven := false
	for _, g := range global {
		if g == "-f" || strings.HasPrefix(g, "--format") || strings.HasPrefix(g, "-f=") {
			formatGiven = true
		}
	}
	o := ctl.Output{Format: l.Format, Columns: l.Columns, Bare: l.Data == "bare", NoHeadings: l.NoHeadings}
	if l.Bare {
		o.Bare, o.NoHeadings = true, true
		if !formatGiven {
			o.Format = "list"
		}
	}
	return o
}

// GlobalFlags lists a kong parser's flags for ctl.SplitGlobal, with the
// --no- form of negatable ones.
func GlobalFlags(p *kong.Kong) []ctl.GlobalFlag {
	var out []ctl.GlobalFlag
	for _, f := range p.Model.Flags {
		out = append(out, ctl.GlobalFlag{Name: f.Name, TakesArg: !f.IsBool(), ShortName: f.Short})
		if f.Tag.Negatable != "" {
			out = append(out, ctl.GlobalFlag{Name: "no-" + f.Name})
		}
	}
	return out
}
