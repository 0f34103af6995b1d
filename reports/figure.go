package reports

import (
	"bytes"
	"fmt"
	"image/color"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// pngDPI is the resolution of the PNG files in plots/: 1.5 times a screen's 96,
// sharp on phones and high-density displays. index.html inlines the SVGs instead
// (about half the bytes, sharp at any zoom).
const pngDPI = 144

// svgFontFamily is the font list the SVGs name. gonum/plot draws with Liberation
// Serif and names only it; Times New Roman has the same metrics, so a viewer
// without Liberation still places every label where the layout computed it.
const svgFontFamily = "font-family:'Liberation Serif','Times New Roman',Times,serif;"

// legendWidth is the strip right of the panels that holds the legends.
const legendWidth = 2.2 * vg.Inch

// figure is a drawing of a known size; it can be encoded as PNG or SVG.
type figure struct {
	W, H vg.Length
	Draw func(dc draw.Canvas)
}

// png encodes the figure as a PNG on a white background.
func (f figure) png() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	f.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// svg encodes the figure as SVG (fonts referenced by name, not embedded; see
// svgFontFamily).
func (f figure) svg() ([]byte, error) {
	c := vgsvg.New(f.W, f.H)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.Draw(dc)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode svg: %w", err)
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Serif;"), []byte(svgFontFamily)), nil
}

// Colours. Clients take the Okabe–Ito palette (distinguishable with colour-blindness)
// in the order the scenario lists them, so a client keeps its colour on every plot of
// a scenario.
var clientPalette = []color.Color{
	rgb(0x00, 0x72, 0xB2), // blue
	rgb(0xE6, 0x9F, 0x00), // orange
	rgb(0x00, 0x9E, 0x73), // green
	rgb(0xCC, 0x79, 0xA7), // pink
	rgb(0x56, 0xB4, 0xE9), // sky
	rgb(0xD5, 0x5E, 0x00), // vermillion
	rgb(0x55, 0x55, 0x55), // grey
	rgb(0xB5, 0xA9, 0x00), // olive
}

// clientColor returns the colour of the i-th client.
func clientColor(i int) color.Color { return clientPalette[i%len(clientPalette)] }

var (
	colorUp     = rgb(0x7F, 0xC9, 0x7F)
	colorZombie = rgb(0xD7, 0x30, 0x27)
	colorDown   = rgb(0xB0, 0xB0, 0xB0)
	colorSafe   = color.NRGBA{R: 0x7F, G: 0xC9, B: 0x7F, A: 0x55}
	colorGrid   = rgb(0xE3, 0xE3, 0xE3)
)

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 0xFF} }

func stateColor(s connState) color.Color {
	switch s {
	case stateUp:
		return colorUp
	case stateZombie:
		return colorZombie
	}
	return colorDown
}

// newPlot returns a plot with kalab's common style: title, axis labels and a light grid.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 12
	p.Title.TextStyle.Font.Weight = stdfont.WeightBold
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font.Size = 10
	p.Y.Label.TextStyle.Font.Size = 10
	p.X.Tick.Label.Font.Size = 9
	p.Y.Tick.Label.Font.Size = 9
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{Target: 4}
	return p
}

// newLegend returns a legend styled for the strip right of the panels.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = 9
	l.Top = true
	l.Left = true
	l.ThumbnailWidth = 0.3 * vg.Inch
	l.Padding = 0.04 * vg.Inch
	return l
}

// splitLegend divides dc into the panel area on the left and the legend strip on
// the right.
func splitLegend(dc draw.Canvas) (panels, legend draw.Canvas) {
	panels, legend = dc, dc
	panels.Max.X = dc.Max.X - legendWidth
	legend.Min.X = dc.Max.X - legendWidth + 0.1*vg.Inch
	return panels, legend
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ Color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	r.Min.Y += 0.2 * (r.Max.Y - r.Min.Y)
	r.Max.Y -= 0.2 * (r.Max.Y - r.Min.Y)
	c.SetColor(s.Color)
	c.Fill(r.Path())
}

// figureTitle draws title centred at the top of dc and returns the canvas below it.
func figureTitle(dc draw.Canvas, title string) draw.Canvas {
	sty := plot.New().Title.TextStyle
	sty.Font.Size = 13
	sty.Font.Weight = stdfont.WeightBold
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YTop
	h := sty.Height(title) + 0.12*vg.Inch
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - 0.06*vg.Inch}, title)
	dc.Max.Y -= h
	return dc
}
