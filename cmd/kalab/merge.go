package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sweep"
)

func init() {
	var (
		out     string
		noPlots bool
	)
	cmd := &cobra.Command{
		Use:   "merge SHARD/results.json …",
		Short: "Join the results of a sharded sweep into one result and report",
		Long: `Join the results.json of every shard of one sweep (kalab sweep --shard i/n) into
the results.json, summary.md and plots of the whole sweep, byte-identical to running
it at once. Refuses results of different sweeps (the fingerprint each shard carries
differs), shards of different splits, overlapping or missing shards.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd.OutOrStdout(), args, out, noPlots)
		},
	}
	cmd.Flags().StringVar(&out, "out", "out", "output directory for the merged results and report")
	cmd.Flags().BoolVar(&noPlots, "no-plots", false, "skip the plots")
	rootCmd.AddCommand(cmd)
}

func runMerge(stdout io.Writer, files []string, out string, noPlots bool) error {
	started := time.Now()
	parts := make([]sweep.Part, 0, len(files))
	for _, f := range files {
		r, err := reports.Load(f)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		parts = append(parts, sweep.Part{Name: f, Results: r})
	}
	res, err := sweep.Merge(parts)
	if err != nil {
		return err
	}
	written, err := sweep.WriteReport(res, out, noPlots)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d shards\n", len(parts))
	return printSweep(stdout, res, written, time.Since(started))
}

// printSweep prints a sweep's summary: the safe bound and where the files are.
func printSweep(w io.Writer, res *reports.Results, files []string, wall time.Duration) error {
	cells, err := sweep.Cells(res)
	if err != nil {
		return err
	}
	runs := 0
	for _, s := range res.Scenarios {
		runs += len(s.Clients) * len(s.Seeds)
	}
	fmt.Fprint(w, sweep.Markdown(res, cells))
	fmt.Fprintf(w, "\n%d cells, %d runs in %.1fs; wrote", len(cells), runs, wall.Seconds())
	for _, f := range files {
		fmt.Fprintf(w, " %s", f)
	}
	fmt.Fprintln(w)
	return nil
}
