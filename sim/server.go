package sim

import (
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// The server: it holds at most one connection of the client (the last to log in),
// answers pings after PingServiceTime, counts presence, sends inbound messages and
// injects faults.
//
// Messages are WhatsApp's offline queue: each is stamped with its creation time and
// stays queued until a frame carrying it reaches the client. It is sent at once when
// the server holds a connection (a message sent into a blackholed connection is lost
// in transit and stays queued); on every login the whole queue is sent again.
// Delivery delay = arrival at the client − creation.

// message is one inbound message.
type message struct {
	created   int64
	delivered bool
}

// server is the server model's state.
type server struct {
	s        *sim
	cur      uint32 // connection the server holds (0 = none)
	lastRecv int64  // last frame received on cur (IdleClose)
	msgs     []message
	// firstQueued is the lowest index that may still be undelivered.
	firstQueued int
	// terminal is the event every later login ends in (logout, replaced), or 0.
	terminal keepalive.EventKind
	// ratePerNs is the inbound rate (messages or bursts per nanosecond).
	ratePerNs float64
}

func (v *server) init(s *sim) {
	v.s = s
	r := s.run.Server.InboundPerHour
	if s.run.Server.InboundMode == InboundBursts {
		r /= float64(s.run.Server.BurstSize)
	}
	v.ratePerNs = r / float64(time.Hour)
	if n := int(s.run.Server.InboundPerHour*s.run.Duration.Hours()*1.2) + 16; r > 0 && cap(v.msgs) < n {
		// Expected count plus slack, so the slice rarely grows during a run.
		v.msgs = make([]message, 0, min(n, 1<<20))
	}
}

// scheduleNextInbound draws the gap to the next message (or burst).
func (v *server) scheduleNextInbound() {
	if v.ratePerNs <= 0 {
		return
	}
	gap := int64(v.s.serverRNG.ExpFloat64() / v.ratePerNs)
	at := v.s.now + gap
	if at < v.s.end {
		v.s.schedule(&event{at: at, kind: evInbound})
	}
}

// inbound creates the message(s) due now and sends them when connected.
func (v *server) inbound() {
	n := 1
	if v.s.run.Server.InboundMode == InboundBursts {
		n = v.s.run.Server.BurstSize
	}
	for range n {
		v.msgs = append(v.msgs, message{created: v.s.now})
		v.s.m.msgsSent++
		if v.cur != 0 {
			v.sendMessage(len(v.msgs) - 1)
		}
	}
	v.scheduleNextInbound()
}

func (v *server) sendMessage(i int) {
	v.s.send(&frame{conn: v.cur, dir: dirDown, kind: fMessage, size: int32(v.s.run.Server.MessageBytes), seq: uint64(i), sent: v.s.now})
}

// delivered marks message i as arrived at the client now.
func (v *server) delivered(i uint64) {
	m := &v.msgs[i]
	if m.delivered {
		return
	}
	m.delivered = true
	v.s.m.delays = append(v.s.m.delays, v.s.now-m.created)
	for v.firstQueued < len(v.msgs) && v.msgs[v.firstQueued].delivered {
		v.firstQueued++
	}
}

// login: connection id logged in now; the queue is flushed onto it.
func (v *server) login(id uint32) {
	v.cur = id
	v.lastRecv = v.s.now
	if ic := v.s.run.Server.IdleClose; ic > 0 {
		v.s.schedule(&event{at: v.s.now + int64(ic), kind: evServerIdle, conn: id})
	}
	for i := v.firstQueued; i < len(v.msgs); i++ {
		if !v.msgs[i].delivered {
			v.sendMessage(i)
		}
	}
}

// connClosed: the server learns that connection id is gone.
func (v *server) connClosed(id uint32) {
	if v.cur == id {
		v.cur = 0
	}
}

// receive handles a frame that will reach the server at f.arrive, having passed
// every box. It runs when the frame's fate is known (at routing time, up to one
// one-way trip early) rather than at its arrival: a reply is sent at
// f.arrive + PingServiceTime. If the server drops the connection in between (a
// fault, an idle close), the connection is broken by then and the client drops the
// reply, so the outcome is the same.
func (v *server) receive(f *frame) {
	if f.conn != v.cur {
		return
	}
	v.lastRecv = max(v.lastRecv, f.arrive)
	switch f.kind {
	case fPing:
		at := f.arrive + int64(v.s.run.Server.PingServiceTime)
		v.s.send(&frame{conn: v.cur, dir: dirDown, kind: fPong, size: pongBytes, seq: f.seq, sent: at})
	case fPresence:
		v.s.m.presenceRecv++
	}
}

// idleCheck is the server's IdleClose policy on connection id.
func (v *server) idleCheck(id uint32) {
	if v.cur != id {
		return
	}
	ic := int64(v.s.run.Server.IdleClose)
	if due := v.lastRecv + ic; due > v.s.now {
		v.s.schedule(&event{at: due, kind: evServerIdle, conn: id})
		return
	}
	v.closeWith("server_idle_close", fFin)
}

// closeWith: the server ends its connection (ground-truth cause), telling the client
// with a last frame through the path (which a dead box may swallow).
func (v *server) closeWith(cause string, kind frameKind) {
	id := v.cur
	if id == 0 {
		return
	}
	if v.s.c.id == id {
		v.s.breakConn(cause)
	}
	v.s.send(&frame{conn: id, dir: dirDown, kind: kind, size: controlBytes, sent: v.s.now})
	v.cur = 0
}

// fault injects run.Faults[i] now and schedules its next occurrence.
func (v *server) fault(i int) {
	s := v.s
	f := &s.run.Faults[i]
	s.m.faults++
	cause := "fault:" + string(f.Kind)
	switch f.Kind {
	case FaultRestart:
		s.restartEnd = max(s.restartEnd, s.now+int64(f.Duration))
		v.closeWith(cause, fFin)
		s.schedule(&event{at: s.restartEnd, kind: evFaultEnd, aux: uint64(i)})
	case FaultStreamError515, FaultStreamError503:
		v.closeWith(cause, fStreamError)
	case FaultLogout:
		v.terminal = keepalive.EventLoggedOut
		v.closeWith(cause, fLogout)
	case FaultReplaced:
		v.terminal = keepalive.EventReplaced
		v.closeWith(cause, fReplaced)
	case FaultPartition:
		if !s.partitioned(s.now) {
			s.partitionStart = s.now
		}
		s.partitionEnd = max(s.partitionEnd, s.now+int64(f.Duration))
		s.schedule(&event{at: s.partitionEnd, kind: evFaultEnd, aux: uint64(i)})
	case FaultLatencySpike:
		s.spikeEnd = max(s.spikeEnd, s.now+int64(f.Duration))
		s.spikeExtra = int64(f.Extra)
		s.schedule(&event{at: s.spikeEnd, kind: evFaultEnd, aux: uint64(i)})
	}
	if f.Every > 0 && s.now+int64(f.Every) < s.end {
		s.schedule(&event{at: s.now + int64(f.Every), kind: evFault, aux: uint64(i)})
	}
}
