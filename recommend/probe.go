package recommend

import (
	"slices"
	"time"

	"github.com/kalab-dev/kalab/sweep"
)

// probeIntervals are the intervals the verification sweeps: below, at and between
// the recommended and the max safe interval, and above it up to past the
// limiting timer, where the first failure should show.
func probeIntervals(a Analysis) []time.Duration {
	R := a.Interval
	var pts []time.Duration
	switch {
	case a.NoSafeInterval:
		T := a.Limiting.Timeout
		pts = []time.Duration{T / 4, R, 3 * T / 4, T}
	case a.Unbounded:
		pts = []time.Duration{R / 2, R, 2 * R, 4 * R, 10 * R}
	default:
		T, M := a.Limiting.Timeout, a.MaxSafe
		pts = []time.Duration{R / 2, R, R + (M-R)/3, R + 2*(M-R)/3, M, M + (T-M)/2, T, T + (T - M)}
	}
	var out []time.Duration
	for _, p := range pts {
		if p == R || p == a.MaxSafe {
			out = append(out, p) // already rounded; keep exact
			continue
		}
		if p = roundDown(p); p > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// bracket finds the first failing interval (the smallest unsafe one) and the
// largest safe interval below it; ok is false when either is missing.
func bracket(cells []sweep.Cell) (lastSafe, firstFail time.Duration, ok bool) {
	found := false
	for _, c := range cells {
		if !c.Safe && (!found || c.Interval < firstFail) {
			firstFail, found = c.Interval, true
		}
	}
	if !found {
		return 0, 0, false
	}
	for _, c := range cells {
		if c.Safe && c.Interval < firstFail && c.Interval > lastSafe {
			lastSafe, ok = c.Interval, true
		}
	}
	return lastSafe, firstFail, ok
}

// between returns up to k intervals evenly spaced strictly between lo and hi,
// rounded like the analysis (roundDown), leaving out those already swept.
func between(lo, hi time.Duration, k int, cells []sweep.Cell) []time.Duration {
	var out []time.Duration
	for i := 1; i <= k; i++ {
		p := roundDown(lo + (hi-lo)*time.Duration(i)/time.Duration(k+1))
		if p <= lo || p >= hi || slices.ContainsFunc(cells, func(c sweep.Cell) bool { return c.Interval == p }) {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
