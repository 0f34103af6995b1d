package recommend

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the recommendation for a person: the answer first, then the
// evidence, the warnings and the sweep.
func (r *Recommendation) WriteText(w io.Writer) error {
	a := r.analysis
	var b strings.Builder
	fmt.Fprintf(&b, "Path: %s\n", r.Path)
	if len(a.Timers) == 0 {
		b.WriteString("  no timer on this path\n")
	}
	for _, t := range a.Timers {
		how := "lifetime: nothing re-arms it"
		if t.Kind == "idle" {
			how = fmt.Sprintf("idle, watches %s: ", t.Watches)
			if t.Rearmed {
				how += "re-armed by " + r.Strategy
			} else {
				how += "NOT re-armed by " + r.Strategy
			}
		}
		fmt.Fprintf(&b, "  %-22s %8s  %s, %s at expiry\n", t.Box, fmtDur(t.Timeout), how, t.AtExpiry)
	}
	switch {
	case a.NoSafeInterval:
		fmt.Fprintf(&b, "Max safe interval: none (%s's %s timer is within the margin %s)\n", a.Limiting.Box, fmtDur(a.Limiting.Timeout), fmtDur(a.Margin))
	case a.Unbounded:
		b.WriteString("Max safe interval: unbounded (no timer the strategy re-arms)\n")
	default:
		fmt.Fprintf(&b, "Max safe interval: %s = %s (%s) − margin %s\n", fmtDur(a.MaxSafe), fmtDur(a.Limiting.Timeout), a.Limiting.Box, fmtDur(a.Margin))
	}
	fmt.Fprintf(&b, "Detection budget: %s (reply deadline %s) → interval ≤ %s\n\n", fmtDur(secs(r.DetectWithinSeconds)), fmtDur(secs(r.ReplyDeadlineSeconds)), fmtDur(a.DetectionCap))

	if r.NoIntervalHelps {
		b.WriteString("NO INTERVAL CAN HELP on this path (see warnings); the interval below only bounds detection.\n")
	}
	fmt.Fprintf(&b, "Recommended: %s\n", r.Recommended.Policy)
	same := r.Recommended.Policy == r.FixedAlternative.Policy
	if !same {
		fmt.Fprintf(&b, "  fixed-interval alternative: %s\n", r.FixedAlternative.Policy)
	}
	verdict := "verified"
	switch {
	case r.NoIntervalHelps || r.NoSafeInterval:
		verdict = "measured"
	case !r.Verified:
		verdict = "NOT verified"
	}
	fmt.Fprintf(&b, "  %s over %d seeds × %s (inbound %s/h, %d fault(s))\n\n", verdict, len(r.Seeds), fmtDur(secs(r.DurationSeconds)), fmtNum(r.InboundPerHour), len(r.Faults))

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\ttrue uptime\tworst seed\tdisconnects/day\tzombie/day\theartbeats/day\tpresence/day\tbytes/day")
	rows := []Outcome{r.Recommended}
	if !same {
		rows = append(rows, r.FixedAlternative)
	}
	if r.AtMaxSafe != nil {
		rows = append(rows, *r.AtMaxSafe)
	}
	rows = append(rows, r.Seed)
	for _, o := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Policy, pct(o.TrueUptime), pct(o.TrueUptimeMin),
			fmtNum(o.DisconnectsPerDay), fmtDur(secs(o.ZombieSecondsPerDay).Round(time.Second)), fmtNum(o.HeartbeatsPerDay), fmtNum(o.PresencePerDay), fmtBytes(o.BytesPerDay))
	}
	_ = tw.Flush()
	b.WriteString("\n")
	if r.FirstFailingIntervalSeconds != nil {
		fmt.Fprintf(&b, "First failing interval: %s, %s above the recommendation", fmtDur(secs(*r.FirstFailingIntervalSeconds)), fmtDur(secs(*r.MarginToFirstFailureSeconds)))
		if a.MaxSafe > 0 {
			fmt.Fprintf(&b, " and %s above the max safe interval", fmtDur(secs(*r.FirstFailingIntervalSeconds)-a.MaxSafe))
		}
		b.WriteString(".\n")
	} else if !r.NoIntervalHelps {
		fmt.Fprintf(&b, "No swept interval above the recommendation failed (up to %s).\n", fmtDur(secs(r.Sweep[len(r.Sweep)-1].IntervalSeconds)))
	}
	down := (r.ExpectedTrueUptime - r.Seed.TrueUptime) * 86400
	disc := r.Seed.DisconnectsPerDay - r.DisconnectsPerDay
	fmt.Fprintf(&b, "Instead of the seed's presence every 60s (true uptime %s, %s disconnects/day, %s presence updates/day): %s %s downtime/day, %s %s disconnects/day.\n",
		pct(r.Seed.TrueUptime), fmtNum(r.Seed.DisconnectsPerDay), fmtNum(r.Seed.PresencePerDay),
		fmtDur(secs(abs(down)).Round(time.Second)), moreLess(down, "less", "more"),
		fmtNum(abs(disc)), moreLess(disc, "fewer", "more"))

	if len(r.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", w)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	b.WriteString("\nSweep (fixed interval, worst seed):\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  interval\ttrue uptime\tdisconnects/day\tidle disconnects\theartbeats/day\tsafe\t")
	for _, p := range r.Sweep {
		mark := ""
		switch {
		case p.IntervalSeconds == r.IntervalSeconds:
			mark = "← recommended"
		case r.MaxSafeIntervalSeconds != nil && p.IntervalSeconds == *r.MaxSafeIntervalSeconds:
			mark = "← max safe"
		}
		safe := "no"
		if p.Safe {
			safe = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\n", fmtDur(secs(p.IntervalSeconds)), pct(p.TrueUptimeMin), fmtNum(p.DisconnectsPerDay), p.IdleDisconnects, fmtNum(p.HeartbeatsPerDay), safe, mark)
	}
	_ = tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

func secs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// moreLess picks the word for a saving f (positive: the recommendation saves).
func moreLess(f float64, saved, worse string) string {
	if f < 0 {
		return worse
	}
	return saved
}
