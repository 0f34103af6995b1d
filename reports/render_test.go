package reports

import (
	"encoding/base64"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderFiles renders the fixture with plots and checks the directory: every
// file present and non-empty, no temporary files left, and an index.html that is
// self-contained (no scripts, no network fetches, images inline) and readable on a
// phone (viewport, tables in scrolling wrappers).
func TestRenderFiles(t *testing.T) {
	res := loadFixture(t)
	out := filepath.Join(t.TempDir(), "out") // Render creates it
	require.NoError(t, Render(res, out, Options{}))

	var files []string
	require.NoError(t, filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
			info, err := d.Info()
			require.NoError(t, err)
			assert.Positive(t, info.Size(), rel)
		}
		return nil
	}))
	sort.Strings(files)
	want := []string{IndexFile, JUnitFile, SummaryFile}
	for _, s := range buildView(res, "").Scenarios {
		for _, kind := range []string{"compare", "delay", "timeline"} {
			want = append(want, "plots/"+s.Slug+"-"+kind+".png", "plots/"+s.Slug+"-"+kind+".svg")
		}
	}
	sort.Strings(want)
	assert.Equal(t, want, files, "exactly the report's files: nothing missing, no temporary files left")

	b, err := os.ReadFile(filepath.Join(out, IndexFile))
	require.NoError(t, err)
	page := string(b)
	assert.Contains(t, page, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
	assert.NotContains(t, strings.ToLower(page), "<script", "no JavaScript needed")
	assert.NotRegexp(t, regexp.MustCompile(`(src|href)="(https?:)?//`), page, "no network fetches")
	assert.NotRegexp(t, regexp.MustCompile(`url\((https?:)?//`), page, "no network fetches from CSS")
	assert.Equal(t, 9, strings.Count(stdhtml.UnescapeString(page), `<img src="data:image/svg+xml;base64,`), "three inline figures per scenario")
	for _, s := range res.Scenarios {
		assert.Contains(t, page, `data-scenario="`+s.Name+`"`)
		for _, c := range s.Clients {
			assert.Contains(t, page, "<td>"+c.Name)
		}
	}
	assert.Contains(t, page, `class="table-wrap"`)
	assert.Contains(t, page, "2 of 7 expectations failed, in 2 of 3 scenarios.")
	assert.Contains(t, page, "leaves the connection dead for", "the plain-language reading")
}

func TestRenderErrors(t *testing.T) {
	assert.ErrorContains(t, Render(nil, t.TempDir(), Options{}), "no results")
	assert.ErrorContains(t, Render(loadFixture(t), "", Options{}), "no output directory")
	// A file where the directory should be.
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, []byte("x"), 0o644))
	err := Render(loadFixture(t), filepath.Join(f, "out"), Options{NoPlots: true})
	assert.ErrorContains(t, err, "report directory")
}

type countingProgress struct{ started, added, done int }

func (c *countingProgress) Start(n int) { c.started = n }
func (c *countingProgress) Add(n int)   { c.added += n }
func (c *countingProgress) Done()       { c.done++ }

func TestRenderProgress(t *testing.T) {
	p := &countingProgress{}
	require.NoError(t, Render(loadFixture(t), t.TempDir(), Options{NoPlots: true, Progress: p}))
	assert.Equal(t, countingProgress{started: 3, added: 3, done: 1}, *p)
}

// TestInlineFiguresAreTheSVGs checks that index.html inlines each figure as the
// very SVG written to plots/ (in page order), and that every SVG names a font
// list with metric-compatible fallbacks rather than Liberation Serif alone.
func TestInlineFiguresAreTheSVGs(t *testing.T) {
	res := loadFixture(t)
	out := t.TempDir()
	require.NoError(t, Render(res, out, Options{}))
	b, err := os.ReadFile(filepath.Join(out, IndexFile))
	require.NoError(t, err)
	page := stdhtml.UnescapeString(string(b)) // as a browser reads the attributes ("&#43;" is "+")
	imgs := regexp.MustCompile(`<a href="(plots/[^"]+)\.png" title="open full size"><img src="data:image/svg\+xml;base64,([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, imgs, 9, "three inline figures per scenario")
	for _, m := range imgs {
		inline, err := base64.StdEncoding.DecodeString(m[2])
		require.NoError(t, err, m[1])
		file, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(m[1])+".svg"))
		require.NoError(t, err)
		assert.Equal(t, string(file), string(inline), "%s: the inline figure is the SVG file", m[1])
		assert.Contains(t, string(inline), svgFontFamily, m[1])
		assert.NotContains(t, string(inline), "font-family:Liberation Serif;", "%s: no font named without fallbacks", m[1])
	}
}
