package sweep

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Defaults of a Grid's zero fields.
const (
	// DefaultDuration is the simulated time of each run.
	DefaultDuration = 24 * time.Hour
	// DefaultReplyDeadline is how long a ping reply may take.
	DefaultReplyDeadline = 10 * time.Second
	// DefaultSafeUptime is the true uptime a safe cell reaches on every seed.
	DefaultSafeUptime = 0.999
	// DefaultRTT and DefaultJitter describe the link when Grid.Network is zero
	// (the built-in suite's link).
	DefaultRTT    = 100 * time.Millisecond
	DefaultJitter = 20 * time.Millisecond
	// MaxRuns bounds a sweep (cells × seeds), so that a typo in a range does not
	// start a run that never ends.
	MaxRuns = 1_000_000
)

// DefaultSeeds are the seeds of a grid that sets none: fixed, so that two plain
// sweeps give byte-identical results.
var DefaultSeeds = []uint64{1, 2, 3}

// Grid defines a sweep. Zero fields take the documented defaults (WithDefaults).
type Grid struct {
	// Paths are the paths to sweep, each in the compact syntax of
	// middlebox.ParsePath ("nginx", "idle:45s:both:close,aws-nlb"). At least one.
	Paths []string
	// Strategies are the heartbeat strategies to sweep. Default: ping.
	Strategies []keepalive.Strategy
	// Intervals are the heartbeat intervals to sweep (any order; sorted and
	// checked for duplicates). At least one.
	Intervals []time.Duration
	// Seeds are run for every cell. Default: DefaultSeeds.
	Seeds []uint64
	// Duration is the simulated time of each run. Default: DefaultDuration.
	Duration time.Duration
	// Network is the link. Default (when the whole value is zero): RTT
	// DefaultRTT, jitter DefaultJitter.
	Network sim.Network
	// Server is the server model (inbound rate etc.). Zero = the simulator's defaults.
	Server sim.Server
	// Faults are injected into every run.
	Faults []sim.Fault
	// ReplyDeadline is how long a ping reply may take. Default: DefaultReplyDeadline.
	ReplyDeadline time.Duration
	// SafeUptime is the true uptime (0..1) every seed of a cell must reach for it
	// to count as safe. Default: DefaultSafeUptime.
	SafeUptime float64
}

// WithDefaults returns g with its zero fields set to their defaults.
func (g Grid) WithDefaults() Grid {
	if len(g.Strategies) == 0 {
		g.Strategies = []keepalive.Strategy{keepalive.StrategyPing}
	}
	if len(g.Seeds) == 0 {
		g.Seeds = slices.Clone(DefaultSeeds)
	}
	if g.Duration == 0 {
		g.Duration = DefaultDuration
	}
	if g.Network == (sim.Network{}) {
		g.Network = sim.Network{RTT: DefaultRTT, Jitter: DefaultJitter}
	}
	if g.ReplyDeadline == 0 {
		g.ReplyDeadline = DefaultReplyDeadline
	}
	if g.SafeUptime == 0 {
		g.SafeUptime = DefaultSafeUptime
	}
	return g
}

// path is one parsed path of a grid.
type path struct {
	text  string // canonical compact text: the scenario name
	specs []middlebox.Spec
}

// resolved is a validated grid with its paths parsed and intervals sorted.
type resolved struct {
	Grid
	paths []path
}

