package keepalive

// The reconnect supervisor: what a session does once its connection is down.
//
//	disconnect / failed attempt ─► supervise ─┬─ delay 0 ──► ActionConnect (Connecting)
//	                                          ├─ delay d ──► Waiting ─ tick at +d ─► ActionConnect
//	                                          ├─ poll ─────► Waiting ─ next poll tick ─► ActionConnect
//	                                          └─ never ────► Waiting (until EventStart)
//
// Delays per mode:
//   - backoff: Backoff(retries) (gRPC), retries+1; with Immediate the first attempt
//     after a stable connection's disconnect goes at once. retries resets when a
//     connection stayed up StableAfter.
//   - linear: LinearStep × retries, retries+1, reset on EventConnected
//     (whatsmeow: 0 s, 2 s, 4 s, …).
//   - poll: the next tick of a monitor that runs every PollInterval from the
//     session's first event (the seed's setInterval), strictly after now.
//   - immediate: always at once.
//   - never: waits for EventStart.

// supervise plans the next connection attempt after the connection went down
// (fromConnected) or an attempt failed.
func (s *Session) supervise(now int64, fromConnected bool) {
	r := &s.policy.cfg.Reconnect
	var d int64
	switch r.Mode {
	case ReconnectImmediate:
		d = 0
	case ReconnectNever:
		s.due = noTime
		s.setState(StateWaiting)
		return
	case ReconnectPoll:
		p := int64(r.PollInterval)
		s.due = (now/p + 1) * p
		s.setState(StateWaiting)
		return
	case ReconnectLinear:
		d = int64(LinearDelay(*r, int(s.retries)))
		s.bumpRetries()
	default: // ReconnectBackoff
		if fromConnected && r.Immediate && s.retries == 0 {
			d = 0
		} else {
			d = int64(Backoff(*r, int(s.retries), s.rng))
			s.bumpRetries()
		}
	}
	if d <= 0 {
		s.connect(s.lastCause)
		return
	}
	s.due = now + d
	s.setState(StateWaiting)
}

func (s *Session) bumpRetries() {
	if s.retries < maxRetries {
		s.retries++
	}
}
