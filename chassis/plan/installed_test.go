package plan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInstalledMarksAndUnmarks(t *testing.T) {
	sb := topology(t)
	ovs := ovsDB(t, rows{
		"Bridge": {"br-int": {"name": "br-int", "ports": refs("p1", "p9", "px")}},
		"Port": {
			"p1": {"name": "tap1", "interfaces": refs("i1")},
			"p9": {"name": "tap9", "interfaces": refs("i9")},
			"px": {"name": "tapx", "interfaces": refs("ix")},
		},
		"Interface": {
			"i1": {"name": "tap1", "ofport": 5, "external_ids": omapJSON("iface-id", "vm1")},
			// vm9 was installed here before and is no longer bound here.
			"i9": {"name": "tap9", "ofport": 6, "external_ids": omapJSON("iface-id", "vm9", KeyOVNInstalled, "true", KeyOVNInstalledTS, "1")},
			// No logical port of that name: never marked.
			"ix": {"name": "tapx", "ofport": 7, "external_ids": omapJSON("iface-id", "nope")},
		},
	})
	ops := Installed(ovs, sb, "br-int", map[string]bool{uuid("vm1"): true}, 1700000000123)
	b, _ := json.Marshal(ops)
	s := string(b)
	if len(ops) != 3 {
		t.Fatalf("want 3 ops (clear+set on tap1, clear on tap9), got %d: %s", len(ops), s)
	}
	if !strings.Contains(s, uuid("i1")) || !strings.Contains(s, `["ovn-installed","true"]`) || !strings.Contains(s, `["ovn-installed-ts","1700000000123"]`) {
		t.Fatalf("tap1 not marked installed with its timestamp: %s", s)
	}
	if w, _ := json.Marshal(ops[2].Where); !strings.Contains(string(w), uuid("i9")) || ops[2].Mutations[0].Mutator != "delete" {
		t.Fatalf("tap9 (vm9 no longer installed here) must lose its keys: %s", s)
	}
	if strings.Contains(s, uuid("ix")) {
		t.Fatalf("an interface without a logical port must be left alone: %s", s)
	}

	// Once the switch database shows the keys, nothing more is written.
	applyRows(t, ovs, "modify", rows{"Interface": {
		"i1": {"external_ids": omapJSON(KeyOVNInstalled, "true", KeyOVNInstalledTS, "1700000000123")},
		"i9": {"external_ids": omapJSON(KeyOVNInstalled, "true", KeyOVNInstalledTS, "1")},
	}})
	if ops := Installed(ovs, sb, "br-int", map[string]bool{uuid("vm1"): true}, 1700000000999); len(ops) != 0 {
		b, _ := json.Marshal(ops)
		t.Fatalf("steady state must write nothing, got %s", b)
	}
	// Unknown bridge: nothing.
	if ops := Installed(ovs, sb, "br-nope", nil, 1); ops != nil {
		t.Fatalf("unknown bridge: %v", ops)
	}
}
