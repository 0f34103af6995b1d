package keepalive

import "time"

// Strategy names the kind of heartbeat a session sends.
type Strategy string

const (
	// StrategyPresence sends a presence stanza every interval; no reply is expected,
	// so it cannot detect a dead connection by itself.
	StrategyPresence Strategy = "presence"
	// StrategyPing sends a ping IQ every interval and expects a reply within
	// Config.ReplyDeadline; a missed reply is a failure.
	StrategyPing Strategy = "ping"
	// StrategyCombined sends both a ping and a presence every interval.
	StrategyCombined Strategy = "combined"
	// StrategyFallback sends Fallback.Primary; after Fallback.After consecutive
	// failures it switches to Fallback.Secondary until the primary recovers.
	StrategyFallback Strategy = "fallback"
)

// IntervalMode names how the heartbeat interval is chosen.
type IntervalMode string

const (
	// IntervalFixed uses Config.Interval every time.
	IntervalFixed IntervalMode = "fixed"
	// IntervalRandom draws uniformly from [Config.IntervalMin, Config.IntervalMax]
	// for every heartbeat (whatsmeow: 20–30 s).
	IntervalRandom IntervalMode = "random"
	// IntervalAdaptive lets the adaptive controller (Config.Adaptive) choose.
	IntervalAdaptive IntervalMode = "adaptive"
)

// ReconnectMode names the reconnect supervisor's policy.
type ReconnectMode string

const (
	// ReconnectBackoff: capped exponential backoff with jitter (gRPC).
	ReconnectBackoff ReconnectMode = "backoff"
	// ReconnectLinear: delay = LinearStep × consecutive failures, no cap, no jitter
	// (whatsmeow's autoReconnect).
	ReconnectLinear ReconnectMode = "linear"
	// ReconnectPoll: a monitor checks the state every PollInterval and reconnects
	// when it finds the session down (the seed's 30 s monitor).
	ReconnectPoll ReconnectMode = "poll"
	// ReconnectNever: never reconnect on its own (EventStart on a waiting session
	// reconnects it).
	ReconnectNever ReconnectMode = "never"
	// ReconnectImmediate: reconnect at once after every disconnect and every failed
	// attempt, with no delay at all (the Baileys README example).
	ReconnectImmediate ReconnectMode = "immediate"
)

// Config is a keep-alive policy: a plain value, comparable, with time.Duration fields.
// The zero value of every field means the documented default; ApplyDefaults fills
// them in one place and Validate checks the result.
type Config struct {
	// Strategy is the heartbeat kind. Default: StrategyPing.
	Strategy Strategy `yaml:"strategy" json:"strategy"`
	// Presence is the presence type a presence heartbeat sends. Default: available.
	Presence PresenceType `yaml:"-" json:"-"`
	// IntervalMode chooses how the interval is picked. Default: IntervalFixed.
	IntervalMode IntervalMode `yaml:"interval_mode" json:"interval_mode"`
	// Interval is the fixed interval between heartbeats. Default: 25 s.
	Interval time.Duration `yaml:"interval" json:"interval"`
	// IntervalMin and IntervalMax bound IntervalRandom. Default: 20 s and 30 s.
	IntervalMin time.Duration `yaml:"interval_min" json:"interval_min"`
	IntervalMax time.Duration `yaml:"interval_max" json:"interval_max"`
	// ReplyDeadline is how long a ping reply may take. Default: 10 s.
	ReplyDeadline time.Duration `yaml:"reply_deadline" json:"reply_deadline"`
	// InboundIsLiveness counts any inbound traffic as proof the connection is alive
	// (it resets failure counters and the silence timer).
	InboundIsLiveness bool `yaml:"inbound_is_liveness" json:"inbound_is_liveness"`
	// MeasureFromLastRead schedules the next heartbeat one interval after the last
	// byte read rather than after the last heartbeat (gRPC A8): a busy connection
	// sends no heartbeats.
	MeasureFromLastRead bool `yaml:"measure_from_last_read" json:"measure_from_last_read"`
	// FixedRate makes the next heartbeat due one interval after the previous one was
	// sent (a setInterval timer, as Baileys and the seed use) rather than one interval
	// after the previous ping completed (whatsmeow). A ping still outstanding when
	// the next is due delays it until the ping completes. Default: false.
	FixedRate bool `yaml:"fixed_rate" json:"fixed_rate"`

	// Fallback configures StrategyFallback (ignored by the other strategies).
	Fallback FallbackConfig `yaml:"fallback" json:"fallback"`
	// Detection configures how a dead connection is recognised.
	Detection DetectionConfig `yaml:"detection" json:"detection"`
	// Reconnect configures the backoff between connection attempts.
	Reconnect ReconnectConfig `yaml:"reconnect" json:"reconnect"`
	// Adaptive configures IntervalAdaptive (ignored by the other interval modes).
	Adaptive AdaptiveConfig `yaml:"adaptive" json:"adaptive"`
	// Latency configures RTT monitoring and AlertLatencyHigh.
	Latency LatencyConfig `yaml:"latency" json:"latency"`
}

// FallbackConfig configures StrategyFallback.
type FallbackConfig struct {
	// Primary is the heartbeat used while it works. Default: StrategyPresence.
	Primary Strategy `yaml:"primary" json:"primary"`
	// Secondary is used after After consecutive primary failures. Default: StrategyPing.
	Secondary Strategy `yaml:"secondary" json:"secondary"`
	// After is how many consecutive failures switch to the secondary. Default: 2.
	After int `yaml:"after" json:"after"`
	// RetryPrimaryEvery is how often the primary is tried again while on the
	// secondary; one success switches back. Default: 10 heartbeats.
	RetryPrimaryEvery int `yaml:"retry_primary_every" json:"retry_primary_every"`
}

