package mockwa

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/types"
)

// Counters are what the server saw of one device, summed over all its
// connections. Byte counts are WebSocket payload bytes (encrypted frames with
// their length prefix), counted once the connection identified its device.
type Counters struct {
	// Connects counts Noise handshakes completed by this device.
	Connects int `json:"connects"`
	// Logins counts <success/> sent.
	Logins int `json:"logins"`
	// LoginFailures counts <failure> sent instead of <success/>.
	LoginFailures int `json:"login_failures"`
	// Disconnects counts connections of this device that ended.
	Disconnects int `json:"disconnects"`
	// Pings counts keep-alive pings (w:p IQs) received.
	Pings int `json:"pings"`
	// PingsAnswered counts ping replies written.
	PingsAnswered int `json:"pings_answered"`
	// IQs counts every IQ received (pings included).
	IQs int `json:"iqs"`
	// Presence counts <presence> stanzas received, by type attribute
	// ("available", "unavailable", ...).
	Presence map[string]int `json:"presence"`
	// PreKeysUploaded is the number of prekeys in the last upload.
	PreKeysUploaded int `json:"prekeys_uploaded"`
	// BytesIn and BytesOut are bytes read from and written to the device.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// InboundCreated counts inbound items created for the device;
	// InboundSent those written to its socket (the rest are queued).
	InboundCreated int `json:"inbound_created"`
	InboundSent    int `json:"inbound_sent"`
	// Injected counts injected events by Event.String().
	Injected map[string]int `json:"injected"`
}

func (c Counters) clone() Counters {
	c.Presence = maps.Clone(c.Presence)
	c.Injected = maps.Clone(c.Injected)
	return c
}

// LogEntry is one line of a session's event log.
type LogEntry struct {
	// At is the server clock's time of the entry.
	At time.Time `json:"at"`
	// Kind is a short tag: connect, login, failure, disconnect, ping, presence,
	// inject, inbound, pair, error.
	Kind string `json:"kind"`
	// Detail is free text.
	Detail string `json:"detail,omitempty"`
}

// Session is the server's record of one device (one JID), across its
// connections. All methods are safe for concurrent use.
type Session struct {
	srv *Server
	jid types.JID

	mu       sync.Mutex
	counters Counters
	log      []LogEntry
	changed  chan struct{} // closed and replaced on every change
	cur      *conn         // the logged-in connection, if any
	active   bool          // the client sent <active/> on cur
	removed  bool          // device removed / logged out: logins fail with 401
	failNext []int         // armed login failure reasons
	lid      types.JID
	queue    []*Inbound // inbound not yet written
	inbound  []*Inbound // every inbound item, in order

	flushMu sync.Mutex // serialises inbound delivery, keeping order
}

// jidKey normalises a device JID to its map key: user and device number.
func jidKey(j types.JID) string { return j.User + ":" + strconv.Itoa(int(j.Device)) }

// deviceJID is the canonical JID of a user's device on s.whatsapp.net.
func deviceJID(user string, device uint16) types.JID {
	return types.JID{User: user, Device: device, Server: types.DefaultUserServer}
}

// JID returns the device's JID.
func (s *Session) JID() types.JID { return s.jid }

// Counters returns a snapshot of the session's counters.
func (s *Session) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters.clone()
}

// Log returns a copy of the session's event log, oldest first.
func (s *Session) Log() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogEntry(nil), s.log...)
}

// Connected reports whether the device has a logged-in connection.
func (s *Session) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// Inbound returns a snapshot of every inbound item created for the device.
func (s *Session) Inbound() []Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Inbound, len(s.inbound))
	for i, in := range s.inbound {
		out[i] = *in
	}
	return out
}

// Wait blocks until cond holds for a snapshot of the session's counters, or
// ctx ends. It re-checks on every change to the session (counters, log,
// connection state); cond runs without the session's lock held.
func (s *Session) Wait(ctx context.Context, cond func(Counters) bool) error {
	for {
		s.mu.Lock()
		snap := s.counters.clone()
		ch := s.changed
		s.mu.Unlock()
		if cond(snap) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes Wait callers; s.mu must be held.
func (s *Session) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// update runs f on the counters under the lock and notifies waiters.
func (s *Session) update(f func(*Counters)) {
	s.mu.Lock()
	f(&s.counters)
	s.notifyLocked()
	s.mu.Unlock()
}

// record appends to the event log.
func (s *Session) record(kind, detail string) {
	now := s.srv.cfg.Clock.Now()
	s.mu.Lock()
	s.recordLocked(now, kind, detail)
	s.mu.Unlock()
}

func (s *Session) recordLocked(now time.Time, kind, detail string) {
	if len(s.log) >= s.srv.cfg.EventLogSize {
		n := copy(s.log, s.log[1:])
		s.log = s.log[:n]
	}
	s.log = append(s.log, LogEntry{At: now, Kind: kind, Detail: detail})
	s.notifyLocked()
}

func (s *Session) countInjected(ev Event) {
	s.update(func(c *Counters) {
		if c.Injected == nil {
			c.Injected = map[string]int{}
		}
		c.Injected[ev.String()]++
	})
}

// current returns the logged-in connection, or nil.
func (s *Session) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Removed reports whether the device was removed or logged out by the server
// (later logins fail with 401).
func (s *Session) Removed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removed
}

// Active reports whether the logged-in connection sent <active/> (whatsmeow
// does so just before it emits Connected); inbound items flow only then.
func (s *Session) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && s.active
}
