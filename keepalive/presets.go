package keepalive

import (
	"slices"
	"strings"
	"time"
)

// Presets reproduce the keep-alive policies of known clients (FACTS.md §2) as
// plain Config values, plus kalab's own recommendation. Fields left zero take
// their documented defaults.

// PresetSeed is the Baileys service this project grew from (the seed document):
// presence `available` every 60 s from a setInterval timer, no reply expected and
// no detection from the heartbeat; a monitor polls the connection state every
// 30 s and reconnects when it finds it down.
var PresetSeed = Config{
	Strategy:     StrategyPresence,
	Presence:     PresenceAvailable,
	IntervalMode: IntervalFixed,
	Interval:     60 * time.Second,
	FixedRate:    true,
	Detection:    DetectionConfig{MaxFailures: -1},
	Reconnect:    ReconnectConfig{Mode: ReconnectPoll, PollInterval: 30 * time.Second},
}

// PresetWhatsmeow is go.mau.fi/whatsmeow (keepalive.go, client.go autoReconnect):
// a ping IQ every uniform 20–30 s, measured from the previous ping's completion;
// the reply is due within 10 s (KeepAliveResponseDeadline), a miss only raises
// KeepAliveTimeout; the connection is forced to reconnect when a ping fails and
// none succeeded for 3 min (KeepAliveMaxFailTime). Reconnect delay = 2 s ×
// consecutive errors, no cap, no jitter, reset on login success.
var PresetWhatsmeow = Config{
	Strategy:      StrategyPing,
	IntervalMode:  IntervalRandom,
	IntervalMin:   20 * time.Second,
	IntervalMax:   30 * time.Second,
	ReplyDeadline: 10 * time.Second,
	Detection: DetectionConfig{
		MaxFailures:           -1,
		MaxTimeWithoutSuccess: 3 * time.Minute,
	},
	Reconnect: ReconnectConfig{Mode: ReconnectLinear, LinearStep: 2 * time.Second},
}

// PresetBaileys is WhiskeySockets/Baileys (src/Socket/socket.ts,
// src/Defaults/index.ts): a setInterval of keepAliveIntervalMs = 30 s; on each
// tick, if nothing at all was received for more than 30 s + 5 s the connection is
// declared lost (408), otherwise a ping IQ is sent whose failure is only logged.
// Baileys waits up to 60 s for the reply (defaultQueryTimeoutMs) but ignores the
// outcome; the deadline here is the interval, so the fixed-rate schedule is kept.
// Reconnect is left to the application; the README example reconnects at once
// unless logged out.
var PresetBaileys = Config{
	Strategy:      StrategyPing,
	IntervalMode:  IntervalFixed,
	Interval:      30 * time.Second,
	FixedRate:     true,
	ReplyDeadline: 30 * time.Second,
	Detection: DetectionConfig{
		MaxFailures:        -1,
		MaxSilence:         35 * time.Second,
		SilenceOnHeartbeat: true,
	},
	Reconnect: ReconnectConfig{Mode: ReconnectImmediate},
}

// PresetMars approximates Tencent/mars' smart heartbeat (mars/stn/config.h,
// src/smart_heartbeat.cc, src/longlink.cc): a noop every 210–600 s, +60 s after 5
// successes, −80 s after 2 failures and then "stable", re-probe (+20 s) after
// 7 days; the noop reply is due within 8 s and a miss drops the long link.
// Approximation: the adaptive controller with Floor 210 s, Ceiling 600 s, Initial
// 210 s, additive growth GrowStep 60 s after GrowAfter 5 successes and
// ReprobeAfter 7 days; on failure it uses kalab's shrink rules (back to the largest
// interval proven safe, then settle Margin below it) instead of Mars's fixed
// −80 s, which lands in the same place for a timeout inside Mars's range. Mars
// leaves reconnection to its own long-link backoff; the default (gRPC) backoff
// stands in for it.
var PresetMars = Config{
	Strategy:      StrategyPing,
	IntervalMode:  IntervalAdaptive,
	ReplyDeadline: 8 * time.Second,
	Adaptive: AdaptiveConfig{
		Floor:        210 * time.Second,
		Ceiling:      600 * time.Second,
		Initial:      210 * time.Second,
		GrowAfter:    5,
		GrowStep:     60 * time.Second,
		ReprobeAfter: 7 * 24 * time.Hour,
	},
	Detection: DetectionConfig{MaxFailures: 1},
}

