package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{1: "100%", 0.99987: "99.987%", 0.999: "99.9%", 0.9999999: "99.999%", 0.932: "93.2%", 0: "0%"} {
		assert.Equal(t, want, fmtPercentValue(in), "percent %v", in)
	}
	for in, want := range map[float64]string{0: "0", 0.004: "0.004", 0.42: "0.42", 3: "3", 12.34: "12.3", 5760: "5,760", 1234567: "1,234,567", -2500: "-2,500"} {
		assert.Equal(t, want, fmtNumber(in), "number %v", in)
	}
	for in, want := range map[time.Duration]string{0: "0", 230 * time.Millisecond: "230 ms", 4200 * time.Millisecond: "4.2 s", 14 * time.Minute: "14 min", 924600 * time.Millisecond: "15.4 min", 150 * time.Minute: "2.5 h"} {
		assert.Equal(t, want, fmtDuration(in), "duration %v", in)
	}
	for in, want := range map[time.Duration]string{60 * time.Second: "60 s", 240 * time.Second: "240 s", 30 * time.Minute: "30 min", 1500 * time.Millisecond: "1.5 s"} {
		assert.Equal(t, want, fmtInterval(in), "interval %v", in)
	}
	for in, want := range map[float64]string{512: "512 B", 12345: "12.3 kB", 4.1e6: "4.1 MB"} {
		assert.Equal(t, want, fmtBytes(in), "bytes %v", in)
	}
	for in, want := range map[string]string{"AWS NLB (blackhole)": "aws-nlb-blackhole", "nginx default": "nginx-default", "---": "scenario", "Ünïcode 5": "n-code-5"} {
		assert.Equal(t, want, slugify(in), "slug %q", in)
	}
	assert.Equal(t, "-aws-nlb-blackhole", mdAnchor("AWS NLB (blackhole)"))
	assert.Equal(t, `a\|b \_c\_`, mdEscape("a|b _c_"))
}

func TestNiceTicks(t *testing.T) {
	var labels []string
	for _, tk := range (niceTicks{}).Ticks(0, 100) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"0", "20", "40", "60", "80", "100"}, labels)
	labels = nil
	for _, tk := range (niceTicks{Target: 12, Steps: []float64{1, 2, 3, 4, 6, 12}}).Ticks(0, 24) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "24"}, labels)
}

func TestLogTicks125(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks125{}).Ticks(8, 750) {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"10", "20", "50", "100", "200", "500"}, labels)
	assert.Nil(t, (logTicks125{}).Ticks(0, 10), "no ticks for a non-positive range")
}

func TestNiceTicksClamp(t *testing.T) {
	for _, tk := range (niceTicks{Target: 3, Clamp: 100}).Ticks(85, 106) {
		assert.LessOrEqual(t, tk.Value, 100.0)
	}
}
