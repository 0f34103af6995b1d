package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/runner"
	"github.com/kalab-dev/kalab/scenarios"
	"github.com/kalab-dev/kalab/sim/netlab"
)

// defaultNetWorkers is how many network-lab runs go side by side by default: they
// mostly wait on timers, but every login costs CPU and latency on a small machine
// skews the compressed time.
const defaultNetWorkers = 4

// addNetFlags adds kalab run's --net and --time-scale.
func addNetFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.BoolVar(&f.net, "net", false, "run over the network lab (mock server, Toxiproxy, real whatsmeow clients) in compressed real time instead of the simulator")
	fl.Float64Var(&f.scale, "time-scale", netlab.DefaultScale, "with --net: divide every duration by this (a 60 s timeout becomes 600 ms at 100)")
}

// netOptions switches opts to the network lab when --net is given, after checking
// that every run can be realised at the scale, and returns what results.json
// records about it (nil for a simulator run).
func netOptions(ctx context.Context, ss []scenarios.Scenario, opts *runner.Options, f runFlags) (*reports.LabRun, error) {
	if f.scale == 0 {
		f.scale = netlab.DefaultScale
	}
	if !f.net {
		if f.scale != netlab.DefaultScale {
			return nil, fmt.Errorf("--time-scale is for network runs: add --net")
		}
		return nil, nil
	}
	prepared, err := runner.Prepare(ss, *opts)
	if err != nil {
		return nil, err
	}
	ropts := netlab.RunOptions{Scale: f.scale}
	for _, s := range prepared {
		for _, r := range s.Runs() {
			if err := netlab.CheckRun(r, ropts); err != nil {
				return nil, fmt.Errorf("--net: %w", err)
			}
		}
	}
	opts.Simulate = runner.SimulateFunc(netlab.Simulator(ctx, ropts))
	if opts.Workers <= 0 {
		opts.Workers = defaultNetWorkers
	}
	return &reports.LabRun{Mode: "network", TimeScale: f.scale}, nil
}
