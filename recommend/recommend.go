package recommend

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/runner"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sweep"
)

// Outcome is what the verification measured for one policy, over the seeds.
type Outcome struct {
	// Policy describes the policy in words ("ping every 50s").
	Policy string `json:"policy"`
	// IntervalSeconds is the policy's (starting) interval.
	IntervalSeconds float64 `json:"interval_seconds"`
	// TrueUptime is the mean over the seeds, TrueUptimeMin the worst seed's (0..1).
	TrueUptime    float64 `json:"true_uptime"`
	TrueUptimeMin float64 `json:"true_uptime_min"`
	// Per simulated day, means over the seeds.
	DisconnectsPerDay   float64 `json:"disconnects_per_day"`
	HeartbeatsPerDay    float64 `json:"heartbeats_per_day"`
	BytesPerDay         float64 `json:"bytes_per_day"`
	PresencePerDay      float64 `json:"presence_per_day"`
	ZombieSecondsPerDay float64 `json:"zombie_seconds_per_day"`
	// IdleDisconnects is the most idle-timeout disconnects a seed saw.
	IdleDisconnects int `json:"idle_disconnects"`
	// Safe: every seed reached the safe uptime with no idle-timeout disconnect.
	Safe bool `json:"safe"`
}

// SweepPoint is one interval of the verification sweep (the fixed-interval
// policy of the recommended strategy).
type SweepPoint struct {
	IntervalSeconds   float64 `json:"interval_seconds"`
	TrueUptimeMin     float64 `json:"true_uptime_min"`
	TrueUptimeMean    float64 `json:"true_uptime_mean"`
	DisconnectsPerDay float64 `json:"disconnects_per_day"`
	IdleDisconnects   int     `json:"idle_disconnects"`
	HeartbeatsPerDay  float64 `json:"heartbeats_per_day"`
	BytesPerDay       float64 `json:"bytes_per_day"`
	Safe              bool    `json:"safe"`
}

// Recommendation is the answer, as kalab recommend prints it and as its --json.
// Intervals are in seconds; uptimes are fractions (0..1); "per day" figures are
// per simulated day.
type Recommendation struct {
	Path     string `json:"path"`
	Strategy string `json:"strategy"`
	// IntervalMode is "adaptive" (the kalab engine's controller, capped at the
	// interval: it starts there and only shrinks if the path proves shorter than
	// declared) for strategies with a ping, "fixed" for presence and on paths with
	// a lifetime timer (whose closes would mislead the controller).
	IntervalMode    string  `json:"interval_mode"`
	IntervalSeconds float64 `json:"interval_seconds"`
	// MaxSafeIntervalSeconds is null when no timer the strategy re-arms limits the
	// interval (or none is safe: see NoSafeInterval).
	MaxSafeIntervalSeconds *float64 `json:"max_safe_interval_seconds"`
	LimitingTimer          string   `json:"limiting_timer,omitempty"`
	LimitingTimeoutSeconds float64  `json:"limiting_timeout_seconds,omitempty"`
	MarginSeconds          float64  `json:"margin_seconds"`
	DetectWithinSeconds    float64  `json:"detect_within_seconds"`
	ReplyDeadlineSeconds   float64  `json:"reply_deadline_seconds"`
	NoIntervalHelps        bool     `json:"no_interval_helps"`
	NoSafeInterval         bool     `json:"no_safe_interval"`
	Timers                 []Timer  `json:"timers"`

	// ExpectedTrueUptime and the per-day figures are the recommended policy's,
	// means over the verification seeds.
	ExpectedTrueUptime float64 `json:"expected_true_uptime"`
	DisconnectsPerDay  float64 `json:"disconnects_per_day"`
	HeartbeatsPerDay   float64 `json:"heartbeats_per_day"`
	BytesPerDay        float64 `json:"bytes_per_day"`
	Recommended        Outcome `json:"recommended"`
	// FixedAlternative is the same strategy at a fixed interval (what a client
	// that only takes a number, such as whatsmeow or Baileys, can be set to).
	FixedAlternative Outcome `json:"fixed_alternative"`
	// AtMaxSafe is the fixed interval at the max safe interval (nil when unbounded).
	AtMaxSafe *Outcome `json:"at_max_safe,omitempty"`
	// Seed is the seed's policy, presence every 60 s, on the same path.
	Seed Outcome `json:"seed_presence_60s"`
	// FirstFailingIntervalSeconds is the smallest swept interval that was not safe
	// (null when every swept interval was); MarginToFirstFailureSeconds is its
	// distance above the recommended interval.
	FirstFailingIntervalSeconds *float64 `json:"first_failing_interval_seconds"`
	MarginToFirstFailureSeconds *float64 `json:"margin_to_first_failure_seconds"`
	// Verified: the recommended interval (and the max safe one, when bounded) were
	// safe on every seed.
	Verified bool `json:"verified"`

	Warnings []string `json:"warnings"`
	Notes    []string `json:"notes"`

	// The verification: seeds, simulated time per run, inbound rate, faults, and
	// every swept interval.
	Seeds           []uint64     `json:"seeds"`
	DurationSeconds float64      `json:"duration_seconds"`
	InboundPerHour  float64      `json:"inbound_per_hour"`
	Faults          []sim.Fault  `json:"faults"`
	SafeUptime      float64      `json:"safe_uptime"`
	Sweep           []SweepPoint `json:"sweep"`

	cells    []sweep.Cell
	analysis Analysis
}

