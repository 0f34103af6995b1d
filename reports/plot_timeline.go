package reports

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kalab-dev/kalab/sim"
)

// timeUnit picks the time axis unit for a run of length d: hours for runs of three
// hours or more, minutes below.
func timeUnit(d time.Duration) (time.Duration, string) {
	if d >= 3*time.Hour {
		return time.Hour, "h"
	}
	return time.Minute, "min"
}

// causeGlyphs are the marker shapes for disconnect causes, assigned in sorted cause
// order.
var causeGlyphs = []draw.GlyphDrawer{
	draw.TriangleGlyph{}, draw.CircleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{},
	draw.PlusGlyph{}, draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{},
}

// timelineFigure draws plot 2: one run of every client over time — the connection
// state (up / zombie / down) as bands in one lane per client with disconnects marked
// by cause, the heartbeat interval, and the ping RTT.
func timelineFigure(s scenarioView) (figure, error) {
	type lane struct {
		idx int
		c   clientView
	}
	var lanes []lane
	var dur time.Duration
	causeSet := map[string]bool{}
	hasInterval, hasRTT := false, false
	for i, c := range s.Clients {
		if c.Timeline == nil {
			continue
		}
		lanes = append(lanes, lane{i, c})
		dur = max(dur, c.Timeline.Duration)
		for _, m := range c.Timeline.Disconnects {
			causeSet[m.Cause] = true
		}
		hasInterval = hasInterval || len(c.Timeline.Interval) > 0
		hasRTT = hasRTT || len(c.Timeline.RTT) > 0
	}
	if len(lanes) == 0 {
		return figure{}, fmt.Errorf("timeline plot %q: no client has a timeline", s.Name)
	}
	// seriesValues gathers one series' values over all lanes.
	seriesValues := func(series func(*timelineView) []pointView) []float64 {
		var out []float64
		for _, l := range lanes {
			for _, p := range series(l.c.Timeline) {
				out = append(out, p.Value)
			}
		}
		return out
	}
	unit, unitName := timeUnit(dur)
	xOf := func(d time.Duration) float64 { return float64(d) / float64(unit) }
	causes := make([]string, 0, len(causeSet))
	for c := range causeSet {
		causes = append(causes, c)
	}
	sort.Strings(causes)
	glyphOf := map[string]draw.GlyphDrawer{}
	for i, c := range causes {
		glyphOf[c] = causeGlyphs[i%len(causeGlyphs)]
	}

	xLabel := "time since start (" + unitName + ")"
	var xTicks plot.Ticker = niceTicks{Target: 12, Steps: []float64{1, 2, 3, 4, 6, 12, 24, 48, 72, 168}}
	if unit == time.Minute {
		xTicks = niceTicks{Target: 10, Steps: []float64{1, 2, 5, 10, 15, 20, 30, 60}}
	}
	seedNote := ""
	if t := lanes[0].c.Timeline; t != nil {
		seedNote = fmt.Sprintf(" (random seed %d)", t.Seed)
	}

	// Panel a: state bands and disconnect marks, one lane per client (top lane first).
	pa := newPlot("Connection state"+seedNote, xLabel, "")
	pa.X.Min, pa.X.Max = 0, xOf(dur)
	pa.X.Tick.Marker = xTicks
	names := make([]string, len(lanes))
	bands := &bandsPlotter{}
	markers := map[string]plotter.XYs{}
	for li, l := range lanes {
		y := float64(len(lanes) - 1 - li)
		names[len(lanes)-1-li] = l.c.Name
		for _, b := range l.c.Timeline.Bands {
			bands.rects = append(bands.rects, bandRect{x0: xOf(b.From), x1: xOf(b.To), y: y, state: b.State})
		}
		for c, xs := range binMarks(l.c.Timeline.Disconnects, dur, markBins) {
			for _, x := range xs {
				markers[c] = append(markers[c], plotter.XY{X: xOf(x), Y: y + 0.42})
			}
		}
	}
	bands.n = len(lanes)
	pa.Add(bands)
	legA := newLegend()
	legA.Add("up", swatch{colorUp})
	legA.Add("zombie (believes up, is not)", swatch{colorZombie})
	legA.Add("down (knows it)", swatch{colorDown})
	if len(causes) > 0 {
		legA.Add("disconnects, by cause:")
	}
	for _, c := range causes {
		sc, err := plotter.NewScatter(markers[c])
		if err != nil {
			return figure{}, fmt.Errorf("timeline plot %q: %w", s.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: 2.2, Shape: glyphOf[c]}
		pa.Add(sc)
		legA.Add(c, sc)
	}
	pa.NominalY(names...)
	pa.Y.Min, pa.Y.Max = -0.5, float64(len(lanes))-0.5

	plots := [][]*plot.Plot{{pa}}
	legends := []plot.Legend{legA}
	weights := []float64{0.45 + 0.33*float64(len(lanes))}

	if hasInterval {
		pb := newPlot("Heartbeat interval", xLabel, "interval (s)")
		pb.X.Min, pb.X.Max = 0, xOf(dur)
		pb.X.Tick.Marker = xTicks
		pb.Add(lightGrid())
		logY := useLogY(pb, seriesValues(func(t *timelineView) []pointView { return t.Interval }))
		legB := newLegend()
		for _, l := range lanes {
			xys := seriesXYs(l.c.Timeline.Interval, logY, xOf)
			if len(xys) == 0 {
				continue
			}
			// Hold the last value to the end of the run.
			xys = append(xys, plotter.XY{X: xOf(dur), Y: xys[len(xys)-1].Y})
			ln, err := plotter.NewLine(xys)
			if err != nil {
				return figure{}, fmt.Errorf("timeline plot %q: %w", s.Name, err)
			}
			ln.StepStyle = plotter.PostStep
			ln.LineStyle = draw.LineStyle{Color: clientColor(l.idx), Width: 1.6}
			pb.Add(ln)
			legB.Add(l.c.Name, ln)
		}
		plots = append(plots, []*plot.Plot{pb})
		legends = append(legends, legB)
		weights = append(weights, 2)
	}
	if hasRTT {
		pc := newPlot("Ping RTT (mean per "+fmtDuration(dur/sim.RTTTimelineBuckets)+")", xLabel, "RTT (ms)")
		pc.X.Min, pc.X.Max = 0, xOf(dur)
		pc.X.Tick.Marker = xTicks
		pc.Add(lightGrid())
		logRTT := useLogY(pc, seriesValues(func(t *timelineView) []pointView { return t.RTT }))
		legC := newLegend()
		for _, l := range lanes {
			xys := seriesXYs(l.c.Timeline.RTT, logRTT, xOf)
			if len(xys) == 0 {
				continue
			}
			ln, err := plotter.NewLine(xys)
			if err != nil {
				return figure{}, fmt.Errorf("timeline plot %q: %w", s.Name, err)
			}
			ln.LineStyle = draw.LineStyle{Color: clientColor(l.idx), Width: 1.3}
			pc.Add(ln)
			legC.Add(l.c.Name, ln)
		}
		plots = append(plots, []*plot.Plot{pc})
		legends = append(legends, legC)
		weights = append(weights, 1.8)
	}

	total := 0.0
	for _, w := range weights {
		total += w
	}
	h := vg.Length(0.5+total) * vg.Inch
	return figure{W: 10 * vg.Inch, H: h, Draw: func(dc draw.Canvas) {
		dc = figureTitle(dc, s.Name+": one run over time")
		panels, legStrip := splitLegend(dc)
		// Stack the panels with heights in proportion to their weights, aligning their
		// data areas on the left.
		top := panels.Max.Y
		height := panels.Max.Y - panels.Min.Y
		cans := make([]draw.Canvas, len(plots))
		for i, w := range weights {
			c := panels
			c.Max.Y = top
			c.Min.Y = top - vg.Length(w/total)*height
			top = c.Min.Y
			cans[i] = c
		}
		alignLeft(plots, cans)
		for i := range plots {
			plots[i][0].Draw(cans[i])
			lc := legStrip
			lc.Max.Y, lc.Min.Y = cans[i].Max.Y, cans[i].Min.Y
			legends[i].Draw(lc)
		}
	}}, nil
}

// useLogY switches p's y axis to a log scale when the positive values span more
// than a factor of 20 (a 10 s ping and a 600 s presence, a 70 ms RTT and a 10 s
// spike), marking it in the title; otherwise the axis starts at zero. It reports
// whether the axis is logarithmic.
func useLogY(p *plot.Plot, values []float64) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range values {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == 0 || hi/lo <= 20 {
		p.Y.Min = 0
		return false
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks125{}
	p.Title.Text += " (log scale)"
	p.Y.Min, p.Y.Max = lo/1.25, hi*1.25
	return true
}

// alignLeft pads the canvases of vertically stacked plots so their data areas start
// at the same x, whatever the width of each plot's y-axis labels.
func alignLeft(plots [][]*plot.Plot, cans []draw.Canvas) {
	var widest vg.Length
	left := make([]vg.Length, len(plots))
	for i := range plots {
		da := plots[i][0].DataCanvas(cans[i])
		left[i] = da.Min.X - cans[i].Min.X
		widest = max(widest, left[i])
	}
	for i := range cans {
		cans[i].Min.X += widest - left[i]
	}
}

// lightGrid returns a grid of light lines.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = colorGrid
	g.Horizontal.Color = colorGrid
	return g
}

// markBins is the number of time bins disconnect marks are thinned to per lane and
// cause.
const markBins = 240

// binMarks thins marks to one per time bin and cause, so thousands of disconnects
// draw as a row of marks rather than a solid bar.
func binMarks(marks []markView, dur time.Duration, bins int) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	seen := map[string]map[int]bool{}
	w := max(dur/time.Duration(bins), 1)
	for _, m := range marks {
		b := int(m.At / w)
		if seen[m.Cause] == nil {
			seen[m.Cause] = map[int]bool{}
		}
		if seen[m.Cause][b] {
			continue
		}
		seen[m.Cause][b] = true
		out[m.Cause] = append(out[m.Cause], m.At)
	}
	return out
}

