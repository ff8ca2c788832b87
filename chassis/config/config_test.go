package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestFromExternalIDsMergeDefaults(t *testing.T) {
	ids := map[string]string{
		"system-id":           "hv1",
		"ovn-remote":          "unix:/run/sb.sock",
		"ovn-encap-type":      "geneve,vxlan",
		"ovn-encap-ip":        "192.0.2.1",
		"ovn-bridge-mappings": "physnet:br-ex, other:br-o",
		"site":                "paris",
	}
	c := FromExternalIDs(ids).Merge(Config{EncapIP: "192.0.2.9"}).WithDefaults()
	want := Config{
		SystemID:       "hv1",
		Remote:         "unix:/run/sb.sock",
		EncapTypes:     []string{"geneve", "vxlan"},
		EncapIP:        "192.0.2.9",
		Bridge:         "br-int",
		BridgeMappings: map[string]string{"physnet": "br-ex", "other": "br-o"},
		Site:           "paris",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := FormatBridgeMappings(c.BridgeMappings); got != "other:br-o,physnet:br-ex" {
		t.Fatalf("FormatBridgeMappings = %q", got)
	}
}

func TestValidate(t *testing.T) {
	good := Config{SystemID: "hv1", Remote: "tcp:127.0.0.1:6642"}.WithDefaults()
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no system-id", func(c *Config) { c.SystemID = "" }, "system-id"},
		{"no remote", func(c *Config) { c.Remote = "" }, "ovn-remote is empty"},
		{"bad remote", func(c *Config) { c.Remote = "http://x" }, `"http://x"`},
		{"bad encap", func(c *Config) { c.EncapTypes = []string{"gre"} }, `"gre"`},
		{"bad ip", func(c *Config) { c.EncapIP = "1.2.3" }, `"1.2.3"`},
		{"mapping to br-int", func(c *Config) { c.BridgeMappings = map[string]string{"p": "br-int"} }, "integration bridge"},
		{"mapping without bridge", func(c *Config) { c.BridgeMappings = ParseBridgeMappings("p") }, "physnet:bridge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}
