package sweep

import (
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// PolicyVersion changes whenever Policy changes what it builds; it is part of a
// sweep's fingerprint, so shards from kalab versions with different policies are
// not merged.
const PolicyVersion = 1

// Policy is the keep-alive configuration a sweep cell runs: strategy s at a fixed
// interval, a missed ping reply replacing the connection at once (presence cannot
// fail, so it relies on the connection's own close or TCP's give-up), and kalab's
// reconnect (capped jittered backoff from 1 s to 120 s, the first attempt at once).
// With StrategyFallback, presence is primary and ping secondary (the engine's
// defaults).
func Policy(s keepalive.Strategy, interval, replyDeadline time.Duration) keepalive.Config {
	c := keepalive.Config{
		Strategy:      s,
		IntervalMode:  keepalive.IntervalFixed,
		Interval:      interval,
		ReplyDeadline: replyDeadline,
		Detection:     keepalive.DetectionConfig{MaxFailures: 1},
		Reconnect: keepalive.ReconnectConfig{
			Mode:      keepalive.ReconnectBackoff,
			BaseDelay: time.Second,
			MaxDelay:  120 * time.Second,
			Immediate: true,
		},
	}
	switch s {
	case keepalive.StrategyPresence:
		c.Presence = keepalive.PresenceAvailable
		c.Detection.MaxFailures = -1
	case keepalive.StrategyFallback:
		c.Detection.MaxFailures = 0 // the engine's default: fallback.after + 1
	}
	return c
}
