package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Unit is how a metric's value is measured and written.
type Unit string

const (
	// UnitRatio: a fraction in [0, 1]; written as a percentage ("99.9%") or a
	// fraction ("0.999").
	UnitRatio Unit = "ratio"
	// UnitSeconds: a duration stored in seconds; written as a Go duration ("30s").
	UnitSeconds Unit = "seconds"
	// UnitCount: a plain number (counts, rates per day, bytes per day).
	UnitCount Unit = "count"
)

// Metric describes one metric a run produces and an expectation may bound.
type Metric struct {
	// Name is the metric's name in expectations and results.json ("true_uptime").
	Name string
	// Unit is how the metric's bound is written and compared.
	Unit Unit
	// Doc says what the metric measures, with its unit.
	Doc string
}

// metrics are the metrics an expectation may bound: each is a field of sim.Result
// under the same JSON name. Rates "_per_day" are normalised to 24 h of simulated
// time; the others cover the whole run.
var metrics = []Metric{
	{"true_uptime", UnitRatio, "fraction of the run in which a message sent would arrive"},
	{"reported_uptime", UnitRatio, "fraction of the run in which the client believed it was connected"},
	{"zombie_time", UnitSeconds, "total time the client believed it was connected while it was not (s)"},
	{"zombie_events", UnitCount, "stretches of zombie time during the run"},
	{"zombie_max", UnitSeconds, "the longest single zombie stretch (s)"},
	{"disconnects", UnitCount, "connections lost during the run, any cause"},
	{"disconnects_per_day", UnitCount, "connections lost per 24 h of simulated time"},
	{"idle_disconnects", UnitCount, "connections a middlebox's idle timer ended during the run"},
	{"reconnects", UnitCount, "successful logins after the first during the run"},
	{"connect_failures", UnitCount, "connect attempts that failed during the run"},
	{"time_to_detect_mean", UnitSeconds, "mean time from a connection's loss to the client noticing (s)"},
	{"time_to_detect_max", UnitSeconds, "longest time from a connection's loss to the client noticing (s)"},
	{"delivery_delay_p50", UnitSeconds, "median delay of inbound messages from creation to delivery (s)"},
	{"delivery_delay_p99", UnitSeconds, "99th percentile of the inbound message delay (s)"},
	{"delivery_delay_max", UnitSeconds, "the largest inbound message delay (s)"},
	{"messages_queued", UnitCount, "inbound messages still undelivered at the end of the run"},
	{"heartbeats_per_day", UnitCount, "heartbeats (pings and presences) sent per 24 h"},
	{"heartbeats_failed", UnitCount, "heartbeat failures the engine counted during the run (missed ping replies)"},
	{"presence_per_day", UnitCount, "presence updates sent per 24 h (each shows the account online)"},
	{"bytes_per_day", UnitCount, "bytes on the wire, both directions, per 24 h"},
	{"rtt_p99", UnitSeconds, "99th percentile of the ping round-trip time the engine saw (s)"},
	{"alerts", UnitCount, "alerts the engine raised during the run"},
}

// Metrics returns the metrics a run reports, in a fixed order.
func Metrics() []Metric { return slices.Clone(metrics) }

// MetricNames returns the metric names, sorted.
func MetricNames() []string {
	names := make([]string, len(metrics))
	for i, m := range metrics {
		names[i] = m.Name
	}
	slices.Sort(names)
	return names
}

