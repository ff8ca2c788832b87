package metrics

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds metric families and writes them in the text exposition
// format. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex // guards families
	families map[string]family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: map[string]family{}}
}

// family is one metric name with its HELP, TYPE and series.
type family interface {
	meta() (name, help, typ string)
	// write appends the family's sample lines (without HELP/TYPE).
	write(b *strings.Builder)
}

func (r *Registry) register(f family) {
	name, _, _ := f.meta()
	if !validMetricName(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		panic(fmt.Sprintf("metrics: metric %q registered twice", name))
	}
	r.families[name] = f
}

// Counter registers and returns a counter without labels.
func (r *Registry) Counter(name, help string) *Counter {
	return r.CounterVec(name, help).With()
}

// CounterVec registers a counter family with the given label names.
func (r *Registry) CounterVec(name, help string, labels ...string) *CounterVec {
	v := &CounterVec{vec: newVec(name, help, "counter", labels, func() *Counter { return &Counter{} })}
	r.register(v)
	return v
}

// Gauge registers and returns a gauge without labels.
func (r *Registry) Gauge(name, help string) *Gauge {
	return r.GaugeVec(name, help).With()
}

// GaugeVec registers a gauge family with the given label names.
func (r *Registry) GaugeVec(name, help string, labels ...string) *GaugeVec {
	v := &GaugeVec{vec: newVec(name, help, "gauge", labels, func() *Gauge { return &Gauge{} })}
	r.register(v)
	return v
}

// GaugeFunc registers a gauge whose value is read from f at every scrape.
// f must be safe to call from any goroutine and should be cheap.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.register(&funcFamily{name: name, help: help, typ: "gauge", f: f})
}

// CounterFunc registers a counter whose value is read from f at every
// scrape (for counts another package already keeps). f must never return a
// smaller value than before.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.register(&funcFamily{name: name, help: help, typ: "counter", f: f})
}

// Histogram registers and returns a histogram without labels. buckets are
// the upper bounds, strictly increasing; nil means DefBuckets.
func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	return r.HistogramVec(name, help, buckets).With()
}

// HistogramVec registers a histogram family with the given label names.
func (r *Registry) HistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	if buckets == nil {
		buckets = DefBuckets
	}
	for i, b := range buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= buckets[i-1]) {
			panic(fmt.Sprintf("metrics: histogram %q: buckets must be finite and strictly increasing: %v", name, buckets))
		}
	}
	for _, l := range labels {
		if l == "le" {
			panic(fmt.Sprintf("metrics: histogram %q: label name \"le\" is reserved", name))
		}
	}
	bs := append([]float64(nil), buckets...)
	v := &HistogramVec{vec: newVec(name, help, "histogram", labels, func() *Histogram {
		return &Histogram{upper: bs, counts: make([]uint64, len(bs))}
	})}
	r.register(v)
	return v
}

// DefBuckets are latency buckets in seconds, from 100µs to 10s.
var DefBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// vec is a labelled family of series of one kind.
type vec[T series] struct {
	name, help, typ string
	labels          []string
	newSeries       func() T

	mu     sync.Mutex // guards series
	series map[string]labelled[T]
}

type labelled[T any] struct {
	values []string
	s      T
}

type series interface {
	writeSeries(b *strings.Builder, name, labels string)
}

func newVec[T series](name, help, typ string, labels []string, newSeries func() T) *vec[T] {
	seen := map[string]bool{}
	for _, l := range labels {
		if !validLabelName(l) || seen[l] {
			panic(fmt.Sprintf("metrics: metric %q: invalid or repeated label name %q", name, l))
		}
		seen[l] = true
	}
	return &vec[T]{name: name, help: help, typ: typ, labels: append([]string(nil), labels...),
		newSeries: newSeries, series: map[string]labelled[T]{}}
}

func (v *vec[T]) meta() (string, string, string) { return v.name, v.help, v.typ }

// with returns the series for the label values, creating it.
func (v *vec[T]) with(values []string) T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: metric %q has labels %v, got %d values %q", v.name, v.labels, len(values), values))
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if l, ok := v.series[key]; ok {
		return l.s
	}
	s := v.newSeries()
	v.series[key] = labelled[T]{values: append([]string(nil), values...), s: s}
	return s
}

// delete removes the series for the label values; it reports whether one existed.
func (v *vec[T]) delete(values []string) bool {
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.series[key]
	delete(v.series, key)
	return ok
}

