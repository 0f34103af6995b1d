package keepalive

import (
	"fmt"
	"time"
)

// Defaults applied by Config.ApplyDefaults to zero-valued fields. They are the
// documented defaults of the Config fields, in one place.
const (
	DefaultInterval      = 25 * time.Second
	DefaultIntervalMin   = 20 * time.Second
	DefaultIntervalMax   = 30 * time.Second
	DefaultReplyDeadline = 10 * time.Second

	DefaultFallbackAfter      = 2
	DefaultFallbackRetryEvery = 10

	DefaultMaxFailures = 1

	DefaultBaseDelay    = 1 * time.Second
	DefaultMultiplier   = 1.6
	DefaultJitter       = 0.2
	DefaultMaxDelay     = 120 * time.Second
	DefaultStableAfter  = 60 * time.Second
	DefaultLinearStep   = 2 * time.Second
	DefaultPollInterval = 30 * time.Second

	DefaultAdaptiveFloor   = 5 * time.Second
	DefaultAdaptiveCeiling = 30 * time.Minute
	DefaultAdaptiveInitial = 25 * time.Second
	DefaultGrowAfter       = 5
	DefaultGrowFactor      = 1.25
	DefaultMargin          = 0.2
	DefaultReprobeAfter    = 24 * time.Hour

	DefaultLatencyAlpha      = 0.2
	DefaultLatencyWindow     = 32
	DefaultLatencyRiseFactor = 3.0
	DefaultLatencySamples    = 5

	// MaxLatencyWindow bounds LatencyConfig.Window (memory per session).
	MaxLatencyWindow = 1024
)

// maxCount bounds the count fields (GrowAfter, Fallback.After, ...): the session
// keeps its counters in 16 bits.
const maxCount = 1<<16 - 1

// ApplyDefaults replaces every zero-valued field of c with its documented default.
// It is the only place defaults are decided.
func (c *Config) ApplyDefaults() {
	if c.Strategy == "" {
		c.Strategy = StrategyPing
	}
	if c.IntervalMode == "" {
		c.IntervalMode = IntervalFixed
	}
	setDur(&c.Interval, DefaultInterval)
	setDur(&c.IntervalMin, DefaultIntervalMin)
	setDur(&c.IntervalMax, DefaultIntervalMax)
	setDur(&c.ReplyDeadline, DefaultReplyDeadline)

	f := &c.Fallback
	if f.Primary == "" {
		f.Primary = StrategyPresence
	}
	if f.Secondary == "" {
		f.Secondary = StrategyPing
	}
	setInt(&f.After, DefaultFallbackAfter)
	setInt(&f.RetryPrimaryEvery, DefaultFallbackRetryEvery)

	if c.Detection.MaxFailures == 0 {
		c.Detection.MaxFailures = DefaultMaxFailures
		if c.Strategy == StrategyFallback && f.After > 0 {
			c.Detection.MaxFailures = f.After + 1
		}
	}

	r := &c.Reconnect
	if r.Mode == "" {
		r.Mode = ReconnectBackoff
	}
	setDur(&r.BaseDelay, DefaultBaseDelay)
	setFloat(&r.Multiplier, DefaultMultiplier)
	setFloat(&r.Jitter, DefaultJitter)
	setDur(&r.MaxDelay, DefaultMaxDelay)
	setDur(&r.StableAfter, DefaultStableAfter)
	setDur(&r.LinearStep, DefaultLinearStep)
	setDur(&r.PollInterval, DefaultPollInterval)

	a := &c.Adaptive
	setDur(&a.Floor, DefaultAdaptiveFloor)
	setDur(&a.Ceiling, DefaultAdaptiveCeiling)
	setDur(&a.Initial, DefaultAdaptiveInitial)
	setInt(&a.GrowAfter, DefaultGrowAfter)
	setFloat(&a.GrowFactor, DefaultGrowFactor)
	setFloat(&a.Margin, DefaultMargin)
	setDur(&a.ReprobeAfter, DefaultReprobeAfter)

	l := &c.Latency
	setFloat(&l.Alpha, DefaultLatencyAlpha)
	setInt(&l.Window, DefaultLatencyWindow)
	setFloat(&l.RiseFactor, DefaultLatencyRiseFactor)
	setInt(&l.Samples, DefaultLatencySamples)
}

func setDur(p *time.Duration, d time.Duration) {
	if *p == 0 {
		*p = d
	}
}

func setInt(p *int, d int) {
	if *p == 0 {
		*p = d
	}
}

func setFloat(p *float64, d float64) {
	if *p == 0 {
		*p = d
	}
}

