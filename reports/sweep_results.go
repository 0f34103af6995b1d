package reports

import "time"

// Sweep describes the interval sweep a results.json holds (kalab sweep, kalab
// merge). It is absent from results of kalab run.
//
// A sweep's results hold one Scenario per path (named by the path's compact text)
// and, inside it, one Client per cell: a strategy at an interval, named
// "STRATEGY@INTERVAL" ("ping@45s"), each with one run per seed. Cells are ordered
// path, strategy, interval as listed below; a shard holds only its own cells, in
// the same order.
type Sweep struct {
	// Fingerprint identifies the sweep's definition (every input that changes a
	// number: paths, strategies, intervals, seeds, duration, network, server,
	// faults, policy), as lower-case hex. Shards of one sweep share it; kalab merge
	// refuses shards whose fingerprints differ.
	Fingerprint string `json:"fingerprint"`
	// Paths are the swept paths in the compact syntax, in sweep order.
	Paths []string `json:"paths"`
	// Strategies are the swept heartbeat strategies, in sweep order.
	Strategies []string `json:"strategies"`
	// Intervals are the swept heartbeat intervals, ascending (nanoseconds in JSON).
	Intervals []time.Duration `json:"intervals"`
	// SafeUptime is the true uptime (0..1) every seed of a cell must reach, with no
	// idle-timeout disconnect, for the cell to count as safe.
	SafeUptime float64 `json:"safe_uptime"`
	// Shard is set on the results of one shard (--shard i/n) and absent on a whole
	// sweep, whether run at once or merged from its shards.
	Shard *SweepShard `json:"shard,omitempty"`
}

// SweepShard names one of the disjoint parts of a sweep.
type SweepShard struct {
	// Index is the shard's number, 1..Count.
	Index int `json:"index"`
	// Count is the number of shards the sweep was split into.
	Count int `json:"count"`
	// Cells is how many cells (path × strategy × interval) the shard ran.
	Cells int `json:"cells"`
}