func (v *vec[T]) write(b *strings.Builder) {
	v.mu.Lock()
	keys := make([]string, 0, len(v.series))
	for k := range v.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	all := make([]labelled[T], len(keys))
	for i, k := range keys {
		all[i] = v.series[k]
	}
	v.mu.Unlock()
	for _, l := range all {
		l.s.writeSeries(b, v.name, formatLabels(v.labels, l.values))
	}
}

// CounterVec is a counter family with labels.
type CounterVec struct{ *vec[*Counter] }

// With returns the counter for the label values (in the order of the label
// names), creating it at zero.
func (v *CounterVec) With(values ...string) *Counter { return v.with(values) }

// Delete removes the counter for the label values.
func (v *CounterVec) Delete(values ...string) bool { return v.delete(values) }

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ *vec[*Gauge] }

// With returns the gauge for the label values, creating it at zero.
func (v *GaugeVec) With(values ...string) *Gauge { return v.with(values) }

// Delete removes the gauge for the label values (for example a chassis
// that left).
func (v *GaugeVec) Delete(values ...string) bool { return v.delete(values) }

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ *vec[*Histogram] }

// With returns the histogram for the label values, creating it empty.
func (v *HistogramVec) With(values ...string) *Histogram { return v.with(values) }

// Delete removes the histogram for the label values.
func (v *HistogramVec) Delete(values ...string) bool { return v.delete(values) }

// atomicFloat is a float64 updated atomically.
type atomicFloat struct{ bits atomic.Uint64 }

func (a *atomicFloat) load() float64 { return math.Float64frombits(a.bits.Load()) }

func (a *atomicFloat) store(v float64) { a.bits.Store(math.Float64bits(v)) }

func (a *atomicFloat) add(d float64) {
	for {
		old := a.bits.Load()
		if a.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Counter is a value that only goes up.
type Counter struct{ v atomicFloat }

// Inc adds one.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds d, which must not be negative.
func (c *Counter) Add(d float64) {
	if d < 0 {
		panic(fmt.Sprintf("metrics: counter decreased by %v", d))
	}
	c.v.add(d)
}

// Value returns the current value.
func (c *Counter) Value() float64 { return c.v.load() }

func (c *Counter) writeSeries(b *strings.Builder, name, labels string) {
	writeSample(b, name, labels, c.v.load())
}

// Gauge is a value that goes up and down.
type Gauge struct{ v atomicFloat }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.v.store(v) }

// SetBool sets 1 for true and 0 for false.
func (g *Gauge) SetBool(b bool) {
	if b {
		g.v.store(1)
	} else {
		g.v.store(0)
	}
}

// Add adds d (which may be negative).
func (g *Gauge) Add(d float64) { g.v.add(d) }

// Inc adds one.
func (g *Gauge) Inc() { g.v.add(1) }

// Dec subtracts one.
func (g *Gauge) Dec() { g.v.add(-1) }

// Value returns the current value.
func (g *Gauge) Value() float64 { return g.v.load() }

func (g *Gauge) writeSeries(b *strings.Builder, name, labels string) {
	writeSample(b, name, labels, g.v.load())
}

// Histogram counts observations in buckets and keeps their sum.
type Histogram struct {
	upper []float64 // bucket upper bounds, increasing; +Inf implied

	mu     sync.Mutex // guards counts, count, sum
	counts []uint64   // per bucket, not cumulative
	count  uint64
	sum    float64
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v) // first bound >= v
	h.mu.Lock()
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.count++
	h.sum += v
	h.mu.Unlock()
}

// ObserveDuration records d in seconds.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// Since records the time elapsed since start, in seconds.
func (h *Histogram) Since(start time.Time) { h.ObserveDuration(time.Since(start)) }

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

func (h *Histogram) writeSeries(b *strings.Builder, name, labels string) {
	h.mu.Lock()
	counts := append([]uint64(nil), h.counts...)
	count, sum := h.count, h.sum
	h.mu.Unlock()
	var cum uint64
	for i, ub := range h.upper {
		cum += counts[i]
		writeSample(b, name+"_bucket", joinLabels(labels, `le="`+formatFloat(ub)+`"`), float64(cum))
	}
	writeSample(b, name+"_bucket", joinLabels(labels, `le="+Inf"`), float64(count))
	writeSample(b, name+"_sum", labels, sum)
	writeSample(b, name+"_count", labels, float64(count))
}

// funcFamily is a gauge or counter read from a function at scrape time.
type funcFamily struct {
	name, help, typ string
	f               func() float64
}

func (f *funcFamily) meta() (string, string, string) { return f.name, f.help, f.typ }

func (f *funcFamily) write(b *strings.Builder) { writeSample(b, f.name, "", f.f()) }
