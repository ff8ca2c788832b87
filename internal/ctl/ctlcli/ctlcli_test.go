package ctlcli

import (
	"testing"

	"hcnet/internal/ctl"
)

func TestOutput(t *testing.T) {
	cases := []struct {
		name   string
		l      Listing
		global []string
		want   ctl.Output
	}{
		{"defaults", Listing{Format: "list", Data: "string"}, nil, ctl.Output{Format: "list"}},
		{"bare data", Listing{Format: "table", Data: "bare"}, nil, ctl.Output{Format: "table", Bare: true}},
		{"--bare forces list", Listing{Format: "table", Bare: true}, []string{"--bare"}, ctl.Output{Format: "list", Bare: true, NoHeadings: true}},
		{"--bare keeps an explicit format", Listing{Format: "csv", Bare: true}, []string{"--format=csv", "--bare"}, ctl.Output{Format: "csv", Bare: true, NoHeadings: true}},
		{"-f counts as explicit", Listing{Format: "json", Bare: true}, []string{"-f", "json", "--bare"}, ctl.Output{Format: "json", Bare: true, NoHeadings: true}},
		{"columns and no headings", Listing{Format: "table", Columns: "name,_uuid", NoHeadings: true}, nil, ctl.Output{Format: "table", Columns: "name,_uuid", NoHeadings: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.l.Output(c.global); got != c.want {
				t.Fatalf("Output(%v) = %+v, want %+v", c.global, got, c.want)
			}
		})
	}
}
