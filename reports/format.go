package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtPercentValue formats a fraction (0..1) as a percentage with enough digits to
// tell 99.9% from 99.99%: "100%", "99.987%", "99.9%", "93.2%".
func fmtPercentValue(f float64) string {
	p := 100 * f
	switch {
	case p >= 100:
		return "100%"
	case p >= 99.9:
		return trimZeros(strconv.FormatFloat(math.Floor(p*1000)/1000, 'f', 3, 64)) + "%"
	default:
		return trimZeros(strconv.FormatFloat(p, 'f', 2, 64)) + "%"
	}
}

// fmtNumber formats a count or rate compactly: "0", "0.42", "12.3", "5,760".
func fmtNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a < 0.01:
		return strconv.FormatFloat(v, 'g', 2, 64)
	case a < 10:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	case a < 100:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	}
	return thousands(int64(math.Round(v)))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtDuration formats a duration for people: "0", "230 ms", "4.2 s", "14 min",
// "2.5 h".
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return fmt.Sprintf("%s ms", trimZeros(strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)))
	case d < time.Minute:
		return fmt.Sprintf("%s s", trimZeros(strconv.FormatFloat(d.Seconds(), 'f', 1, 64)))
	case d < time.Hour:
		return fmt.Sprintf("%s min", trimZeros(strconv.FormatFloat(d.Minutes(), 'f', 1, 64)))
	}
	return fmt.Sprintf("%s h", trimZeros(strconv.FormatFloat(d.Hours(), 'f', 1, 64)))
}

// fmtBytes formats a byte count: "512 B", "12.3 kB", "4.1 MB".
func fmtBytes(b float64) string {
	switch {
	case b < 1000:
		return fmt.Sprintf("%.0f B", b)
	case b < 1e6:
		return trimZeros(strconv.FormatFloat(b/1e3, 'f', 1, 64)) + " kB"
	case b < 1e9:
		return trimZeros(strconv.FormatFloat(b/1e6, 'f', 1, 64)) + " MB"
	}
	return trimZeros(strconv.FormatFloat(b/1e9, 'f', 1, 64)) + " GB"
}

// slugify returns a lower-case file-name and anchor safe form of s.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return "scenario"
	}
	return out
}

// fmtInterval formats a heartbeat interval the way people quote them: whole
// seconds below 5 min ("60 s", "240 s"), fmtDuration otherwise.
func fmtInterval(d time.Duration) string {
	if d >= time.Second && d < 5*time.Minute && d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmtDuration(d)
}
