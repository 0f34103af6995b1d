package reports

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// cdfFigure draws plot 3: per client, the fraction of messages delivered within a
// delay (the empirical CDF), on a logarithmic delay axis.
func cdfFigure(s scenarioView) (figure, error) {
	p := newPlot(s.Name+": message delivery delay", "delivery delay (s, log scale)", "messages delivered within (%)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(lightGrid())
	leg := newLegend()
	lo, hi := math.Inf(1), math.Inf(-1)
	any := false
	quantilesOnly := false
	for i, c := range s.Clients {
		switch {
		case len(c.DelayHist) > 0:
			xys := histCDF(c.DelayHist)
			lo = math.Min(lo, xys[0].X)
			hi = math.Max(hi, xys[len(xys)-1].X)
			ln, err := plotter.NewLine(xys)
			if err != nil {
				return figure{}, fmt.Errorf("delay plot %q: %w", s.Name, err)
			}
			ln.LineStyle = draw.LineStyle{Color: clientColor(i), Width: 1.8}
			p.Add(ln)
			leg.Add(fmt.Sprintf("%s (p99 %s)", c.Name, fmtDuration(c.DelayP99)), ln)
			any = true
		case len(c.delayRuns) > 0:
			// Only percentiles are known: the curve through p50, p99 and max (means
			// over seeds, max of maxima), with each seed's percentiles as small rings.
			sec := func(d time.Duration) float64 { return math.Max(d.Seconds(), 0.001) }
			mean := plotter.XYs{{X: sec(c.DelayP50), Y: 50}, {X: sec(c.DelayP99), Y: 99}, {X: sec(c.DelayMax), Y: 100}}
			var seeds plotter.XYs
			for _, q := range c.delayRuns {
				seeds = append(seeds, plotter.XY{X: sec(q.P50), Y: 50}, plotter.XY{X: sec(q.P99), Y: 99}, plotter.XY{X: sec(q.Max), Y: 100})
			}
			for _, xy := range append(mean, seeds...) {
				lo, hi = math.Min(lo, xy.X), math.Max(hi, xy.X)
			}
			ln, pts, err := plotter.NewLinePoints(mean)
			if err != nil {
				return figure{}, fmt.Errorf("delay plot %q: %w", s.Name, err)
			}
			ln.LineStyle = draw.LineStyle{Color: clientColor(i), Width: 1.8}
			pts.GlyphStyle = draw.GlyphStyle{Color: clientColor(i), Radius: 3, Shape: causeGlyphs[i%len(causeGlyphs)]}
			sc, err := plotter.NewScatter(seeds)
			if err != nil {
				return figure{}, fmt.Errorf("delay plot %q: %w", s.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: clientColor(i), Radius: 2, Shape: draw.RingGlyph{}}
			p.Add(ln, pts, sc)
			leg.Add(fmt.Sprintf("%s (p99 %s)", c.Name, fmtDuration(c.DelayP99)), ln, pts)
			any = true
			quantilesOnly = true
		}
	}
	if quantilesOnly {
		p.Title.Text = s.Name + ": message delivery delay (p50, p99, max)"
		p.Y.Label.Text = "messages delivered within (%)"
		// Only the 50th to 100th percentiles are known: show that range.
		p.Y.Min = 45
	}
	if !any {
		return figure{}, fmt.Errorf("delay plot %q: no client has delivery delay samples", s.Name)
	}
	// Whole decades around the data, so the log axis has labelled ticks.
	p.X.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.X.Max = math.Pow(10, math.Ceil(math.Log10(hi)+1e-9))
	return figure{W: 10 * vg.Inch, H: 4.2 * vg.Inch, Draw: func(dc draw.Canvas) {
		panels, legC := splitLegend(dc)
		p.Draw(panels)
		leg.Draw(legC)
	}}, nil
}

// histCDF returns the CDF of a delay histogram as (seconds, percent) points: 0 %
// at the lower edge of the first bucket, then the cumulative share at each
// bucket's upper edge (straight lines between: the delays inside a bucket are not
// known). Delays below 1 ms are drawn at 1 ms (log axis).
func histCDF(h []histBucket) plotter.XYs {
	total := 0
	for _, b := range h {
		total += b.Count
	}
	sec := func(v time.Duration) float64 { return math.Max(v.Seconds(), 0.001) }
	// Buckets are a tenth of a decade wide: the first one starts 10^0.1 below its edge.
	xys := plotter.XYs{{X: math.Max(sec(h[0].UpTo)/math.Pow(10, 0.1), 0.001), Y: 0}}
	cum := 0
	for _, b := range h {
		cum += b.Count
		xys = append(xys, plotter.XY{X: sec(b.UpTo), Y: 100 * float64(cum) / float64(total)})
	}
	return xys
}
