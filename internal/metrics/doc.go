// Package metrics is hcnet's small Prometheus instrumentation library: a
// Registry of counters, gauges, gauge functions and histograms, each with
// optional labels, written in the Prometheus text exposition format 0.0.4
// by an http.Handler at /metrics, and a Serve helper that runs that handler
// on an address until a context ends.
//
// Daemons (nbdb, sbdb, northd, chassis) create one Registry at startup,
// register their metrics on it and pass the metrics, not the Registry, to
// the code that updates them. There is no default registry: no package
// globals. Registering the same name twice or using an invalid metric or
// label name is a programming error and panics.
//
// The package imports only the standard library; it must not import any
// other hcnet package.
package metrics
