package sweep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/runner"
	"github.com/kalab-dev/kalab/scenarios"
	"github.com/kalab-dev/kalab/sim"
)

// Options adjusts how a sweep runs; none of it changes the results.
type Options struct {
	// Shard selects the part of the sweep to run. Zero: the whole sweep.
	Shard Shard
	// Workers is how many simulations run in parallel. Default: GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each finished run with the number done
	// and the total.
	Progress func(done, total int)
	// Simulate runs one simulation. Default: sim.Simulate.
	Simulate runner.SimulateFunc
}

// CellName names a sweep cell's client: "STRATEGY@INTERVAL" ("ping@45s").
func CellName(s keepalive.Strategy, interval time.Duration) string {
	return string(s) + "@" + FormatInterval(interval)
}

// FormatInterval prints an interval without Go's trailing zero units ("1m30s",
// "2h", "8.8s").
func FormatInterval(d time.Duration) string {
	str := d.String()
	if t, ok := strings.CutSuffix(str, "m0s"); ok {
		str = t + "m"
	}
	if t, ok := strings.CutSuffix(str, "h0m"); ok {
		str = t + "h"
	}
	return str
}

// Run runs g (or the shard of it opts.Shard selects) and returns its results: one
// scenario per path holding the shard's cells, and the Sweep section. The same
// grid gives byte-identical results whatever opts.Workers.
func Run(ctx context.Context, g Grid, opts Options) (*reports.Results, error) {
	r, err := g.resolve()
	if err != nil {
		return nil, err
	}
	if !opts.Shard.Whole() && (opts.Shard.Index < 1 || opts.Shard.Index > opts.Shard.Count) {
		return nil, fmt.Errorf("sweep: shard %d/%d: index must be within 1..%d", opts.Shard.Index, opts.Shard.Count, opts.Shard.Count)
	}
	fp, err := r.fingerprint()
	if err != nil {
		return nil, err
	}
	ss, cells := r.scenarios(opts.Shard)
	var runs []sim.Run
	for _, s := range ss {
		runs = append(runs, s.Runs()...)
	}
	results, err := runner.Simulate(ctx, runs, runner.Options{Workers: opts.Workers, Progress: opts.Progress, Simulate: opts.Simulate})
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	out := &reports.Results{SchemaVersion: reports.SchemaVersion, Passed: true, Sweep: r.section(fp)}
	i := 0
	for _, s := range ss {
		n := len(s.Clients) * len(s.Seeds)
		rs := runner.Assemble(s, results[i:i+n])
		i += n
		out.Passed = out.Passed && rs.Passed
		out.Scenarios = append(out.Scenarios, rs)
	}
	if out.Scenarios == nil {
		out.Scenarios = []reports.Scenario{}
	}
	if !opts.Shard.Whole() {
		out.Sweep.Shard = &reports.SweepShard{Index: opts.Shard.Index, Count: opts.Shard.Count, Cells: cells}
	}
	return out, nil
}

// section is the reports.Sweep of a whole sweep.
func (r resolved) section(fp string) *reports.Sweep {
	sw := &reports.Sweep{Fingerprint: fp, SafeUptime: r.SafeUptime}
	for _, p := range r.paths {
		sw.Paths = append(sw.Paths, p.text)
	}
	for _, s := range r.Strategies {
		sw.Strategies = append(sw.Strategies, string(s))
	}
	sw.Intervals = append(sw.Intervals, r.Intervals...)
	return sw
}

// scenarios builds one scenario per path holding the shard's cells (paths
// without a cell in the shard are left out) and counts the cells.
func (r resolved) scenarios(sh Shard) ([]scenarios.Scenario, int) {
	var out []scenarios.Scenario
	k, cells := 0, 0
	for _, p := range r.paths {
		s := scenarios.Scenario{
			Name:     p.text,
			Duration: r.Duration,
			Seeds:    append([]uint64(nil), r.Seeds...),
			Path:     p.specs,
			Network:  r.Network,
			Server:   r.Server,
			Faults:   r.Faults,
		}
		for _, st := range r.Strategies {
			for _, iv := range r.Intervals {
				if sh.holds(k) {
					s.Clients = append(s.Clients, scenarios.Client{Name: CellName(st, iv), Config: Policy(st, iv, r.ReplyDeadline)})
					cells++
				}
				k++
			}
		}
		if len(s.Clients) > 0 {
			out = append(out, s)
		}
	}
	return out, cells
}
