package pinctrl

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestParseSvcOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]string
		want SvcOptions
	}{
		{"defaults", nil, SvcOptions{5 * time.Second, 3 * time.Second, 1, 1}},
		{"all set", map[string]string{"interval": "2", "timeout": "1", "success_count": "3", "failure_count": "2"},
			SvcOptions{2 * time.Second, time.Second, 3, 2}},
		{"bad values take defaults", map[string]string{"interval": "x", "timeout": "0", "success_count": "-1", "failure_count": ""},
			SvcOptions{5 * time.Second, 3 * time.Second, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseSvcOptions(tc.in); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// seqRand returns 1000, 1001, ... (probe source ports 33768.., sequence
// numbers follow).
func seqRand() func() uint32 {
	n := uint32(999)
	return func() uint32 { n++; return n }
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func spec(uuid, proto string, opts SvcOptions) SvcSpec {
	m := svcMon
	m.Protocol = proto
	return SvcSpec{UUID: uuid, Monitor: m, Options: opts}
}

// synAck is the backend's answer to probe p.
func synAck(p SvcProbe) SvcStatus {
	return SvcStatus{IP: p.Monitor.IP, Protocol: "tcp", L4Port: p.Monitor.L4Port, Online: true,
		ProbePort: p.SrcPort, Seq: 7, Ack: p.Seq + 1, Datapath: p.Monitor.Datapath}
}

func rst(p SvcProbe) SvcStatus {
	return SvcStatus{IP: p.Monitor.IP, Protocol: "tcp", L4Port: p.Monitor.L4Port, ProbePort: p.SrcPort, Ack: p.Seq + 1}
}

// TestHealthChecksSchedule: a new monitor is probed at once, then every
// interval; nothing is sent while a probe waits for its answer; Next names
// the next probe or timeout.
func TestHealthChecksSchedule(t *testing.T) {
	h := NewHealthChecks(seqRand())
	opts := SvcOptions{Interval: 2 * time.Second, Timeout: time.Second, SuccessCount: 1, FailureCount: 1}
	if !h.Sync([]SvcSpec{spec("a", "tcp", opts)}, t0) {
		t.Fatal("a new monitor is a change")
	}
	if h.Sync([]SvcSpec{spec("a", "tcp", opts)}, t0) {
		t.Fatal("the same monitor again is no change")
	}
	if got := h.Next(); !got.Equal(t0) {
		t.Fatalf("next %v, want now", got)
	}
	ps := h.Due(t0)
	if len(ps) != 1 || ps[0].UUID != "a" || ps[0].SrcPort != 32768+1000 || ps[0].Seq != 1001 {
		t.Fatalf("first probes %+v", ps)
	}
	if got := h.Next(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("next %v, want the timeout", got)
	}
	if _, ok := h.Answer(synAck(ps[0])); !ok {
		t.Fatal("answer not matched")
	}
	if ps := h.Due(t0.Add(1500 * time.Millisecond)); len(ps) != 0 {
		t.Fatalf("probe before the interval: %+v", ps)
	}
	if got := h.Next(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("next %v, want the interval", got)
	}
	if ps := h.Due(t0.Add(2 * time.Second)); len(ps) != 1 {
		t.Fatalf("probes at the interval: %+v", ps)
	}
	// Unanswered, and the interval passes: the timeout counts, then the
	// next probe goes out.
	if ps := h.Due(t0.Add(4 * time.Second)); len(ps) != 1 || h.Status("a") != "offline" {
		t.Fatalf("probes %+v status %q", ps, h.Status("a"))
	}
	if h.Sync(nil, t0) != true || h.Next() != (time.Time{}) {
		t.Fatal("removing the monitor is a change and leaves nothing to do")
	}
}

// TestHealthChecksCounts drives the success/failure state machine with
// sequences of results and checks the status after each.
func TestHealthChecksCounts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proto   string
		succ    int
		fail    int
		results string // s: SYN+ACK, r: RST, t: timeout
		want    []string
	}{
		{"one each", "tcp", 1, 1, "srst", []string{"online", "offline", "online", "offline"}},
		{"two to go online", "tcp", 2, 1, "ssrs", []string{"", "online", "offline", "offline"}},
		{"failures must be consecutive", "tcp", 1, 3, "srrsrrr", []string{"online", "online", "online", "online", "online", "online", "offline"}},
		{"successes must be consecutive", "tcp", 3, 1, "ssrsss", []string{"", "", "offline", "offline", "offline", "online"}},
		{"udp timeout is success", "udp", 1, 1, "tr", []string{"online", "offline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHealthChecks(seqRand())
			opts := SvcOptions{Interval: 10 * time.Second, Timeout: 3 * time.Second, SuccessCount: tc.succ, FailureCount: tc.fail}
			h.Sync([]SvcSpec{spec("m", tc.proto, opts)}, t0)
			now := t0
			for i, r := range tc.results {
				ps := h.Due(now)
				if len(ps) != 1 {
					t.Fatalf("step %d: probes %+v", i, ps)
				}
				p := ps[0]
				switch r {
				case 's':
					h.Answer(synAck(p))
				case 'r':
					if tc.proto == "udp" {
						h.Answer(SvcStatus{IP: p.Monitor.IP, Protocol: "udp", L4Port: p.Monitor.L4Port})
					} else {
						h.Answer(rst(p))
					}
				case 't':
					h.Due(now.Add(opts.Timeout))
				}
				if got := h.Status("m"); got != tc.want[i] {
					t.Fatalf("step %d (%c): status %q, want %q", i, r, got, tc.want[i])
				}
				now = now.Add(opts.Interval)
			}
		})
	}
}

// TestHealthChecksAnswers: answers that belong to no probe in flight
// change nothing.
func TestHealthChecksAnswers(t *testing.T) {
	h := NewHealthChecks(seqRand())
	opts := SvcOptions{Interval: 5 * time.Second, Timeout: 3 * time.Second, SuccessCount: 1, FailureCount: 1}
	h.Sync([]SvcSpec{spec("m", "tcp", opts)}, t0)
	if _, ok := h.Answer(synAck(SvcProbe{Monitor: svcMon})); ok {
		t.Fatal("answer before any probe matched")
	}
	p := h.Due(t0)[0]
	for name, st := range map[string]SvcStatus{
		"wrong ack":       func() SvcStatus { s := synAck(p); s.Ack++; return s }(),
		"wrong port":      func() SvcStatus { s := synAck(p); s.ProbePort++; return s }(),
		"other backend":   func() SvcStatus { s := synAck(p); s.IP = netip.MustParseAddr("10.0.1.99"); return s }(),
		"other datapath":  func() SvcStatus { s := synAck(p); s.Datapath = 99; return s }(),
		"other protocol":  func() SvcStatus { s := synAck(p); s.Protocol = "udp"; return s }(),
		"other service":   func() SvcStatus { s := synAck(p); s.L4Port = 1; return s }(),
		"other port rst ": func() SvcStatus { s := rst(p); s.ProbePort = 1; return s }(),
	} {
		if _, ok := h.Answer(st); ok {
			t.Errorf("%s: matched", name)
		}
	}
	if h.Status("m") != "" {
		t.Fatalf("status %q after foreign answers", h.Status("m"))
	}
	got, ok := h.Answer(synAck(p))
	if !ok || got.UUID != "m" || got.SrcPort != p.SrcPort || h.Status("m") != "online" {
		t.Fatalf("answer %+v %v status %q", got, ok, h.Status("m"))
	}
	if _, ok := h.Answer(synAck(p)); ok {
		t.Fatal("a duplicate answer matched")
	}
}

// TestHealthChecksChanges: a decided status is reported when the
// southbound differs, once, again after svcRetryWrite if the southbound
// still differs, and not when it agrees.
func TestHealthChecksChanges(t *testing.T) {
	h := NewHealthChecks(seqRand())
	opts := SvcOptions{Interval: 5 * time.Second, Timeout: 3 * time.Second, SuccessCount: 1, FailureCount: 1}
	sp := spec("m", "tcp", opts)
	h.Sync([]SvcSpec{sp}, t0)
	if c := h.Changes(t0); len(c) != 0 {
		t.Fatalf("undecided: %+v", c)
	}
	h.Answer(synAck(h.Due(t0)[0]))
	if !h.Unreported() {
		t.Fatal("a decided status not reported yet")
	}
	want := []SvcChange{{UUID: "m", Status: "online"}}
	if c := h.Changes(t0); !reflect.DeepEqual(c, want) {
		t.Fatalf("changes %+v, want %+v", c, want)
	}
	if h.Unreported() {
		t.Fatal("reported status still unreported")
	}
	if c := h.Changes(t0.Add(time.Second)); len(c) != 0 {
		t.Fatalf("asked again before the retry time: %+v", c)
	}
	if c := h.Changes(t0.Add(svcRetryWrite)); !reflect.DeepEqual(c, want) {
		t.Fatalf("retry %+v, want %+v", c, want)
	}
	sp.SBStatus = "online"
	if h.Sync([]SvcSpec{sp}, t0) {
		t.Fatal("a status change in the southbound is no change of the monitor")
	}
	if c := h.Changes(t0.Add(time.Hour)); len(c) != 0 {
		t.Fatalf("southbound agrees, still asked: %+v", c)
	}
	// Another writer overwrites the status before a round saw ours:
	// ours is written again at once, not only after the retry time.
	sp.SBStatus = ""
	h.Sync([]SvcSpec{sp}, t0)
	if c := h.Changes(t0.Add(2 * time.Hour)); !reflect.DeepEqual(c, want) {
		t.Fatalf("changes %+v, want %+v", c, want)
	}
	sp.SBStatus = "offline"
	h.Sync([]SvcSpec{sp}, t0)
	if c := h.Changes(t0.Add(2*time.Hour + time.Millisecond)); !reflect.DeepEqual(c, want) {
		t.Fatalf("after an overwrite: %+v, want %+v", c, want)
	}
	// A target change starts over: undecided again.
	sp.Monitor.L4Port = 9090
	if !h.Sync([]SvcSpec{sp}, t0) || h.Status("m") != "" {
		t.Fatalf("target change: status %q", h.Status("m"))
	}
}
