package keepalive

import (
	"context"
	"sync"
	"time"
)

// opCtx is the context of one Conn call. Its deadline is on the engine's clock
// (a fake one in tests), so it cannot be a context.WithDeadline, which reads the
// real clock: the loop cancels it itself when the deadline passes, when the call
// is superseded, or when the engine stops. It costs no goroutine and no timer;
// the Done channel is made only if the Conn asks for it.
type opCtx struct {
	parent   context.Context // for Value
	deadline time.Time       // zero: none
	start    time.Time       // when the call was dispatched (engine clock)
	seq      uint64          // heartbeat sequence (pings)
	kind     ActionKind
	expired  bool // loop-owned: the deadline passed and the loop already reported it

	mu   sync.Mutex
	done chan struct{}
	err  error
}

// closedChan is returned by Done of an opCtx cancelled before anyone asked.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *opCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

func (c *opCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *opCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *opCtx) Value(key any) any { return c.parent.Value(key) }

// cancel ends the context with err (context.Canceled or DeadlineExceeded); only
// the first call counts.
func (c *opCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}
