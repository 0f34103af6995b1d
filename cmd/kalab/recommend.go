package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/internal/atomicfile"
	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/recommend"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// recommendFlags are kalab recommend's flags.
type recommendFlags struct {
	path         string
	inbound      float64
	strategy     string
	detectWithin time.Duration
	jsonOut      bool
	out          string
	seeds        []uint
	duration     time.Duration
	serverFaults bool
	workers      int
	noPlots      bool
}

// recommendFile and recommendPlot are what kalab recommend writes into --out.
const (
	recommendFile = "recommendation.json"
	recommendPlot = "recommend"
)

func init() {
	var f recommendFlags
	cmd := &cobra.Command{
		Use:   "recommend --path PROFILE[,PROFILE…]",
		Short: "Recommend a heartbeat strategy and interval for a path, with the sweep that justifies it",
		Long: `Derive the maximum safe heartbeat interval for a path of middleboxes analytically
(the shortest idle timer the strategy's own traffic re-arms, minus a margin for RTT,
jitter and scheduler slack), cap it by the detection budget (interval + reply
deadline ≤ --detect-within), and verify it with an interval sweep in the simulator
over several seeds, 7 simulated days each (the boxes close, reset or blackhole at
expiry as the path says; --server-faults adds routine server disconnects).

--path mixes catalog profiles (` + strings.Join(middlebox.Names(), ", ") + `)
and custom timers: idle:TIMEOUT[:up|down|both[:close|reset|blackhole]] and
lifetime:TIMEOUT[:close|reset|blackhole], e.g.
  --path nginx,docker-swarm
  --path idle:45s:both:close,idle:350s:both:blackhole,lifetime:30m

Writes recommendation.json and plots/recommend.png|svg (the sweep with the
recommended and the max safe interval marked) into --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRecommend(ctx, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", "", "the path: catalog profiles and custom timers, comma-separated (required)")
	fl.Float64Var(&f.inbound, "inbound", 0, "inbound messages per hour (verification only; the bound never counts on them)")
	fl.StringVar(&f.strategy, "strategy", "ping", "heartbeat strategy: ping, presence or combined")
	fl.DurationVar(&f.detectWithin, "detect-within", recommend.DefaultDetectWithin, "how long a dead connection may go unnoticed (interval + reply deadline must fit)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the recommendation as JSON")
	fl.StringVar(&f.out, "out", filepath.Join("out", "recommend"), "output directory for recommendation.json and the plot")
	fl.UintSliceVar(&f.seeds, "seed", nil, "verification seeds (default 1,2,3)")
	fl.DurationVar(&f.duration, "duration", recommend.DefaultDuration, "simulated time of each verification run")
	fl.BoolVar(&f.serverFaults, "server-faults", false, "also inject routine server faults in the verification (515 every 12 h, 503 daily)")
	fl.IntVar(&f.workers, "workers", 0, "simulations in parallel (default: GOMAXPROCS)")
	fl.BoolVar(&f.noPlots, "no-plots", false, "skip the plot")
	_ = cmd.MarkFlagRequired("path")
	rootCmd.AddCommand(cmd)
}

func runRecommend(ctx context.Context, stdout io.Writer, f recommendFlags) error {
	strategy := keepalive.Strategy(strings.ToLower(strings.TrimSpace(f.strategy)))
	req := recommend.Request{
		Path:           f.path,
		Strategy:       strategy,
		InboundPerHour: f.inbound,
		DetectWithin:   f.detectWithin,
		Duration:       f.duration,
		Workers:        f.workers,
	}
	if f.serverFaults {
		req.Faults = recommend.RoutineFaults
	}
	if f.detectWithin <= 0 {
		return fmt.Errorf("--detect-within %v: must be > 0", f.detectWithin)
	}
	if f.duration <= 0 {
		return fmt.Errorf("--duration %v: must be > 0", f.duration)
	}
	for _, s := range f.seeds {
		req.Seeds = append(req.Seeds, uint64(s))
	}
	rec, err := recommend.Recommend(ctx, req)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("recommend: encode: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(filepath.Join(f.out, recommendFile), b, 0o644); err != nil {
		return err
	}
	var plots []string
	if !f.noPlots {
		pd := filepath.Join(f.out, "plots")
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return err
		}
		if plots, err = reports.WriteSweepPlot(pd, recommendPlot, rec.Plot()); err != nil {
			return err
		}
	}
	if f.jsonOut {
		_, err := stdout.Write(b)
		return err
	}
	if err := rec.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nWrote %s", filepath.Join(f.out, recommendFile))
	for _, p := range plots {
		fmt.Fprintf(stdout, ", %s", p)
	}
	fmt.Fprintln(stdout)
	return nil
}
