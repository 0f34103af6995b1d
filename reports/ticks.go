package reports

import (
	"math"

	"gonum.org/v1/plot"
)

// niceTicks places about Target labelled ticks at round values (1, 2, 2.5 or 5
// times a power of ten, or the Steps given) with unlabelled minor ticks between,
// and labels them compactly ("0", "25", "5,000").
type niceTicks struct {
	// Target is the wanted number of labelled ticks. Default: 6.
	Target int
	// Steps, when set, are the only allowed distances between labelled ticks
	// (e.g. 1, 2, 3, 4, 6, 12 hours); otherwise decades of 1, 2, 2.5, 5.
	Steps []float64
	// Clamp, when non-zero, drops ticks above it (an uptime axis padded past 100 %
	// for its labels shows no "105").
	Clamp float64
}

// Ticks implements plot.Ticker.
func (n niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []plot.Tick{{Value: lo, Label: fmtNumber(lo)}}
	}
	target := n.Target
	if target <= 0 {
		target = 6
	}
	raw := (hi - lo) / float64(target)
	step := 0.0
	if len(n.Steps) > 0 {
		step = n.Steps[len(n.Steps)-1]
		for _, s := range n.Steps {
			if s >= raw {
				step = s
				break
			}
		}
	} else {
		mag := math.Pow(10, math.Floor(math.Log10(raw)))
		for _, m := range []float64{1, 2, 2.5, 5, 10} {
			if m*mag >= raw {
				step = m * mag
				break
			}
		}
	}
	minor := step / 5
	if len(n.Steps) > 0 || math.Abs(step/math.Pow(10, math.Floor(math.Log10(step)))-2.5) < 1e-9 {
		minor = step / 2
	}
	var ticks []plot.Tick
	start := math.Ceil(lo/minor-1e-9) * minor
	for v := start; v <= hi+1e-9*minor; v += minor {
		k := math.Round(v / minor)
		val := k * minor
		if math.Abs(math.Remainder(val, step)) < 1e-6*step {
			ticks = append(ticks, plot.Tick{Value: val, Label: fmtNumber(val)})
		} else {
			ticks = append(ticks, plot.Tick{Value: val})
		}
		v = val
	}
	if n.Clamp != 0 {
		kept := ticks[:0]
		for _, tk := range ticks {
			if tk.Value <= n.Clamp+1e-9 {
				kept = append(kept, tk)
			}
		}
		ticks = kept
	}
	return ticks
}

// logTicks125 labels 1, 2 and 5 times each power of ten within the range, for a
// logarithmic axis whose data spans less than a few decades.
type logTicks125 struct{}

// Ticks implements plot.Ticker.
func (logTicks125) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ticks = append(ticks, plot.Tick{Value: v, Label: fmtNumber(v)})
			}
		}
	}
	return ticks
}
