package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/reports/progress"
)

// reportFlags are kalab report's flags.
type reportFlags struct {
	out     string
	title   string
	noPlots bool
}

func init() {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RESULTS.json",
		Short: "Render index.html, summary.md, junit.xml and the plots from a results file",
		Long: `Re-render a report directory from a results.json written by kalab run (with or
without --net), sweep or merge: index.html (one self-contained page with the plots
inline), summary.md (for a CI job summary), junit.xml and plots/ (PNG and SVG).

The output directory defaults to the one holding the results file; when it is
another, results.json is copied there so the directory is complete.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "output directory (default: the results file's directory)")
	fl.StringVar(&f.title, "title", "", `page title (default "kalab results")`)
	fl.BoolVar(&f.noPlots, "no-plots", false, "skip the plots (faster; index.html without figures)")
	rootCmd.AddCommand(cmd)
}

func runReport(stdout, stderr io.Writer, path string, f reportFlags) error {
	res, err := reports.Load(path)
	if err != nil {
		return fmt.Errorf("kalab report: %w", err)
	}
	out := f.out
	if out == "" {
		out = filepath.Dir(path)
	}
	pr := progress.New(stderr, progress.Options{Label: "rendering scenarios"})
	if err := reports.Render(res, out, reports.Options{Title: f.title, NoPlots: f.noPlots, Progress: pr}); err != nil {
		return fmt.Errorf("kalab report: %w", err)
	}
	if !sameFile(path, filepath.Join(out, reports.ResultsFile)) {
		if err := res.Write(filepath.Join(out, reports.ResultsFile)); err != nil {
			return fmt.Errorf("kalab report: %w", err)
		}
	}
	return listReport(stdout, out, res)
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(sa, sb)
}

// listReport prints the verdict and the report's files with their sizes.
func listReport(w io.Writer, dir string, res *reports.Results) error {
	var files []string
	var total int64
	sizes := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if !isReportFile(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, rel)
		sizes[rel] = info.Size()
		total += info.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("kalab report: list %s: %w", dir, err)
	}
	sort.Strings(files)
	fmt.Fprintf(w, "report in %s:\n", dir)
	for _, f := range files {
		fmt.Fprintf(w, "  %-48s %10s\n", f, humanSize(sizes[f]))
	}
	fmt.Fprintf(w, "  %-48s %10s\n", fmt.Sprintf("(%d files)", len(files)), humanSize(total))
	if n := res.Failures(); n > 0 {
		fmt.Fprintf(w, "%d expectation(s) failed; see %s\n", n, filepath.Join(dir, reports.IndexFile))
	} else {
		fmt.Fprintf(w, "every expectation holds; see %s\n", filepath.Join(dir, reports.IndexFile))
	}
	return nil
}

// isReportFile says whether rel (relative to the report directory) is one of the
// files a report consists of.
func isReportFile(rel string) bool {
	rel = filepath.ToSlash(rel)
	switch rel {
	case reports.IndexFile, reports.SummaryFile, reports.JUnitFile, reports.ResultsFile, reports.RunInfoFile:
		return true
	}
	return strings.HasPrefix(rel, reports.PlotsDir+"/") && (strings.HasSuffix(rel, ".png") || strings.HasSuffix(rel, ".svg"))
}

// humanSize formats a byte count: "812 B", "41.3 KiB", "2.1 MiB".
func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
}
