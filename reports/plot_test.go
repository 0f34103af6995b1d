package reports

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// decodePNG decodes b and checks its size against the figure's at pngDPI.
func decodePNG(t *testing.T, b []byte, f figure) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	wantW := int(float64(f.W/vg.Inch)*pngDPI + 0.5)
	wantH := int(float64(f.H/vg.Inch)*pngDPI + 0.5)
	assert.InDelta(t, wantW, img.Bounds().Dx(), 1, "width in pixels")
	assert.InDelta(t, wantH, img.Bounds().Dy(), 1, "height in pixels")
	assert.GreaterOrEqual(t, img.Bounds().Dx(), 1200, "wide enough to read")
	return img
}

// colourCount counts the pixels of each exact colour in the image's central area
// (the plot area: margins with titles and tick labels are left out).
func colourCount(img image.Image) map[color.NRGBA]int {
	b := img.Bounds()
	out := map[color.NRGBA]int{}
	for y := b.Min.Y + b.Dy()/10; y < b.Max.Y-b.Dy()/10; y++ {
		for x := b.Min.X + b.Dx()/10; x < b.Max.X-b.Dx()/10; x++ {
			out[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	return out
}

// nonWhite counts the pixels in the central area that are not the white background.
func nonWhite(counts map[color.NRGBA]int) int {
	n := 0
	for c, k := range counts {
		if c != (color.NRGBA{255, 255, 255, 255}) {
			n += k
		}
	}
	return n
}

// near counts pixels within a small distance of want (antialiasing shifts edges,
// fills keep the exact colour).
func near(counts map[color.NRGBA]int, want color.Color) int {
	w := color.NRGBAModel.Convert(want).(color.NRGBA)
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	n := 0
	for c, k := range counts {
		if d(c.R, w.R)+d(c.G, w.G)+d(c.B, w.B) <= 12 {
			n += k
		}
	}
	return n
}

// svgColour formats a colour the way vgsvg writes it.
func svgColour(c color.Color) string {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return fmt.Sprintf("#%02X%02X%02X", n.R, n.G, n.B)
}

func fixtureScenario(t *testing.T, name string) scenarioView {
	t.Helper()
	v := buildView(loadFixture(t), "")
	for _, s := range v.Scenarios {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("fixture has no scenario %q", name)
	return scenarioView{}
}

func TestCompareFigure(t *testing.T) {
	s := fixtureScenario(t, "AWS NLB (blackhole)")
	f, err := compareFigure(s)
	require.NoError(t, err)
	b, err := f.png()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	assert.Greater(t, nonWhite(counts), 20000, "bars drawn")
	for i, c := range s.Clients {
		// Every client has a bar in the uptime panel: its colour fills pixels.
		assert.Greater(t, near(counts, clientColor(i)), 500, "bar of %s", c.Name)
	}
	svg, err := f.svg()
	require.NoError(t, err)
	for _, want := range []string{"True uptime", "Zombie time", "Disconnects", "true uptime (%)", "zombie time (min/day)", "disconnects (per day)", "seed", "whatsmeow", "kalab"} {
		assert.True(t, strings.Contains(string(svg), want), "the SVG contains %q", want)
	}
}

func TestTimelineFigure(t *testing.T) {
	s := fixtureScenario(t, "AWS NLB (blackhole)")
	f, err := timelineFigure(s)
	require.NoError(t, err)
	b, err := f.png()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	assert.Greater(t, near(counts, colorUp), 50000, "up bands")
	// The presence-only client goes zombie behind the blackhole: red bands show.
	assert.Greater(t, near(counts, colorZombie), 300, "zombie bands")
	for i, c := range s.Clients {
		assert.Greater(t, near(counts, clientColor(i)), 200, "interval line of %s", c.Name)
	}
	svg, err := f.svg()
	require.NoError(t, err)
	for _, want := range []string{"Connection state", "Heartbeat interval", "interval (s)", "time since start (h)", "zombie", "disconnects, by cause:", "idle_timeout:aws-nlb", "seed", "whatsmeow", "kalab"} {
		assert.True(t, strings.Contains(string(svg), want), "the SVG contains %q", want)
	}
}

func TestTimelineFigureMinutesAndChurn(t *testing.T) {
	s := fixtureScenario(t, "Residential proxy")
	f, err := timelineFigure(s)
	require.NoError(t, err)
	b, err := f.png()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	// Hundreds of short drops: down time shows in the lanes, without turning them grey.
	assert.Greater(t, near(counts, colorDown), 300, "down shares")
	assert.Greater(t, near(counts, colorUp), near(counts, colorDown), "mostly up")
	svg, err := f.svg()
	require.NoError(t, err)
	assert.Contains(t, string(svg), "time since start (min)", "a 1 h run is drawn in minutes")
}

func TestDelayFigure(t *testing.T) {
	s := fixtureScenario(t, "AWS NLB (blackhole)")
	f, err := cdfFigure(s)
	require.NoError(t, err)
	b, err := f.png()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	// whatsmeow and kalab have the same delays here and overlap; the seed client's
	// long tail stands apart.
	assert.Greater(t, near(counts, clientColor(0)), 100, "curve of %s", s.Clients[0].Name)
	assert.Greater(t, near(counts, clientColor(2)), 100, "curve of %s", s.Clients[2].Name)
	svg, err := f.svg()
	require.NoError(t, err)
	for i, c := range s.Clients {
		assert.Contains(t, string(svg), c.Name+" (p99 ")
		assert.Contains(t, string(svg), "stroke:"+svgColour(clientColor(i)), "stroke of %s", c.Name)
	}
	assert.Contains(t, string(svg), "delivery delay (s, log scale)")
}

func TestDelayFigureFromHistogram(t *testing.T) {
	s := scenarioView{Name: "hist", Clients: []clientView{
		{Name: "a", DelayHist: []histBucket{{UpTo: 63 * time.Millisecond, Count: 90}, {UpTo: 79 * time.Millisecond, Count: 9}, {UpTo: 2 * time.Second, Count: 1}}},
		{Name: "b", DelayHist: []histBucket{{UpTo: 79 * time.Millisecond, Count: 1}, {UpTo: 15 * time.Minute, Count: 1}}},
	}}
	f, err := cdfFigure(s)
	require.NoError(t, err)
	b, err := f.png()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	assert.Greater(t, near(counts, clientColor(0)), 100)
	assert.Greater(t, near(counts, clientColor(1)), 100)
	pts := histCDF(s.Clients[0].DelayHist)
	require.Len(t, pts, 4)
	assert.Equal(t, 0.0, pts[0].Y)
	assert.InDelta(t, 0.063/1.2589, pts[0].X, 1e-3, "starts at the first bucket's lower edge")
	assert.InDelta(t, 90.0, pts[1].Y, 1e-9)
	assert.InDelta(t, 99.0, pts[2].Y, 1e-9)
	assert.Equal(t, plotter.XY{X: 2, Y: 100}, pts[3])
}

func TestFiguresRefuseEmpty(t *testing.T) {
	s := scenarioView{Name: "empty", Clients: []clientView{{Name: "a"}}}
	_, err := timelineFigure(s)
	assert.ErrorContains(t, err, `"empty": no client has a timeline`)
	_, err = cdfFigure(s)
	assert.ErrorContains(t, err, `"empty": no client has delivery delay samples`)
}

func sweepPoints() []SweepPoint {
	var pts []SweepPoint
	for _, p := range []struct {
		name    string
		timeout float64
	}{{"nginx", 60}, {"aws-nlb", 350}} {
		for s := 10; s <= 120; s += 10 {
			u := 1.0
			if float64(s) >= p.timeout*0.95 {
				u = 0.95
			}
			pts = append(pts, SweepPoint{Path: p.name, Interval: time.Duration(s) * time.Second, TrueUptime: u, HeartbeatsPerDay: 86400 / float64(s)})
		}
	}
	return pts
}

func TestSweepSafeRegion(t *testing.T) {
	sp := SweepPlot{Points: sweepPoints()}
	lo, hi, ok := sp.SafeRegion()
	require.True(t, ok)
	assert.Equal(t, 10*time.Second, lo)
	assert.Equal(t, 50*time.Second, hi, "nginx fails from 60 s: the region ends at the last interval safe on every path")

	sp.SafeMax = 45 * time.Second
	_, hi, ok = sp.SafeRegion()
	require.True(t, ok)
	assert.Equal(t, 45*time.Second, hi, "an explicit SafeMax wins")

	bad := SweepPlot{Points: []SweepPoint{{Path: "x", Interval: time.Second, TrueUptime: 0.5}}}
	_, _, ok = bad.SafeRegion()
	assert.False(t, ok, "no safe interval")
}

func TestSweepPlot(t *testing.T) {
	sp := SweepPlot{Title: "nginx and NLB, ping", Points: sweepPoints(),
		Marks: []SweepMark{{At: 45 * time.Second, Label: "recommended"}, {At: 55 * time.Second, Label: "max safe"}}}
	f, err := sweepFigure(sp)
	require.NoError(t, err)
	b, err := sp.PNG()
	require.NoError(t, err)
	counts := colourCount(decodePNG(t, b, f))
	assert.Greater(t, near(counts, clientColor(0)), 80, "first path's curve (partly under the second)")
	assert.Greater(t, near(counts, clientColor(1)), 200, "second path's curve")
	// The shaded safe region: light green blended on white.
	assert.Greater(t, nonWhite(counts), 40000)
	svg, err := sp.SVG()
	require.NoError(t, err)
	for _, want := range []string{"nginx and NLB, ping", "nginx", "aws-nlb", "recommended: 45 s", "max safe: 55 s", "safe region (all paths)", "heartbeat interval (s)", "true uptime (%)", "heartbeats (per day)"} {
		assert.True(t, strings.Contains(string(svg), want), "the SVG contains %q", want)
	}

	dir := t.TempDir()
	files, err := WriteSweepPlot(dir, "sweep", sp)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.True(t, strings.HasSuffix(files[0], "sweep.png"))
	assert.True(t, strings.HasSuffix(files[1], "sweep.svg"))

	_, err = SweepPlot{}.PNG()
	assert.ErrorContains(t, err, "no points")
	_, err = SweepPlot{Points: []SweepPoint{{Path: "p", Interval: 0}}}.PNG()
	assert.ErrorContains(t, err, `path "p": interval 0s is not positive`)
}

func TestTimelineIntervalLogScale(t *testing.T) {
	tl := func(iv float64) *timelineView {
		return &timelineView{Duration: time.Hour, Bands: []bandView{{From: 0, To: time.Hour, State: stateUp}},
			Interval: []pointView{{At: 0, Value: iv}}}
	}
	s := scenarioView{Name: "wide", Clients: []clientView{{Name: "fast", Timeline: tl(10)}, {Name: "slow", Timeline: tl(600)}}}
	f, err := timelineFigure(s)
	require.NoError(t, err)
	svg, err := f.svg()
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(svg), "Heartbeat interval (log scale)"), "10 s and 600 s share a log axis")
	s.Clients[1].Timeline = tl(40)
	f, err = timelineFigure(s)
	require.NoError(t, err)
	svg, err = f.svg()
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(svg), "(log scale)"), "10 s and 40 s stay linear")
}
