// Package runner executes scenarios in the simulator on all cores and assembles
// their results (reports.Results) in a deterministic order, checking every
// expectation.
//
// It is a package of its own, not part of cmd/kalab, because three commands share
// it: kalab run (scenario files), kalab sweep and kalab recommend (grids of runs
// built in code). Sweeps use Simulate for bare []sim.Run; scenario runs use Execute.
// Neither scenarios nor reports could hold it without importing the other, and
// their import directions must stay one way (cmd → runner → reports, scenarios,
// sim). It never reads the wall clock into its results: the same scenarios and
// options give the same Results whatever the worker count.
package runner

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/scenarios"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// SimulateFunc runs one simulation (sim.Simulate by default).
type SimulateFunc func(sim.Run) (sim.Result, error)

// Options adjusts an execution. The zero value runs everything as the files say.
type Options struct {
	// Workers is how many simulations run in parallel. Default: runtime.GOMAXPROCS(0).
	Workers int
	// Seeds, when set, replaces every scenario's seeds.
	Seeds []uint64
	// Duration, when > 0, replaces every scenario's duration.
	Duration time.Duration
	// Only, when set, keeps only the clients of these names; scenarios left without
	// clients are dropped. A name that matches no client anywhere is an error.
	Only []string
	// Simulate runs one simulation. Default: sim.Simulate.
	Simulate SimulateFunc
	// Progress, when set, is called once with 0 before the first run starts, then
	// after each finished run with the number done and the total, from one
	// goroutine at a time.
	Progress func(done, total int)
}

// Prepare applies the overrides of opts (Seeds, Duration, Only) to ss and returns
// the scenarios that will run.
func Prepare(ss []scenarios.Scenario, opts Options) ([]scenarios.Scenario, error) {
	if len(opts.Seeds) > 0 {
		seen := map[uint64]bool{}
		for _, s := range opts.Seeds {
			if seen[s] {
				return nil, fmt.Errorf("seed %d given twice", s)
			}
			seen[s] = true
		}
	}
	if opts.Duration < 0 {
		return nil, fmt.Errorf("duration must be > 0, got %v", opts.Duration)
	}
	out := make([]scenarios.Scenario, 0, len(ss))
	matched := map[string]bool{}
	for _, s := range ss {
		if len(opts.Seeds) > 0 {
			s.Seeds = slices.Clone(opts.Seeds)
		}
		if opts.Duration > 0 {
			s.Duration = opts.Duration
		}
		if len(opts.Only) > 0 {
			var keep []scenarios.Client
			for _, c := range s.Clients {
				if slices.Contains(opts.Only, c.Name) {
					keep = append(keep, c)
					matched[c.Name] = true
				}
			}
			if len(keep) == 0 {
				continue
			}
			s.Clients = keep
		}
		out = append(out, s)
	}
	for _, name := range opts.Only {
		if !matched[name] {
			return nil, fmt.Errorf("--only %s: no client of that name in the scenarios (clients: %s)", name, strings.Join(clientNames(ss), ", "))
		}
	}
	return out, nil
}

