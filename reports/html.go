package reports

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
)

//go:embed templates/index.html.tmpl
var templatesFS embed.FS

var indexTemplate = template.Must(template.ParseFS(templatesFS, "templates/index.html.tmpl"))

// renderedFigure is a figure written to the report directory, with its SVG kept
// for inlining.
type renderedFigure struct {
	Kind    string // compare, timeline, delay
	Caption string
	Alt     string
	PNGPath string // relative to the report directory
	SVGPath string
	SVG     []byte
	W, H    int // CSS pixels
}

// htmlPage is the data of templates/index.html.tmpl.
type htmlPage struct {
	Title   string
	Passed  bool
	Overall string
	// OverallClass is pass, fail or none; OverallWord the badge text.
	OverallClass, OverallWord string
	Schema                    string
	Scenarios                 []htmlScenario
}

type htmlScenario struct {
	Name, Slug, Description, RunLine string
	VerdictClass, VerdictWord        string
	ClientCount                      int
	Expectations                     string
	Reading                          []string
	Rows                             []htmlRow
	// Failed and Held split the expectations: failures are listed, passes folded.
	Failed, Held []htmlCheck
	Figures      []htmlFigure
}

type htmlRow struct {
	Name, Policy                                       string
	TrueUptime, ReportedUptime, Zombie, Disconnects    string
	Detect, P50, P99, Max, Heartbeats, Bytes, Presence string
	Verdict, VerdictClass                              string
}

type htmlCheck struct {
	Client, Expectation, Measured, Bound string
	Passed                               bool
}

type htmlFigure struct {
	Src          template.URL
	Alt, Caption string
	SVG, PNG     string
	W, H         int
}

// html renders index.html: one self-contained page (CSS inline, figures as data-URI
// SVGs in img elements, so they stay isolated from the page; no scripts, no
// network fetches).
func html(v view, schema string, figs map[string][]renderedFigure) ([]byte, error) {
	total, failed := v.counts()
	page := htmlPage{Title: v.Title, Passed: failed == 0, Overall: overallLine(v, total, failed), OverallClass: verdictClass(failed == 0, total), OverallWord: verdictShort(failed == 0, total), Schema: schema}
	for _, s := range v.Scenarios {
		t, f := s.counts()
		hs := htmlScenario{
			Name: s.Name, Slug: s.Slug, Description: strings.TrimSpace(s.Description), RunLine: runLine(s),
			VerdictClass: verdictClass(s.passed(), t), VerdictWord: verdictShort(s.passed(), t),
			ClientCount: len(s.Clients), Expectations: expectationCount(t, f), Reading: reading(s),
		}
		for _, c := range s.Clients {
			ct, cf := 0, 0
			for _, ch := range c.Checks {
				ct++
				if !ch.Passed {
					cf++
				}
				hc := htmlCheck{Client: c.Name, Expectation: ch.Expectation, Measured: ch.Measured, Bound: ch.Bound, Passed: ch.Passed}
				if ch.Passed {
					hs.Held = append(hs.Held, hc)
				} else {
					hs.Failed = append(hs.Failed, hc)
				}
			}
			row := htmlRow{
				Name: c.Name, Policy: c.Policy,
				TrueUptime: fmtPercentValue(c.TrueUptime), ReportedUptime: fmtPercentValue(c.ReportedUptime),
				Zombie: fmtDuration(c.ZombiePerDay), Disconnects: fmtNumber(c.DisconnectsPerDay),
				Detect: dashIfZero(fmtDuration(c.DetectMean), c.DisconnectsPerDay == 0),
				P50:    dashIfZero(fmtDuration(c.DelayP50), !c.HasDelay), P99: dashIfZero(fmtDuration(c.DelayP99), !c.HasDelay),
				Max: dashIfZero(fmtDuration(c.DelayMax), !c.HasDelay), Heartbeats: fmtNumber(c.HeartbeatsPerDay),
				Bytes: fmtBytes(c.BytesPerDay), Presence: fmtNumber(c.PresencePerDay),
				Verdict: strings.TrimSpace(strings.TrimLeft(clientVerdict(c), "✅❌")), VerdictClass: verdictClass(cf == 0, ct),
			}
			hs.Rows = append(hs.Rows, row)
		}
		for _, rf := range figs[s.Slug] {
			hs.Figures = append(hs.Figures, htmlFigure{
				Src:     template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(rf.SVG)),
				Alt:     rf.Alt,
				Caption: rf.Caption,
				SVG:     rf.SVGPath,
				PNG:     rf.PNGPath,
				W:       rf.W,
				H:       rf.H,
			})
		}
		page.Scenarios = append(page.Scenarios, hs)
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("index.html: %w", err)
	}
	return buf.Bytes(), nil
}

func verdictClass(passed bool, total int) string {
	switch {
	case total == 0:
		return "none"
	case passed:
		return "pass"
	}
	return "fail"
}

// verdictShort is the badge text: "pass", "fail" or "no expectations".
func verdictShort(passed bool, total int) string {
	switch {
	case total == 0:
		return "no expectations"
	case passed:
		return "pass"
	}
	return "fail"
}

func dashIfZero(s string, none bool) string {
	if none {
		return "–"
	}
	return s
}
