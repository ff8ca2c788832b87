package cli

import (
	"strings"
	"testing"
)

func TestParseMembers(t *testing.T) {
	got, err := ParseMembers("1=127.0.0.1:7001, 2=127.0.0.2:7001,3=[::1]:7001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != "127.0.0.1:7001" || got[2] != "127.0.0.2:7001" || got[3] != "[::1]:7001" {
		t.Fatalf("ParseMembers = %v", got)
	}
	if m, err := ParseMembers(" "); err != nil || m != nil {
		t.Fatalf("empty: %v, %v", m, err)
	}
	for _, bad := range []string{"1", "0=a:1", "x=a:1", "1=", "1=a:1,1=b:1"} {
		if _, err := ParseMembers(bad); err == nil || !strings.Contains(err.Error(), strings.Split(bad, ",")[0]) && !strings.Contains(err.Error(), "twice") {
			t.Errorf("ParseMembers(%q) = %v, want an error naming it", bad, err)
		}
	}
}
