package keepalive

import (
	"math/rand/v2"
	"time"
)

// Policy is a Config with its defaults applied and validated: immutable, and shared
// by every session that uses the same Config.
type Policy struct {
	cfg Config
}

// NewPolicy applies cfg's defaults, validates it and returns the policy.
func NewPolicy(cfg Config) (*Policy, error) {
	panic("unimplemented: engine core")
}

// Config returns the policy's configuration with defaults applied.
func (p *Policy) Config() Config { return p.cfg }

// Health is a snapshot of one session, for health endpoints and reports.
type Health struct {
	State               State         `json:"state"`
	Interval            time.Duration `json:"interval"`
	LastSuccess         time.Time     `json:"last_success"`
	RTT                 time.Duration `json:"rtt"`
	RTTP50              time.Duration `json:"rtt_p50"`
	RTTP99              time.Duration `json:"rtt_p99"`
	ConsecutiveFailures int           `json:"consecutive_failures"`
	Reconnects          int           `json:"reconnects"`
	HeartbeatsSent      uint64        `json:"heartbeats_sent"`
	HeartbeatsFailed    uint64        `json:"heartbeats_failed"`
	OnSecondary         bool          `json:"on_secondary"`
	LatencyAlert        bool          `json:"latency_alert"`
}

// Session is the keep-alive state machine of one connection. It is not safe for
// concurrent use; it starts no goroutines, reads no clock and does no I/O.
type Session struct {
	policy *Policy
	rng    *rand.Rand
}

// NewSession returns an idle session following p, drawing randomness only from rng.
func NewSession(p *Policy, rng *rand.Rand) *Session {
	return &Session{policy: p, rng: rng}
}

// Step feeds one event at time now and returns the actions to run, in order. The
// returned slice is only valid until the next call to Step.
func (s *Session) Step(now time.Time, ev Event) []Action {
	panic("unimplemented: engine core")
}

// NextDeadline is when the session next needs EventTick; the zero Time means never.
// After a Step at now it is never before now.
func (s *Session) NextDeadline() time.Time {
	panic("unimplemented: engine core")
}

// Health returns a snapshot of the session.
func (s *Session) Health() Health {
	panic("unimplemented: engine core")
}