// Recommend analyses the path (Analyze) and verifies the result by a sweep in the
// simulator around the bound, over the request's seeds and fault profile. The
// answer depends only on the request, never on the worker count.
func Recommend(ctx context.Context, req Request) (*Recommendation, error) {
	req = req.withDefaults()
	a, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	grid := sweep.Grid{
		Paths:         []string{req.Path}, // the text as given: names and overrides survive exactly
		Strategies:    []keepalive.Strategy{req.Strategy},
		Intervals:     probeIntervals(a),
		Seeds:         req.Seeds,
		Duration:      req.Duration,
		Network:       req.Network,
		Server:        sim.Server{InboundPerHour: req.InboundPerHour},
		Faults:        req.Faults,
		ReplyDeadline: req.ReplyDeadline,
		SafeUptime:    req.SafeUptime,
	}
	cells, err := runCells(ctx, grid, req.Workers)
	if err != nil {
		return nil, err
	}
	// Refine between the last safe and the first failing interval.
	if lo, hi, ok := bracket(cells); ok {
		if more := between(lo, hi, 3, cells); len(more) > 0 {
			g := grid
			g.Intervals = more
			extra, err := runCells(ctx, g, req.Workers)
			if err != nil {
				return nil, err
			}
			cells = append(cells, extra...)
			slices.SortFunc(cells, func(x, y sweep.Cell) int { return cmpDur(x.Interval, y.Interval) })
		}
	}

	recPolicy, recDesc := recommendedPolicy(a, req)
	seedPolicy, _ := keepalive.Preset("seed")
	base := sim.Run{Scenario: a.PathText, Path: a.Path, Network: req.Network, Server: grid.Server, Faults: req.Faults, Duration: req.Duration}
	var runs []sim.Run
	for _, p := range []struct {
		name string
		cfg  keepalive.Config
	}{{"recommended", recPolicy}, {"seed", seedPolicy}} {
		for _, s := range req.Seeds {
			r := base
			r.Client, r.Policy, r.Seed = p.name, p.cfg, s
			r.Path = slices.Clone(a.Path)
			r.Faults = slices.Clone(req.Faults)
			runs = append(runs, r)
		}
	}
	results, err := runner.Simulate(ctx, runs, runner.Options{Workers: req.Workers})
	if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	n := len(req.Seeds)

	rec := &Recommendation{
		Path:                 a.PathText,
		Strategy:             string(req.Strategy),
		IntervalMode:         string(recPolicy.IntervalMode),
		IntervalSeconds:      a.Interval.Seconds(),
		MarginSeconds:        a.Margin.Seconds(),
		DetectWithinSeconds:  req.DetectWithin.Seconds(),
		ReplyDeadlineSeconds: req.ReplyDeadline.Seconds(),
		NoIntervalHelps:      a.NoIntervalHelps,
		NoSafeInterval:       a.NoSafeInterval,
		Timers:               a.Timers,
		Recommended:          outcome(recDesc, a.Interval, results[:n], req.SafeUptime),
		Seed:                 outcome("seed: presence every 60s", 60*time.Second, results[n:], req.SafeUptime),
		Warnings:             slices.Clone(a.Warnings),
		Notes:                slices.Clone(a.Notes),
		Seeds:                req.Seeds,
		DurationSeconds:      req.Duration.Seconds(),
		InboundPerHour:       req.InboundPerHour,
		Faults:               req.Faults,
		SafeUptime:           req.SafeUptime,
		cells:                cells,
		analysis:             a,
	}
	if rec.Timers == nil {
		rec.Timers = []Timer{}
	}
	if rec.Faults == nil {
		rec.Faults = []sim.Fault{}
	}
	if a.Limiting != nil {
		rec.LimitingTimer = a.Limiting.Box
		rec.LimitingTimeoutSeconds = a.Limiting.Timeout.Seconds()
	}
	if a.MaxSafe > 0 {
		v := a.MaxSafe.Seconds()
		rec.MaxSafeIntervalSeconds = &v
	}
	rec.ExpectedTrueUptime = rec.Recommended.TrueUptime
	rec.DisconnectsPerDay = rec.Recommended.DisconnectsPerDay
	rec.HeartbeatsPerDay = rec.Recommended.HeartbeatsPerDay
	rec.BytesPerDay = rec.Recommended.BytesPerDay

	fixedDesc := fmt.Sprintf("%s every %s (fixed)", req.Strategy, fmtDur(a.Interval))
	for _, c := range cells {
		rec.Sweep = append(rec.Sweep, SweepPoint{
			IntervalSeconds: c.Interval.Seconds(), TrueUptimeMin: c.TrueUptimeMin, TrueUptimeMean: c.TrueUptimeMean,
			DisconnectsPerDay: c.DisconnectsPerDay, IdleDisconnects: c.IdleDisconnects,
			HeartbeatsPerDay: c.HeartbeatsPerDay, BytesPerDay: c.BytesPerDay, Safe: c.Safe,
		})
		if c.Interval == a.Interval {
			rec.FixedAlternative = cellOutcome(fixedDesc, c, req.Duration)
		}
		if a.MaxSafe > 0 && c.Interval == a.MaxSafe {
			o := cellOutcome(fmt.Sprintf("%s every %s (fixed, max safe)", req.Strategy, fmtDur(a.MaxSafe)), c, req.Duration)
			rec.AtMaxSafe = &o
		}
		if !c.Safe && !a.NoIntervalHelps && rec.FirstFailingIntervalSeconds == nil && c.Interval > a.Interval {
			f := c.Interval.Seconds()
			m := f - a.Interval.Seconds()
			rec.FirstFailingIntervalSeconds, rec.MarginToFirstFailureSeconds = &f, &m
		}
	}
	rec.Verified = rec.FixedAlternative.Safe && rec.Recommended.Safe && (rec.AtMaxSafe == nil || rec.AtMaxSafe.Safe)
	switch {
	case a.NoIntervalHelps || a.NoSafeInterval:
	case !rec.Verified:
		rec.Warnings = append(rec.Warnings, fmt.Sprintf(
			"the sweep does not confirm the analysis: below %s true uptime or idle-timeout disconnects at the recommended or the max safe interval on some seed — check the path's timers and the network",
			pct(req.SafeUptime)))
	}
	if rec.Warnings == nil {
		rec.Warnings = []string{}
	}
	if rec.Notes == nil {
		rec.Notes = []string{}
	}
	return rec, nil
}

