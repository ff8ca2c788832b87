// Package bench is the side-by-side benchmark of our OVSDB server (nbdb)
// against a one-member clustered ovsdb-server and a standalone one, on the
// same machine, with the same workloads and the same client code:
//
//   - single-row transaction latency (p50, p99), one client;
//   - batched insert throughput: transactions of 100 Logical_Switch_Port
//     rows, each added to its switch's ports, from several clients (rows/s);
//   - monitor fan-out: 100 monitoring clients, p99 from sending a commit to
//     the last client receiving its notification.
//
// Run it with:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/ovsdb/bench/
//
// It prints medians of interleaved rounds, the servers' CPU time per
// transaction and per row (from /proc, robust to a busy machine), and ratios
// (ours divided by each ovsdb-server). It skips the ovsdb-server columns when
// Open vSwitch is not installed. HCNET_BENCH_ONLY_OURS=1 runs nbdb alone,
// HCNET_BENCH_ONLY_LATENCY=1 only the single-row workload, and
// HCNET_BENCH_SERVER_CPUPROFILE=FILE profiles the nbdb process.
package bench