// Validate applies the defaults to a copy of c and checks the result. The error
// names the field (as spelled in YAML) and the rule, e.g.
// "keepalive: reconnect.multiplier: must be ≥ 1, got 0.5".
func (c Config) Validate() error {
	c.ApplyDefaults()
	return c.validate()
}

func fieldErr(field, rule string, got any) error {
	return fmt.Errorf("keepalive: %s: %s, got %v", field, rule, got)
}

func isStrategy(s Strategy) bool {
	switch s {
	case StrategyPresence, StrategyPing, StrategyCombined, StrategyFallback:
		return true
	}
	return false
}

func (c *Config) validate() error {
	if !isStrategy(c.Strategy) {
		return fieldErr("strategy", "must be presence, ping, combined or fallback", quote(c.Strategy))
	}
	if c.Presence > PresenceRecording {
		return fieldErr("presence", "must be available, unavailable, composing or recording", int(c.Presence))
	}
	switch c.IntervalMode {
	case IntervalFixed, IntervalRandom, IntervalAdaptive:
	default:
		return fieldErr("interval_mode", "must be fixed, random or adaptive", quote(c.IntervalMode))
	}
	if c.Interval <= 0 {
		return fieldErr("interval", "must be > 0", c.Interval)
	}
	if c.IntervalMin <= 0 {
		return fieldErr("interval_min", "must be > 0", c.IntervalMin)
	}
	if c.IntervalMax < c.IntervalMin {
		return fieldErr("interval_max", fmt.Sprintf("must be ≥ interval_min (%v)", c.IntervalMin), c.IntervalMax)
	}
	if c.ReplyDeadline <= 0 {
		return fieldErr("reply_deadline", "must be > 0", c.ReplyDeadline)
	}
	if err := c.validateFallback(); err != nil {
		return err
	}
	d := c.Detection
	if d.MaxTimeWithoutSuccess < 0 {
		return fieldErr("detection.max_time_without_success", "must not be negative", d.MaxTimeWithoutSuccess)
	}
	if d.MaxSilence < 0 {
		return fieldErr("detection.max_silence", "must not be negative", d.MaxSilence)
	}
	if err := c.Reconnect.validate(); err != nil {
		return err
	}
	if err := c.validateAdaptive(); err != nil {
		return err
	}
	return c.Latency.validate()
}

func (c *Config) validateFallback() error {
	if c.Strategy != StrategyFallback {
		return nil
	}
	f := c.Fallback
	if f.Primary != StrategyPresence && f.Primary != StrategyPing {
		return fieldErr("fallback.primary", "must be presence or ping", quote(f.Primary))
	}
	if f.Secondary != StrategyPresence && f.Secondary != StrategyPing {
		return fieldErr("fallback.secondary", "must be presence or ping", quote(f.Secondary))
	}
	if f.Secondary == f.Primary {
		return fieldErr("fallback.secondary", "must differ from fallback.primary", quote(f.Secondary))
	}
	if f.After < 1 {
		return fieldErr("fallback.after", "must be ≥ 1", f.After)
	}
	if f.After > maxCount {
		return fieldErr("fallback.after", fmt.Sprintf("must be ≤ %d", maxCount), f.After)
	}
	if f.RetryPrimaryEvery < 1 || f.RetryPrimaryEvery > maxCount {
		return fieldErr("fallback.retry_primary_every", fmt.Sprintf("must be within [1, %d]", maxCount), f.RetryPrimaryEvery)
	}
	if m := c.Detection.MaxFailures; m > 0 && m <= f.After {
		return fieldErr("detection.max_failures",
			fmt.Sprintf("must be > fallback.after (%d) or negative with strategy fallback, or the secondary never runs", f.After), m)
	}
	return nil
}

func (r ReconnectConfig) validate() error {
	switch r.Mode {
	case ReconnectBackoff, ReconnectLinear, ReconnectPoll, ReconnectNever, ReconnectImmediate:
	default:
		return fieldErr("reconnect.mode", "must be backoff, linear, poll, never or immediate", quote(r.Mode))
	}
	if r.BaseDelay <= 0 {
		return fieldErr("reconnect.base_delay", "must be > 0", r.BaseDelay)
	}
	if r.Multiplier < 1 {
		return fieldErr("reconnect.multiplier", "must be ≥ 1", r.Multiplier)
	}
	if r.Jitter >= 1 {
		return fieldErr("reconnect.jitter", "must be < 1 (negative = none)", r.Jitter)
	}
	if r.MaxDelay < r.BaseDelay {
		return fieldErr("reconnect.max_delay", fmt.Sprintf("must be ≥ reconnect.base_delay (%v)", r.BaseDelay), r.MaxDelay)
	}
	if r.StableAfter < 0 {
		return fieldErr("reconnect.stable_after", "must not be negative", r.StableAfter)
	}
	if r.LinearStep < 0 {
		return fieldErr("reconnect.linear_step", "must not be negative", r.LinearStep)
	}
	if r.PollInterval <= 0 {
		return fieldErr("reconnect.poll_interval", "must be > 0", r.PollInterval)
	}
	return nil
}

