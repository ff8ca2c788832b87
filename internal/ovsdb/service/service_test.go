package service

import (
	"strings"
	"testing"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	d := Defaults{Listen: "ptcp:6641", RaftAddress: "127.0.0.1:6643"}
	c := Config{DataDir: "/x"}
	c.SetDefaults(d)
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Listen[0] != "ptcp:6641" || c.RaftAddress != "127.0.0.1:6643" || c.ReplicaID != 1 {
		t.Fatalf("defaults: %+v", c)
	}
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no data dir", func(c *Config) { c.DataDir = "" }, "DataDir"},
		{"bad listen", func(c *Config) { c.Listen = []string{"tcp:1"} }, "Listen"},
		{"listen without port", func(c *Config) { c.Listen = []string{"ptcp:"} }, "Listen"},
		{"no raft address", func(c *Config) { c.RaftAddress = "" }, "RaftAddress"},
		{"zero replica", func(c *Config) { c.ReplicaID = 0 }, "ReplicaID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{DataDir: "/x"}
			c.SetDefaults(d)
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
