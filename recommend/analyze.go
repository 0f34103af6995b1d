package recommend

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sweep"
)

// Defaults of a Request's zero fields.
const (
	// DefaultDetectWithin is how long a dead connection may go unnoticed.
	DefaultDetectWithin = 60 * time.Second
	// DefaultDuration is the simulated time of each verification run.
	DefaultDuration = 7 * 24 * time.Hour
	// MinSlack and SlackFraction make the scheduler slack: the larger of MinSlack
	// and SlackFraction × the timer (timer granularity of the box, a late timer
	// on a loaded host, a retransmitted frame).
	MinSlack      = time.Second
	SlackFraction = 0.05
)

// Request is what to recommend for. Zero fields take the documented defaults.
type Request struct {
	// Path is the path in the compact syntax of middlebox.ParsePath: catalog names
	// with overrides and custom timers, mixed freely.
	Path string
	// Strategy is the heartbeat: ping, presence or combined. Default: ping.
	Strategy keepalive.Strategy
	// InboundPerHour is the bot's inbound message rate, used in the verification;
	// the analytic bound never counts on inbound traffic.
	InboundPerHour float64
	// DetectWithin is how long a dead connection may go unnoticed: a ping interval
	// plus its reply deadline must fit in it. Default: DefaultDetectWithin.
	DetectWithin time.Duration
	// ReplyDeadline is how long a ping reply may take. Default: 10 s.
	ReplyDeadline time.Duration
	// Network is the link. Default (whole value zero): RTT 100 ms, jitter 20 ms.
	Network sim.Network
	// Faults are injected into every verification run. Default: none — the
	// path's own fault profile (each box's expiry: close, reset or a silent
	// blackhole, RST on the next packet) is always part of the runs; server-side
	// faults (RoutineFaults, kalab recommend --server-faults) are opt-in.
	Faults []sim.Fault
	// Seeds of the verification. Default: sweep.DefaultSeeds.
	Seeds []uint64
	// Duration of each verification run. Default: DefaultDuration.
	Duration time.Duration
	// SafeUptime is the true uptime every seed must reach. Default: 0.999.
	SafeUptime float64
	// Workers is how many simulations run in parallel. Default: GOMAXPROCS.
	Workers int
}

// RoutineFaults is an optional server-side fault profile for the verification:
// the server asks the client to reconnect (stream:error 515) every 12 hours and
// drops it with a 503 once a day — the routine disconnects every bot sees, which a
// keep-alive must ride out without losing its uptime. Opt-in, so that the default
// verification answers for the path alone: each routine fault costs every interval
// the same reconnect, which would only blur the comparison between intervals.
var RoutineFaults = []sim.Fault{
	{Kind: sim.FaultStreamError515, At: 6 * time.Hour, Every: 12 * time.Hour},
	{Kind: sim.FaultStreamError503, At: 20 * time.Hour, Every: 24 * time.Hour},
}

// withDefaults fills r's zero fields.
func (r Request) withDefaults() Request {
	if r.Strategy == "" {
		r.Strategy = keepalive.StrategyPing
	}
	if r.DetectWithin == 0 {
		r.DetectWithin = DefaultDetectWithin
	}
	if r.ReplyDeadline == 0 {
		r.ReplyDeadline = sweep.DefaultReplyDeadline
	}
	if r.Network == (sim.Network{}) {
		r.Network = sim.Network{RTT: sweep.DefaultRTT, Jitter: sweep.DefaultJitter}
	}
	r.Faults = slices.Clone(r.Faults)
	if len(r.Seeds) == 0 {
		r.Seeds = slices.Clone(sweep.DefaultSeeds)
	}
	if r.Duration == 0 {
		r.Duration = DefaultDuration
	}
	if r.SafeUptime == 0 {
		r.SafeUptime = sweep.DefaultSafeUptime
	}
	return r
}

// Timer is one timer of the path as the chosen strategy meets it.
type Timer struct {
	// Box names the middlebox.
	Box string `json:"box"`
	// Kind, Timeout, Watches and AtExpiry are the box's spec.
	Kind     middlebox.Kind      `json:"kind"`
	Timeout  time.Duration       `json:"timeout"`
	Watches  middlebox.Direction `json:"watches,omitempty"`
	AtExpiry middlebox.Expiry    `json:"at_expiry,omitempty"`
	// Rearmed is true when the strategy's own traffic re-arms the timer (an idle
	// timer in a direction the heartbeat or its reply travels).
	Rearmed bool `json:"rearmed"`
}

