package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDelayHistogramBuckets(t *testing.T) {
	ms := int64(time.Millisecond)
	xs := []int64{0, ms, ms + 1, 10 * ms, 11 * ms, 95 * ms, 100 * ms, int64(15 * time.Minute), int64(40 * time.Hour)}
	h := delayHistogram(xs)
	total := 0
	prev := time.Duration(-1)
	for _, b := range h {
		assert.Greater(t, b.UpTo, prev, "ascending")
		assert.Positive(t, b.Count, "empty buckets left out")
		prev = b.UpTo
		total += b.Count
	}
	assert.Equal(t, len(xs), total, "every delay counted once")
	assert.Equal(t, DelayBucket{UpTo: time.Millisecond, Count: 2}, h[0], "0 and 1 ms in the first bucket (≤ 1 ms)")
	assert.Equal(t, time.Duration(delayEdge(1)), h[1].UpTo, "1 ms + 1 ns in (1 ms, 1.26 ms]")
	assert.Equal(t, DelayBucket{UpTo: 10 * time.Millisecond, Count: 1}, h[2], "an edge value belongs to the bucket it closes")
	assert.Equal(t, DelayBucket{UpTo: 40 * time.Hour, Count: 1}, h[len(h)-1], "beyond the last edge: a final bucket up to the max")
	assert.Nil(t, delayHistogram(nil))
}

func TestRTTTimelineBuckets(t *testing.T) {
	var m metrics
	end := int64(24 * time.Hour)
	m.addRTT(0, end, int64(100*time.Millisecond))
	m.addRTT(int64(time.Minute), end, int64(300*time.Millisecond))
	m.addRTT(end, end, int64(50*time.Millisecond)) // the last instant: last bucket
	tl := m.rttTimeline(end)
	require.Len(t, tl, 2)
	assert.Equal(t, RTTPoint{At: 0, Mean: 200 * time.Millisecond, Max: 300 * time.Millisecond, N: 2}, tl[0])
	assert.Equal(t, time.Duration(RTTTimelineBuckets-1)*6*time.Minute, tl[1].At)
}

// TestResultDistributions checks the plotted distributions against the run's own
// counts: the histogram holds every delivered message, the RTT timeline every
// accepted ping.
func TestResultDistributions(t *testing.T) {
	r, err := Simulate(richRun(3))
	require.NoError(t, err)
	require.Positive(t, r.MessagesDelivered)
	require.Positive(t, r.RTTSamples)
	n := 0
	for _, b := range r.DeliveryDelayHistogram {
		n += b.Count
	}
	assert.Equal(t, r.MessagesDelivered, n)
	assert.LessOrEqual(t, r.DeliveryDelayMax, r.DeliveryDelayHistogram[len(r.DeliveryDelayHistogram)-1].UpTo, "the max lies in the last bucket")
	n = 0
	for _, p := range r.RTTTimeline {
		n += p.N
		assert.LessOrEqual(t, p.Mean, p.Max)
		assert.LessOrEqual(t, p.Max, r.RTTMax)
	}
	assert.Equal(t, r.RTTSamples, n)
	assert.LessOrEqual(t, len(r.RTTTimeline), RTTTimelineBuckets)
}
