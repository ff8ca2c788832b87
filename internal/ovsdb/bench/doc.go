// Package bench is the side-by-side benchmark of our OVSDB server (nbdb)
// against a one-member clustered ovsdb-server and a standalone one, on the
// same machine, with the same workloads and the same client code:
//
//   - single-row transaction latency (p50, p99), one client;
//
//   - batched insert throughput: transactions of 100 Logical_Switch_Port
//     rows, each added to its switch's ports, from several clients (rows/s);
//
//   - monitor fan-out: 100 monitoring clients, p50 and p99 from sending a
//     commit to the last client reading its notification (or the writer
//     its reply, if later), over 200 commits per round. The commit is
//     encoded and the clients' readers armed before the clock starts; each
//     reader notes when it read its notification, so no goroutine hand-off
//     in the benchmark process is timed. (Until 2026-11-21 it was 60
//     commits per round, timed to the wake-up of one waiting goroutine per
//     client started inside the timed interval: its p99 was the second
//     worst of 60, and the clients' own scheduling was part of it.)
//
//   - southbound conditional fan-out (condfanout_test.go, also run alone
//     with HCNET_BENCH_ONLY_CONDFANOUT=1): OVN_Southbound with 100
//     datapaths and 100 chassis sessions, each monitoring Port_Binding and
//     Logical_Flow with monitor_cond_since conditions naming its own five
//     datapaths and the datapath group; p50/p99 and server CPU of the
//     sessions' monitor requests, of commits that change flows of one or
//     three datapaths (five or fifteen sessions notified), and of commits
//     that change a group flow (all notified). Servers: sbdb and the two
//     ovsdb-servers on the southbound schema.
//
// Run it with:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/ovsdb/bench/
//
// It prints medians of interleaved rounds, the servers' CPU time per
// transaction and per row (from /proc, robust to a busy machine), and ratios
// (ours divided by each ovsdb-server). The batched transactions are encoded
// before the clock starts, so the client's JSON encoding (the same for every
// server) does not compete with the server for the two cores. It skips the
// ovsdb-server columns when Open vSwitch is not installed.
//
// Environment: HCNET_BENCH_ONLY_OURS=1 runs nbdb alone,
// HCNET_BENCH_ONLY_LATENCY=1 only the single-row workload,
// HCNET_BENCH_ONLY_BATCH=1 only the batched inserts,
// HCNET_BENCH_ONLY_FANOUT=1 only the monitor fan-out, HCNET_BENCH_ROUNDS=N
// runs N rounds instead of 3 (longer profiles), HCNET_BENCH_FANOUT_DIST=1
// prints each server's fan-out samples pooled over all rounds (quantiles of
// the total and of when the first and the last notification reached the
// clients and the writer its reply, and the server's and the clients' CPU
// time per commit), and
// HCNET_BENCH_SERVER_CPUPROFILE=FILE profiles the nbdb process
// (HCNET_BENCH_SERVER_MEMPROFILE=FILE writes its allocations), e.g.
//
//	HCNET_BENCH_ONLY_OURS=1 HCNET_BENCH_ONLY_BATCH=1 HCNET_BENCH_ROUNDS=8 \
//	HCNET_BENCH_SERVER_CPUPROFILE=/tmp/nbdb.prof \
//	go test -run '^$' -bench SideBySide -benchtime 1x ./internal/ovsdb/bench/
//
// The executor's share is measured in process by go test -bench
// 'WorkloadBatch100|InsertBatch100' -benchmem ./internal/ovsdb/ (CPU time
// per transaction as cpu-ns/op) and the JSON-RPC decoding by
// BenchmarkDecodeTransact100 in internal/jsonrpc.
package bench
