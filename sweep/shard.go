package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects one of Count disjoint parts of a sweep. Cells (path × strategy ×
// interval, in sweep order) are dealt round-robin: cell k (from 0) belongs to shard
// k mod Count + 1, so every shard gets a similar mix of short and long intervals.
// The zero value is the whole sweep.
type Shard struct {
	// Index is the shard's number, 1..Count.
	Index int
	// Count is the number of shards. 0 or 1 = the whole sweep.
	Count int
}

// Whole reports whether s selects the whole sweep.
func (s Shard) Whole() bool { return s.Count <= 1 }

// String is "i/n", or "1/1" for the whole sweep.
func (s Shard) String() string {
	if s.Whole() {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// holds reports whether cell k (from 0, in sweep order) belongs to the shard.
func (s Shard) holds(k int) bool {
	return s.Whole() || k%s.Count == s.Index-1
}

// ParseShard parses "i/n": the i-th (1-based) of n shards. For a Kubernetes indexed
// job, whose JOB_COMPLETION_INDEX starts at 0, pass $((JOB_COMPLETION_INDEX+1))/n.
func ParseShard(text string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(text), "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: want i/n, e.g. 2/4 (the second of four parts)", text)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: i and n must be whole numbers, e.g. 2/4", text)
	}
	if n < 1 {
		return Shard{}, fmt.Errorf("--shard %q: n must be ≥ 1", text)
	}
	if i < 1 || i > n {
		return Shard{}, fmt.Errorf("--shard %q: i must be within 1..%d (shards count from 1)", text, n)
	}
	return Shard{Index: i, Count: n}, nil
}
