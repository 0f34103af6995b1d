package keepalive

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplyDefaults(t *testing.T) {
	var c Config
	c.ApplyDefaults()
	assert.Equal(t, StrategyPing, c.Strategy)
	assert.Equal(t, IntervalFixed, c.IntervalMode)
	assert.Equal(t, 25*time.Second, c.Interval)
	assert.Equal(t, 20*time.Second, c.IntervalMin)
	assert.Equal(t, 30*time.Second, c.IntervalMax)
	assert.Equal(t, 10*time.Second, c.ReplyDeadline)
	assert.Equal(t, 1, c.Detection.MaxFailures)
	assert.Equal(t, ReconnectConfig{
		Mode: ReconnectBackoff, BaseDelay: time.Second, Multiplier: 1.6, Jitter: 0.2,
		MaxDelay: 120 * time.Second, StableAfter: time.Minute, LinearStep: 2 * time.Second,
		PollInterval: 30 * time.Second,
	}, c.Reconnect)
	assert.Equal(t, AdaptiveConfig{
		Floor: 5 * time.Second, Ceiling: 30 * time.Minute, Initial: 25 * time.Second,
		GrowAfter: 5, GrowFactor: 1.25, Margin: 0.2, ReprobeAfter: 24 * time.Hour,
	}, c.Adaptive)
	assert.Equal(t, LatencyConfig{Alpha: 0.2, Window: 32, RiseFactor: 3, Samples: 5}, c.Latency)
	assert.Equal(t, FallbackConfig{Primary: StrategyPresence, Secondary: StrategyPing, After: 2, RetryPrimaryEvery: 10}, c.Fallback)

	// Set values are kept; negative MaxFailures stays (disabled).
	c2 := Config{Interval: time.Minute, Detection: DetectionConfig{MaxFailures: -1}}
	c2.ApplyDefaults()
	assert.Equal(t, time.Minute, c2.Interval)
	assert.Equal(t, -1, c2.Detection.MaxFailures)

	// Fallback gets one secondary try before detection.
	c3 := Config{Strategy: StrategyFallback, Fallback: FallbackConfig{After: 3}}
	c3.ApplyDefaults()
	assert.Equal(t, 4, c3.Detection.MaxFailures)
}

func TestValidateNamesFieldAndRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"multiplier", Config{Reconnect: ReconnectConfig{Multiplier: 0.5}}, "keepalive: reconnect.multiplier: must be ≥ 1, got 0.5"},
		{"strategy", Config{Strategy: "morse"}, `keepalive: strategy: must be presence, ping, combined or fallback, got "morse"`},
		{"mode", Config{IntervalMode: "chaotic"}, `keepalive: interval_mode: must be fixed, random or adaptive, got "chaotic"`},
		{"interval", Config{Interval: -time.Second}, "keepalive: interval: must be > 0, got -1s"},
		{"interval_max", Config{IntervalMin: 30 * time.Second, IntervalMax: 20 * time.Second}, "keepalive: interval_max: must be ≥ interval_min (30s), got 20s"},
		{"reply", Config{ReplyDeadline: -1}, "keepalive: reply_deadline: must be > 0, got -1ns"},
		{"jitter", Config{Reconnect: ReconnectConfig{Jitter: 1.5}}, "keepalive: reconnect.jitter: must be < 1 (negative = none), got 1.5"},
		{"max_delay", Config{Reconnect: ReconnectConfig{BaseDelay: time.Minute, MaxDelay: time.Second}}, "keepalive: reconnect.max_delay: must be ≥ reconnect.base_delay (1m0s), got 1s"},
		{"reconnect mode", Config{Reconnect: ReconnectConfig{Mode: "pray"}}, `keepalive: reconnect.mode: must be backoff, linear, poll, never or immediate, got "pray"`},
		{"silence", Config{Detection: DetectionConfig{MaxSilence: -time.Second}}, "keepalive: detection.max_silence: must not be negative, got -1s"},
		{"floor", Config{Adaptive: AdaptiveConfig{Floor: time.Minute, Ceiling: time.Second}}, "keepalive: adaptive.ceiling: must be ≥ adaptive.floor (1m0s), got 1s"},
		{"initial", Config{Adaptive: AdaptiveConfig{Initial: time.Second}}, "keepalive: adaptive.initial: must be within [adaptive.floor, adaptive.ceiling] = [5s, 30m0s], got 1s"},
		{"budget", Config{Adaptive: AdaptiveConfig{DetectionBudget: 12 * time.Second}}, "keepalive: adaptive.detection_budget: must be ≥ adaptive.floor + reply_deadline (15s), got 12s"},
		{"grow", Config{Adaptive: AdaptiveConfig{GrowFactor: 0.9}}, "keepalive: adaptive.grow_factor: must be > 1, got 0.9"},
		{"margin", Config{Adaptive: AdaptiveConfig{Margin: 1}}, "keepalive: adaptive.margin: must be within (0, 1), got 1"},
		{"alpha", Config{Latency: LatencyConfig{Alpha: 2}}, "keepalive: latency.alpha: must be within (0, 1], got 2"},
		{"window", Config{Latency: LatencyConfig{Window: 5000}}, "keepalive: latency.window: must be within [1, 1024], got 5000"},
		{"rise", Config{Latency: LatencyConfig{RiseFactor: 0.5}}, "keepalive: latency.rise_factor: must be > 1, got 0.5"},
		{"fallback same", Config{Strategy: StrategyFallback, Fallback: FallbackConfig{Primary: StrategyPing}}, `keepalive: fallback.secondary: must differ from fallback.primary, got "ping"`},
		{"fallback combined", Config{Strategy: StrategyFallback, Fallback: FallbackConfig{Primary: StrategyCombined}}, `keepalive: fallback.primary: must be presence or ping, got "combined"`},
		{"fallback detection", Config{Strategy: StrategyFallback, Detection: DetectionConfig{MaxFailures: 2}}, "keepalive: detection.max_failures: must be > fallback.after (2) or negative with strategy fallback, or the secondary never runs, got 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			_, err = NewPolicy(tc.cfg)
			assert.EqualError(t, err, tc.want)
		})
	}
	assert.NoError(t, Config{}.Validate())
}

