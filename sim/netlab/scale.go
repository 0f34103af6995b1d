package netlab

import (
	"fmt"
	"math"
	"time"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// DefaultScale is the time scale used when none is given: every duration of a path
// and a network is divided by it (a 60 s idle timeout becomes 600 ms).
const DefaultScale = 100

// DefaultMinTimer is the shortest scaled middlebox timer accepted by default.
// Loopback round trips, goroutine scheduling and the race detector on a loaded
// 2-core machine add jitter of a few milliseconds; below about 20 ms that jitter is
// a sizeable part of the timer and the lab's verdicts stop meaning anything.
const DefaultMinTimer = 20 * time.Millisecond

// normScale returns the scale to use (DefaultScale for 0) or an error for a scale
// that is not a positive finite number.
func normScale(scale float64) (float64, error) {
	switch {
	case scale == 0:
		return DefaultScale, nil
	case math.IsNaN(scale) || math.IsInf(scale, 0) || scale < 0:
		return 0, fmt.Errorf("netlab: time scale %v: must be a positive number (0 means the default %d)", scale, DefaultScale)
	}
	return scale, nil
}

// scaled divides d by scale, to the nanosecond.
func scaled(d time.Duration, scale float64) time.Duration {
	return time.Duration(math.Round(float64(d) / scale))
}

// hopName is a hop's name in records and proxy names.
func hopName(index int, s middlebox.Spec) string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("hop%d", index)
}

// checkSpec validates a spec (middlebox.Spec.Validate) and returns its scaled
// timer (0 for a hop without a timer), refusing timers shorter than minTimer.
func checkSpec(index int, s middlebox.Spec, scale float64, minTimer time.Duration) (time.Duration, error) {
	where := fmt.Sprintf("netlab: path[%d] (%s)", index, hopName(index, s))
	if err := s.Validate(); err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	if s.Kind == middlebox.KindNone {
		return 0, nil
	}
	t := scaled(s.Timeout, scale)
	if t < minTimer {
		return 0, fmt.Errorf("%s: timeout %v at time scale %g is %v, below %v, the shortest timer loopback timing resolves reliably (scheduling and race-detector jitter are a few ms); use a time scale of at most %g",
			where, s.Timeout, scale, t, minTimer, math.Floor(float64(s.Timeout)/float64(minTimer)))
	}
	return t, nil
}
