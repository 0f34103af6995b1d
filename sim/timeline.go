package sim

import "time"

// timeline bounds the bands and marks of a run (see Timeline for the rules).
func timeline(bands []Band, marks []Mark, end int64) Timeline {
	t := Timeline{MarksTotal: len(marks)}
	if len(bands) <= MaxTimelineBands {
		t.Bands = append([]Band(nil), bands...)
	} else {
		t.Bands = downsampleBands(bands, end, MaxTimelineBands)
		t.Downsampled = true
	}
	if len(marks) <= MaxTimelineMarks {
		t.Marks = append([]Mark{}, marks...)
	} else {
		t.Marks = make([]Mark, MaxTimelineMarks)
		n := len(marks)
		for i := range MaxTimelineMarks {
			t.Marks[i] = marks[i*(n-1)/(MaxTimelineMarks-1)]
		}
	}
	return t
}

// bandRank orders states for ties: down beats zombie beats up.
func bandRank(s string) int {
	switch s {
	case BandDown:
		return 2
	case BandZombie:
		return 1
	}
	return 0
}

// downsampleBands cuts [0, end) into n equal buckets, gives each the state that
// occupied most of it, and merges equal neighbours.
func downsampleBands(bands []Band, end int64, n int) []Band {
	out := make([]Band, 0, n)
	j := 0
	for i := range n {
		lo := time.Duration(end * int64(i) / int64(n))
		hi := time.Duration(end * int64(i+1) / int64(n))
		var occ [3]time.Duration
		for j < len(bands) && bands[j].End <= lo {
			j++
		}
		for k := j; k < len(bands) && bands[k].Start < hi; k++ {
			a, b := max(bands[k].Start, lo), min(bands[k].End, hi)
			if b > a {
				occ[bandRank(bands[k].State)] += b - a
			}
		}
		best := 0
		for r := 1; r < 3; r++ {
			if occ[r] >= occ[best] {
				best = r
			}
		}
		st := [3]string{BandUp, BandZombie, BandDown}[best]
		if len(out) > 0 && out[len(out)-1].State == st {
			out[len(out)-1].End = hi
			continue
		}
		out = append(out, Band{Start: lo, End: hi, State: st})
	}
	return out
}
