package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// parsed is one exposition parsed back: TYPE and HELP per family and the
// value of every sample keyed by `name{label="value",...}` exactly as a
// canonical line writes it (labels unescaped, in written order).
type parsed struct {
	types   map[string]string
	helps   map[string]string
	samples map[string]float64
	order   []string // family names in the order written
}

// parseText parses the text exposition format 0.0.4 strictly enough to
// catch malformed output: every sample belongs to the family declared by
// the TYPE line before it, names and label syntax are valid, values parse.
func parseText(t *testing.T, text string) parsed {
	t.Helper()
	p := parsed{types: map[string]string{}, helps: map[string]string{}, samples: map[string]float64{}}
	if text != "" && !strings.HasSuffix(text, "\n") {
		t.Fatalf("exposition does not end in a newline: %q", text)
	}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		fail := func(format string, args ...any) {
			t.Fatalf("line %d %q: %s", i+1, line, fmt.Sprintf(format, args...))
		}
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			if !validMetricName(name) {
				fail("bad name")
			}
			p.helps[name] = unescape(help, false)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			switch typ {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				fail("bad type %q", typ)
			}
			if _, dup := p.types[name]; dup {
				fail("second TYPE for %s", name)
			}
			p.types[name] = typ
			p.order = append(p.order, name)
			current = name
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, value := parseSample(t, line)
		name, _, _ := strings.Cut(key, "{")
		fam := name
		if p.types[current] == "histogram" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if s, ok := strings.CutSuffix(name, suf); ok && s == current {
					fam = s
				}
			}
		}
		if fam != current {
			fail("sample of %s under TYPE of %s", name, current)
		}
		if _, dup := p.samples[key]; dup {
			fail("duplicate series")
		}
		p.samples[key] = value
	}
	return p
}

// parseSample parses `name{l="v",...} value` into a canonical key and value.
func parseSample(t *testing.T, line string) (string, float64) {
	t.Helper()
	i := strings.IndexAny(line, "{ ")
	if i <= 0 || !validMetricName(line[:i]) {
		t.Fatalf("sample %q: bad metric name", line)
	}
	key := line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		var pairs []string
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq <= 0 || !validLabelName(rest[:eq]) {
				t.Fatalf("sample %q: bad label at %q", line, rest)
			}
			lname := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			for {
				if rest == "" {
					t.Fatalf("sample %q: unterminated label value", line)
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' {
					switch rest[0] {
					case '\\':
						val.WriteByte('\\')
					case '"':
						val.WriteByte('"')
					case 'n':
						val.WriteByte('\n')
					default:
						t.Fatalf("sample %q: bad escape", line)
					}
					rest = rest[1:]
					continue
				}
				if c == '\n' {
					t.Fatalf("sample %q: raw newline", line)
				}
				val.WriteByte(c)
			}
			pairs = append(pairs, lname+"="+strconv.Quote(val.String()))
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			}
		}
		rest = rest[1:]
		key += "{" + strings.Join(pairs, ",") + "}"
	}
	if !strings.HasPrefix(rest, " ") {
		t.Fatalf("sample %q: no space before value", line)
	}
	vs := strings.TrimPrefix(rest, " ")
	var v float64
	switch vs {
	case "+Inf":
		v = math.Inf(1)
	case "-Inf":
		v = math.Inf(-1)
	case "NaN":
		v = math.NaN()
	default:
		var err error
		v, err = strconv.ParseFloat(vs, 64)
		if err != nil {
			t.Fatalf("sample %q: value: %v", line, err)
		}
	}
	return key, v
}

func unescape(s string, quote bool) string {
	r := strings.NewReplacer(`\\`, `\`, `\n`, "\n")
	if quote {
		r = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\"`, `"`)
	}
	return r.Replace(s)
}

