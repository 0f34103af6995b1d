package sim

import (
	"math"
	"time"
)

// Distributions kept for plots (reports): the delivery delay histogram and the RTT
// over time. Both are bounded in size whatever the run's length, so results.json
// stays small.

// DelayBucket counts the delivered messages whose delay is in (previous UpTo, UpTo].
type DelayBucket struct {
	// UpTo is the bucket's upper edge (inclusive).
	UpTo time.Duration `json:"up_to"`
	// Count is the number of messages in the bucket.
	Count int `json:"count"`
}

// Delay histogram edges: ten per decade from 1 ms (1 ms × 10^(k/10)), up to
// delayEdges-1 decades tenths; a delay beyond the last edge is counted in a final
// bucket whose UpTo is the largest delay.
const delayEdges = 81 // 1 ms … 10^8 ms (about 28 h)

// delayEdge returns the k-th bucket edge.
func delayEdge(k int) int64 {
	if k < len(delayEdgeTable) {
		return delayEdgeTable[k]
	}
	return computeDelayEdge(k)
}

func computeDelayEdge(k int) int64 {
	return int64(math.Round(float64(time.Millisecond) * math.Pow(10, float64(k)/10)))
}

// delayEdgeTable holds the edges, computed once (math.Pow per message cost a
// simulated day several percent of its time).
var delayEdgeTable = func() (t [delayEdges + 1]int64) {
	for k := range t {
		t[k] = computeDelayEdge(k)
	}
	return t
}()

// delayHistogram counts xs (nanoseconds) into log-spaced buckets and returns the
// non-empty ones in ascending order.
func delayHistogram(xs []int64) []DelayBucket {
	if len(xs) == 0 {
		return nil
	}
	var counts [delayEdges + 1]int
	var mx int64
	for _, x := range xs {
		mx = max(mx, x)
		k := 0
		if x > int64(time.Millisecond) {
			k = int(math.Ceil(10 * math.Log10(float64(x)/float64(time.Millisecond))))
			// Guard the float rounding at an edge: x must be ≤ edge(k) and > edge(k-1).
			for k > 0 && x <= delayEdge(k-1) {
				k--
			}
			for k < delayEdges && x > delayEdge(k) {
				k++
			}
		}
		counts[min(k, delayEdges)]++
	}
	var out []DelayBucket
	for k, n := range counts {
		if n == 0 {
			continue
		}
		up := mx
		if k < delayEdges {
			up = delayEdge(k)
		}
		out = append(out, DelayBucket{UpTo: time.Duration(up), Count: n})
	}
	return out
}

// RTTTimelineBuckets is the number of equal time buckets RTTTimeline divides a run
// into.
const RTTTimelineBuckets = 240

// RTTPoint is the RTT of the pings acknowledged in one time bucket of the run.
type RTTPoint struct {
	// At is the start of the bucket from the start of the run.
	At time.Duration `json:"at"`
	// Mean and Max are the mean and largest RTT in the bucket.
	Mean time.Duration `json:"mean"`
	Max  time.Duration `json:"max"`
	// N is the number of pings acknowledged in the bucket (never 0).
	N int `json:"n"`
}

// rttBucket accumulates one bucket of the RTT timeline.
type rttBucket struct {
	sum, max int64
	n        int
}

// addRTT records an acknowledged ping's rtt at time now of a run ending at end.
func (m *metrics) addRTT(now, end, rtt int64) {
	w := max((end+RTTTimelineBuckets-1)/RTTTimelineBuckets, 1)
	i := min(int(now/w), RTTTimelineBuckets-1)
	b := &m.rttBuckets[i]
	b.sum += rtt
	b.max = max(b.max, rtt)
	b.n++
}

// rttTimeline returns the non-empty buckets of the RTT timeline.
func (m *metrics) rttTimeline(end int64) []RTTPoint {
	w := max((end+RTTTimelineBuckets-1)/RTTTimelineBuckets, 1)
	var out []RTTPoint
	for i, b := range m.rttBuckets {
		if b.n == 0 {
			continue
		}
		out = append(out, RTTPoint{At: time.Duration(int64(i) * w), Mean: time.Duration(b.sum / int64(b.n)), Max: time.Duration(b.max), N: b.n})
	}
	return out
}