// Analysis is the analytic half of a recommendation.
type Analysis struct {
	// Path is the parsed path; PathText its compact text.
	Path     []middlebox.Spec `json:"-"`
	PathText string           `json:"path"`
	Strategy keepalive.Strategy
	Timers   []Timer
	// Limiting is the shortest timer the strategy re-arms (nil when none).
	Limiting *Timer
	// Margin is kept below the limiting timer: RTT + 2 × jitter + the server's
	// ping service time + the scheduler slack (see MinSlack).
	Margin time.Duration
	// MaxSafe is the largest safe interval: the limiting timer minus the margin,
	// rounded down (to 1 s from 10 s up, else to 100 ms). Zero when Unbounded or
	// when the margin leaves nothing (NoSafeInterval).
	MaxSafe time.Duration
	// Unbounded: no timer the strategy re-arms limits the interval.
	Unbounded bool
	// NoSafeInterval: the limiting timer is no longer than the margin.
	NoSafeInterval bool
	// NoIntervalHelps: every timer that can end the connection is one no interval
	// of this strategy can beat (lifetime timers, or idle timers the strategy does
	// not re-arm), and there is at least one.
	NoIntervalHelps bool
	// DetectionCap is the largest interval the detection budget allows: DetectWithin
	// − ReplyDeadline for strategies with a ping, DetectWithin for presence.
	DetectionCap time.Duration
	// Interval is the recommended interval: min(MaxSafe, DetectionCap), rounded
	// down; half the limiting timer when NoSafeInterval.
	Interval time.Duration
	// Warnings are what the user must know; Notes explain the numbers.
	Warnings []string
	Notes    []string
}

// rearms reports whether strategy s's own traffic re-arms an idle timer watching w.
// A ping goes up and its reply comes down; presence only goes up.
func rearms(s keepalive.Strategy, w middlebox.Direction) bool {
	switch s {
	case keepalive.StrategyPresence:
		return w == middlebox.Up || w == middlebox.Both
	default: // ping, combined: the ping goes up, its reply comes down
		return true
	}
}

// pings reports whether strategy s sends pings (and so detects dead connections).
func pings(s keepalive.Strategy) bool { return s != keepalive.StrategyPresence }

// roundDown truncates d to 1 s from 10 s up, else to 100 ms.
func roundDown(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Truncate(time.Second)
	}
	return d.Truncate(100 * time.Millisecond)
}