func (c *Config) validateAdaptive() error {
	a := c.Adaptive
	if a.Floor <= 0 {
		return fieldErr("adaptive.floor", "must be > 0", a.Floor)
	}
	if a.Ceiling < a.Floor {
		return fieldErr("adaptive.ceiling", fmt.Sprintf("must be ≥ adaptive.floor (%v)", a.Floor), a.Ceiling)
	}
	if a.Initial < a.Floor || a.Initial > a.Ceiling {
		return fieldErr("adaptive.initial", fmt.Sprintf("must be within [adaptive.floor, adaptive.ceiling] = [%v, %v]", a.Floor, a.Ceiling), a.Initial)
	}
	if a.DetectionBudget < 0 {
		return fieldErr("adaptive.detection_budget", "must not be negative", a.DetectionBudget)
	}
	if a.DetectionBudget > 0 && a.DetectionBudget < a.Floor+c.ReplyDeadline {
		return fieldErr("adaptive.detection_budget",
			fmt.Sprintf("must be ≥ adaptive.floor + reply_deadline (%v)", a.Floor+c.ReplyDeadline), a.DetectionBudget)
	}
	if a.GrowAfter < 1 || a.GrowAfter > maxCount {
		return fieldErr("adaptive.grow_after", fmt.Sprintf("must be within [1, %d]", maxCount), a.GrowAfter)
	}
	if a.GrowFactor <= 1 {
		return fieldErr("adaptive.grow_factor", "must be > 1", a.GrowFactor)
	}
	if a.GrowStep < 0 {
		return fieldErr("adaptive.grow_step", "must not be negative", a.GrowStep)
	}
	if a.Margin <= 0 || a.Margin >= 1 {
		return fieldErr("adaptive.margin", "must be within (0, 1)", a.Margin)
	}
	if a.ReprobeAfter <= 0 {
		return fieldErr("adaptive.reprobe_after", "must be > 0", a.ReprobeAfter)
	}
	return nil
}

func (l LatencyConfig) validate() error {
	if l.Alpha <= 0 || l.Alpha > 1 {
		return fieldErr("latency.alpha", "must be within (0, 1]", l.Alpha)
	}
	if l.Window < 1 || l.Window > MaxLatencyWindow {
		return fieldErr("latency.window", fmt.Sprintf("must be within [1, %d]", MaxLatencyWindow), l.Window)
	}
	if l.Threshold < 0 {
		return fieldErr("latency.threshold", "must not be negative", l.Threshold)
	}
	if l.RiseFactor <= 1 {
		return fieldErr("latency.rise_factor", "must be > 1", l.RiseFactor)
	}
	if l.Samples < 1 || l.Samples > maxCount {
		return fieldErr("latency.samples", fmt.Sprintf("must be within [1, %d]", maxCount), l.Samples)
	}
	return nil
}

func quote[T ~string](s T) string { return fmt.Sprintf("%q", string(s)) }

// Policy is a Config with its defaults applied and validated: immutable, and shared
// by every session that uses the same Config.
type Policy struct {
	cfg Config
	// ceiling is the adaptive ceiling after the detection budget (interval +
	// reply deadline ≤ budget).
	ceiling time.Duration
}

// NewPolicy applies cfg's defaults, validates it and returns the policy.
func NewPolicy(cfg Config) (*Policy, error) {
	cfg.ApplyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Policy{cfg: cfg, ceiling: cfg.Adaptive.Ceiling}
	if b := cfg.Adaptive.DetectionBudget; b > 0 && b-cfg.ReplyDeadline < p.ceiling {
		p.ceiling = b - cfg.ReplyDeadline
	}
	return p, nil
}

// MustPolicy is NewPolicy for configurations known to be valid (presets, tests);
// it panics on an invalid one.
func MustPolicy(cfg Config) *Policy {
	p, err := NewPolicy(cfg)
	if err != nil {
		panic(err)
	}
	return p
}

// Config returns the policy's configuration with defaults applied.
func (p *Policy) Config() Config { return p.cfg }

// AdaptiveCeiling is the largest interval the adaptive controller may use: the
// configured ceiling, lowered so that interval + ReplyDeadline ≤ DetectionBudget.
func (p *Policy) AdaptiveCeiling() time.Duration { return p.ceiling }
