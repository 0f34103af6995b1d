package sim

import (
	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// The path: each connection gets fresh timers in every box when it is established.
//
// Invariants of the routing:
//   - An idle timer's expiry is last activity + Timeout; traffic can only push it
//     later, so a frame that passes a box before the expiry known when it is sent
//     certainly passes. Such a frame re-arms the timer at its passing time at once.
//   - A frame that would pass a box at or after the known expiry is deferred (evHop)
//     to its passing time and decided then, when every frame that passes the box
//     earlier has been accounted for (a frame passes a box no earlier than it is sent).
//   - Box timers are lazy: one evBoxExpire per box is pending; when it fires before the
//     current expiry (traffic re-armed the box meanwhile) it re-schedules itself.
//   - The first box to expire breaks the connection and names the cause; a later
//     expiry still drops that box's state (and a close or reset still reaches the
//     client), so a deferred frame is always decided when its passing time comes.
//
// Timers start when the client sees the login succeed (lifetime timers from the
// first SYN of the attempt): the handshake's traffic has just passed every box.

// conn is the client's connection. The simulator keeps only the current one: events
// and frames of an older connection carry its id and are ignored.
type conn struct {
	id          uint32
	start       int64 // first SYN
	established bool  // login succeeded
	up          bool  // the client holds it open (established, not yet closed or lost)

	// broken is ground truth: the connection can no longer carry a message end to end
	// (a box expired, the server closed it). cause names why (disconnect causes).
	broken   bool
	brokenAt int64
	cause    string

	lossRecorded bool  // its disconnect was counted
	giveUpAt     int64 // client TCP give-up time (-1 = none)
	partitionHit int64 // first frame caught by a partition (-1 = none)

	boxes      []boxState
	lastArrive [2]int64 // latest arrival per direction (in-order delivery)
	lastDep    [2]int64 // departure of that frame
}

// boxState is one middlebox's timer for the current connection.
type boxState struct {
	spec    *middlebox.Spec
	kind    timerKind
	watch   [2]bool // re-armed by traffic up / down (idle timers)
	timeout int64
	last    int64 // last activity seen (idle timers)
	expiry  int64 // when the timer fires unless re-armed
	dead    bool  // expired: the box no longer forwards this connection
}

// timerKind is a box's middlebox.Kind as a small number for the hot path.
type timerKind uint8

const (
	timerNone timerKind = iota
	timerIdle
	timerLifetime
)

func newBoxState(spec *middlebox.Spec) boxState {
	b := boxState{spec: spec, timeout: int64(spec.Timeout)}
	switch spec.Kind {
	case middlebox.KindIdle:
		b.kind = timerIdle
		b.watch[dirUp] = spec.Watches == middlebox.Up || spec.Watches == middlebox.Both
		b.watch[dirDown] = spec.Watches == middlebox.Down || spec.Watches == middlebox.Both
	case middlebox.KindLifetime:
		b.kind = timerLifetime
	}
	return b
}

// reset prepares c for a new connection attempt.
func (c *conn) reset(id uint32, start int64, path []middlebox.Spec) {
	boxes := c.boxes[:0]
	for i := range path {
		boxes = append(boxes, newBoxState(&path[i]))
	}
	*c = conn{id: id, start: start, boxes: boxes, giveUpAt: -1, partitionHit: -1}
}

// armBoxes starts the timers of an established connection at now.
func (s *sim) armBoxes() {
	c := &s.c
	for k := range c.boxes {
		b := &c.boxes[k]
		switch b.kind {
		case timerIdle:
			b.last = s.now
			b.expiry = s.now + b.timeout
		case timerLifetime:
			b.expiry = c.start + b.timeout
		default:
			continue
		}
		s.schedule(&event{at: b.expiry, kind: evBoxExpire, conn: c.id, aux: uint64(k)})
	}
}

// passTime is when f passes path box k (0 = nearest the client) of n.
func passTime(f *frame, k, n int) int64 {
	span := f.arrive - f.dep
	num := int64(k + 1)
	if f.dir == dirDown {
		num = int64(n - k)
	}
	return f.dep + span*num/int64(n+1)
}

// route moves f through the boxes from f.hop on, then schedules its arrival.
func (s *sim) route(f *frame) {
	c := &s.c
	if f.conn != c.id {
		return // a frame of an older connection: the client closed it
	}
	n := len(c.boxes)
	for ; int(f.hop) < n; f.hop++ {
		k := int(f.hop)
		if f.dir == dirDown {
			k = n - 1 - k
		}
		b := &c.boxes[k]
		if b.kind == timerNone {
			continue
		}
		p := passTime(f, k, n)
		if b.dead {
			s.dropAtBox(f, b, k, p)
			return
		}
		if p >= b.expiry {
			if p > s.now {
				e := s.q.alloc(p)
				e.kind, e.conn, e.f = evHop, f.conn, *f
				return
			}
			// The frame's passing time has come and nothing re-armed the box: it
			// expired before the frame passed.
			s.expireBox(k)
			s.dropAtBox(f, b, k, p)
			return
		}
		if b.watch[f.dir] && p > b.last {
			b.last = p
			b.expiry = p + b.timeout
		}
	}
	if f.dir == dirUp {
		// What reaches the server is handled now, at its arrival time (see server.go):
		// one event fewer per frame. The trace still shows the arrival in order.
		s.srv.receive(f)
		if s.trace == nil {
			return
		}
	}
	e := s.q.alloc(max(f.arrive, s.now))
	e.kind, e.conn, e.f = evArrive, f.conn, *f
}

// dropAtBox handles f meeting box k after it expired at p: the connection's state is
// gone, so the frame vanishes, or (ResetOnNextPacket) the box answers with an RST
// that reaches the sender after the same distance back.
func (s *sim) dropAtBox(f *frame, b *boxState, k int, p int64) {
	if b.spec.ResetOnNextPacket {
		back := p + (p - f.dep)
		if f.dir == dirUp {
			s.schedule(&event{at: back, kind: evBoxSignal, conn: f.conn, aux: uint64(keepalive.CauseReset)})
		} else {
			s.srv.connClosed(f.conn)
		}
		return
	}
	s.vanish(f)
}

// boxTimer handles box k's timer on connection id.
func (s *sim) boxTimer(id uint32, k int) {
	c := &s.c
	if c.id != id {
		return
	}
	b := &c.boxes[k]
	if b.dead {
		return
	}
	if b.expiry > s.now {
		s.schedule(&event{at: b.expiry, kind: evBoxExpire, conn: id, aux: uint64(k)})
		return
	}
	s.expireBox(k)
}

// expireBox drops box k's state for the current connection (its timer ran out). A box
// expires whatever else happened to the connection: when the connection was already
// broken (another box blackholed it, the server closed it) its state is dropped all
// the same, and a close or reset still reaches a client that holds the connection
// open. Only the first break is the connection's cause.
func (s *sim) expireBox(k int) {
	c := &s.c
	b := &c.boxes[k]
	if b.dead {
		return
	}
	b.dead = true
	if !c.up {
		return // the client already closed it
	}
	if !c.broken {
		cause := "idle_timeout:" + b.spec.Name
		if b.kind == timerLifetime {
			cause = "lifetime:" + b.spec.Name
		}
		if s.partitioned(s.now) {
			// Nothing passes a partition: the box lost the connection because the
			// partition kept its traffic away.
			cause = "fault:" + string(FaultPartition)
		}
		s.breakConn(cause)
	}
	var sig keepalive.Cause
	switch b.spec.AtExpiry {
	case middlebox.Close:
		sig = keepalive.CauseClosed
	case middlebox.Reset:
		sig = keepalive.CauseReset
	default:
		return // blackhole: nobody is told
	}
	// FIN or RST to both ends: the client hears it after the distance from the box;
	// the server is taken to hear it at once (it only stops sending into a dead box).
	// A signal sent during a partition is retransmitted and gets through after it.
	n := len(c.boxes)
	at := s.now
	if s.partitioned(at) {
		at = s.partitionEnd
	}
	at += s.halfRTT * int64(k+1) / int64(n+1)
	s.schedule(&event{at: at, kind: evBoxSignal, conn: c.id, aux: uint64(sig)})
	s.srv.connClosed(c.id)
}

// breakConn marks the current connection as no longer able to carry a message, with
// the ground-truth cause; the first cause wins.
func (s *sim) breakConn(cause string) {
	c := &s.c
	if c.broken || !c.up {
		return
	}
	c.broken = true
	c.brokenAt = s.now
	c.cause = cause
	if s.partitioned(s.now) && cause == "fault:"+string(FaultPartition) {
		c.brokenAt = max(s.partitionStart, c.start)
	}
}