// LookupMetric returns the metric called name.
func LookupMetric(name string) (Metric, bool) {
	for _, m := range metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Format writes v (in the metric's unit) for people: "99.95%", "14m3s", "3.2".
func (m Metric) Format(v float64) string {
	switch m.Unit {
	case UnitRatio:
		return strconv.FormatFloat(v*100, 'f', -1, 64) + "%"
	case UnitSeconds:
		return FormatSeconds(v)
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// FormatSeconds writes a number of seconds as a rounded Go duration without zero
// trailing units: milliseconds below 10 s, whole seconds above ("1.235s", "14m3s",
// "24h").
func FormatSeconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return strconv.FormatFloat(s, 'f', -1, 64)
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d == 0:
		return "0s"
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	}
	str := d.Round(time.Second).String()
	// "24h0m0s" → "24h", "2h4m0s" → "2h4m".
	if t, ok := strings.CutSuffix(str, "m0s"); ok {
		str = t + "m"
	}
	if t, ok := strings.CutSuffix(str, "h0m"); ok {
		str = t + "h"
	}
	return str
}

// Op is a comparison operator of an expectation.
type Op string

// The operators: the measured value must be at least, at most, above or below
// the bound.
const (
	OpGE Op = ">="
	OpLE Op = "<="
	OpGT Op = ">"
	OpLT Op = "<"
)

// ops in the order the parser tries them (two-character operators first).
var ops = []Op{OpGE, OpLE, OpGT, OpLT}

// Expectation is a bound on one metric of one client, checked on every seed:
//
//	expectation = metric op value
//	op          = ">=" | "<=" | ">" | "<"
//	value       = percentage ("99.9%") | fraction | duration ("30s", "0s") | number
//
// Examples: "true_uptime >= 99.9%", "disconnects_per_day <= 1", "zombie_time <= 0s".
type Expectation struct {
	// Text is the expectation as written.
	Text string `json:"text"`
	// Metric is the metric's name (see Metrics).
	Metric string `json:"metric"`
	// Op compares the measured value (left) with Bound (right).
	Op Op `json:"op"`
	// Bound is the value in the metric's unit: a fraction for ratios, seconds for
	// durations.
	Bound float64 `json:"bound"`
}

// Holds reports whether the measured value v satisfies the expectation.
func (e Expectation) Holds(v float64) bool {
	switch e.Op {
	case OpGE:
		return v >= e.Bound
	case OpLE:
		return v <= e.Bound
	case OpGT:
		return v > e.Bound
	case OpLT:
		return v < e.Bound
	}
	return false
}

// Worst returns the value of vs that comes closest to failing e (the minimum for
// lower bounds, the maximum for upper bounds): the expectation holds on every seed
// exactly when it holds for Worst. It returns NaN for no values.
func (e Expectation) Worst(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	w := vs[0]
	for _, v := range vs[1:] {
		if (e.Op == OpGE || e.Op == OpGT) && v < w || (e.Op == OpLE || e.Op == OpLT) && v > w {
			w = v
		}
	}
	return w
}

// ParseExpectation parses "metric op value" (see Expectation).
func ParseExpectation(text string) (Expectation, error) {
	t := strings.TrimSpace(text)
	var op Op
	at := -1
	for _, o := range ops {
		if i := strings.Index(t, string(o)); i >= 0 && (at < 0 || i < at) {
			op, at = o, i
		}
	}
	if at < 0 {
		return Expectation{}, fmt.Errorf("%q: want METRIC OP VALUE with OP one of >=, <=, >, < (e.g. \"true_uptime >= 99.9%%\")", text)
	}
	name := strings.TrimSpace(t[:at])
	val := strings.TrimSpace(t[at+len(op):])
	if strings.HasPrefix(val, "=") || strings.HasPrefix(val, ">") || strings.HasPrefix(val, "<") ||
		strings.HasSuffix(name, "=") || strings.HasSuffix(name, "!") {
		return Expectation{}, fmt.Errorf("%q: unknown operator; use >=, <=, > or <", text)
	}
	if name == "" {
		return Expectation{}, fmt.Errorf("%q: missing the metric before %s", text, op)
	}
	m, ok := LookupMetric(name)
	if !ok {
		if sug, ok := middlebox.ClosestOf(name, MetricNames()); ok {
			return Expectation{}, fmt.Errorf("unknown metric %q (did you mean %q?)", name, sug)
		}
		return Expectation{}, fmt.Errorf("unknown metric %q (valid: %s)", name, strings.Join(MetricNames(), ", "))
	}
	if val == "" {
		return Expectation{}, fmt.Errorf("%q: missing the value after %s", text, op)
	}
	bound, err := parseValue(m, val)
	if err != nil {
		return Expectation{}, fmt.Errorf("%s: %w", name, err)
	}
	return Expectation{Text: name + " " + string(op) + " " + val, Metric: name, Op: op, Bound: bound}, nil
}

// parseValue reads a bound in m's unit.
func parseValue(m Metric, val string) (float64, error) {
	switch m.Unit {
	case UnitRatio:
		if p, ok := strings.CutSuffix(val, "%"); ok {
			p = strings.TrimSpace(p)
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || math.IsNaN(f) || f < 0 || f > 100 || strings.ContainsAny(p, "eE") {
				return 0, fmt.Errorf("%q is not a percentage in [0%%, 100%%]", val)
			}
			// Parse "99.9e-2" rather than divide, so 99.9% is the double nearest 0.999.
			f, _ = strconv.ParseFloat(p+"e-2", 64)
			return f, nil
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) {
			return 0, fmt.Errorf("%q is not a ratio (write a percentage like 99.9%% or a fraction like 0.999)", val)
		}
		if f < 0 || f > 1 {
			return 0, fmt.Errorf("%q is outside [0, 1]; for a percentage write %s%%", val, val)
		}
		return f, nil
	case UnitSeconds:
		if val == "0" {
			return 0, nil
		}
		if _, err := strconv.ParseFloat(val, 64); err == nil {
			return 0, fmt.Errorf("duration %q has no unit (write e.g. %q)", val, val+"s")
		}
		d, err := time.ParseDuration(val)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (write e.g. \"0s\", \"30s\", \"15m\")", val)
		}
		if d < 0 {
			return 0, fmt.Errorf("%q is negative", val)
		}
		return d.Seconds(), nil
	default:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			if strings.HasSuffix(val, "%") {
				return 0, fmt.Errorf("%q: this metric is a count, not a percentage", val)
			}
			return 0, fmt.Errorf("%q is not a number", val)
		}
		if f < 0 {
			return 0, fmt.Errorf("%q is negative", val)
		}
		return f, nil
	}
}
