package reports

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// compareFigure draws plot 1: the scenario's clients side by side — true uptime,
// zombie time and disconnects per day — as horizontal bars, one colour per client.
func compareFigure(s scenarioView) (figure, error) {
	n := len(s.Clients)
	names := make([]string, n)
	uptime := make([]float64, n)
	zombie := make([]float64, n)
	disc := make([]float64, n)
	for i, c := range s.Clients {
		names[i] = c.Name
		uptime[i] = 100 * c.TrueUptime
		zombie[i] = c.ZombiePerDay.Minutes()
		disc[i] = c.DisconnectsPerDay
	}
	// The uptime axis starts below the worst client so small differences show;
	// the value labels carry the exact figures.
	lo := 100.0
	for _, u := range uptime {
		lo = math.Min(lo, u)
	}
	span := math.Max(100-lo, 0.01)
	upMin := math.Max(0, 100-1.35*span)

	panels := []struct {
		title, unit string
		vals        []float64
		min, clamp  float64
		format      func(float64) string
	}{
		{"True uptime", "true uptime (%)", uptime, upMin, 100, func(v float64) string { return fmtPercentValue(v / 100) }},
		{"Zombie time", "zombie time (min/day)", zombie, 0, 0, func(v float64) string { return fmtNumber(v) }},
		{"Disconnects", "disconnects (per day)", disc, 0, 0, func(v float64) string { return fmtNumber(v) }},
	}
	barH := vg.Length(math.Min(0.28, 1.6/float64(max(n, 1)))) * vg.Inch
	plots := make([][]*plot.Plot, 1)
	for _, pn := range panels {
		p := newPlot(pn.title, pn.unit, "")
		p.X.Tick.Marker = niceTicks{Target: 3, Clamp: pn.clamp}
		hi := pn.min
		for _, v := range pn.vals {
			hi = math.Max(hi, v)
		}
		if hi <= pn.min {
			hi = pn.min + 1
		}
		grid := plotter.NewGrid()
		grid.Horizontal.Color = nil
		grid.Vertical.Color = colorGrid
		p.Add(grid)
		labels := make([]string, n)
		xys := make(plotter.XYs, n)
		for i := range s.Clients {
			b, err := plotter.NewBarChart(plotter.Values{pn.vals[i]}, barH)
			if err != nil {
				return figure{}, fmt.Errorf("compare plot %q: %w", s.Name, err)
			}
			b.Horizontal = true
			b.XMin = float64(i)
			b.Color = clientColor(i)
			b.LineStyle.Width = 0
			p.Add(b)
			labels[i] = pn.format(pn.vals[i])
			xys[i] = plotter.XY{X: math.Max(pn.vals[i], pn.min), Y: float64(i)}
		}
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return figure{}, fmt.Errorf("compare plot %q: %w", s.Name, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = 8
			l.TextStyle[i].YAlign = text.YCenter
		}
		l.Offset = vg.Point{X: 3}
		p.Add(l)
		// Axis limits last: Add widens them to the bars' data range (from 0).
		p.X.Min = pn.min
		// Room right of the longest bar for its label.
		p.X.Max = hi + 0.38*(hi-pn.min)
		p.NominalY(names...)
		p.Y.Tick.Label.Font.Size = 9
		plots[0] = append(plots[0], p)
	}
	// Only the first panel names the clients; the others line up with it.
	for _, p := range plots[0][1:] {
		p.Y.Tick.Marker = blankTicks{n}
	}
	leg := newLegend()
	for i, c := range s.Clients {
		leg.Add(c.Name, swatch{clientColor(i)})
	}
	h := vg.Length(1.7+0.32*float64(n)) * vg.Inch
	return figure{W: 10 * vg.Inch, H: h, Draw: func(dc draw.Canvas) {
		dc = figureTitle(dc, s.Name+": clients compared")
		panelsC, legC := splitLegend(dc)
		t := draw.Tiles{Rows: 1, Cols: 3, PadX: 0.25 * vg.Inch, PadTop: 0.05 * vg.Inch, PadBottom: 0.05 * vg.Inch, PadLeft: 0.05 * vg.Inch}
		cs := plot.Align(plots, t, panelsC)
		for i, p := range plots[0] {
			p.Draw(cs[0][i])
		}
		leg.Draw(legC)
	}}, nil
}

// blankTicks puts unlabelled ticks at 0..N-1, so a panel keeps the row layout of a
// nominal axis without repeating its names.
type blankTicks struct{ N int }

// Ticks implements plot.Ticker.
func (b blankTicks) Ticks(_, _ float64) []plot.Tick {
	ts := make([]plot.Tick, b.N)
	for i := range ts {
		ts[i] = plot.Tick{Value: float64(i)}
	}
	return ts
}
