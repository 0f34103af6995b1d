package reports

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kalab-dev/kalab/internal/atomicfile"
)

// SweepPoint is one cell of an interval sweep, aggregated over its seeds.
type SweepPoint struct {
	// Path names the curve the point belongs to (one curve per path; include the
	// strategy in it when a sweep varies both, e.g. "nginx / ping").
	Path string
	// Interval is the heartbeat interval swept.
	Interval time.Duration
	// TrueUptime is the fraction of time a message would arrive, 0..1.
	TrueUptime float64
	// HeartbeatsPerDay is the number of heartbeats sent per simulated day.
	HeartbeatsPerDay float64
}

// SweepMark is a vertical line on the sweep plot at an interval, e.g. the
// recommended or the maximum safe interval.
type SweepMark struct {
	// At is the interval where the line is drawn.
	At time.Duration
	// Label names the line; the legend adds the interval ("recommended: 50s").
	Label string
}

// SweepPlot describes plot 4: true uptime and heartbeats per day against the
// heartbeat interval, one curve per path, with the safe region shaded.
type SweepPlot struct {
	// Title heads the figure. Default: "Interval sweep".
	Title string
	// Points are the sweep's cells, in any order.
	Points []SweepPoint
	// SafeUptime is the true uptime (0..1) every path must reach at an interval for
	// it to count as safe. Default: 0.999.
	SafeUptime float64
	// SafeMax is the upper end of the shaded safe region. Zero means derive it from
	// the points: the largest interval up to which every point of every path
	// reaches SafeUptime (no region when the smallest interval already fails).
	SafeMax time.Duration
	// Marks are drawn as labelled vertical lines.
	Marks []SweepMark
}

// withDefaults fills the zero fields with their documented defaults.
func (sp SweepPlot) withDefaults() SweepPlot {
	if sp.Title == "" {
		sp.Title = "Interval sweep"
	}
	if sp.SafeUptime == 0 {
		sp.SafeUptime = 0.999
	}
	return sp
}

// SafeRegion returns the shaded region [lo, hi] of the sweep: from the smallest
// interval swept to SafeMax (or the derived bound, see SweepPlot.SafeMax). ok is
// false when no interval is safe.
func (sp SweepPlot) SafeRegion() (lo, hi time.Duration, ok bool) {
	sp = sp.withDefaults()
	if len(sp.Points) == 0 {
		return 0, 0, false
	}
	pts := slices.Clone(sp.Points)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Interval < pts[j].Interval })
	lo = pts[0].Interval
	if sp.SafeMax > 0 {
		return lo, sp.SafeMax, sp.SafeMax >= lo
	}
	for i := 0; i < len(pts); {
		j := i
		safe := true
		for ; j < len(pts) && pts[j].Interval == pts[i].Interval; j++ {
			safe = safe && pts[j].TrueUptime >= sp.SafeUptime
		}
		if !safe {
			break
		}
		hi, ok = pts[i].Interval, true
		i = j
	}
	return lo, hi, ok
}

// PNG renders the sweep plot as a PNG image.
func (sp SweepPlot) PNG() ([]byte, error) {
	f, err := sweepFigure(sp)
	if err != nil {
		return nil, err
	}
	return f.png()
}

// SVG renders the sweep plot as an SVG document.
func (sp SweepPlot) SVG() ([]byte, error) {
	f, err := sweepFigure(sp)
	if err != nil {
		return nil, err
	}
	return f.svg()
}

// WriteSweepPlot writes the sweep plot as dir/name.png and dir/name.svg, each
// atomically, and returns the paths written.
func WriteSweepPlot(dir, name string, sp SweepPlot) ([]string, error) {
	f, err := sweepFigure(sp)
	if err != nil {
		return nil, err
	}
	return writeFigure(dir, name, f)
}

