package reports

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"github.com/kalab-dev/kalab/internal/atomicfile"
)

// Options tune a render. The zero value renders everything.
type Options struct {
	// Title heads index.html and summary.md. Default: "kalab results".
	Title string
	// NoPlots skips the figures (plots/ and the images in index.html); summary.md,
	// junit.xml and index.html are still written. For quick CI jobs.
	NoPlots bool
	// Progress, when set, is told of each scenario rendered.
	Progress interface {
		Start(total int)
		Add(n int)
		Done()
	}
}

// Files of a report directory, relative to it.
const (
	IndexFile   = "index.html"
	SummaryFile = "summary.md"
	JUnitFile   = "junit.xml"
	PlotsDir    = "plots"
)

// renderView writes the report of v into outDir. Every file is written atomically.
func renderView(v view, schema, outDir string, opts Options) error {
	if v.Title == "" {
		v.Title = "kalab results"
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("report directory %s: %w", outDir, err)
	}
	figs := map[string][]renderedFigure{}
	if opts.Progress != nil {
		opts.Progress.Start(len(v.Scenarios))
		defer opts.Progress.Done()
	}
	for _, s := range v.Scenarios {
		if !opts.NoPlots {
			rf, err := renderScenarioFigures(s, outDir)
			if err != nil {
				return err
			}
			figs[s.Slug] = rf
		}
		if opts.Progress != nil {
			opts.Progress.Add(1)
		}
	}
	page, err := html(v, schema, figs)
	if err != nil {
		return err
	}
	ju, err := junit(v)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{SummaryFile, markdown(v)}, {JUnitFile, ju}, {IndexFile, page}} {
		if err := atomicfile.Write(filepath.Join(outDir, f.name), f.b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// renderScenarioFigures draws the figures of one scenario, writes them as PNG and
// SVG under outDir/plots, and returns them for inlining.
func renderScenarioFigures(s scenarioView, outDir string) ([]renderedFigure, error) {
	type spec struct {
		kind, caption, alt string
		build              func(scenarioView) (figure, error)
		want               bool
	}
	seeds := fmt.Sprintf("%d seeds", s.Seeds)
	if s.Seeds == 1 {
		seeds = "1 seed"
	}
	specs := []spec{
		{"compare", "True uptime, zombie time and disconnects per day of each client, averaged over " + seeds + ".",
			s.Name + ": true uptime, zombie time and disconnects per day by client", compareFigure, len(s.Clients) > 0},
		{"timeline", "One run of each client over time: connection state (up, zombie, down) with disconnects marked by cause, the heartbeat interval and the ping RTT.",
			s.Name + ": connection state, heartbeat interval and RTT over time", timelineFigure, s.hasTimeline()},
		{"delay", "Share of inbound messages delivered within a given delay (CDF, log scale), per client, over " + seeds + ".",
			s.Name + ": message delivery delay distribution by client", cdfFigure, s.hasDelays()},
	}
	var out []renderedFigure
	for _, sp := range specs {
		if !sp.want {
			continue
		}
		f, err := sp.build(s)
		if err != nil {
			return nil, err
		}
		name := s.Slug + "-" + sp.kind
		pngB, err := f.png()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		svgB, err := f.svg()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rel := filepath.Join(PlotsDir, name)
		if err := atomicfile.Write(filepath.Join(outDir, rel+".png"), pngB, 0o644); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(outDir, rel+".svg"), svgB, 0o644); err != nil {
			return nil, err
		}
		out = append(out, renderedFigure{
			Kind: sp.kind, Caption: sp.caption, Alt: sp.alt,
			PNGPath: filepath.ToSlash(rel + ".png"), SVGPath: filepath.ToSlash(rel + ".svg"), SVG: svgB,
			W: int(f.W / vg.Inch * 96), H: int(f.H / vg.Inch * 96),
		})
	}
	return out, nil
}
