package netlab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

func TestScalePolicyDividesEveryDuration(t *testing.T) {
	cfg := ScalePolicy(keepalive.PresetWhatsmeow, 100)
	assert.Equal(t, 200*time.Millisecond, cfg.IntervalMin)
	assert.Equal(t, 300*time.Millisecond, cfg.IntervalMax)
	assert.Equal(t, 100*time.Millisecond, cfg.ReplyDeadline)
	assert.Equal(t, 1800*time.Millisecond, cfg.Detection.MaxTimeWithoutSuccess, "nested durations too")
	assert.Equal(t, 20*time.Millisecond, cfg.Reconnect.LinearStep)
	assert.Equal(t, keepalive.PresetWhatsmeow.Reconnect.Mode, cfg.Reconnect.Mode)
	assert.Zero(t, cfg.Detection.MaxSilence, "zero (off) stays off")
	want := keepalive.PresetWhatsmeow
	want.ApplyDefaults()
	assert.Equal(t, want.Latency.RiseFactor, cfg.Latency.RiseFactor, "factors unchanged")
	_, err := keepalive.NewPolicy(cfg)
	require.NoError(t, err)
}

func TestCheckRunRefusesWhatTheLabCannotPlay(t *testing.T) {
	base := sim.Run{Scenario: "s", Client: "c", Policy: keepalive.PresetWhatsmeow, Duration: time.Hour,
		Path: []middlebox.Spec{{Name: "nginx", Kind: middlebox.KindIdle, Timeout: 60 * time.Second,
			Watches: middlebox.Both, AtExpiry: middlebox.Close}}}
	require.NoError(t, CheckRun(base, RunOptions{}))

	err := CheckRun(base, RunOptions{Scale: 10000})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "below")
	assert.Contains(t, err.Error(), "s, client c", "names the run")

	lossy := base
	lossy.Network.Loss = 0.01
	err = CheckRun(lossy, RunOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "network.loss")

	part := base
	part.Faults = []sim.Fault{{Kind: sim.FaultPartition, At: time.Minute, Duration: time.Minute}}
	err = CheckRun(part, RunOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "faults[0].kind partition")

	err = CheckRun(base, RunOptions{Scale: 1000})
	require.Error(t, err, "whatsmeow's 10 s reply deadline would be 10 ms")
	assert.Contains(t, err.Error(), "reply_deadline")

	ok := base
	ok.Faults = []sim.Fault{{Kind: sim.FaultStreamError515, At: time.Minute}}
	assert.NoError(t, CheckRun(ok, RunOptions{}))
	assert.Error(t, CheckRun(base, RunOptions{Scale: -1}))
}

func TestInboundScheduleIsSeededAndAtRate(t *testing.T) {
	r := sim.Run{Seed: 7, Duration: 100 * time.Hour, Server: sim.Server{InboundPerHour: 30}}
	a, b := inboundTimes(r), inboundTimes(r)
	require.Equal(t, a, b, "same seed, same schedule")
	assert.InDelta(t, 3000, len(a), 300, "Poisson at 30/h over 100 h")
	for i := 1; i < len(a); i++ {
		require.LessOrEqual(t, a[i-1], a[i])
	}
	r.Server.InboundMode, r.Server.BurstSize = sim.InboundBursts, 5
	bursts := inboundTimes(r)
	assert.InDelta(t, 3000, len(bursts), 600)
	assert.Zero(t, len(bursts)%5, "whole bursts")
	assert.Empty(t, inboundTimes(sim.Run{Duration: time.Hour}))
}

func TestFaultTimes(t *testing.T) {
	assert.Equal(t, []time.Duration{5 * time.Minute, 15 * time.Minute, 25 * time.Minute},
		faultTimes(sim.Fault{At: 5 * time.Minute, Every: 10 * time.Minute}, 30*time.Minute))
	assert.Equal(t, []time.Duration{time.Minute}, faultTimes(sim.Fault{At: time.Minute}, time.Hour))
	assert.Empty(t, faultTimes(sim.Fault{At: 2 * time.Hour}, time.Hour))
}