// resolve applies defaults, parses and validates g.
func (g Grid) resolve() (resolved, error) {
	g = g.WithDefaults()
	r := resolved{Grid: g}
	if len(g.Paths) == 0 {
		return r, fmt.Errorf("sweep: no path: give at least one (catalog: %s)", strings.Join(middlebox.Names(), ", "))
	}
	seen := map[string]int{}
	for i, p := range g.Paths {
		specs, err := middlebox.ParsePath(p)
		if err != nil {
			return r, fmt.Errorf("sweep: path %d %q: %w", i+1, p, err)
		}
		text := PathText(specs)
		if j, dup := seen[text]; dup {
			return r, fmt.Errorf("sweep: path %d %q is path %d again (%s)", i+1, p, j+1, text)
		}
		seen[text] = i
		r.paths = append(r.paths, path{text: text, specs: specs})
	}
	if len(g.Intervals) == 0 {
		return r, fmt.Errorf("sweep: no interval: give a range MIN:MAX:STEP or a list")
	}
	r.Intervals = slices.Clone(g.Intervals)
	slices.Sort(r.Intervals)
	for i, iv := range r.Intervals {
		if iv <= 0 {
			return r, fmt.Errorf("sweep: interval %v is not positive", iv)
		}
		if i > 0 && iv == r.Intervals[i-1] {
			return r, fmt.Errorf("sweep: interval %v given twice", iv)
		}
	}
	ss := map[keepalive.Strategy]bool{}
	for _, s := range g.Strategies {
		if ss[s] {
			return r, fmt.Errorf("sweep: strategy %q given twice", s)
		}
		ss[s] = true
		c := Policy(s, r.Intervals[0], g.ReplyDeadline)
		c.ApplyDefaults()
		if err := c.Validate(); err != nil {
			return r, fmt.Errorf("sweep: strategy %q: %w", s, err)
		}
	}
	seeds := map[uint64]bool{}
	for _, s := range g.Seeds {
		if seeds[s] {
			return r, fmt.Errorf("sweep: seed %d given twice", s)
		}
		seeds[s] = true
	}
	if g.Duration < 0 {
		return r, fmt.Errorf("sweep: duration must be > 0, got %v", g.Duration)
	}
	if g.ReplyDeadline < 0 {
		return r, fmt.Errorf("sweep: reply deadline must be > 0, got %v", g.ReplyDeadline)
	}
	if g.SafeUptime < 0 || g.SafeUptime > 1 {
		return r, fmt.Errorf("sweep: safe uptime must be within (0, 1], got %v", g.SafeUptime)
	}
	if n := len(r.paths) * len(g.Strategies) * len(r.Intervals) * len(g.Seeds); n > MaxRuns {
		return r, fmt.Errorf("sweep: %d runs (%d paths × %d strategies × %d intervals × %d seeds) exceed the limit of %d; narrow the grid or raise the step",
			n, len(r.paths), len(g.Strategies), len(r.Intervals), len(g.Seeds), MaxRuns)
	}
	return r, nil
}

// PathText is a parsed path in the compact syntax, element names joined by
// commas ("none" for an empty path). It names the path's scenario in results.
func PathText(specs []middlebox.Spec) string {
	if len(specs) == 0 {
		return "none"
	}
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// ParseStrategies parses a comma-separated list of strategies (ping, presence,
// combined, fallback).
func ParseStrategies(text string) ([]keepalive.Strategy, error) {
	valid := []keepalive.Strategy{keepalive.StrategyPing, keepalive.StrategyPresence, keepalive.StrategyCombined, keepalive.StrategyFallback}
	var out []keepalive.Strategy
	for _, f := range strings.Split(text, ",") {
		s := keepalive.Strategy(strings.ToLower(strings.TrimSpace(f)))
		if !slices.Contains(valid, s) {
			return nil, fmt.Errorf("strategy %q: want one of ping, presence, combined, fallback", strings.TrimSpace(f))
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseIntervals parses the intervals of a sweep: a range "MIN:MAX:STEP" (both
// ends included when MAX falls on a step: "10s:120s:10s"), a comma-separated
// list ("25s,45s,55s"), or a mix of both ("5s:30s:5s,45s,60s").
func ParseIntervals(text string) ([]time.Duration, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("intervals: empty: give MIN:MAX:STEP (e.g. 10s:120s:10s) or a list (25s,45s)")
	}
	var out []time.Duration
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		f := strings.Split(part, ":")
		switch len(f) {
		case 1:
			d, err := parsePositive(f[0], part)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		case 3:
			lo, err := parsePositive(f[0], part)
			if err != nil {
				return nil, err
			}
			hi, err := parsePositive(f[1], part)
			if err != nil {
				return nil, err
			}
			step, err := parsePositive(f[2], part)
			if err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("intervals %q: MAX %v is below MIN %v", part, hi, lo)
			}
			if n := (hi-lo)/step + 1; n > MaxRuns {
				return nil, fmt.Errorf("intervals %q: %d intervals; raise the step", part, n)
			}
			for d := lo; d <= hi; d += step {
				out = append(out, d)
			}
		default:
			return nil, fmt.Errorf("intervals %q: want MIN:MAX:STEP or one duration", part)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parsePositive(s, part string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("intervals %q: %q is not a duration (e.g. 45s, 2m)", part, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("intervals %q: %v is not positive", part, d)
	}
	return d, nil
}
