package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sim/netlab"
)

const netScenario = `name: net-smoke
duration: 3m
seeds: [1]
path:
  - {name: proxy, kind: idle, timeout: 60s, watches: both, at_expiry: close}
clients:
  - name: presence-90s
    config:
      strategy: presence
      interval: 90s
      detection: {max_failures: -1}
      reconnect: {mode: backoff, base_delay: 2s, jitter: -1, immediate: true}
`

func TestRunNetWritesNetworkResults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "net.yaml")
	require.NoError(t, os.WriteFile(file, []byte(netScenario), 0o644))
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	err := runRun(context.Background(), &stdout, &stderr, []string{file},
		runFlags{out: out, net: true, scale: netlab.DefaultScale, noPlots: true})
	require.NoError(t, err, stderr.String())
	res, err := reports.Load(filepath.Join(out, reports.ResultsFile))
	require.NoError(t, err)
	require.NotNil(t, res.Lab, "results.json says it was a network run")
	assert.Equal(t, "network", res.Lab.Mode)
	assert.Equal(t, float64(netlab.DefaultScale), res.Lab.TimeScale)
	run := res.Scenarios[0].Clients[0].Runs[0]
	assert.GreaterOrEqual(t, run.Disconnects, 1, "a 60 s idle close beats a 90 s presence")
	assert.Positive(t, run.TrueUptime)
	assert.Contains(t, stdout.String(), "net-smoke")
}

func TestRunTimeScaleNeedsNet(t *testing.T) {
	err := runRun(context.Background(), io.Discard, io.Discard, []string{"nginx"},
		runFlags{out: t.TempDir(), scale: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--net")
}

func TestRunNetRefusesTooLargeScale(t *testing.T) {
	err := runRun(context.Background(), io.Discard, io.Discard, []string{"nginx"},
		runFlags{out: t.TempDir(), net: true, scale: 1e6})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "time scale")
}

// syncBuffer is a goroutine-safe bytes.Buffer that signals each write.
type syncBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	sig chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.sig <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLabPrintsEndpointAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{sig: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- runLab(ctx, out, labFlags{path: "nginx,aws-nlb", scale: netlab.DefaultScale}) }()
	timeout := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "running") {
		select {
		case <-out.sig:
		case err := <-done:
			t.Fatalf("lab ended early: %v\n%s", err, out.String())
		case <-timeout:
			t.Fatalf("lab printed no endpoint:\n%s", out.String())
		}
	}
	cancel()
	require.NoError(t, <-done)
	text := out.String()
	assert.Contains(t, text, "endpoint:  ws://127.0.0.1:")
	assert.Contains(t, text, "root key:")
	assert.Contains(t, text, "hop 0:     nginx")
	assert.Contains(t, text, "hop 1:     aws-nlb")
	assert.Contains(t, text, "timer 600ms (scaled)")
	assert.Contains(t, text, "stopped; 0 middlebox timers fired")

	err := runLab(context.Background(), io.Discard, labFlags{path: "bogus", scale: netlab.DefaultScale})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--path")
}