func TestPolicyAdaptiveCeilingUnderBudget(t *testing.T) {
	p := MustPolicy(Config{IntervalMode: IntervalAdaptive, ReplyDeadline: 10 * time.Second,
		Adaptive: AdaptiveConfig{DetectionBudget: time.Minute}})
	assert.Equal(t, 50*time.Second, p.AdaptiveCeiling())
	p = MustPolicy(Config{IntervalMode: IntervalAdaptive})
	assert.Equal(t, 30*time.Minute, p.AdaptiveCeiling())
	assert.Panics(t, func() { MustPolicy(Config{Strategy: "x"}) })
}

func TestPresetsAreValidAndFaithful(t *testing.T) {
	assert.Equal(t, []string{"baileys", "grpc", "kalab", "mars", "seed", "whatsmeow"}, PresetNames())
	for _, n := range PresetNames() {
		c, ok := Preset(n)
		require.True(t, ok, n)
		assert.NoError(t, c.Validate(), n)
	}
	_, ok := Preset("nope")
	assert.False(t, ok)
	c, ok := Preset(" WhatsMeow ")
	require.True(t, ok)
	assert.Equal(t, PresetWhatsmeow, c)

	seed := MustPolicy(PresetSeed).Config()
	assert.Equal(t, StrategyPresence, seed.Strategy)
	assert.Equal(t, PresenceAvailable, seed.Presence)
	assert.Equal(t, time.Minute, seed.Interval)
	assert.Equal(t, ReconnectPoll, seed.Reconnect.Mode)
	assert.Equal(t, 30*time.Second, seed.Reconnect.PollInterval)
	assert.Negative(t, seed.Detection.MaxFailures)

	wm := MustPolicy(PresetWhatsmeow).Config()
	assert.Equal(t, IntervalRandom, wm.IntervalMode)
	assert.Equal(t, [2]time.Duration{20 * time.Second, 30 * time.Second}, [2]time.Duration{wm.IntervalMin, wm.IntervalMax})
	assert.Equal(t, 10*time.Second, wm.ReplyDeadline)
	assert.Negative(t, wm.Detection.MaxFailures)
	assert.Equal(t, 3*time.Minute, wm.Detection.MaxTimeWithoutSuccess)
	assert.Equal(t, ReconnectLinear, wm.Reconnect.Mode)
	assert.Equal(t, 2*time.Second, wm.Reconnect.LinearStep)

	grpc := MustPolicy(PresetGRPC).Config()
	assert.True(t, grpc.MeasureFromLastRead)
	assert.Equal(t, 10*time.Second, grpc.Interval)
	assert.Equal(t, 20*time.Second, grpc.ReplyDeadline)

	k := MustPolicy(PresetKalab)
	assert.Equal(t, StrategyPing, k.Config().Strategy, "presence off by default")
	assert.Equal(t, IntervalAdaptive, k.Config().IntervalMode)
	assert.Equal(t, 50*time.Second, k.AdaptiveCeiling(), "60 s budget − 10 s deadline")

	mars := MustPolicy(PresetMars).Config()
	assert.Equal(t, 8*time.Second, mars.ReplyDeadline)
	assert.Equal(t, 60*time.Second, mars.Adaptive.GrowStep)
}

func TestClosestPreset(t *testing.T) {
	assert.Equal(t, "whatsmeow", ClosestPreset("whatsmow"))
	assert.Equal(t, "baileys", ClosestPreset("Baileys"))
	assert.Equal(t, "grpc", ClosestPreset("gprc"))
	assert.Equal(t, "kalab", ClosestPreset("kalb"))
	assert.Equal(t, "", ClosestPreset("a completely different thing"))
	assert.Equal(t, "", ClosestPreset(""))
}

func TestBackoffMatchesGRPC(t *testing.T) {
	c := Config{}
	c.ApplyDefaults()
	r := c.Reconnect
	r.Jitter = -1
	want := []time.Duration{1000, 1600, 2560, 4096, 6553}
	for i, w := range want {
		assert.Equal(t, w*time.Millisecond, Backoff(r, i, nil).Truncate(time.Millisecond), "retry %d", i)
	}
	assert.Equal(t, 120*time.Second, Backoff(r, 50, nil), "capped")
	lo, hi := BackoffBounds(c.Reconnect, 50)
	assert.Equal(t, 96*time.Second, lo)
	assert.Equal(t, 144*time.Second, hi)
	assert.Equal(t, 6*time.Second, LinearDelay(c.Reconnect, 3))
}
