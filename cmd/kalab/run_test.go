package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/reports"
)

func writeScenario(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

// A 60 s presence against a 10 s proxy cannot hold 99.9 %; a 5 s ping can.
const failing = `name: proxy
duration: 1h
seeds: [1]
path: [residential-proxy]
clients:
  - preset: seed
    expect: ["true_uptime >= 99.9%"]
  - name: fast
    preset: kalab
    expect: ["true_uptime >= 99%"]
`

func TestRunExitStatusOnFailedExpectation(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "proxy.yaml", failing)
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	err := runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out})
	require.Error(t, err)
	for _, f := range []string{reports.IndexFile, reports.SummaryFile, reports.JUnitFile} {
		assert.FileExists(t, filepath.Join(out, f), "the report is rendered even when expectations fail")
	}
	plots, perr := os.ReadDir(filepath.Join(out, reports.PlotsDir))
	require.NoError(t, perr)
	assert.NotEmpty(t, plots)
	var ec exitCoder
	require.True(t, errors.As(err, &ec))
	assert.Equal(t, 1, ec.ExitCode())
	assert.Equal(t, "1 expectation failed", err.Error())

	res, lerr := reports.Load(filepath.Join(out, reports.ResultsFile))
	require.NoError(t, lerr, "results are written even when expectations fail")
	assert.False(t, res.Passed)
	assert.FileExists(t, filepath.Join(out, reports.RunInfoFile))
	assert.Contains(t, stdout.String(), "== proxy [FAIL]  path: residential-proxy")
	assert.Contains(t, stdout.String(), "FAIL: true_uptime >= 99.9% (seed 1:")
}

func TestRunPassesWithOnly(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "proxy.yaml", failing)
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	err := runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, only: []string{"fast"}, seeds: []uint{4, 5}, noPlots: true})
	require.NoError(t, err)
	res, err := reports.Load(filepath.Join(out, reports.ResultsFile))
	require.NoError(t, err)
	require.Len(t, res.Scenarios[0].Clients, 1)
	assert.Equal(t, []uint64{4, 5}, res.Scenarios[0].Seeds)
	assert.Contains(t, stdout.String(), "pass (1)")
}

func TestRunTwiceIdentical(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "proxy.yaml", failing)
	var stdout bytes.Buffer
	read := func(out string, workers int) []byte {
		_ = runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, workers: workers, noPlots: true})
		b, err := os.ReadFile(filepath.Join(out, reports.ResultsFile))
		require.NoError(t, err)
		return b
	}
	assert.Equal(t, read(filepath.Join(dir, "a"), 1), read(filepath.Join(dir, "b"), 3))
}

func TestRunTrace(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "proxy.yaml", failing)
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	require.NoError(t, runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, trace: "proxy/seed/1"}))
	b, err := os.ReadFile(filepath.Join(out, "trace-proxy-seed-1.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "action:connect")
	assert.Contains(t, stdout.String(), "trace lines")

	err = runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, trace: "proxy/sede"})
	require.ErrorContains(t, err, `no run for client "sede"`)
	err = runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, trace: "nope/seed"})
	require.ErrorContains(t, err, `no scenario "nope" (scenarios: proxy)`)
	err = runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: out, trace: "proxy"})
	require.ErrorContains(t, err, "want SCENARIO/CLIENT[/SEED]")
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	file := writeScenario(t, dir, "bad.yaml", "name: x\nclients: [whatsmeo]\n")
	var stdout bytes.Buffer
	err := runRun(context.Background(), &stdout, &stdout, []string{file}, runFlags{out: filepath.Join(dir, "out")})
	require.Error(t, err)
	var ec exitCoder
	assert.False(t, errors.As(err, &ec), "bad input is not an expectation failure (exit 2)")
	assert.Contains(t, err.Error(), file+`:2: clients[0].preset: unknown preset "whatsmeo" (did you mean "whatsmeow"?)`)
}
