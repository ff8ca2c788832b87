package ctl

import "strings"

// GlobalFlag describes a program-wide option for SplitGlobal.
type GlobalFlag struct {
	Name      string // without dashes
	TakesArg  bool
	ShortName rune
}

// SplitGlobal separates the leading global options of a command line from
// the commands. Leading options that are not global (per-command options
// such as --may-exist) stay with the first command, as ovn-nbctl does. A
// global option's value may be attached ("--db=X") or the next word.
func SplitGlobal(args []string, flags []GlobalFlag) (global, rest []string) {
	find := func(a string) (GlobalFlag, bool) {
		var name string
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, _ = strings.Cut(a[2:], "=")
		case strings.HasPrefix(a, "-") && len(a) >= 2:
			for _, f := range flags {
				if f.ShortName != 0 && rune(a[1]) == f.ShortName {
					return f, true
				}
			}
			return GlobalFlag{}, false
		}
		for _, f := range flags {
			if f.Name == name {
				return f, true
			}
		}
		return GlobalFlag{}, false
	}
	i := 0
	var cmdOpts []string
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || len(a) < 2 {
			break
		}
		f, ok := find(a)
		if !ok {
			cmdOpts = append(cmdOpts, a)
			i++
			continue
		}
		global = append(global, a)
		attached := strings.Contains(a, "=") || (!strings.HasPrefix(a, "--") && len(a) > 2)
		if f.TakesArg && !attached && i+1 < len(args) {
			global = append(global, args[i+1])
			i++
		}
		i++
	}
	rest = append(cmdOpts, args[i:]...)
	return global, rest
}
