package testbed

import (
	"strings"
	"testing"
)

func TestConfigValidateExternal(t *testing.T) {
	base := func() Config {
		c := Config{Combo: Combo{DB: Ours, Translator: Ours, Chassis: Ours}, Chassis: []ChassisSpec{{Name: "hv1", Site: 1}},
			Translators: 1, EncapType: "geneve", DBReplicas: 1, Ctl: Ours}
		return c
	}
	cases := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"both remotes", func(c *Config) { c.NBRemote, c.SBRemote = "unix:/a", "unix:/b" }, ""},
		{"only NB remote", func(c *Config) { c.NBRemote = "unix:/a" }, "set both or neither"},
		{"long prefix", func(c *Config) { c.Prefix = "hcnet-run-x" }, "Prefix"},
		{"bad ctl", func(c *Config) { c.Ctl = "ovs" }, "Ctl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestAttachRejectsIncompleteState(t *testing.T) {
	if _, err := Attach(State{Prefix: "hc1"}, nil); err == nil {
		t.Fatal("Attach accepted a state without remotes or chassis")
	}
	dir := t.TempDir()
	tb, err := Attach(State{Prefix: "hc1", NBRemote: "unix:/nb", SBRemote: "unix:/sb", Ctl: Ours, BinDir: "/bin",
		Chassis: []ChassisState{{Name: "hv1", Site: 1, NS: "hc1-hv1", Dir: dir, IP: "192.168.1.11"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := tb.Chassis("hv1"); c == nil || c.NS != "hc1-hv1" || c.DBRemote() != "unix:"+dir+"/db.sock" {
		t.Fatalf("attached chassis = %+v", c)
	}
	if got := tb.ctl("nbctl"); got != "/bin/nbctl" {
		t.Errorf("ctl = %q, want /bin/nbctl", got)
	}
	if st := tb.State(); st.Prefix != "hc1" || len(st.Chassis) != 1 || st.Chassis[0].Dir != dir {
		t.Errorf("State() = %+v", st)
	}
	if err := tb.Close(); err != nil {
		t.Errorf("Close of an attached testbed without VMs: %v", err)
	}
}