// runCells runs a sweep grid and summarises its cells.
func runCells(ctx context.Context, g sweep.Grid, workers int) ([]sweep.Cell, error) {
	res, err := sweep.Run(ctx, g, sweep.Options{Workers: workers})
	if err != nil {
		return nil, fmt.Errorf("recommend: verification sweep: %w", err)
	}
	return sweep.Cells(res)
}

// recommendedPolicy is the recommended keep-alive policy and its description: the
// kalab engine's adaptive controller starting at and capped by the interval (for
// strategies with a ping), or a fixed interval (presence, which cannot learn from
// missed replies).
func recommendedPolicy(a Analysis, req Request) (keepalive.Config, string) {
	c := sweep.Policy(req.Strategy, a.Interval, req.ReplyDeadline)
	if !pings(req.Strategy) || hasLifetime(a) {
		// Presence cannot learn from missed replies; a lifetime timer's closes look
		// like idle timeouts to the adaptive controller, which would shrink the
		// interval for nothing.
		return c, fmt.Sprintf("%s every %s (fixed)", req.Strategy, fmtDur(a.Interval))
	}
	c.IntervalMode = keepalive.IntervalAdaptive
	c.Adaptive = keepalive.AdaptiveConfig{
		Floor:   min(keepalive.DefaultAdaptiveFloor, a.Interval),
		Ceiling: a.Interval,
		Initial: a.Interval,
	}
	if req.DetectWithin >= c.Adaptive.Floor+req.ReplyDeadline {
		c.Adaptive.DetectionBudget = req.DetectWithin
	}
	return c, fmt.Sprintf("%s, adaptive interval starting at and capped by %s", req.Strategy, fmtDur(a.Interval))
}

