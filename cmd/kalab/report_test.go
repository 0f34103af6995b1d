package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtureResults = "../../reports/testdata/results.json"

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	rootCmd.SetOut(&stdout)
	rootCmd.SetErr(&stderr)
	rootCmd.SetArgs([]string{"report", fixtureResults, "--out", out, "--no-plots"})
	t.Cleanup(func() { rootCmd.SetArgs(nil); rootCmd.SetOut(nil); rootCmd.SetErr(nil) })
	require.NoError(t, rootCmd.Execute())
	for _, name := range []string{"index.html", "summary.md", "junit.xml", "results.json"} {
		info, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err, name)
		assert.Positive(t, info.Size(), name)
		assert.Contains(t, stdout.String(), name, "listed with its size")
	}
	// results.json is copied verbatim in content (same schema, same bytes).
	a, err := os.ReadFile(fixtureResults)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	assert.Contains(t, stdout.String(), "2 expectation(s) failed")
	assert.Contains(t, stderr.String(), "rendering scenarios: done, 3/3 (100%)")
}

func TestReportCommandErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := runReport(&stdout, &stderr, filepath.Join(t.TempDir(), "missing.json"), reportFlags{})
	assert.ErrorContains(t, err, "missing.json")

	bad := filepath.Join(t.TempDir(), "results.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"schema_version": 99, "scenarios": []}`), 0o644))
	err = runReport(&stdout, &stderr, bad, reportFlags{})
	assert.ErrorContains(t, err, "schema_version 99 is not supported")
}
