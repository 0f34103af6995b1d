// Package recommend answers "what heartbeat strategy and interval should my bot use
// behind this path?": it derives the maximum safe interval analytically from the
// path's timers (Analyze), then verifies it with an interval sweep in the simulator
// over several seeds and a fault profile (Recommend), and reports the evidence —
// expected uptime, disconnects, heartbeats and bytes per day, the margin to the
// first failing interval, what the seed's 60 s presence would cost instead — with
// warnings for what no interval can fix.
//
// It is a package of its own, at the top level, because it composes keepalive
// (policies and presets), sim and sim/middlebox (paths and runs), runner (parallel
// simulation), sweep (the verification sweep) and reports (the plot); kalab
// recommend is a thin command over it, and tests and benchmarks drive it without
// the CLI. Nothing but cmd may import it; it never imports cmd, sim/netlab,
// sim/mockwa or keepalive/wa, and reads no wall clock into its answer.
package recommend
