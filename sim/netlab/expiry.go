package netlab

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// ExpiryRecord is one middlebox timer that fired on one connection: the lab's ground
// truth for "the path ended this connection" (no probe traffic is needed to learn it).
type ExpiryRecord struct {
	// At is when the timer fired (Options.Clock).
	At time.Time `json:"at"`
	// Hop is the middlebox's name (Spec.Name, or "hop<i>" when empty).
	Hop string `json:"hop"`
	// HopIndex is the hop's position on the path, 0 = next to the client.
	HopIndex int `json:"hop_index"`
	// Conn is the connection's sequence number at this hop, from 1 in accept order.
	Conn uint64 `json:"conn"`
	// Kind is the timer kind (idle or lifetime).
	Kind middlebox.Kind `json:"kind"`
	// Action is what the hop did: close, reset or blackhole.
	Action middlebox.Expiry `json:"action"`
	// Age is the connection's age at expiry (since this hop accepted it), scaled time.
	Age time.Duration `json:"age"`
	// Idle is the time since the last byte in a watched direction (idle timers), or
	// the age (lifetime timers), scaled time.
	Idle time.Duration `json:"idle"`
}

// String is a one-line description for logs.
func (r ExpiryRecord) String() string {
	return fmt.Sprintf("%s hop %d (%s) conn %d: %s %s after %v idle, age %v",
		r.At.Format("15:04:05.000"), r.HopIndex, r.Hop, r.Conn, r.Kind, r.Action,
		r.Idle.Round(time.Millisecond), r.Age.Round(time.Millisecond))
}

// ExpiryLog is an append-only, goroutine-safe log of expiries, in firing order.
type ExpiryLog struct {
	mu      sync.Mutex
	recs    []ExpiryRecord
	changed chan struct{} // closed and replaced on every append
}

// NewExpiryLog returns an empty log.
func NewExpiryLog() *ExpiryLog {
	return &ExpiryLog{changed: make(chan struct{})}
}

func (l *ExpiryLog) append(r ExpiryRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	close(l.changed)
	l.changed = make(chan struct{})
}

// Records returns a copy of every record so far.
func (l *ExpiryLog) Records() []ExpiryRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ExpiryRecord(nil), l.recs...)
}

// Len returns the number of records so far.
func (l *ExpiryLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// Wait blocks until the log holds at least n records or ctx ends, and returns a
// copy of the records; on ctx's end it returns the records so far and ctx's error.
func (l *ExpiryLog) Wait(ctx context.Context, n int) ([]ExpiryRecord, error) {
	for {
		l.mu.Lock()
		if len(l.recs) >= n {
			recs := append([]ExpiryRecord(nil), l.recs...)
			l.mu.Unlock()
			return recs, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return l.Records(), fmt.Errorf("netlab: waiting for %d expiries: %w", n, ctx.Err())
		}
	}
}
