package reports

import (
	"errors"
	"fmt"
)

// Render writes the report of res into outDir: index.html (one self-contained page:
// per scenario the verdict, a plain-language reading, the comparison table, the
// expectations and the figures inline), summary.md (Markdown for a CI job summary),
// junit.xml (one test case per scenario × client expectation) and plots/ (each
// figure as PNG and SVG). It does not write results.json (Results.Write does).
//
// Every file is written atomically; the directory is created if missing. The same
// results give byte-identical summary.md and junit.xml.
func Render(res *Results, outDir string, opts Options) error {
	if res == nil {
		return errors.New("render: no results")
	}
	if outDir == "" {
		return errors.New("render: no output directory")
	}
	v := buildView(res, opts.Title)
	return renderView(v, fmt.Sprint(res.SchemaVersion), outDir, opts)
}
