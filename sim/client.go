package sim

import (
	"github.com/kalab-dev/kalab/keepalive"
)

// The client: it runs the engine's actions as frames and connect attempts, and turns
// what reaches it (replies, messages, FIN/RST, stream errors, TCP giving up) into
// engine events.
//
// A connect attempt (ActionConnect) first closes the previous connection, then takes
// handshakeRoundTrips + loginRoundTrips round trips (TCP, TLS 1.3, WebSocket upgrade,
// Noise hello; login), each sampled like two one-way trips. It fails:
//   - while the path is partitioned: the SYNs are retransmitted (1 s, doubling) and
//     the attempt fails after Network.ConnectTimeout unless the partition ends first;
//   - while the server restarts: refused after one round trip;
//   - when a partition or restart is in force as the login completes.
// After a logout or replacement fault every later login ends in that terminal event.

// connectOutcome is the result carried by evConnectDone.
type connectOutcome uint8

const (
	connectOK connectOutcome = iota + 1
	connectTimeout
	connectRefused
)

// maxOutstanding bounds the pings remembered while waiting for replies.
const maxOutstanding = 4

// outstandingPing is a ping waiting for its reply.
type outstandingPing struct {
	seq            uint64
	sent, deadline int64
}

// do runs one engine action.
func (s *sim) do(a *keepalive.Action) {
	switch a.Kind {
	case keepalive.ActionStateChange:
		s.state = a.State
	case keepalive.ActionSendPing:
		s.m.pings++
		s.m.interval(a.Interval)
		if !s.c.up {
			s.deferEngine(keepalive.EventHeartbeatFailed, a.Seq, 0)
			return
		}
		// The engine keeps the reply deadline itself (its NextDeadline); the simulator
		// only remembers when the ping left, to report the reply's RTT. Pings whose
		// reply never comes are forgotten after maxOutstanding newer ones.
		if len(s.pings) == maxOutstanding {
			s.pings = append(s.pings[:0], s.pings[1:]...)
		}
		s.pings = append(s.pings, outstandingPing{seq: a.Seq, sent: s.now, deadline: int64(a.Deadline)})
		s.send(&frame{conn: s.c.id, dir: dirUp, kind: fPing, size: pingBytes, seq: a.Seq, sent: s.now})
	case keepalive.ActionSendPresence:
		s.m.presences++
		s.m.interval(a.Interval)
		if !s.c.up {
			s.deferEngine(keepalive.EventHeartbeatFailed, a.Seq, 0)
			return
		}
		s.send(&frame{conn: s.c.id, dir: dirUp, kind: fPresence, size: presenceBytes, seq: a.Seq, sent: s.now})
	case keepalive.ActionConnect:
		s.clientDrop(a.Cause)
		s.connect()
	case keepalive.ActionClose:
		s.clientDrop(a.Cause)
	case keepalive.ActionAlert:
		s.m.alerts++
	}
}

// clientDrop: the client closes its connection itself (a reconnect or stop). If it
// was still open, this is when the client noticed its loss (how = the engine's
// cause, e.g. heartbeat_timeout).
func (s *sim) clientDrop(how keepalive.Cause) {
	c := &s.c
	if !c.up {
		return
	}
	c.up = false
	s.pings = s.pings[:0]
	s.srv.connClosed(c.id)
	if how == keepalive.CauseUnknown {
		how = keepalive.CauseLocal
	}
	s.m.detected(how.String())
}

// clientClosed: the connection ended under the client (FIN, RST, stream error, TCP
// give-up); the engine hears EventDisconnected with cause.
func (s *sim) clientClosed(cause keepalive.Cause) {
	c := &s.c
	c.up = false
	s.pings = s.pings[:0]
	s.m.detected(cause.String())
	s.step(keepalive.Event{Kind: keepalive.EventDisconnected, Cause: cause})
}

// clientTerminal: the server logged the device out or replaced it.
func (s *sim) clientTerminal(kind keepalive.EventKind) {
	c := &s.c
	c.up = false
	s.pings = s.pings[:0]
	s.srv.connClosed(c.id)
	how := "logged_out"
	if kind == keepalive.EventReplaced {
		how = "replaced"
	}
	s.m.detected(how)
	s.step(keepalive.Event{Kind: kind})
}