// Analyze derives the maximum safe and the recommended interval from the path
// alone (no simulation).
func Analyze(req Request) (Analysis, error) {
	req = req.withDefaults()
	switch req.Strategy {
	case keepalive.StrategyPing, keepalive.StrategyPresence, keepalive.StrategyCombined:
	default:
		return Analysis{}, fmt.Errorf("--strategy %q: recommend analyses ping, presence or combined", req.Strategy)
	}
	if req.InboundPerHour < 0 || math.IsNaN(req.InboundPerHour) || math.IsInf(req.InboundPerHour, 0) {
		return Analysis{}, fmt.Errorf("--inbound %v: must be a rate ≥ 0 (messages per hour)", req.InboundPerHour)
	}
	if req.ReplyDeadline <= 0 {
		return Analysis{}, fmt.Errorf("reply deadline %v: must be > 0", req.ReplyDeadline)
	}
	if req.DetectWithin <= 0 {
		return Analysis{}, fmt.Errorf("--detect-within %v: must be > 0", req.DetectWithin)
	}
	if pings(req.Strategy) && req.DetectWithin <= req.ReplyDeadline {
		return Analysis{}, fmt.Errorf("--detect-within %v leaves no time between pings: it must exceed the reply deadline (%v)", req.DetectWithin, req.ReplyDeadline)
	}
	specs, err := middlebox.ParsePath(req.Path)
	if err != nil {
		return Analysis{}, fmt.Errorf("--path: %w", err)
	}
	a := Analysis{Path: specs, PathText: sweep.PathText(specs), Strategy: req.Strategy}
	a.DetectionCap = req.DetectWithin
	if pings(req.Strategy) {
		a.DetectionCap = req.DetectWithin - req.ReplyDeadline
	}

	unbeatable := 0
	for _, s := range specs {
		if s.Kind != middlebox.KindIdle && s.Kind != middlebox.KindLifetime {
			continue
		}
		t := Timer{Box: s.String(), Kind: s.Kind, Timeout: s.Timeout, Watches: s.Watches, AtExpiry: s.AtExpiry}
		if s.Kind == middlebox.KindIdle {
			t.Rearmed = rearms(req.Strategy, s.Watches)
		}
		a.Timers = append(a.Timers, t)
		switch {
		case s.Kind == middlebox.KindLifetime:
			unbeatable++
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s is a lifetime timer: it ends every connection at age %s whatever the traffic, so no interval can help against it (about %s disconnects/day; each costs a reconnect)",
				t.Box, fmtDur(s.Timeout), fmtNum(float64(24*time.Hour)/float64(s.Timeout))))
		case !t.Rearmed:
			unbeatable++
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s (idle %s, watches %s only) is not re-armed by %s, which only travels client→server: it fires after %s without server→client traffic whatever the interval; inbound messages re-arm it but cannot be relied on — use ping, whose reply comes back",
				t.Box, fmtDur(s.Timeout), s.Watches, req.Strategy, fmtDur(s.Timeout)))
		}
		if s.Kind == middlebox.KindIdle && s.AtExpiry == middlebox.Blackhole {
			if pings(req.Strategy) {
				a.Warnings = append(a.Warnings, fmt.Sprintf(
					"%s drops state silently at expiry (blackhole): nothing tells either end; only a ping's missed reply detects it (within interval + reply deadline) — stay below its %s timer",
					t.Box, fmtDur(s.Timeout)))
			} else {
				a.Warnings = append(a.Warnings, fmt.Sprintf(
					"%s drops state silently at expiry (blackhole): presence expects no reply, so a presence-only client stays a zombie until TCP gives up (about 15 min); only a ping detects a blackhole",
					t.Box))
			}
		}
		if t.Rearmed && (a.Limiting == nil || t.Timeout < a.Limiting.Timeout) {
			tt := t
			a.Limiting = &tt
		}
	}

	switch {
	case a.Limiting == nil:
		a.Unbounded = true
		a.NoIntervalHelps = unbeatable > 0
		a.Interval = roundDown(a.DetectionCap)
		if a.NoIntervalHelps {
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"no interval can help on this path: every timer on it ends the connection whatever %s does; the interval below only bounds how fast a dead connection is noticed", req.Strategy))
		} else {
			a.Notes = append(a.Notes, "no idle timer on this path limits the interval: it is set by the detection budget alone")
		}
	default:
		T := a.Limiting.Timeout
		slack := max(MinSlack, time.Duration(SlackFraction*float64(T)))
		server := sim.DefaultPingServiceTime
		a.Margin = req.Network.RTT + 2*req.Network.Jitter + server + slack
		a.Notes = append(a.Notes, fmt.Sprintf(
			"margin %s = RTT %s + 2 × jitter %s + server %s + scheduler slack %s (the larger of %s and %g %% of the timer)",
			fmtDur(a.Margin), fmtDur(req.Network.RTT), fmtDur(req.Network.Jitter), fmtDur(server), fmtDur(slack), fmtDur(MinSlack), 100*SlackFraction))
		if T-a.Margin < 100*time.Millisecond {
			a.NoSafeInterval = true
			a.Interval = roundDown(T / 2)
			a.Warnings = append(a.Warnings, fmt.Sprintf(
				"%s's %s timer is not longer than the margin %s: no interval is safe by construction; %s is a guess the sweep below tests",
				a.Limiting.Box, fmtDur(T), fmtDur(a.Margin), fmtDur(a.Interval)))
			break
		}
		a.MaxSafe = roundDown(T - a.Margin)
		a.Interval = roundDown(min(a.MaxSafe, a.DetectionCap))
		if a.Interval < a.MaxSafe {
			budget := fmt.Sprintf("interval ≤ --detect-within %s", fmtDur(req.DetectWithin))
			if pings(req.Strategy) {
				budget = fmt.Sprintf("interval + reply deadline %s ≤ --detect-within %s", fmtDur(req.ReplyDeadline), fmtDur(req.DetectWithin))
			}
			a.Notes = append(a.Notes, fmt.Sprintf("the detection budget (%s) sets the interval below the max safe %s", budget, fmtDur(a.MaxSafe)))
		}
	}
	if a.Interval <= 0 {
		return a, fmt.Errorf("no positive interval fits: detection cap %v, max safe %v", a.DetectionCap, a.MaxSafe)
	}
	if !pings(req.Strategy) {
		a.Warnings = append(a.Warnings, "presence expects no reply: a dead connection is noticed only when a box closes it or TCP gives up, not within --detect-within")
	}
	if req.Strategy != keepalive.StrategyPing {
		a.Warnings = append(a.Warnings, fmt.Sprintf(
			"presence `available` every %s marks the account online and stops push notifications to the owner's phone while the bot runs (FACTS.md §2: Baileys README; WhiskeySockets/Baileys #299, #2553); ping has no such side effect",
			fmtDur(a.Interval)))
	}
	if req.InboundPerHour > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("inbound traffic (%s/h) re-arms timers watching server→client traffic, but the bound does not count on it", fmtNum(req.InboundPerHour)))
	}
	return a, nil
}

// fmtDur prints a duration compactly ("56s", "1m30s", "8.8s", "120ms").
func fmtDur(d time.Duration) string { return sweep.FormatInterval(d) }

// fmtNum prints a number with at most one decimal, without trailing zeros.
func fmtNum(f float64) string {
	if f >= 100 {
		return fmt.Sprintf("%.0f", f)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0")
}
