package sim

import "time"

// The link: every frame is a value that travels client → boxes → server (up) or
// server → boxes → client (down).
//
//	client ──up──► box 0 ──► box 1 ──► … ──► box n-1 ──► server
//	client ◄─down─ box 0 ◄── box 1 ◄── … ◄── box n-1 ◄── server
//
// One-way delay = RTT/2 + uniform jitter in [0, Jitter] + the extra of an active
// latency spike. A frame lost with probability Loss is retransmitted after an RTO
// (200 ms + RTT, doubling per further loss), so it arrives late, never out of order:
// TCP delivers each direction in order, so an arrival is never earlier than the
// previous arrival in the same direction on the same connection (frames are
// ordered by departure; a reply the server computed ahead departs in the future and
// holds back only frames that depart after it).
//
// What reaches the server is handled when its fate is known (at routing time, with
// its arrival time), not by an arrival event: see server.receive.
//
// Position of the boxes: box k of n sits at fraction (k+1)/(n+1) of the path from the
// client, and a frame passes it at that fraction of its (departure, arrival) span.
// Boxes see a frame at that instant: this approximates where they are on the real
// path, good to a fraction of the RTT.
//
// Partition: a frame departing during a partition is retransmitted by TCP (RTO
// doubling, at most 120 s apart) and departs again at the first retransmission after
// the partition ends; if that is later than TCPGiveUp after its first send, it never
// arrives (and the client's TCP gives up on it). Frames already in flight when a
// partition starts are not affected.

// direction of a frame.
type direction uint8

const (
	dirUp   direction = iota // client → server
	dirDown                  // server → client
)

// frameKind names what a frame carries.
type frameKind uint8

const (
	fPing        frameKind = iota + 1 // client's ping IQ
	fPong                             // server's IQ result
	fPresence                         // client's presence stanza
	fReceipt                          // client's receipt for an inbound message
	fMessage                          // server's inbound message (seq = message index)
	fFin                              // server closes the connection (orderly)
	fStreamError                      // server's stream:error, then close
	fLogout                           // server's 401 device_removed, then close
	fReplaced                         // server's conflict replaced, then close
)

// Wire sizes of the frames, in bytes (payload plus WebSocket/Noise framing; TCP/IP
// headers are not counted).
const (
	pingBytes        = 80
	pongBytes        = 60
	presenceBytes    = 60
	receiptBytes     = 120
	controlBytes     = 60 // stream errors, failure stanzas
	handshakeUpBytes = 1500
	// handshakeDownBytes: TLS certificate chain, Noise ServerHello with its
	// certificate, the <success/> node.
	handshakeDownBytes = 6000
)

// Round trips of a connect (see connect in client.go): TCP, TLS 1.3, the WebSocket
// upgrade, the Noise XX hello (ClientHello → ServerHello), then the login round trip
// (ClientFinish with the ClientPayload → <success/>).
const (
	handshakeRoundTrips = 4
	loginRoundTrips     = 1
)

// frame is one message on the link.
type frame struct {
	conn uint32
	dir  direction
	kind frameKind
	hop  uint8 // next box in travel order (0 = the first box the frame meets)
	size int32
	seq  uint64 // ping seq or message index
	// sent is when the sender first sent the frame (RTT, TCP give-up);
	// dep is when it (re)departed, arrive when it reaches the far end.
	sent, dep, arrive int64
}

const maxRTO = int64(120 * time.Second)

// oneWay samples a one-way delay for a frame departing at dep (no loss).
func (s *sim) oneWay(dep int64) int64 {
	d := s.halfRTT
	if s.jitter > 0 {
		d += s.linkRNG.Int64N(s.jitter + 1)
	}
	if dep < s.spikeEnd {
		d += s.spikeExtra
	}
	return d
}

// lossDelay samples the retransmission delay a frame suffers from random loss.
func (s *sim) lossDelay() int64 {
	if s.run.Network.Loss == 0 {
		return 0
	}
	var extra int64
	rto := s.rto
	for i := 0; i < 15 && s.linkRNG.Float64() < s.run.Network.Loss; i++ {
		extra += rto
		rto = min(2*rto, maxRTO)
	}
	return extra
}

// partitioned reports whether a partition is in force at `at`.
func (s *sim) partitioned(at int64) bool {
	return at >= s.partitionStart && at < s.partitionEnd
}

// afterPartition returns when a frame first sent at sent, caught by the partition,
// departs again: the first retransmission (RTO rto0, doubling, capped at 120 s)
// at or after the partition's end. ok is false when that comes later than limit after
// sent (TCP gave up, or a connect timed out first).
func (s *sim) afterPartition(sent, rto0, limit int64) (dep int64, ok bool) {
	dep, rto := sent, rto0
	for dep < s.partitionEnd {
		dep += rto
		rto = min(2*rto, maxRTO)
		if dep-sent > limit {
			return 0, false
		}
	}
	return dep, true
}

// send puts f (conn, dir, kind, size, seq and sent set) on the current connection's
// link, departing at f.sent (which may be slightly in the future, e.g. a reply after
// the server's service time).
func (s *sim) send(f *frame) {
	c := &s.c
	if f.dir == dirUp {
		s.m.bytesUp += int64(f.size)
	} else {
		s.m.bytesDown += int64(f.size)
	}
	f.dep = f.sent
	if s.partitioned(f.dep) {
		if c.partitionHit < 0 {
			c.partitionHit = f.dep
		}
		dep, ok := s.afterPartition(f.sent, s.rto, s.giveUp)
		if !ok {
			s.vanish(f)
			return
		}
		f.dep = dep
	}
	arrive := f.dep + s.oneWay(f.dep) + s.lossDelay()
	if f.dep >= c.lastDep[f.dir] {
		// In order behind every frame that left before it. (A reply the server
		// computed ahead leaves in the future; a frame sent before that moment is not
		// held behind it.)
		arrive = max(arrive, c.lastArrive[f.dir])
		c.lastDep[f.dir] = f.dep
		c.lastArrive[f.dir] = arrive
	}
	f.arrive = arrive
	f.hop = 0
	s.route(f)
}

// vanish handles a frame that never arrives: the client's TCP starts its give-up
// clock on the oldest unacknowledged data; the server's loss costs nothing here
// (undelivered messages stay queued and are delivered on the next login).
func (s *sim) vanish(f *frame) {
	if f.dir != dirUp {
		return
	}
	c := &s.c
	if f.conn != c.id || !c.up {
		return
	}
	at := f.sent + s.giveUp
	if c.giveUpAt < 0 || at < c.giveUpAt {
		c.giveUpAt = at
		s.schedule(&event{at: at, kind: evGiveUp, conn: c.id})
	}
}
