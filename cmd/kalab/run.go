package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/internal/atomicfile"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/reports/progress"
	"github.com/kalab-dev/kalab/runner"
	"github.com/kalab-dev/kalab/scenarios"
	"github.com/kalab-dev/kalab/sim"
)

// runFlags are kalab run's flags.
type runFlags struct {
	out      string
	seeds    []uint
	duration time.Duration
	only     []string
	trace    string
	workers  int
	noPlots  bool
	net      bool    // over the network lab (run_net.go)
	scale    float64 // --time-scale of --net
}

func init() {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [FILE|DIR|SUITE ...]",
		Short: "Run scenarios in the simulator and check their expectations",
		Long: `Run every scenario × client × seed in the simulator, in parallel on all cores.

Arguments are scenario files, directories of them, names of built-in scenario files
(` + strings.Join(scenarios.SuiteNames(), ", ") + `), or "suite" for all of them;
none means the whole built-in suite. Prints a table per scenario, writes
results.json (reproducible), run.json (wall-clock facts) and the report (index.html,
summary.md, junit.xml, plots/) into --out, and exits with status 1 when an
expectation fails.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRun(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "out", "output directory for results.json and run.json")
	fl.UintSliceVar(&f.seeds, "seed", nil, "run these seeds instead of each scenario's (repeatable or comma-separated)")
	fl.DurationVar(&f.duration, "duration", 0, "simulated time of each run instead of each scenario's (e.g. 1h, 7d is 168h)")
	fl.StringSliceVar(&f.only, "only", nil, "run only the clients of these names")
	fl.StringVar(&f.trace, "trace", "", "write the event trace of one run, SCENARIO/CLIENT[/SEED], to --out")
	fl.IntVar(&f.workers, "workers", 0, "simulations in parallel (default: GOMAXPROCS)")
	fl.BoolVar(&f.noPlots, "no-plots", false, "skip the plots (index.html, summary.md and junit.xml are still written)")
	addNetFlags(fl, &f)
	rootCmd.AddCommand(cmd)
}

// expectationsFailed is returned when the run completed but expectations failed;
// it makes kalab exit with status 1.
type expectationsFailed struct{ n int }

func (e expectationsFailed) Error() string {
	if e.n == 1 {
		return "1 expectation failed"
	}
	return fmt.Sprintf("%d expectations failed", e.n)
}

// ExitCode is 1: the run itself worked, the policies did not meet their bounds.
func (e expectationsFailed) ExitCode() int { return 1 }

func runRun(ctx context.Context, stdout, stderr io.Writer, args []string, f runFlags) error {
	started := time.Now().UTC()
	ss, err := scenarios.Resolve(args)
	if err != nil {
		return err
	}
	opts := runner.Options{Workers: f.workers, Duration: f.duration, Only: f.only}
	for _, s := range f.seeds {
		opts.Seeds = append(opts.Seeds, uint64(s))
	}
	if f.trace != "" {
		return runTrace(stdout, ss, opts, f)
	}
	pr := progress.New(stderr, progress.Options{Label: "runs"})
	opts.Progress = progress.Func(pr)
	lab, err := netOptions(ctx, ss, &opts, f)
	if err != nil {
		return err
	}
	res, err := runner.Execute(ctx, ss, opts)
	pr.Done()
	if err != nil {
		return err
	}
	res.Lab = lab
	for _, s := range res.Scenarios {
		printScenario(stdout, s)
	}
	if err := res.Write(filepath.Join(f.out, reports.ResultsFile)); err != nil {
		return err
	}
	wall := time.Since(started)
	nruns := 0
	for _, s := range res.Scenarios {
		nruns += len(s.Clients) * len(s.Seeds)
	}
	workers := f.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	host, _ := os.Hostname()
	info := reports.RunInfo{
		Command:       append([]string{"kalab", "run"}, os.Args[min(2, len(os.Args)):]...),
		Started:       started,
		WallSeconds:   wall.Seconds(),
		Runs:          nruns,
		RunsPerSecond: float64(nruns) / max(wall.Seconds(), 1e-9),
		Workers:       workers,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		NumCPU:        runtime.NumCPU(),
		GOOS:          runtime.GOOS,
		GOARCH:        runtime.GOARCH,
		GoVersion:     runtime.Version(),
		Hostname:      host,
	}
	if err := info.Write(filepath.Join(f.out, reports.RunInfoFile)); err != nil {
		return err
	}
	ropts := reports.Options{NoPlots: f.noPlots, Progress: progress.New(stderr, progress.Options{Label: "rendering"})}
	if err := reports.Render(res, f.out, ropts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d runs in %.1fs; wrote %s and %s\n", nruns, wall.Seconds(),
		filepath.Join(f.out, reports.ResultsFile), filepath.Join(f.out, reports.IndexFile))
	if n := res.Failures(); n > 0 {
		return expectationsFailed{n: n}
	}
	return nil
}

// printScenario prints one scenario's comparison table (means over the seeds).
func printScenario(w io.Writer, s reports.Scenario) {
	verdict := "PASS"
	if !s.Passed {
		verdict = "FAIL"
	}
	seeds := "seeds"
	if len(s.Seeds) == 1 {
		seeds = "seed"
	}
	fmt.Fprintf(w, "\n== %s [%s]  path: %s  (%s × %d %s)\n", s.Name, verdict, s.PathText,
		scenarios.FormatSeconds(s.Duration.Seconds()), len(s.Seeds), seeds)
	if s.Description != "" {
		fmt.Fprintf(w, "   %s\n", s.Description)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "client\ttrue uptime\tzombie time\tdisconnects/day\tp99 delay\theartbeats/day\tverdict")
	for _, c := range s.Clients {
		a := c.Aggregate
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name,
			pct(a["true_uptime"].Mean), scenarios.FormatSeconds(a["zombie_time"].Mean),
			num(a["disconnects_per_day"].Mean), scenarios.FormatSeconds(a["delivery_delay_p99"].Mean),
			num(a["heartbeats_per_day"].Mean), clientVerdict(c))
	}
	_ = tw.Flush()
}

func clientVerdict(c reports.Client) string {
	if len(c.Verdicts) == 0 {
		return "-"
	}
	var failed []string
	for _, v := range c.Verdicts {
		if !v.Passed {
			m, _ := scenarios.LookupMetric(v.Metric)
			failed = append(failed, fmt.Sprintf("%s (seed %d: %s)", v.Expectation, v.WorstSeed, m.Format(v.Measured)))
		}
	}
	if len(failed) == 0 {
		return fmt.Sprintf("pass (%d)", len(c.Verdicts))
	}
	return "FAIL: " + strings.Join(failed, "; ")
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 3, 64) + "%" }

func num(f float64) string {
	if f >= 100 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// runTrace simulates the one run named by --trace and writes its event trace.
func runTrace(stdout io.Writer, ss []scenarios.Scenario, opts runner.Options, f runFlags) error {
	parts := strings.Split(f.trace, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("--trace %q: want SCENARIO/CLIENT[/SEED]", f.trace)
	}
	ss, err := runner.Prepare(ss, opts)
	if err != nil {
		return err
	}
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
		if s.Name != parts[0] {
			continue
		}
		var clients []string
		for _, r := range s.Runs() {
			if !slices.Contains(clients, r.Client) {
				clients = append(clients, r.Client)
			}
			if r.Client != parts[1] || (len(parts) == 3 && strconv.FormatUint(r.Seed, 10) != parts[2]) {
				continue
			}
			return writeTrace(stdout, r, f.out)
		}
		return fmt.Errorf("--trace %q: scenario %s has no run for client %q%s (clients: %s; seeds: %v)",
			f.trace, s.Name, parts[1], seedSuffix(parts), strings.Join(clients, ", "), s.Seeds)
	}
	return fmt.Errorf("--trace %q: no scenario %q (scenarios: %s)", f.trace, parts[0], strings.Join(names, ", "))
}

func seedSuffix(parts []string) string {
	if len(parts) == 3 {
		return " and seed " + parts[2]
	}
	return ""
}

func writeTrace(stdout io.Writer, r sim.Run, dir string) error {
	name := filepath.Join(dir, fmt.Sprintf("trace-%s-%s-%d.txt", r.Scenario, r.Client, r.Seed))
	lines := 0
	var res sim.Result
	err := atomicfile.WriteFunc(name, 0o644, func(w io.Writer) error {
		var err error
		res, err = sim.SimulateWithTrace(r, func(e sim.TraceEvent) {
			lines++
			fmt.Fprintln(w, e.String())
		})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/%s seed %d: true uptime %s, %d disconnects, zombie %s\nwrote %d trace lines to %s\n",
		r.Scenario, r.Client, r.Seed, pct(res.TrueUptime), res.Disconnects, res.ZombieTime, lines, name)
	return nil
}
