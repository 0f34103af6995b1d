package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/internal/atomicfile"
	"github.com/kalab-dev/kalab/reports"
)

// Files a sweep writes into its output directory, beside reports.ResultsFile.
const (
	// SummaryFile is the Markdown table of every cell.
	SummaryFile = "summary.md"
	// PlotName is the sweep plot's base name inside PlotsDir (.png and .svg).
	PlotName = "sweep"
	// PlotsDir is the plots' subdirectory.
	PlotsDir = "plots"
)

// Plot builds the sweep plot of cells: worst-seed true uptime and heartbeats per
// day against the interval, one curve per path (and strategy), the safe region
// shaded up to the largest interval at which every curve is safe.
func Plot(title string, cells []Cell, strategies int, safeUptime float64, marks ...reports.SweepMark) reports.SweepPlot {
	sp := reports.SweepPlot{Title: title, SafeUptime: safeUptime, Marks: marks}
	for _, c := range cells {
		sp.Points = append(sp.Points, reports.SweepPoint{
			Path: Curve(c, strategies), Interval: c.Interval,
			TrueUptime: c.TrueUptimeMin, HeartbeatsPerDay: c.HeartbeatsPerDay,
		})
	}
	if hi, ok := SafeMax(cells); ok {
		sp.SafeMax = hi
	}
	return sp
}

// WriteReport writes a sweep's results into dir: results.json, summary.md and,
// unless noPlots, plots/sweep.png and plots/sweep.svg. Every file is written
// atomically. It returns the paths written.
func WriteReport(res *reports.Results, dir string, noPlots bool) ([]string, error) {
	cells, err := Cells(res)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	rp := filepath.Join(dir, reports.ResultsFile)
	if err := res.Write(rp); err != nil {
		return nil, err
	}
	written = append(written, rp)
	mp := filepath.Join(dir, SummaryFile)
	if err := atomicfile.Write(mp, []byte(Markdown(res, cells)), 0o644); err != nil {
		return written, err
	}
	written = append(written, mp)
	if noPlots || len(cells) == 0 {
		return written, nil
	}
	pd := filepath.Join(dir, PlotsDir)
	if err := os.MkdirAll(pd, 0o755); err != nil {
		return written, err
	}
	title := "Interval sweep: " + strings.Join(res.Sweep.Paths, "; ")
	if sh := res.Sweep.Shard; sh != nil {
		title += fmt.Sprintf(" (shard %d/%d)", sh.Index, sh.Count)
	}
	files, err := reports.WriteSweepPlot(pd, PlotName, Plot(title, cells, len(res.Sweep.Strategies), res.Sweep.SafeUptime))
	written = append(written, files...)
	return written, err
}

// Markdown renders the sweep's cells as a Markdown table per path.
func Markdown(res *reports.Results, cells []Cell) string {
	var b strings.Builder
	sw := res.Sweep
	b.WriteString("# Interval sweep\n\n")
	fmt.Fprintf(&b, "Fingerprint `%s`", sw.Fingerprint)
	if sw.Shard != nil {
		fmt.Fprintf(&b, ", shard %d/%d (%d cells)", sw.Shard.Index, sw.Shard.Count, sw.Shard.Cells)
	}
	fmt.Fprintf(&b, ". Safe: every seed ≥ %s true uptime and no idle-timeout disconnect.\n", pctText(sw.SafeUptime))
	if hi, ok := SafeMax(cells); ok {
		fmt.Fprintf(&b, "Every path and strategy is safe up to **%s**.\n", FormatInterval(hi))
	} else if len(cells) > 0 {
		b.WriteString("No swept interval is safe on every path.\n")
	}
	last := ""
	for _, c := range cells {
		if c.Path != last {
			last = c.Path
			s := scenarioOf(res, c.Path)
			fmt.Fprintf(&b, "\n## %s\n\n", c.Path)
			if s != nil {
				fmt.Fprintf(&b, "%s × %d seeds each.\n\n", fmtDur(s.Duration), len(s.Seeds))
			}
			b.WriteString("| strategy | interval | true uptime (worst seed) | disconnects/day | idle disconnects | zombie time | heartbeats/day | bytes/day | safe |\n")
			b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|:---:|\n")
		}
		safe := "no"
		if c.Safe {
			safe = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", c.Strategy, FormatInterval(c.Interval),
			pctText(c.TrueUptimeMin), numText(c.DisconnectsPerDay), c.IdleDisconnects, fmtDur(c.ZombieTime),
			numText(c.HeartbeatsPerDay), numText(c.BytesPerDay), safe)
	}
	return b.String()
}

func scenarioOf(res *reports.Results, name string) *reports.Scenario {
	for i := range res.Scenarios {
		if res.Scenarios[i].Name == name {
			return &res.Scenarios[i]
		}
	}
	return nil
}

func pctText(f float64) string { return strconv.FormatFloat(100*f, 'f', 3, 64) + "%" }

func numText(f float64) string {
	if f >= 100 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		d = d.Round(time.Second)
	} else {
		d = d.Round(time.Millisecond)
	}
	return FormatInterval(d)
}
