// Package sweep runs interval sweeps: a grid of heartbeat intervals × strategies ×
// paths × seeds in the simulator, on all cores, written as results.json (with a
// reports.Sweep section), a Markdown table and the sweep plot. A sweep splits into
// disjoint shards (Shard, "--shard i/n") that CI matrices or Kubernetes indexed jobs
// run separately; Merge joins them back into exactly the result of one whole run,
// refusing shards of different sweeps, overlapping or missing shards.
//
// It is a package of its own, at the top level, because it composes the layers
// below it — keepalive (policies), sim and sim/middlebox (the runs and paths),
// runner (parallel execution) and reports (results and plots) — and two commands
// share it: kalab sweep and kalab recommend (package recommend). None of those
// packages may import it (imports flow one way: cmd → recommend → sweep → runner,
// reports, sim, keepalive); it never imports cmd, sim/netlab, sim/mockwa or
// keepalive/wa, and never reads the wall clock into results.
package sweep
