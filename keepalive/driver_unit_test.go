package keepalive

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeadlineHeapRandomOps(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		var h deadlineHeap
		var live []*entry
		for op := 0; op < 1000; op++ {
			switch r := rng.IntN(10); {
			case r < 4 || len(live) == 0:
				e := &entry{key: rng.Int64N(1000), idx: -1}
				h.push(e)
				live = append(live, e)
			case r < 7:
				e := live[rng.IntN(len(live))]
				e.key = rng.Int64N(1000)
				h.fix(int(e.idx))
			default:
				i := rng.IntN(len(live))
				h.remove(live[i])
				assert.Equal(t, int32(-1), live[i].idx)
				live = append(live[:i], live[i+1:]...)
			}
			require.Len(t, h, len(live), "seed %d op %d", seed, op)
			for i, e := range h {
				// Plain checks: testify per element would dominate the run time.
				if e.idx != int32(i) {
					t.Fatalf("seed %d op %d: entry at %d has idx %d", seed, op, i, e.idx)
				}
				if i > 0 && h[(i-1)/2].key > e.key {
					t.Fatalf("seed %d op %d: parent of %d has a larger key", seed, op, i)
				}
			}
		}
		keys := make([]int64, len(live))
		for i, e := range live {
			keys[i] = e.key
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			require.Equal(t, k, h[0].key, "seed %d: pops in key order", seed)
			h.remove(h[0])
		}
	}
}

func TestOpCtx(t *testing.T) {
	parent := context.WithValue(context.Background(), struct{}{}, "v")
	dl := time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)
	c := &opCtx{parent: parent, deadline: dl}
	got, ok := c.Deadline()
	assert.True(t, ok)
	assert.Equal(t, dl, got)
	assert.Equal(t, "v", c.Value(struct{}{}))
	assert.NoError(t, c.Err())
	done := c.Done()
	select {
	case <-done:
		t.Fatal("done before cancel")
	default:
	}
	c.cancel(context.DeadlineExceeded)
	c.cancel(context.Canceled) // the first cause wins
	<-done
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)

	late := &opCtx{parent: parent}
	late.cancel(context.Canceled)
	<-late.Done() // asked after cancel: already closed
	_, ok = late.Deadline()
	assert.False(t, ok)
}

func TestSessionRandDeterministic(t *testing.T) {
	a, err := NewEngine(EngineOptions{Seed: 42, Logger: discardLogger()})
	require.NoError(t, err)
	b, err := NewEngine(EngineOptions{Seed: 42, Logger: discardLogger()})
	require.NoError(t, err)
	c, err := NewEngine(EngineOptions{Seed: 43, Logger: discardLogger()})
	require.NoError(t, err)
	draw := func(e *Engine, id string) [4]uint64 {
		r := e.sessionRand(id)
		return [4]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	}
	assert.Equal(t, draw(a, "x"), draw(b, "x"), "same seed and ID")
	assert.NotEqual(t, draw(a, "x"), draw(a, "y"), "sessions differ")
	assert.NotEqual(t, draw(a, "x"), draw(c, "x"), "seeds differ")
}

func TestErrorCause(t *testing.T) {
	assert.Equal(t, CauseReset, ErrorCause(WithCause(errBoom, CauseReset)))
	assert.ErrorIs(t, WithCause(errBoom, CauseReset), errBoom)
	assert.Equal(t, CauseUnknown, ErrorCause(errBoom))
	assert.NoError(t, WithCause(nil, CauseReset))
}
