package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sweep"
)

func TestSweepShardsMergeLikeOneRun(t *testing.T) {
	dir := t.TempDir()
	f := sweepFlags{
		paths: []string{"nginx", "idle:30s:both:reset"}, intervals: "20s:70s:25s", strategies: "ping,presence",
		seeds: []uint{1, 2}, duration: 2 * time.Hour, rtt: sweep.DefaultRTT, jitter: sweep.DefaultJitter, noPlots: true,
	}
	var out bytes.Buffer
	whole := f
	whole.out = filepath.Join(dir, "whole")
	require.NoError(t, runSweep(context.Background(), &out, &out, whole))
	var shardFiles []string
	for _, s := range []string{"1/3", "2/3", "3/3"} {
		sf := f
		sf.shard = s
		sf.out = filepath.Join(dir, "shard"+s[:1])
		require.NoError(t, runSweep(context.Background(), &out, &out, sf))
		shardFiles = append(shardFiles, filepath.Join(sf.out, reports.ResultsFile))
	}
	merged := filepath.Join(dir, "merged")
	out.Reset()
	require.NoError(t, runMerge(&out, shardFiles, merged, false))
	assert.Contains(t, out.String(), "merged 3 shards")
	a, err := os.ReadFile(filepath.Join(whole.out, reports.ResultsFile))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(merged, reports.ResultsFile))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b), "merged results.json is byte-identical to one run")
	assert.FileExists(t, filepath.Join(merged, sweep.PlotsDir, sweep.PlotName+".png"))
	assert.FileExists(t, filepath.Join(merged, sweep.SummaryFile))

	// A shard of another sweep (other seeds) is refused, and so is a missing shard.
	other := f
	other.seeds, other.shard, other.out = []uint{9, 10}, "3/3", filepath.Join(dir, "other")
	require.NoError(t, runSweep(context.Background(), &out, &out, other))
	err = runMerge(&out, []string{shardFiles[0], shardFiles[1], filepath.Join(other.out, reports.ResultsFile)}, filepath.Join(dir, "bad"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shards of different sweeps")
	err = runMerge(&out, shardFiles[:2], filepath.Join(dir, "bad"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing shard(s) 3/3")
}

func TestSweepFlagErrors(t *testing.T) {
	base := sweepFlags{paths: []string{"nginx"}, intervals: "20s", strategies: "ping", duration: time.Hour, rtt: sweep.DefaultRTT, out: t.TempDir()}
	for name, c := range map[string]struct {
		mod  func(*sweepFlags)
		want string
	}{
		"intervals": {func(f *sweepFlags) { f.intervals = "20s:10s:1s" }, "MAX 10s is below MIN 20s"},
		"strategy":  {func(f *sweepFlags) { f.strategies = "pong" }, `--strategy: strategy "pong"`},
		"shard":     {func(f *sweepFlags) { f.shard = "4/3" }, "--shard"},
		"path":      {func(f *sweepFlags) { f.paths = []string{"ngnix"} }, `did you mean "nginx"`},
	} {
		t.Run(name, func(t *testing.T) {
			f := base
			c.mod(&f)
			var out bytes.Buffer
			err := runSweep(context.Background(), &out, &out, f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestRecommendCommandJSON(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := runRecommend(context.Background(), &out, recommendFlags{
		path: "heroku,idle:300s:both:blackhole", strategy: "ping", detectWithin: time.Minute,
		jsonOut: true, out: dir, duration: 24 * time.Hour,
	})
	require.NoError(t, err)
	assert.Contains(t, out.String(), `"interval_seconds": 50`)
	assert.Contains(t, out.String(), `"max_safe_interval_seconds": 52`, "heroku's 55 s limits")
	assert.FileExists(t, filepath.Join(dir, recommendFile))
	assert.FileExists(t, filepath.Join(dir, "plots", recommendPlot+".png"))

	err = runRecommend(context.Background(), &out, recommendFlags{path: "heroku,idle:5q", strategy: "ping", detectWithin: time.Minute, out: dir, duration: time.Hour})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `path element 2 "idle:5q"`)
}
