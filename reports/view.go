package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
)

// day is the unit of every "per day" figure.
const day = 24 * time.Hour

// buildView flattens results into what the renderers draw: per client the mean of
// each metric over its seeds (per-day figures scaled to 24 h), the worst for
// maxima, the first seed's timeline, and the verdicts formatted with units.
func buildView(r *Results, title string) view {
	v := view{Title: title}
	slugs := map[string]int{}
	for _, s := range r.Scenarios {
		sv := scenarioView{Name: s.Name, Description: s.Description, Duration: s.Duration, Seeds: len(s.Seeds)}
		sv.Slug = slugify(s.Name)
		if n := slugs[sv.Slug]; n > 0 {
			slugs[sv.Slug]++
			sv.Slug = fmt.Sprintf("%s-%d", sv.Slug, n+1)
		} else {
			slugs[sv.Slug] = 1
		}
		for _, c := range s.Clients {
			sv.Clients = append(sv.Clients, buildClient(c))
		}
		if sv.Seeds == 0 && len(sv.Clients) > 0 {
			sv.Seeds = len(s.Clients[0].Runs)
		}
		v.Scenarios = append(v.Scenarios, sv)
	}
	return v
}

// buildClient aggregates one client's runs.
func buildClient(c Client) clientView {
	cv := clientView{Name: c.Name, Policy: policyText(c.Config), CausesPerDay: map[string]float64{}, DetectedBy: map[string]float64{}}
	n := float64(len(c.Runs))
	var days float64
	var detectN float64
	hist := map[time.Duration]int{}
	for _, r := range c.Runs {
		days += r.Duration.Hours() / 24
	}
	for _, r := range c.Runs {
		cv.TrueUptime += r.TrueUptime / n
		cv.ReportedUptime += r.ReportedUptime / n
		cv.DisconnectsPerDay += r.DisconnectsPerDay / n
		cv.HeartbeatsPerDay += r.HeartbeatsPerDay / n
		cv.BytesPerDay += r.BytesPerDay / n
		cv.PresencePerDay += r.PresencePerDay / n
		cv.ZombieLongest = max(cv.ZombieLongest, r.ZombieMax)
		for k, x := range r.DisconnectsByCause {
			cv.CausesPerDay[k] += float64(x) / days
		}
		for k, x := range r.DetectedBy {
			cv.DetectedBy[k] += float64(x) / days
		}
		if r.Disconnects > 0 {
			cv.DetectMean += r.TimeToDetectMean
			detectN++
		}
		cv.DetectMax = max(cv.DetectMax, r.TimeToDetectMax)
		if r.MessagesDelivered > 0 {
			cv.HasDelay = true
			cv.DelayP50 += r.DeliveryDelayP50
			cv.DelayP99 += r.DeliveryDelayP99
			cv.DelayMax = max(cv.DelayMax, r.DeliveryDelayMax)
			cv.delayRuns = append(cv.delayRuns, delayQuantiles{P50: r.DeliveryDelayP50, P99: r.DeliveryDelayP99, Max: r.DeliveryDelayMax})
			for _, b := range r.DeliveryDelayHistogram {
				hist[b.UpTo] += b.Count
			}
		}
		if cv.Timeline == nil && (len(r.Timeline.Bands) > 0 || len(r.IntervalTrajectory) > 0) {
			cv.Timeline = buildTimeline(r)
		}
	}
	if days > 0 {
		var zombie, episodes float64
		for _, r := range c.Runs {
			zombie += float64(r.ZombieTime)
			episodes += float64(r.ZombieEvents)
		}
		cv.ZombiePerDay = time.Duration(zombie / days)
		cv.ZombieEpisodes = episodes / days
		cv.Reconnects = 0
		for _, r := range c.Runs {
			cv.Reconnects += float64(r.Reconnects) / days
		}
	}
	if detectN > 0 {
		cv.DetectMean = time.Duration(float64(cv.DetectMean) / detectN)
	}
	for up, n := range hist {
		cv.DelayHist = append(cv.DelayHist, histBucket{UpTo: up, Count: n})
	}
	sort.Slice(cv.DelayHist, func(i, j int) bool { return cv.DelayHist[i].UpTo < cv.DelayHist[j].UpTo })
	if k := len(cv.delayRuns); k > 0 {
		cv.DelayP50 /= time.Duration(k)
		cv.DelayP99 /= time.Duration(k)
	}
	for _, vd := range c.Verdicts {
		cv.Checks = append(cv.Checks, checkView{
			Expectation: vd.Expectation,
			Metric:      vd.Metric,
			Measured:    fmtUnit(vd.Measured, vd.Unit) + worstSeed(vd, len(c.Runs)),
			Bound:       opSymbol(vd.Op) + " " + fmtUnit(vd.Bound, vd.Unit),
			Passed:      vd.Passed,
		})
	}
	return cv
}