// PresetGRPC is gRPC's keepalive (proposal A8) and connection backoff
// (doc/connection-backoff.md): a ping after Time without reads, measured from the
// last byte read, any read counting as liveness; the ack is due within Timeout =
// 20 s (the default) and a miss closes the transport. Time is 10 s: gRPC's own
// default is infinity (off) and grpc-go clamps anything lower to 10 s, so 10 s is
// the most a gRPC client can do against short idle timeouts and what a client
// that enables keepalive for that purpose ends up with. Backoff 1 s × 1.6, jitter
// ±0.2, max 120 s; the first attempt after losing a connection is immediate and
// the backoff resets once a connection is ready.
var PresetGRPC = Config{
	Strategy:            StrategyPing,
	IntervalMode:        IntervalFixed,
	Interval:            10 * time.Second,
	ReplyDeadline:       20 * time.Second,
	InboundIsLiveness:   true,
	MeasureFromLastRead: true,
	Detection:           DetectionConfig{MaxFailures: 1},
	Reconnect: ReconnectConfig{
		Mode:        ReconnectBackoff,
		BaseDelay:   1 * time.Second,
		Multiplier:  1.6,
		Jitter:      0.2,
		MaxDelay:    120 * time.Second,
		StableAfter: time.Nanosecond,
		Immediate:   true,
	},
}

// PresetKalab is kalab's recommendation: a ping with a 10 s reply deadline (a
// missed reply replaces the connection at once), the adaptive interval from 25 s
// between 5 s and 30 min under a 60 s detection budget (interval + reply deadline
// ≤ 60 s, so a dead connection is noticed within a minute), and capped jittered
// backoff (1 s × 1.6 ±20 %, max 120 s; first attempt at once after a stable
// connection). Presence is off: while a client is `available`, WhatsApp stops
// push notifications to the account owner's phone and shows the account online
// (FACTS.md §2), so a presence heartbeat changes what the owner sees.
var PresetKalab = Config{
	Strategy:      StrategyPing,
	IntervalMode:  IntervalAdaptive,
	ReplyDeadline: 10 * time.Second,
	Adaptive: AdaptiveConfig{
		Floor:           5 * time.Second,
		Ceiling:         30 * time.Minute,
		Initial:         25 * time.Second,
		DetectionBudget: 60 * time.Second,
	},
	Detection: DetectionConfig{MaxFailures: 1},
	Reconnect: ReconnectConfig{
		Mode:      ReconnectBackoff,
		BaseDelay: 1 * time.Second,
		MaxDelay:  120 * time.Second,
		Immediate: true,
	},
}

var presets = map[string]*Config{
	"seed":      &PresetSeed,
	"whatsmeow": &PresetWhatsmeow,
	"baileys":   &PresetBaileys,
	"mars":      &PresetMars,
	"grpc":      &PresetGRPC,
	"kalab":     &PresetKalab,
}

// Preset returns the named preset's Config (without defaults applied) and
// whether the name is known. Names are lower case; matching ignores case.
func Preset(name string) (Config, bool) {
	c, ok := presets[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Config{}, false
	}
	return *c, true
}

// PresetNames returns the preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ClosestPreset returns the preset name closest to name (edit distance, ignoring
// case), for "did you mean …?" messages; "" if none is plausibly meant (distance
// above 3 and above half of name's length).
func ClosestPreset(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	best, bestD := "", -1
	for _, n := range PresetNames() {
		d := editDistance(name, n)
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if name == "" || (bestD > 3 && bestD > len(name)/2) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
