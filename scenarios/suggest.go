package scenarios

import "strings"

// closest returns the candidate nearest to name by edit distance, for "did you
// mean" suggestions; ok is false when none is close enough to be a plausible typo
// (distance above max(2, len(name)/3) and neither contains the other).
func closest(name string, candidates []string) (string, bool) {
	if name == "" {
		return "", false
	}
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(name, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(name)/3) {
		return best, true
	}
	if len(name) < 3 {
		return "", false
	}
	best, bestD = "", -1
	for _, c := range candidates {
		if strings.Contains(c, name) || strings.Contains(name, c) {
			if d := editDistance(name, c); bestD < 0 || d < bestD {
				best, bestD = c, d
			}
		}
	}
	return best, bestD >= 0
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
