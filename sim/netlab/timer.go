package netlab

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// dir indexes the two directions of a proxied connection, with the same values as
// Toxiproxy's stream.Upstream and stream.Downstream.
type dir int

const (
	up   dir = 0 // client → server: this stub's output is the server-facing socket
	down dir = 1 // server → client: this stub's output is the client-facing socket
)

func (d dir) other() dir { return 1 - d }

func (d dir) String() string {
	if d == up {
		return "up"
	}
	return "down"
}

// hopTimer is the timer configuration of one middlebox hop, shared by its two
// toxics (one per direction), and the registry of its live connections.
type hopTimer struct {
	index       int
	name        string
	kind        middlebox.Kind
	timeout     time.Duration // scaled
	watches     [2]bool       // which directions re-arm an idle timer
	action      middlebox.Expiry
	resetOnNext bool
	clock       clockwork.Clock
	log         *ExpiryLog
	done        chan struct{} // closed by shutdown: every held connection is released

	mu       sync.Mutex
	seq      uint64
	pending  *connTimer // opened by the upstream stub, not yet paired (see toxic.go)
	live     map[*connTimer]struct{}
	closing  bool
	emptied  chan struct{} // closed when closing and live is empty
	pairErrs []string
}

// newHopTimer builds the timer of hop index from its spec; timeout is already
// scaled. The spec must be a valid idle or lifetime timer.
func newHopTimer(index int, s middlebox.Spec, timeout time.Duration, clock clockwork.Clock, log *ExpiryLog) *hopTimer {
	h := &hopTimer{
		index:       index,
		name:        hopName(index, s),
		kind:        s.Kind,
		timeout:     timeout,
		action:      s.AtExpiry,
		resetOnNext: s.ResetOnNextPacket,
		clock:       clock,
		log:         log,
		done:        make(chan struct{}),
		live:        make(map[*connTimer]struct{}),
		emptied:     make(chan struct{}),
	}
	if s.Kind == middlebox.KindIdle {
		h.watches[up] = s.Watches == middlebox.Up || s.Watches == middlebox.Both
		h.watches[down] = s.Watches == middlebox.Down || s.Watches == middlebox.Both
	}
	return h
}

// needsLinger reports whether the hop's sockets must close with an RST (SO_LINGER 0).
func (h *hopTimer) needsLinger() bool {
	return h.action == middlebox.Reset || (h.action == middlebox.Blackhole && h.resetOnNext)
}

// open creates the state of a newly accepted connection; called by the upstream
// stub's NewState. Its timer starts now (the accept).
func (h *hopTimer) open() *connTimer {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	c := h.newConnLocked(2)
	if p := h.pending; p != nil {
		h.pairErrs = append(h.pairErrs, fmt.Sprintf("connection %d was never paired with its downstream direction", p.id))
		p.mu.Lock()
		p.attached = 1 // it will only ever have one pipe
		done := p.ended >= p.attached
		if done {
			p.stopLocked()
		}
		p.mu.Unlock()
		if done {
			h.removeLocked(p)
		}
	}
	h.pending = c
	return c
}

// pair returns the state opened by the last upstream stub, for the downstream stub
// of the same connection; called by the downstream stub's NewState.
func (h *hopTimer) pair() *connTimer {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.pending
	h.pending = nil
	if c == nil {
		// The invariant of toxic.go is broken: keep the connection working, alone.
		h.seq++
		c = h.newConnLocked(1)
		h.pairErrs = append(h.pairErrs, fmt.Sprintf("connection %d: downstream direction arrived without an upstream one", c.id))
	}
	return c
}

// newConnLocked creates a connection shared by attached pipes and arms its timer;
// h.mu is held.
func (h *hopTimer) newConnLocked(attached int) *connTimer {
	now := h.clock.Now()
	c := &connTimer{
		hop:      h,
		id:       h.seq,
		start:    now,
		last:     now,
		attached: attached,
		closeReq: [2]chan struct{}{make(chan struct{}), make(chan struct{})},
	}
	if h.closing {
		c.finished = true // never arm a timer on a closing hop
		c.requestLocked(up)
		c.requestLocked(down)
	} else {
		c.mu.Lock()
		c.timer = h.clock.AfterFunc(h.timeout, c.fire)
		c.mu.Unlock()
	}
	h.live[c] = struct{}{}
	return c
}

func (h *hopTimer) remove(c *connTimer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func (h *hopTimer) removeLocked(c *connTimer) {
	delete(h.live, c)
	if h.closing && len(h.live) == 0 {
		select {
		case <-h.emptied:
		default:
			close(h.emptied)
		}
	}
}

// shutdown stops every timer (no expiry is recorded after it returns) and releases
// every connection the hop holds open (blackholed ones).
func (h *hopTimer) shutdown() {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return
	}
	h.closing = true
	close(h.done)
	conns := make([]*connTimer, 0, len(h.live))
	for c := range h.live {
		conns = append(conns, c)
	}
	if len(h.live) == 0 {
		close(h.emptied)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		c.stopLocked()
		c.mu.Unlock()
	}
}