// opSymbol returns the mathematical sign of a comparison operator.
func opSymbol(op string) string {
	switch op {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return op
}

func worstSeed(v Verdict, runs int) string {
	if runs <= 1 {
		return ""
	}
	return fmt.Sprintf(" (worst seed %d)", v.WorstSeed)
}

// fmtUnit formats a verdict number in its unit: "ratio" as a percentage, "seconds"
// as a duration, anything else as a number.
func fmtUnit(x float64, unit string) string {
	switch unit {
	case "ratio":
		return fmtPercentValue(x)
	case "seconds":
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return fmtDuration(time.Duration(x * float64(time.Second)))
	}
	return fmtNumber(x)
}

// buildTimeline converts a run's timeline and interval trajectory.
func buildTimeline(r sim.Result) *timelineView {
	t := &timelineView{Seed: r.Seed, Duration: r.Duration}
	for _, b := range r.Timeline.Bands {
		st := stateDown
		switch b.State {
		case sim.BandUp:
			st = stateUp
		case sim.BandZombie:
			st = stateZombie
		}
		t.Bands = append(t.Bands, bandView{From: b.Start, To: b.End, State: st})
	}
	for _, p := range r.IntervalTrajectory {
		t.Interval = append(t.Interval, pointView{At: p.At, Value: p.Interval.Seconds()})
	}
	for _, p := range r.RTTTimeline {
		t.RTT = append(t.RTT, pointView{At: p.At, Value: float64(p.Mean) / float64(time.Millisecond)})
	}
	for _, m := range r.Timeline.Marks {
		t.Disconnects = append(t.Disconnects, markView{At: m.At, Cause: m.Cause})
	}
	if t.Duration == 0 && len(t.Bands) > 0 {
		t.Duration = t.Bands[len(t.Bands)-1].To
	}
	return t
}

// policyText describes a keep-alive policy in a few words: "presence every 60 s",
// "ping every 20–40 s", "adaptive ping 10 s–5 min".
func policyText(c keepalive.Config) string {
	strat := string(c.Strategy)
	if c.Strategy == keepalive.StrategyFallback && c.Fallback.Primary != "" {
		strat = fmt.Sprintf("%s, then %s", c.Fallback.Primary, c.Fallback.Secondary)
	}
	if strat == "" {
		return ""
	}
	switch c.IntervalMode {
	case keepalive.IntervalAdaptive:
		if c.Adaptive.Floor > 0 && c.Adaptive.Ceiling > 0 {
			return fmt.Sprintf("adaptive %s %s–%s", strat, fmtInterval(c.Adaptive.Floor), fmtInterval(c.Adaptive.Ceiling))
		}
		return "adaptive " + strat
	case keepalive.IntervalRandom:
		if c.IntervalMin > 0 && c.IntervalMax > 0 {
			return fmt.Sprintf("%s every %s–%s", strat, strings.TrimSuffix(fmtInterval(c.IntervalMin), " s"), fmtInterval(c.IntervalMax))
		}
	}
	if c.Interval > 0 {
		return fmt.Sprintf("%s every %s", strat, fmtInterval(c.Interval))
	}
	return strat
}