// DetectionConfig decides when a connection is declared dead and replaced.
type DetectionConfig struct {
	// MaxFailures is how many consecutive heartbeat failures (with no proof of
	// liveness in between: a ping reply, or inbound traffic with InboundIsLiveness)
	// force a reconnect. Default: 1 (the first missed ping reply); with
	// StrategyFallback, Fallback.After + 1 (the secondary gets one try). Negative
	// disables.
	MaxFailures int `yaml:"max_failures" json:"max_failures"`
	// MaxTimeWithoutSuccess forces a reconnect when no heartbeat succeeded for this
	// long while heartbeats were failing (whatsmeow: 3 min). Default: 0 = off.
	MaxTimeWithoutSuccess time.Duration `yaml:"max_time_without_success" json:"max_time_without_success"`
	// MaxSilence forces a reconnect when nothing at all was received for this long
	// (Baileys: 30 s + 5 s). Default: 0 = off.
	MaxSilence time.Duration `yaml:"max_silence" json:"max_silence"`
	// SilenceOnHeartbeat checks MaxSilence only when a heartbeat is due, just before
	// sending it, as Baileys does inside its keep-alive timer (so a dead connection is
	// noticed on the first heartbeat tick more than MaxSilence after the last read).
	// Default: false = a deadline of its own at last read + MaxSilence.
	SilenceOnHeartbeat bool `yaml:"silence_on_heartbeat" json:"silence_on_heartbeat"`
}

// ReconnectConfig configures the reconnect supervisor. The backoff fields follow
// grpc-go's backoff.Config and gRPC's connection-backoff.md.
type ReconnectConfig struct {
	// Mode is the policy. Default: ReconnectBackoff.
	Mode ReconnectMode `yaml:"mode" json:"mode"`
	// BaseDelay is the delay after the first failure. Default: 1 s.
	BaseDelay time.Duration `yaml:"base_delay" json:"base_delay"`
	// Multiplier grows the delay after each further failure. Default: 1.6.
	Multiplier float64 `yaml:"multiplier" json:"multiplier"`
	// Jitter randomises each delay by ±Jitter (a fraction). Default: 0.2; a negative
	// value means no jitter.
	Jitter float64 `yaml:"jitter" json:"jitter"`
	// MaxDelay caps the delay. Default: 120 s.
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay"`
	// StableAfter resets the backoff once a connection has stayed up this long.
	// Default: 60 s.
	StableAfter time.Duration `yaml:"stable_after" json:"stable_after"`
	// LinearStep is ReconnectLinear's step (whatsmeow: 2 s). Default: 2 s.
	LinearStep time.Duration `yaml:"linear_step" json:"linear_step"`
	// PollInterval is ReconnectPoll's period (the seed: 30 s). Default: 30 s.
	PollInterval time.Duration `yaml:"poll_interval" json:"poll_interval"`
	// Immediate makes the first attempt after a disconnect happen at once
	// (Baileys' README example, gRPC). Default: false (wait one delay).
	Immediate bool `yaml:"immediate" json:"immediate"`
}

// AdaptiveConfig configures the adaptive interval controller (IntervalAdaptive).
type AdaptiveConfig struct {
	// Floor and Ceiling bound the interval. Defaults: 5 s and 30 min.
	Floor   time.Duration `yaml:"floor" json:"floor"`
	Ceiling time.Duration `yaml:"ceiling" json:"ceiling"`
	// Initial is the first interval on an unknown path. Default: 25 s.
	Initial time.Duration `yaml:"initial" json:"initial"`
	// DetectionBudget caps the interval so that interval + ReplyDeadline ≤ budget:
	// how long a dead connection may go unnoticed. Default: 0 = no cap.
	DetectionBudget time.Duration `yaml:"detection_budget" json:"detection_budget"`
	// GrowAfter is how many consecutive successes at the current interval earn one
	// growth step. Default: 5.
	GrowAfter int `yaml:"grow_after" json:"grow_after"`
	// GrowFactor multiplies the interval on growth. Default: 1.25.
	GrowFactor float64 `yaml:"grow_factor" json:"grow_factor"`
	// GrowStep, when set, makes growth additive: the interval grows by GrowStep
	// instead of by GrowFactor (Mars: +60 s). Default: 0 = multiplicative.
	GrowStep time.Duration `yaml:"grow_step" json:"grow_step"`
	// Margin is the safety margin kept below what was learned. A close/reset after
	// an idle gap g (with no safe gap known yet) sets the interval to g × (1 −
	// Margin); probing stops once the largest gap proven safe (lo) is within Margin
	// of the smallest gap proven unsafe (hi), lo ≥ hi × (1 − Margin), and the
	// interval then settles at lo × (1 − Margin). Default: 0.2.
	Margin float64 `yaml:"margin" json:"margin"`
	// ReprobeAfter is how long the controller stays below a learned bound before it
	// probes above it once more. Default: 24 h.
	ReprobeAfter time.Duration `yaml:"reprobe_after" json:"reprobe_after"`
}

// LatencyConfig configures the ping RTT monitor.
type LatencyConfig struct {
	// Alpha is the EWMA weight of a new sample. Default: 0.2.
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Window is how many recent samples p50/p99 are computed over. Default: 32.
	Window int `yaml:"window" json:"window"`
	// Threshold raises an alert when the EWMA stays above it. Default: 0 = off.
	Threshold time.Duration `yaml:"threshold" json:"threshold"`
	// RiseFactor raises an alert when the EWMA exceeds baseline × RiseFactor.
	// Default: 3.
	RiseFactor float64 `yaml:"rise_factor" json:"rise_factor"`
	// Samples is how many consecutive samples must breach before alerting. Default: 5.
	Samples int `yaml:"samples" json:"samples"`
}