func clientNames(ss []scenarios.Scenario) []string {
	var names []string
	for _, s := range ss {
		for _, c := range s.Clients {
			if !slices.Contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Execute prepares ss with opts, runs every scenario × client × seed in parallel
// and returns the results with every expectation checked. The order of scenarios,
// clients and seeds is the input order, independent of scheduling.
func Execute(ctx context.Context, ss []scenarios.Scenario, opts Options) (*reports.Results, error) {
	ss, err := Prepare(ss, opts)
	if err != nil {
		return nil, err
	}
	var runs []sim.Run
	for _, s := range ss {
		runs = append(runs, s.Runs()...)
	}
	results, err := Simulate(ctx, runs, opts)
	if err != nil {
		return nil, err
	}
	out := &reports.Results{SchemaVersion: reports.SchemaVersion, Passed: true}
	i := 0
	for _, s := range ss {
		rs := Assemble(s, results[i:i+len(s.Clients)*len(s.Seeds)])
		i += len(s.Clients) * len(s.Seeds)
		out.Passed = out.Passed && rs.Passed
		out.Scenarios = append(out.Scenarios, rs)
	}
	return out, nil
}

// Simulate runs every run on opts.Workers goroutines and returns the results in the
// order of runs. The first error (or ctx's) stops the remaining runs.
func Simulate(ctx context.Context, runs []sim.Run, opts Options) ([]sim.Result, error) {
	simulate := opts.Simulate
	if simulate == nil {
		simulate = sim.Simulate
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(runs), 1))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	results := make([]sim.Result, len(runs))
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	if opts.Progress != nil {
		opts.Progress(0, len(runs)) // the clock of a progress display starts now
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r, err := simulate(runs[i])
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("%s/%s seed %d: %w", runs[i].Scenario, runs[i].Client, runs[i].Seed, err)
					}
					cancel()
				} else {
					results[i] = r
					done++
					if opts.Progress != nil {
						opts.Progress(done, len(runs))
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range runs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// Assemble builds one scenario's results from its runs' results, given in the order
// of s.Runs() (clients in order, seeds in order within each client).
func Assemble(s scenarios.Scenario, results []sim.Result) reports.Scenario {
	rs := reports.Scenario{
		Name:        s.Name,
		Description: s.Description,
		File:        s.File,
		Duration:    s.Duration,
		Seeds:       slices.Clone(s.Seeds),
		PathText:    s.PathString(),
		Path:        s.Path,
		Network:     s.Network,
		Server:      s.Server,
		Faults:      s.Faults,
		Passed:      true,
	}
	if rs.Path == nil {
		rs.Path = []middlebox.Spec{}
	}
	if rs.Faults == nil {
		rs.Faults = []sim.Fault{}
	}
	for ci, c := range s.Clients {
		runs := slices.Clone(results[ci*len(s.Seeds) : (ci+1)*len(s.Seeds)])
		for k := 1; k < len(runs); k++ {
			// Only the first seed keeps the bulky per-run history (for plots).
			runs[k].Timeline = sim.Timeline{}
			runs[k].IntervalTrajectory = nil
			runs[k].RTTTimeline = nil
		}
		rc := reports.Client{
			Name:      c.Name,
			Preset:    c.Preset,
			Config:    c.Config,
			Runs:      runs,
			Aggregate: aggregate(runs),
			Verdicts:  []reports.Verdict{},
			Passed:    true,
		}
		for _, e := range c.Expect {
			v := verdict(e, runs)
			rc.Passed = rc.Passed && v.Passed
			rc.Verdicts = append(rc.Verdicts, v)
		}
		rs.Passed = rs.Passed && rc.Passed
		rs.Clients = append(rs.Clients, rc)
	}
	return rs
}

// aggregate summarises every metric over the runs.
func aggregate(runs []sim.Result) map[string]reports.Stat {
	out := map[string]reports.Stat{}
	if len(runs) == 0 {
		return out
	}
	for _, m := range scenarios.Metrics() {
		var st reports.Stat
		sum := 0.0
		for i, r := range runs {
			v, _ := scenarios.Value(r, m.Name)
			sum += v
			if i == 0 || v < st.Min {
				st.Min = v
			}
			if i == 0 || v > st.Max {
				st.Max = v
			}
		}
		st.Mean = sum / float64(len(runs))
		out[m.Name] = st
	}
	return out
}

// verdict checks e on every run: it passes when it holds for the worst seed.
func verdict(e scenarios.Expectation, runs []sim.Result) reports.Verdict {
	m, _ := scenarios.LookupMetric(e.Metric)
	v := reports.Verdict{
		Expectation: e.Text,
		Metric:      e.Metric,
		Op:          string(e.Op),
		Bound:       e.Bound,
		Unit:        string(m.Unit),
		Passed:      len(runs) > 0,
	}
	vals := make([]float64, len(runs))
	for i, r := range runs {
		vals[i], _ = scenarios.Value(r, e.Metric)
	}
	if len(runs) == 0 {
		return v
	}
	worst := e.Worst(vals)
	v.Measured = worst
	for i, x := range vals {
		if x == worst {
			v.WorstSeed = runs[i].Seed
			break
		}
	}
	v.Passed = e.Holds(worst)
	return v
}