// wait waits, up to limit, until every connection's two pipes have ended after a
// shutdown, and reports broken pairing invariants.
func (h *hopTimer) wait(limit time.Duration) error {
	var errs []error
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-h.emptied:
	case <-t.C:
		h.mu.Lock()
		n := len(h.live)
		h.mu.Unlock()
		errs = append(errs, fmt.Errorf("netlab: hop %d (%s): %d connection(s) still open %v after close", h.index, h.name, n, limit))
	}
	h.mu.Lock()
	for _, e := range h.pairErrs {
		errs = append(errs, fmt.Errorf("netlab: hop %d (%s): %s (Toxiproxy no longer starts a connection's upstream link right before its downstream one?)", h.index, h.name, e))
	}
	h.mu.Unlock()
	return errors.Join(errs...)
}

// connTimer is one middlebox's state for one proxied connection, shared by the
// toxic stubs of both its directions (see the invariant in toxic.go).
type connTimer struct {
	hop      *hopTimer
	id       uint64
	start    time.Time
	closeReq [2]chan struct{} // closeReq[d] closed: direction d's stub must close its output

	mu        sync.Mutex
	last      time.Time // last byte in a watched direction
	timer     clockwork.Timer
	expired   bool
	requested [2]bool
	eof       [2]bool // direction d's input ended (its source socket closed or failed)
	attached  int     // pipes sharing this state: 2, or 1 after a pairing failure
	ended     int     // pipes that have ended for good
	finished  bool    // timer stopped for good
}

// fire runs when the timer elapses: it re-arms an idle timer that saw traffic since
// it was set, or expires the connection.
func (c *connTimer) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || c.expired {
		return
	}
	h := c.hop
	now := h.clock.Now()
	if h.kind == middlebox.KindIdle {
		if idle := now.Sub(c.last); idle < h.timeout {
			c.timer.Reset(h.timeout - idle)
			return
		}
	}
	c.expired = true
	idle := now.Sub(c.last)
	if h.kind == middlebox.KindLifetime {
		idle = now.Sub(c.start)
	}
	if h.log != nil {
		h.log.append(ExpiryRecord{
			At: now, Hop: h.name, HopIndex: h.index, Conn: c.id,
			Kind: h.kind, Action: h.action, Age: now.Sub(c.start), Idle: idle,
		})
	}
	switch h.action {
	case middlebox.Close, middlebox.Reset:
		// Both stubs close their outputs: Toxiproxy then closes both sockets, with
		// a FIN, or an RST where SO_LINGER 0 was set at accept.
		c.requestLocked(up)
		c.requestLocked(down)
	case middlebox.Blackhole:
		// Nothing is sent; both pipes drop what they read from now on.
	}
}

// traffic is called for every chunk a pipe reads in direction d and says whether
// to forward it. Before expiry, it re-arms an idle timer watching d. After expiry it
// drops the chunk, and for a blackhole with reset on next packet it resets the end
// that sent it (the end direction d's opposite stub writes to).
func (c *connTimer) traffic(d dir) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expired {
		if c.hop.action == middlebox.Blackhole && c.hop.resetOnNext {
			c.requestLocked(d.other())
		}
		return false
	}
	if c.hop.watches[d] {
		c.last = c.hop.clock.Now()
	}
	return true
}

// inputEOF records that direction d's input ended and says whether its stub may
// close now. A blackholed connection holds each end open (the box forgot it: a FIN
// goes nowhere) until that end is reset, both inputs have ended, or the hop shuts
// down.
func (c *connTimer) inputEOF(d dir) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eof[d] = true
	if !c.expired || c.hop.action != middlebox.Blackhole {
		return true
	}
	if c.eof[d.other()] {
		c.requestLocked(up)
		c.requestLocked(down)
	}
	return c.requested[d]
}

// pipeEnded records that one direction's pipe has ended for good; the timer stops
// when every attached pipe has.
func (c *connTimer) pipeEnded() {
	c.mu.Lock()
	c.ended++
	last := c.ended >= c.attached
	if last {
		c.stopLocked()
	}
	c.mu.Unlock()
	if last {
		c.hop.remove(c)
	}
}

func (c *connTimer) requestLocked(d dir) {
	if !c.requested[d] {
		c.requested[d] = true
		close(c.closeReq[d])
	}
}

func (c *connTimer) stopLocked() {
	c.finished = true
	if c.timer != nil {
		c.timer.Stop()
	}
}

// isExpired reports whether the timer has fired.
func (c *connTimer) isExpired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expired
}
