package testbed

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestParseCombos(t *testing.T) {
	all := Combo{DB: OVN, Translator: OVN, Chassis: OVN}
	ours := Combo{DB: Ours, Translator: Ours, Chassis: Ours}
	for _, tc := range []struct {
		name, in string
		want     []Combo
		wantErr  bool
	}{
		{name: "ovn", in: "ovn", want: []Combo{all}},
		{name: "ours", in: "hcnet", want: []Combo{ours}},
		{name: "list with duplicates", in: "ovn; hcnet;ovn", want: []Combo{all, ours}},
		{name: "one role", in: "translator=hcnet", want: []Combo{{DB: OVN, Translator: Ours, Chassis: OVN}}},
		{name: "every role", in: "db=hcnet,translator=ovn,chassis=hcnet", want: []Combo{{DB: Ours, Translator: OVN, Chassis: Ours}}},
		{name: "all", in: "all", want: AllCombos()},
		{name: "empty", in: " ; ", wantErr: true},
		{name: "bad impl", in: "db=kernel", wantErr: true},
		{name: "bad role", in: "switch=ovn", wantErr: true},
		{name: "not kv", in: "db", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCombos(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseCombos(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseCombos(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestComboStringRoundTrip(t *testing.T) {
	for _, c := range AllCombos() {
		got, err := ParseCombos(c.String())
		if err != nil || len(got) != 1 || got[0] != c {
			t.Errorf("ParseCombos(%q) = %v, %v; want %v", c.String(), got, err, c)
		}
	}
	if n := len(AllCombos()); n != 8 {
		t.Errorf("AllCombos: %d combos, want 8", n)
	}
}

func TestMissingCommands(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "cmd", "northd"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Combo{DB: Ours, Translator: Ours, Chassis: OVN}
	if got, want := MissingCommands(root, c), []string{"nbdb", "sbdb"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MissingCommands = %v, want %v", got, want)
	}
	if got := MissingCommands(root, Combo{DB: OVN, Translator: OVN, Chassis: OVN}); len(got) != 0 {
		t.Errorf("all-OVN combo misses %v, want nothing", got)
	}
}

func TestParsePing(t *testing.T) {
	const out = `PING 10.0.1.12 (10.0.1.12) 56(84) bytes of data.
64 bytes from 10.0.1.12: icmp_seq=1 ttl=64 time=0.5 ms
64 bytes from 10.0.1.12: icmp_seq=2 ttl=64 time=0.4 ms
64 bytes from 10.0.1.12: icmp_seq=6 ttl=64 time=0.4 ms
64 bytes from 10.0.1.12: icmp_seq=7 ttl=64 time=0.4 ms

--- 10.0.1.12 ping statistics ---
9 packets transmitted, 4 received, 55.5556% packet loss, time 160ms
rtt min/avg/max/mdev = 0.400/0.425/0.500/0.043 ms
`
	st := ParsePing(out)
	if st.Transmitted != 9 || st.Received != 4 || !reflect.DeepEqual(st.Seqs, []int{1, 2, 6, 7}) {
		t.Fatalf("ParsePing = %+v", st)
	}
	if st.MinRTT != 400*time.Microsecond || st.AvgRTT != 425*time.Microsecond {
		t.Errorf("RTT min/avg = %s/%s, want 400µs/425µs", st.MinRTT, st.AvgRTT)
	}
	if g := st.LongestGap(); g != 3 {
		t.Errorf("LongestGap = %d, want 3 (seqs 3-5)", g)
	}
	if w := st.LossWindow(20 * time.Millisecond); w != 60*time.Millisecond {
		t.Errorf("LossWindow = %s, want 60ms", w)
	}
	const stamped = `[1700000000.000100] 64 bytes from 10.0.1.12: icmp_seq=1 ttl=64 time=0.5 ms
[1700000000.020100] 64 bytes from 10.0.1.12: icmp_seq=2 ttl=64 time=0.5 ms
[1700000000.520100] 64 bytes from 10.0.1.12: icmp_seq=5 ttl=64 time=0.5 ms
3 packets transmitted, 3 received, 0% packet loss, time 520ms
`
	st = ParsePing(stamped)
	if len(st.Times) != 3 {
		t.Fatalf("ParsePing with -D: %d timestamps, want 3", len(st.Times))
	}
	if w := st.LossWindow(20 * time.Millisecond); w != 480*time.Millisecond {
		t.Errorf("LossWindow from timestamps = %s, want 480ms (500ms silence less one interval)", w)
	}
	tailLoss := PingStats{Transmitted: 10, Received: 2, Seqs: []int{1, 2}}
	if g := tailLoss.LongestGap(); g != 8 {
		t.Errorf("LongestGap with trailing loss = %d, want 8", g)
	}
	if g := (PingStats{}).LongestGap(); g != 0 {
		t.Errorf("LongestGap of nothing = %d, want 0", g)
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		return Config{Chassis: []ChassisSpec{{Name: "hv1", Site: 1}}, EncapType: "geneve", Translators: 1, DBReplicas: 1}
	}
	if err := func() *Config { c := base(); return &c }().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"long name":      func(c *Config) { c.Chassis[0].Name = "averyverylongname" },
		"dup":            func(c *Config) { c.Chassis = append(c.Chassis, c.Chassis[0]) },
		"site":           func(c *Config) { c.Chassis[0].Site = 0 },
		"broken unknown": func(c *Config) { c.BrokenChassis = "hv9" },
		"encap":          func(c *Config) { c.EncapType = "gre" },
		"translators":    func(c *Config) { c.Translators = 0 },
		"replicas":       func(c *Config) { c.DBReplicas = 2 },
	} {
		c := base()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
}

func TestSNMPCounter(t *testing.T) {
	const snmp = `Ip: Forwarding DefaultTTL InReceives
Ip: 2 64 10
Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps
Icmp: 7 0 0 0 0 0 0 0 5 2
IcmpMsg: InType0 InType8
IcmpMsg: 2 5
`
	if v, err := snmpCounter(snmp, "Icmp", "InEchos"); err != nil || v != 5 {
		t.Fatalf("InEchos = %d, %v; want 5", v, err)
	}
	if _, err := snmpCounter(snmp, "Icmp", "Nope"); err == nil {
		t.Fatal("missing counter: no error")
	}
}

func TestResultsMarkdown(t *testing.T) {
	r := NewResults()
	ovn := Combo{DB: OVN, Translator: OVN, Chassis: OVN}
	mixed := Combo{DB: OVN, Translator: Ours, Chassis: OVN}
	r.Record(ovn.String(), "l2", Pass)
	r.Record(mixed.String(), "l2", NotYet)
	r.Record(ovn.String(), "l3", Fail)
	r.Figure(ovn.String(), "port up", "1.2s")
	got := r.Markdown([]string{"l2", "l3"}, []Combo{ovn, mixed})
	want := "| scenario | ovn/ovn/ovn | ovn/hcnet/ovn |\n|---|---|---|\n" +
		"| l2 | pass | not yet |\n| l3 | fail | - |\n\nMeasured:\n\n- ovn — port up: 1.2s\n"
	if got != want {
		t.Fatalf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestReplaceSection(t *testing.T) {
	const b, e = "<!-- begin -->", "<!-- end -->"
	doc := "# T\n" + b + "\nold\n" + e + "\ntail\n"
	if got, want := ReplaceSection(doc, b, e, "new\n"), "# T\n"+b+"\nnew\n"+e+"\ntail\n"; got != want {
		t.Errorf("replace: got %q want %q", got, want)
	}
	if got, want := ReplaceSection("# T", b, e, "x\n"), "# T\n"+b+"\nx\n"+e+"\n"; got != want {
		t.Errorf("append: got %q want %q", got, want)
	}
}

func TestEchoRequestChecksum(t *testing.T) {
	b := echoRequest(0x1234, 7)
	// A packet including its checksum sums to zero.
	if c := checksum(b); c != 0 {
		t.Fatalf("checksum over a packet with its checksum = %#x, want 0", c)
	}
	if b[0] != 8 || b[4] != 0x12 || b[5] != 0x34 || b[7] != 7 {
		t.Fatalf("header % x", b[:8])
	}
}
