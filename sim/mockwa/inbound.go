package mockwa

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Inbound traffic: the server sends a device <presence from=CONTACT/>, which
// whatsmeow surfaces as *events.Presence. The contact JID's user part carries
// the stamp, "SEQ-CREATEDUNIXNANO", so a receiver can measure delivery delay
// with ParseInbound and no side channel. Items created while the device has no
// logged-in, active connection wait in its queue and are delivered, in order,
// once it logs in again and sends <active/>.

// Inbound is one inbound item and its delivery record.
type Inbound struct {
	// Seq is unique per server, starting at 1.
	Seq uint64 `json:"seq"`
	// To is the receiving device.
	To types.JID `json:"to"`
	// From is the contact JID the client sees in events.Presence.From.
	From types.JID `json:"from"`
	// CreatedAt is the server clock's time the item was created (the stamp).
	CreatedAt time.Time `json:"created_at"`
	// SentAt is when it was written to the device's socket; zero while queued.
	SentAt time.Time `json:"sent_at"`
	// Queued reports that the device was offline when it was created.
	Queued bool `json:"queued"`
}

// inboundFrom builds the stamped contact JID.
func inboundFrom(seq uint64, created time.Time) types.JID {
	return types.JID{
		User:   strconv.FormatUint(seq, 10) + "-" + strconv.FormatInt(created.UnixNano(), 10),
		Server: types.DefaultUserServer,
	}
}

// ParseInbound extracts the sequence number and creation time from the From
// JID of an inbound presence. ok is false for any other JID.
func ParseInbound(from types.JID) (seq uint64, created time.Time, ok bool) {
	a, b, found := strings.Cut(from.User, "-")
	if !found || from.Server != types.DefaultUserServer {
		return 0, time.Time{}, false
	}
	seq, err1 := strconv.ParseUint(a, 10, 64)
	ns, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, false
	}
	return seq, time.Unix(0, ns), true
}

// SendInbound creates one stamped inbound item for device jid and delivers it
// now if the device is logged in and active, else queues it.
func (s *Server) SendInbound(jid types.JID) (Inbound, error) {
	if jid.User == "" {
		return Inbound{}, fmt.Errorf("mockwa: SendInbound: empty JID")
	}
	sess := s.session(jid, true)
	now := s.cfg.Clock.Now()
	seq := s.inSeq.Add(1)
	in := &Inbound{Seq: seq, To: sess.jid, From: inboundFrom(seq, now), CreatedAt: now}
	sess.mu.Lock()
	in.Queued = sess.cur == nil || !sess.active
	sess.inbound = append(sess.inbound, in)
	sess.queue = append(sess.queue, in)
	sess.counters.InboundCreated++
	sess.recordLocked(now, "inbound", "created "+strconv.FormatUint(seq, 10))
	snapshot := *in
	sess.mu.Unlock()
	sess.flush()
	sess.mu.Lock()
	snapshot = *in
	sess.mu.Unlock()
	return snapshot, nil
}

// flush writes queued inbound items while the device is logged in and active.
func (s *Session) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	for {
		s.mu.Lock()
		c := s.cur
		if c == nil || !s.active || len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		in := s.queue[0]
		s.mu.Unlock()
		err := c.sendNode(waBinary.Node{Tag: "presence", Attrs: waBinary.Attrs{"from": in.From}})
		if err != nil {
			return
		}
		now := s.srv.cfg.Clock.Now()
		s.mu.Lock()
		if len(s.queue) > 0 && s.queue[0] == in {
			s.queue = s.queue[1:]
		}
		in.SentAt = now
		s.counters.InboundSent++
		s.recordLocked(now, "inbound", "sent "+strconv.FormatUint(in.Seq, 10))
		s.mu.Unlock()
	}
}

// runInbound creates one inbound item per known, not removed session every
// period, until the server closes.
func (s *Server) runInbound(every time.Duration) {
	defer s.wg.Done()
	t := s.cfg.Clock.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.Chan():
			for _, sess := range s.Sessions() {
				if !sess.Removed() {
					_, _ = s.SendInbound(sess.jid)
				}
			}
		}
	}
}

// runFault injects one scheduled fault until the server closes.
func (s *Server) runFault(f ScheduledFault) {
	defer s.wg.Done()
	t := s.cfg.Clock.NewTimer(f.At)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.Chan():
		}
		var targets []types.JID
		if f.JID.IsEmpty() {
			for _, sess := range s.Sessions() {
				if sess.Connected() || f.Event.Kind == LoginFailure {
					targets = append(targets, sess.jid)
				}
			}
		} else {
			targets = []types.JID{f.JID}
		}
		for _, j := range targets {
			if err := s.Inject(j, f.Event); err != nil {
				s.log.Info("scheduled fault not applied", "jid", j.String(), "event", f.Event.String(), "err", err)
			}
		}
		if f.Every <= 0 {
			return
		}
		t.Reset(f.Every)
	}
}
