package reports

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenSummaryAndJUnit renders the fixed results file and compares summary.md
// and junit.xml byte for byte with testdata/golden (refresh: go test ./reports
// -run Golden -update).
func TestGoldenSummaryAndJUnit(t *testing.T) {
	res := loadFixture(t)
	out := t.TempDir()
	require.NoError(t, Render(res, out, Options{NoPlots: true}))
	for _, name := range []string{SummaryFile, JUnitFile} {
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, got, 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "golden file missing: go test ./reports -run Golden -update")
		assert.Equal(t, string(want), string(got), "%s differs from %s (go test ./reports -run Golden -update to accept)", name, golden)
	}
}

// TestRenderDeterministic renders the same results twice and expects identical
// summary.md, junit.xml and index.html.
func TestRenderDeterministic(t *testing.T) {
	res := loadFixture(t)
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, Render(res, a, Options{NoPlots: true}))
	require.NoError(t, Render(res, b, Options{NoPlots: true}))
	for _, name := range []string{SummaryFile, JUnitFile, IndexFile} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		assert.Equal(t, string(x), string(y), name)
	}
}