// connect starts a connect attempt at now.
func (s *sim) connect() {
	s.m.attempts++
	s.nextConnID++
	c := &s.c
	c.reset(s.nextConnID, s.now, s.run.Path)
	start := s.now
	if s.partitioned(start) {
		dep, ok := s.afterPartition(start, int64(1e9), int64(s.run.Network.ConnectTimeout))
		if !ok {
			s.schedule(&event{at: start + int64(s.run.Network.ConnectTimeout), kind: evConnectDone, conn: c.id, aux: uint64(connectTimeout)})
			return
		}
		start = dep
	}
	if start < s.restartEnd {
		rtt := s.oneWay(start) + s.oneWay(start)
		s.schedule(&event{at: start + rtt, kind: evConnectDone, conn: c.id, aux: uint64(connectRefused)})
		return
	}
	at := start
	for i := 0; i < handshakeRoundTrips+loginRoundTrips; i++ {
		at += s.oneWay(at) + s.lossDelay()
		at += s.oneWay(at) + s.lossDelay()
	}
	s.schedule(&event{at: at, kind: evConnectDone, conn: c.id, aux: uint64(connectOK)})
}

// connectDone ends the attempt id.
func (s *sim) connectDone(id uint32, out connectOutcome) {
	c := &s.c
	if c.id != id || c.up || c.established || s.state == keepalive.StateStopped {
		return
	}
	if out == connectOK {
		switch {
		case s.partitioned(s.now):
			out = connectTimeout
		case s.now < s.restartEnd:
			out = connectRefused
		}
	}
	switch out {
	case connectTimeout:
		s.m.connectFailures++
		s.step(keepalive.Event{Kind: keepalive.EventConnectFailed, Cause: keepalive.CauseUnknown})
		return
	case connectRefused:
		s.m.connectFailures++
		s.step(keepalive.Event{Kind: keepalive.EventConnectFailed, Cause: keepalive.CauseClosed})
		return
	}
	if s.srv.terminal != 0 {
		s.m.connectFailures++
		s.step(keepalive.Event{Kind: s.srv.terminal})
		return
	}
	c.established = true
	c.up = true
	s.m.connects++
	s.m.bytesUp += handshakeUpBytes
	s.m.bytesDown += handshakeDownBytes
	s.armBoxes()
	s.srv.login(id)
	s.step(keepalive.Event{Kind: keepalive.EventConnected})
}

// clientReceive handles a frame reaching the client.
func (s *sim) clientReceive(f *frame) {
	c := &s.c
	if f.conn != c.id || !c.up {
		return
	}
	if c.broken && f.sent > c.brokenAt {
		// Sent after the connection broke: a reply the server computed ahead (see
		// server.receive) to a ping it would not have answered.
		return
	}
	switch f.kind {
	case fPong:
		for i := range s.pings {
			if s.pings[i].seq == f.seq {
				p := s.pings[i]
				s.pings = append(s.pings[:i], s.pings[i+1:]...)
				rtt := s.now - p.sent
				if p.deadline <= 0 || rtt <= p.deadline {
					// A reply the engine accepts; a late one is a failure to it.
					s.m.rtts = append(s.m.rtts, rtt)
					s.m.addRTT(s.now, s.end, rtt)
				}
				s.step(keepalive.Event{Kind: keepalive.EventHeartbeatAck, Seq: f.seq, RTT: durationOf(rtt)})
				return
			}
		}
	case fMessage:
		s.srv.delivered(f.seq)
		s.send(&frame{conn: c.id, dir: dirUp, kind: fReceipt, size: receiptBytes, seq: f.seq, sent: s.now})
		s.step(keepalive.Event{Kind: keepalive.EventInbound})
	case fFin:
		s.clientClosed(keepalive.CauseClosed)
	case fStreamError:
		s.clientClosed(keepalive.CauseStreamError)
	case fLogout:
		s.clientTerminal(keepalive.EventLoggedOut)
	case fReplaced:
		s.clientTerminal(keepalive.EventReplaced)
	}
}

// clientSignal: a FIN or RST from a middlebox reaches the client.
func (s *sim) clientSignal(id uint32, cause keepalive.Cause) {
	if s.c.id == id && s.c.up {
		s.clientClosed(cause)
	}
}

// tcpGiveUp: the client's TCP stopped retransmitting unacknowledged data.
func (s *sim) tcpGiveUp(id uint32) {
	c := &s.c
	if c.id == id && c.up && c.giveUpAt >= 0 && s.now >= c.giveUpAt {
		s.clientClosed(keepalive.CauseTCPTimeout)
	}
}