// sweepFigure builds the two stacked panels of the sweep plot.
func sweepFigure(sp SweepPlot) (figure, error) {
	sp = sp.withDefaults()
	if len(sp.Points) == 0 {
		return figure{}, fmt.Errorf("sweep plot %q: no points", sp.Title)
	}
	byPath := map[string][]SweepPoint{}
	var paths []string
	for _, p := range sp.Points {
		if p.Interval <= 0 {
			return figure{}, fmt.Errorf("sweep plot %q: path %q: interval %v is not positive", sp.Title, p.Path, p.Interval)
		}
		if _, seen := byPath[p.Path]; !seen {
			paths = append(paths, p.Path)
		}
		byPath[p.Path] = append(byPath[p.Path], p)
	}
	sort.Strings(paths)

	pu := newPlot("True uptime", "heartbeat interval (s)", "true uptime (%)")
	ph := newPlot("Heartbeats per day", "heartbeat interval (s)", "heartbeats (per day)")
	minU, maxI := 100.0, 0.0
	for _, p := range sp.Points {
		minU = math.Min(minU, 100*p.TrueUptime)
		maxI = math.Max(maxI, p.Interval.Seconds())
	}
	// Keep the safe threshold in view and some room below the worst point.
	floor := math.Min(minU, 100*sp.SafeUptime)
	pu.Y.Min = math.Max(0, floor-0.15*(100-floor)-0.01)
	pu.Y.Max = 100 + 0.04*(100-pu.Y.Min)
	pu.Y.Tick.Marker = niceTicks{Target: 4, Clamp: 100}
	ph.Y.Min = 0
	for _, p := range []*plot.Plot{pu, ph} {
		p.X.Min = 0
		p.X.Max = maxI * 1.03
	}

	leg := newLegend()
	if lo, hi, ok := sp.SafeRegion(); ok {
		sh := shade{x0: lo.Seconds(), x1: hi.Seconds(), color: colorSafe}
		pu.Add(sh)
		ph.Add(sh)
		leg.Add("safe region (all paths)", swatch{colorSafe})
	}
	pu.Add(lightGrid())
	ph.Add(lightGrid())
	thr, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 100 * sp.SafeUptime}, {X: pu.X.Max, Y: 100 * sp.SafeUptime}})
	if err != nil {
		return figure{}, err
	}
	thr.LineStyle = draw.LineStyle{Color: colorZombie, Width: 0.8, Dashes: []vg.Length{3, 3}}
	pu.Add(thr)
	leg.Add("threshold "+fmtPercentValue(sp.SafeUptime), thr)

	for i, name := range paths {
		pts := byPath[name]
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].Interval < pts[b].Interval })
		up := make(plotter.XYs, len(pts))
		hb := make(plotter.XYs, len(pts))
		for k, p := range pts {
			up[k] = plotter.XY{X: p.Interval.Seconds(), Y: 100 * p.TrueUptime}
			hb[k] = plotter.XY{X: p.Interval.Seconds(), Y: p.HeartbeatsPerDay}
		}
		sty := draw.LineStyle{Color: clientColor(i), Width: 1.8}
		gly := draw.GlyphStyle{Color: clientColor(i), Radius: 2.2, Shape: causeGlyphs[i%len(causeGlyphs)]}
		lu, su, err := plotter.NewLinePoints(up)
		if err != nil {
			return figure{}, fmt.Errorf("sweep plot %q: path %q: %w", sp.Title, name, err)
		}
		lu.LineStyle, su.GlyphStyle = sty, gly
		lh, sh, err := plotter.NewLinePoints(hb)
		if err != nil {
			return figure{}, fmt.Errorf("sweep plot %q: path %q: %w", sp.Title, name, err)
		}
		lh.LineStyle, sh.GlyphStyle = sty, gly
		pu.Add(lu, su)
		ph.Add(lh, sh)
		leg.Add(name, lu, su)
	}
	for i, m := range sp.Marks {
		sty := draw.LineStyle{Color: color.Black, Width: 1.2, Dashes: []vg.Length{6, 3}}
		if i%2 == 1 {
			sty = draw.LineStyle{Color: rgb(0x55, 0x55, 0x55), Width: 1.2, Dashes: []vg.Length{1.5, 2.5}}
		}
		v := vline{x: m.At.Seconds(), style: sty}
		pu.Add(v)
		ph.Add(v)
		leg.Add(fmt.Sprintf("%s: %s", m.Label, fmtDuration(m.At)), v)
	}

	plots := [][]*plot.Plot{{pu}, {ph}}
	return figure{W: 10 * vg.Inch, H: 6.6 * vg.Inch, Draw: func(dc draw.Canvas) {
		dc = figureTitle(dc, sp.Title)
		panels, legC := splitLegend(dc)
		t := draw.Tiles{Rows: 2, Cols: 1, PadY: 0.2 * vg.Inch, PadLeft: 0.05 * vg.Inch, PadBottom: 0.05 * vg.Inch}
		cs := plot.Align(plots, t, panels)
		pu.Draw(cs[0][0])
		ph.Draw(cs[1][0])
		leg.Draw(legC)
	}}, nil
}

// shade fills the full height of the data area between x0 and x1. It has no data
// range, so it never widens the axes.
type shade struct {
	x0, x1 float64
	color  color.Color
}

// Plot implements plot.Plotter.
func (s shade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x0, x1 := trX(s.x0), trX(s.x1)
	pts := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
	c.FillPolygon(s.color, c.ClipPolygonX(pts))
}

// vline is a vertical line across the data area at x.
type vline struct {
	x     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	if !c.ContainsX(x) {
		return
	}
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}

// Thumbnail implements plot.Thumbnailer.
func (v vline) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(v.style, c.Min.X, y, c.Max.X, y)
}

// writeFigure writes f as dir/name.png and dir/name.svg, atomically.
func writeFigure(dir, name string, f figure) ([]string, error) {
	pngB, err := f.png()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	svgB, err := f.svg()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []string
	for _, x := range []struct {
		ext string
		b   []byte
	}{{".png", pngB}, {".svg", svgB}} {
		p := filepath.Join(dir, name+x.ext)
		if err := atomicfile.Write(p, x.b, 0o644); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