// hasLifetime reports whether the path holds a lifetime timer.
func hasLifetime(a Analysis) bool {
	for _, t := range a.Timers {
		if t.Kind == middlebox.KindLifetime {
			return true
		}
	}
	return false
}

// outcome summarises runs of one policy.
func outcome(desc string, interval time.Duration, runs []sim.Result, safeUptime float64) Outcome {
	o := Outcome{Policy: desc, IntervalSeconds: interval.Seconds(), Safe: len(runs) > 0}
	for i, r := range runs {
		if i == 0 || r.TrueUptime < o.TrueUptimeMin {
			o.TrueUptimeMin = r.TrueUptime
		}
		o.TrueUptime += r.TrueUptime
		o.DisconnectsPerDay += r.DisconnectsPerDay
		o.HeartbeatsPerDay += r.HeartbeatsPerDay
		o.BytesPerDay += r.BytesPerDay
		o.PresencePerDay += r.PresencePerDay
		o.ZombieSecondsPerDay += r.ZombieTime.Seconds() * float64(24*time.Hour) / float64(r.Duration)
		o.IdleDisconnects = max(o.IdleDisconnects, r.IdleDisconnects)
		o.Safe = o.Safe && r.TrueUptime >= safeUptime && r.IdleDisconnects == 0
	}
	if n := float64(len(runs)); n > 0 {
		o.TrueUptime /= n
		o.DisconnectsPerDay /= n
		o.HeartbeatsPerDay /= n
		o.BytesPerDay /= n
		o.PresencePerDay /= n
		o.ZombieSecondsPerDay /= n
	}
	return o
}

// cellOutcome turns a sweep cell into an Outcome.
func cellOutcome(desc string, c sweep.Cell, d time.Duration) Outcome {
	return Outcome{
		Policy: desc, IntervalSeconds: c.Interval.Seconds(),
		TrueUptime: c.TrueUptimeMean, TrueUptimeMin: c.TrueUptimeMin,
		DisconnectsPerDay: c.DisconnectsPerDay, HeartbeatsPerDay: c.HeartbeatsPerDay,
		BytesPerDay: c.BytesPerDay, PresencePerDay: c.PresencePerDay,
		ZombieSecondsPerDay: c.ZombieTime.Seconds() * float64(24*time.Hour) / float64(d),
		IdleDisconnects:     c.IdleDisconnects, Safe: c.Safe,
	}
}

// Plot is the verification sweep's plot with the recommended and the max safe
// intervals marked.
func (r *Recommendation) Plot() reports.SweepPlot {
	marks := []reports.SweepMark{{At: r.analysis.Interval, Label: "recommended"}}
	if r.analysis.MaxSafe > 0 {
		marks = append(marks, reports.SweepMark{At: r.analysis.MaxSafe, Label: "max safe"})
	}
	return sweep.Plot(fmt.Sprintf("kalab recommend: %s, %s", r.Path, r.Strategy), r.cells, 1, r.SafeUptime, marks...)
}

// Cells returns the verification sweep's cells, by interval.
func (r *Recommendation) Cells() []sweep.Cell { return slices.Clone(r.cells) }

// Analysis returns the analytic half of the recommendation.
func (r *Recommendation) Analysis() Analysis { return r.analysis }

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func pct(f float64) string { return fmt.Sprintf("%.3f%%", 100*f) }