func text(t *testing.T, r *Registry) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCountersGaugesFuncs(t *testing.T) {
	r := NewRegistry()
	txns := r.Counter("hcnet_ovsdb_transactions_total", "Transactions committed.")
	txns.Inc()
	txns.Add(2.5)
	byDB := r.CounterVec("hcnet_ovsdb_monitors_total", "Monitors created.", "db", "method")
	byDB.With("OVN_Southbound", "monitor_cond").Inc()
	byDB.With("OVN_Northbound", "monitor_cond_since").Add(3)
	leader := r.Gauge("hcnet_raft_leader", "1 when this replica is the leader.")
	leader.SetBool(true)
	conns := r.GaugeVec("hcnet_ovsdb_connections", "Open client connections.", "listener")
	conns.With("punix:/run/nb.sock").Inc()
	conns.With("punix:/run/nb.sock").Inc()
	conns.With("punix:/run/nb.sock").Dec()
	conns.With("ptcp:6641").Set(7)
	term := 4.0
	r.GaugeFunc("hcnet_raft_term", "Current Raft term.", func() float64 { return term })
	r.CounterFunc("hcnet_raft_applied_index", "Last applied Raft index.", func() float64 { return 1234 })

	p := parseText(t, text(t, r))
	want := map[string]float64{
		`hcnet_ovsdb_transactions_total`:                                              3.5,
		`hcnet_ovsdb_monitors_total{db="OVN_Northbound",method="monitor_cond_since"}`: 3,
		`hcnet_ovsdb_monitors_total{db="OVN_Southbound",method="monitor_cond"}`:       1,
		`hcnet_raft_leader`: 1,
		`hcnet_ovsdb_connections{listener="punix:/run/nb.sock"}`: 1,
		`hcnet_ovsdb_connections{listener="ptcp:6641"}`:          7,
		`hcnet_raft_term`:          4,
		`hcnet_raft_applied_index`: 1234,
	}
	for k, v := range want {
		if got, ok := p.samples[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if len(p.samples) != len(want) {
		t.Errorf("got %d samples, want %d: %v", len(p.samples), len(want), p.samples)
	}
	types := map[string]string{
		"hcnet_ovsdb_transactions_total": "counter", "hcnet_ovsdb_monitors_total": "counter",
		"hcnet_raft_leader": "gauge", "hcnet_ovsdb_connections": "gauge",
		"hcnet_raft_term": "gauge", "hcnet_raft_applied_index": "counter",
	}
	for n, typ := range types {
		if p.types[n] != typ {
			t.Errorf("TYPE %s = %q, want %q", n, p.types[n], typ)
		}
	}
	if p.helps["hcnet_raft_term"] != "Current Raft term." {
		t.Errorf("HELP hcnet_raft_term = %q", p.helps["hcnet_raft_term"])
	}
	for i := 1; i < len(p.order); i++ {
		if p.order[i-1] >= p.order[i] {
			t.Errorf("families not sorted: %v", p.order)
		}
	}
	// Gauge funcs are read at scrape time.
	term = 5
	if got := parseText(t, text(t, r)).samples["hcnet_raft_term"]; got != 5 {
		t.Errorf("gauge func after change = %v, want 5", got)
	}
	// Deleting a series removes it from the output.
	if !conns.Delete("ptcp:6641") {
		t.Error("Delete of an existing series returned false")
	}
	if _, ok := parseText(t, text(t, r)).samples[`hcnet_ovsdb_connections{listener="ptcp:6641"}`]; ok {
		t.Error("deleted series still written")
	}
}

func TestHistogram(t *testing.T) {
	r := NewRegistry()
	h := r.HistogramVec("hcnet_northd_run_seconds", "Duration of northd runs.", []float64{0.01, 0.1, 1}, "kind")
	inc := h.With("incremental")
	for _, v := range []float64{0.005, 0.01, 0.05, 0.5, 3} {
		inc.Observe(v)
	}
	h.With("full").ObserveDuration(20 * time.Millisecond)
	p := parseText(t, text(t, r))
	if p.types["hcnet_northd_run_seconds"] != "histogram" {
		t.Fatalf("TYPE = %q", p.types["hcnet_northd_run_seconds"])
	}
	want := map[string]float64{
		`hcnet_northd_run_seconds_bucket{kind="incremental",le="0.01"}`: 2, // upper bounds are inclusive
		`hcnet_northd_run_seconds_bucket{kind="incremental",le="0.1"}`:  3,
		`hcnet_northd_run_seconds_bucket{kind="incremental",le="1"}`:    4,
		`hcnet_northd_run_seconds_bucket{kind="incremental",le="+Inf"}`: 5,
		`hcnet_northd_run_seconds_count{kind="incremental"}`:            5,
		`hcnet_northd_run_seconds_bucket{kind="full",le="0.01"}`:        0,
		`hcnet_northd_run_seconds_bucket{kind="full",le="0.1"}`:         1,
		`hcnet_northd_run_seconds_bucket{kind="full",le="+Inf"}`:        1,
		`hcnet_northd_run_seconds_count{kind="full"}`:                   1,
	}
	for k, v := range want {
		if got, ok := p.samples[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if got := p.samples[`hcnet_northd_run_seconds_sum{kind="incremental"}`]; math.Abs(got-3.565) > 1e-9 {
		t.Errorf("sum = %v, want 3.565", got)
	}
	if inc.Count() != 5 {
		t.Errorf("Count = %d", inc.Count())
	}
}

func TestEscaping(t *testing.T) {
	r := NewRegistry()
	r.GaugeVec("x", "help with \\ and\nnewline", "v").With("a\"b\\c\nd").Set(math.Inf(1))
	r.Gauge("y", "").Set(math.NaN())
	out := text(t, r)
	if !strings.Contains(out, `# HELP x help with \\ and\nnewline`+"\n") {
		t.Errorf("HELP not escaped:\n%s", out)
	}
	p := parseText(t, out)
	key := `x{v=` + strconv.Quote("a\"b\\c\nd") + `}`
	if v, ok := p.samples[key]; !ok || !math.IsInf(v, 1) {
		t.Errorf("escaped label value did not round-trip: %v\n%s", p.samples, out)
	}
	if !math.IsNaN(p.samples["y"]) {
		t.Errorf("NaN not written as NaN:\n%s", out)
	}
}

func TestMisuse(t *testing.T) {
	cases := map[string]func(r *Registry){
		"bad metric name":        func(r *Registry) { r.Counter("1abc", "") },
		"metric name with dash":  func(r *Registry) { r.Gauge("a-b", "") },
		"duplicate":              func(r *Registry) { r.Counter("a", ""); r.Gauge("a", "") },
		"bad label name":         func(r *Registry) { r.GaugeVec("a", "", "x-y") },
		"reserved label prefix":  func(r *Registry) { r.GaugeVec("a", "", "__x") },
		"repeated label":         func(r *Registry) { r.GaugeVec("a", "", "x", "x") },
		"le on histogram":        func(r *Registry) { r.HistogramVec("a", "", nil, "le") },
		"unsorted buckets":       func(r *Registry) { r.Histogram("a", "", []float64{1, 0.5}) },
		"wrong label count":      func(r *Registry) { r.CounterVec("a", "", "x").With() },
		"counter going backward": func(r *Registry) { r.Counter("a", "").Add(-1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

func TestConcurrentUpdates(t *testing.T) {
	r := NewRegistry()
	c := r.CounterVec("c", "", "w")
	h := r.Histogram("h", "", nil)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.With("all").Inc()
				h.Observe(0.001)
			}
		}()
	}
	done := make(chan struct{})
	go func() { // scrape while updating
		defer close(done)
		for i := 0; i < 20; i++ {
			_ = r.WriteText(io.Discard)
		}
	}()
	wg.Wait()
	<-done
	p := parseText(t, text(t, r))
	if p.samples[`c{w="all"}`] != 8000 || p.samples["h_count"] != 8000 {
		t.Errorf("lost updates: counter %v, histogram count %v", p.samples[`c{w="all"}`], p.samples["h_count"])
	}
}

func TestServe(t *testing.T) {
	r := NewRegistry()
	r.Counter("hcnet_up_total", "x").Inc()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ServeListener(ctx, ln, r, nil) }()
	t.Cleanup(func() {
		cancel()
		<-errc
	})
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if parseText(t, string(body)).samples["hcnet_up_total"] != 1 {
		t.Errorf("body:\n%s", body)
	}
	resp, err = http.Post("http://"+ln.Addr().String()+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status %d, want 405", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		errc <- err // for the cleanup
		if err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestServeBadAddress(t *testing.T) {
	err := Serve(context.Background(), "127.0.0.1:notaport", NewRegistry(), nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:notaport") {
		t.Fatalf("err = %v, want one naming the address", err)
	}
}

func BenchmarkScrape(b *testing.B) {
	r := NewRegistry()
	v := r.GaugeVec("g", "", "chassis")
	for i := 0; i < 200; i++ {
		v.With(fmt.Sprintf("hv%d", i)).Set(float64(i))
	}
	h := r.Histogram("h", "", nil)
	h.Observe(0.3)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.WriteText(io.Discard)
	}
}