// bandRect is one state band in one lane.
type bandRect struct {
	x0, x1, y float64
	state     connState
}

// bandsPlotter draws the state lanes. Each lane is drawn column by column (one
// column per point of width): a column is a small stacked bar of the time spent up,
// down and zombie within it, so a lane that drops for 3 s every 30 s reads as
// "10 % down, all day" rather than as a solid grey bar, and a zombie stretch is
// never thinner than a quarter of the lane's height.
type bandsPlotter struct {
	rects []bandRect
	n     int
}

// zombieMinShare is the smallest share of a column's height a non-zero zombie time
// is drawn with.
const zombieMinShare = 0.25

// Plot implements plot.Plotter.
func (b *bandsPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	x0, x1 := c.Min.X, c.Max.X
	cols := max(1, int(math.Ceil(float64(x1-x0)/1.0)))
	colW := (x1 - x0) / vg.Length(cols)
	for lane := 0; lane < b.n; lane++ {
		// share[col][state] is the fraction of the column's time in each state.
		share := make([][3]float64, cols)
		for _, r := range b.rects {
			if int(r.y) != lane {
				continue
			}
			a, z := float64(trX(r.x0)-x0)/float64(colW), float64(trX(r.x1)-x0)/float64(colW)
			a, z = math.Max(a, 0), math.Min(z, float64(cols))
			for k := int(a); k < cols && float64(k) < z; k++ {
				lo, hi := math.Max(a, float64(k)), math.Min(z, float64(k+1))
				if hi > lo {
					share[k][r.state] += hi - lo
				}
			}
		}
		yb, yt := trY(float64(lane)-0.32), trY(float64(lane)+0.32)
		h := yt - yb
		// Quantised (down, zombie) shares per column; -1 marks a column with no data.
		type q struct{ dn, zo int }
		const steps = 48
		qs := make([]q, cols)
		for k := range share {
			up, zo, dn := share[k][stateUp], share[k][stateZombie], share[k][stateDown]
			tot := up + zo + dn
			if tot == 0 {
				qs[k] = q{-1, -1}
				continue
			}
			zo, dn = zo/tot, dn/tot
			if zo > 0 && zo < zombieMinShare {
				dn = dn * (1 - zombieMinShare) / (1 - zo)
				zo = zombieMinShare
			}
			qs[k] = q{int(math.Round(dn * steps)), int(math.Round(zo * steps))}
			if dn > 0 && qs[k].dn == 0 {
				qs[k].dn = 1 // a little down time stays visible
			}
		}
		rect := func(cx0, cx1, y0, y1 vg.Length, clr color.Color) {
			pts := []vg.Point{{X: cx0, Y: y0}, {X: cx1, Y: y0}, {X: cx1, Y: y1}, {X: cx0, Y: y1}}
			c.FillPolygon(clr, c.ClipPolygonXY(pts))
		}
		// Runs of equal columns are drawn as one rectangle: the lane in the "up"
		// colour, then the down and zombie shares stacked on top of it.
		for k := 0; k < cols; {
			j := k
			for j < cols && qs[j] == qs[k] {
				j++
			}
			if qs[k].dn >= 0 {
				cx0, cx1 := x0+vg.Length(k)*colW, x0+vg.Length(j)*colW
				rect(cx0, cx1, yb, yt, colorUp)
				dn, zo := vg.Length(qs[k].dn)/steps*h, vg.Length(qs[k].zo)/steps*h
				top := yt
				if zo > 0 {
					rect(cx0, cx1, top-zo, top, colorZombie)
					top -= zo
				}
				if dn > 0 {
					rect(cx0, cx1, top-dn, top, colorDown)
				}
			}
			k = j
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *bandsPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = 0, 1
	for i, r := range b.rects {
		if i == 0 || r.x0 < xmin {
			xmin = r.x0
		}
		if i == 0 || r.x1 > xmax {
			xmax = r.x1
		}
	}
	return xmin, xmax, -0.5, float64(b.n) - 0.5
}

// seriesXYs turns a timeline series into plot points (x from xOf), leaving out the
// values a log scale cannot show.
func seriesXYs(pts []pointView, logY bool, xOf func(time.Duration) float64) plotter.XYs {
	xys := make(plotter.XYs, 0, len(pts)+1)
	for _, p := range pts {
		if logY && p.Value <= 0 {
			continue
		}
		xys = append(xys, plotter.XY{X: xOf(p.At), Y: p.Value})
	}
	return xys
}
