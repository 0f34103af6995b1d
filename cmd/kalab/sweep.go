package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/reports/progress"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sweep"
)

// sweepFlags are kalab sweep's flags.
type sweepFlags struct {
	paths      []string
	intervals  string
	strategies string
	seeds      []uint
	duration   time.Duration
	inbound    float64
	rtt        time.Duration
	jitter     time.Duration
	shard      string
	out        string
	workers    int
	noPlots    bool
}

func init() {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep --path PATH [--path PATH …] --intervals MIN:MAX:STEP",
		Short: "Run an interval sweep (intervals × strategies × paths × seeds) in the simulator",
		Long: `Run a grid of heartbeat intervals × strategies × paths × seeds in the simulator,
in parallel on all cores, and write results.json, summary.md and plots/sweep.png|svg
(true uptime and heartbeats/day against the interval, one curve per path, the safe
region shaded) into --out.

Each --path is one path in the compact syntax: catalog profiles
(` + strings.Join(middlebox.Names(), ", ") + `) and custom timers
(idle:45s:both:close, lifetime:30m), comma-separated. --intervals is a range
MIN:MAX:STEP, a list, or both ("5s:60s:5s,90s,120s").

--shard i/n runs only the i-th of n disjoint parts of the grid (cells dealt
round-robin), so a CI matrix or a Kubernetes indexed job (i = index + 1) can split
a large sweep; kalab merge joins the shards' results.json into the whole sweep's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSweep(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.paths, "path", nil, "a path to sweep (repeatable; each is one comma-separated path)")
	fl.StringVar(&f.intervals, "intervals", "", "intervals: MIN:MAX:STEP and/or a comma-separated list (required)")
	fl.StringVar(&f.strategies, "strategy", "ping", "strategies, comma-separated: ping, presence, combined, fallback")
	fl.UintSliceVar(&f.seeds, "seed", nil, "seeds (default 1,2,3)")
	fl.DurationVar(&f.duration, "duration", sweep.DefaultDuration, "simulated time of each run (7 days is 168h)")
	fl.Float64Var(&f.inbound, "inbound", 0, "inbound messages per hour")
	fl.DurationVar(&f.rtt, "rtt", sweep.DefaultRTT, "network round-trip time")
	fl.DurationVar(&f.jitter, "jitter", sweep.DefaultJitter, "network jitter (uniform, each way)")
	fl.StringVar(&f.shard, "shard", "", "run only part i of n (i/n, from 1)")
	fl.StringVar(&f.out, "out", "out", "output directory")
	fl.IntVar(&f.workers, "workers", 0, "simulations in parallel (default: GOMAXPROCS)")
	fl.BoolVar(&f.noPlots, "no-plots", false, "skip the plots")
	_ = cmd.MarkFlagRequired("path")
	_ = cmd.MarkFlagRequired("intervals")
	rootCmd.AddCommand(cmd)
}

func runSweep(ctx context.Context, stdout, stderr io.Writer, f sweepFlags) error {
	ivs, err := sweep.ParseIntervals(f.intervals)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	strategies, err := sweep.ParseStrategies(f.strategies)
	if err != nil {
		return fmt.Errorf("--strategy: %w", err)
	}
	if f.duration <= 0 {
		return fmt.Errorf("--duration %v: must be > 0", f.duration)
	}
	if f.inbound < 0 {
		return fmt.Errorf("--inbound %v: must be ≥ 0 (messages per hour)", f.inbound)
	}
	if f.rtt <= 0 || f.jitter < 0 {
		return fmt.Errorf("--rtt %v must be > 0 and --jitter %v ≥ 0", f.rtt, f.jitter)
	}
	g := sweep.Grid{
		Paths:      f.paths,
		Strategies: strategies,
		Intervals:  ivs,
		Duration:   f.duration,
		Network:    sim.Network{RTT: f.rtt, Jitter: f.jitter},
		Server:     sim.Server{InboundPerHour: f.inbound},
	}
	for _, s := range f.seeds {
		g.Seeds = append(g.Seeds, uint64(s))
	}
	opts := sweep.Options{Workers: f.workers}
	if f.shard != "" {
		if opts.Shard, err = sweep.ParseShard(f.shard); err != nil {
			return err
		}
	}
	started := time.Now()
	pr := progress.New(stderr, progress.Options{Label: "sweep runs"})
	opts.Progress = progress.Func(pr)
	res, err := sweep.Run(ctx, g, opts)
	pr.Done()
	if err != nil {
		return err
	}
	files, err := sweep.WriteReport(res, f.out, f.noPlots)
	if err != nil {
		return err
	}
	return printSweep(stdout, res, files, time.Since(started))
}
