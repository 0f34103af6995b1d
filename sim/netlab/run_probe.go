package netlab

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/keepalive/wa"
)

// The probe records what one lab client did, from the client's side, without
// sending anything: it sits between the engine and the wa adapter (Conn calls), on
// the adapter's notifications, on the engine's lifecycle log lines and on the
// dialled sockets.
//
//	engine ──Conn calls──► probe ──► wa.Conn ──► whatsmeow ──► dialer ──► chain
//	   ▲                     │                                   (probe.dial)
//	   └──Notify── probe ◄───┘ (adapter notifications)
//	slog ──► probe.handler (keep-alive stopped, heartbeat sent)

// connRec is one connection that logged in.
type connRec struct {
	dial        uint64    // the dial (1-based) that carried it: the hops' connection number
	up          time.Time // Connect returned nil
	end         time.Time // the client saw it end (notification) or dropped it (Connect, Close)
	endHow      string    // how the client learned or decided it: cause name or "local"
	believed    time.Time // the engine stopped believing in it (keep-alive stopped)
	believedHow string
}

// probe is the recording layer of one lab run. Safe for concurrent use.
type probe struct {
	conn *wa.Conn
	eng  *keepalive.Engine
	id   string

	mu         sync.Mutex
	dials      uint64
	conns      []*connRec
	cur        *connRec
	attempts   int
	failures   int
	pings      int
	presences  int
	hbFailed   int
	rtts       []time.Duration // real time
	intervals  []intervalAt    // real time
	giveUp     map[uint64]bool // dials closed by the emulated TCP give-up
	tcpPending bool            // the next disconnect was a TCP give-up
	timers     []*time.Timer   // emulated give-ups, stopped when the run ends
	stopped    bool
}

// stopTimers cancels every pending emulated give-up (the run is over).
func (p *probe) stopTimers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for _, t := range p.timers {
		t.Stop()
	}
}

// intervalAt is one heartbeat's interval as the engine logged it.
type intervalAt struct {
	at       time.Time
	interval time.Duration
}

// Connect records the attempt; the previous connection, if the client still held
// it, ends here ("local": the engine replaced it).
func (p *probe) Connect(ctx context.Context) error {
	now := time.Now()
	p.mu.Lock()
	p.attempts++
	p.endCurLocked(now, "local")
	p.mu.Unlock()
	err := p.conn.Connect(ctx)
	now = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failures++
		return err
	}
	p.cur = &connRec{dial: p.dials, up: now}
	p.conns = append(p.conns, p.cur)
	return nil
}

func (p *probe) endCurLocked(now time.Time, how string) {
	if p.cur != nil && p.cur.end.IsZero() {
		p.cur.end, p.cur.endHow = now, how
		if p.cur.believed.IsZero() {
			// The engine drops its belief no later than the connection ends.
			p.cur.believed, p.cur.believedHow = now, how
		}
	}
}

// SendPresence counts and forwards.
func (p *probe) SendPresence(ctx context.Context, t keepalive.PresenceType) error {
	err := p.conn.SendPresence(ctx, t)
	p.mu.Lock()
	p.presences++
	if err != nil {
		p.hbFailed++
	}
	p.mu.Unlock()
	return err
}

// Ping counts and forwards.
func (p *probe) Ping(ctx context.Context) (time.Duration, error) {
	rtt, err := p.conn.Ping(ctx)
	p.mu.Lock()
	p.pings++
	if err != nil {
		p.hbFailed++
	} else {
		p.rtts = append(p.rtts, rtt)
	}
	p.mu.Unlock()
	return rtt, err
}

// Close records a local end and forwards.
func (p *probe) Close() error {
	p.mu.Lock()
	p.endCurLocked(time.Now(), "local")
	p.mu.Unlock()
	return p.conn.Close()
}

// Notify is the adapter's Notifier: it records connection ends and forwards to
// the engine. A disconnect caused by the emulated TCP give-up is reported with
// CauseTCPTimeout, as the kernel would.
func (p *probe) Notify(id string, ev keepalive.Event) error {
	switch ev.Kind {
	case keepalive.EventDisconnected, keepalive.EventLoggedOut, keepalive.EventReplaced, keepalive.EventBanned:
		p.mu.Lock()
		how := ev.Kind.String()
		if ev.Kind == keepalive.EventDisconnected {
			if p.tcpPending {
				ev.Cause = keepalive.CauseTCPTimeout
				p.tcpPending = false
			}
			how = ev.Cause.String()
		}
		p.endCurLocked(time.Now(), how)
		p.mu.Unlock()
	}
	return p.eng.Notify(id, ev)
}

// handler is the engine's slog handler: it records the end of the engine's belief
// (keep-alive stopped) and each heartbeat's interval.
type handler struct{ p *probe }

func (h handler) Enabled(context.Context, slog.Level) bool { return true }
func (h handler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h handler) WithGroup(string) slog.Handler            { return h }

func (h handler) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case keepalive.LogKeepAliveStopped:
		cause := ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "cause" {
				cause = a.Value.String()
			}
			return true
		})
		h.p.mu.Lock()
		if c := h.p.cur; c != nil && c.believed.IsZero() {
			c.believed, c.believedHow = r.Time, cause
		}
		h.p.mu.Unlock()
	case keepalive.LogHeartbeatSent:
		var iv time.Duration
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "interval" {
				iv = a.Value.Duration()
			}
			return true
		})
		h.p.mu.Lock()
		h.p.intervals = append(h.p.intervals, intervalAt{at: r.Time, interval: iv})
		h.p.mu.Unlock()
	}
	return nil
}

// dialer returns the DialContext of the client's HTTP transport: every dial goes
// to addr, is numbered (the hops number their connections in the same accept
// order), is tracked by the adapter (resets) and gets the emulated TCP give-up.
func (p *probe) dialer(addr string, giveUp time.Duration, blackholed func(dial uint64) bool) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.dials++
		n := p.dials
		p.mu.Unlock()
		return &labConn{Conn: p.conn.TrackConn(nc), p: p, dial: n, giveUp: giveUp, blackholed: blackholed}, nil
	}
}

// errTCPGiveUp is the read error of a socket closed by the emulated TCP give-up.
var errTCPGiveUp = errors.Join(errors.New("netlab: TCP retransmission gave up (emulated)"), syscall.ETIMEDOUT)

// labConn emulates what loopback cannot: over a real path, data written into a
// blackholed connection is never acknowledged and the kernel gives up after
// TCPGiveUp (Linux tcp_retries2); through a local proxy every byte is acknowledged
// by the proxy's socket. So after a write on a connection whose path the chain's
// expiry records say is blackholed, the socket is closed TCPGiveUp/scale later.
// It sends nothing.
type labConn struct {
	net.Conn
	p          *probe
	dial       uint64
	giveUp     time.Duration // scaled; 0 = never
	blackholed func(dial uint64) bool

	once sync.Once
}

func (c *labConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.giveUp > 0 && c.blackholed(c.dial) {
		c.once.Do(func() {
			c.p.mu.Lock()
			defer c.p.mu.Unlock()
			if c.p.stopped {
				return
			}
			c.p.timers = append(c.p.timers, time.AfterFunc(c.giveUp, func() {
				c.p.mu.Lock()
				if c.p.cur != nil && c.p.cur.dial == c.dial && c.p.cur.end.IsZero() {
					c.p.tcpPending = true
				}
				c.p.giveUp[c.dial] = true
				c.p.mu.Unlock()
				_ = c.Conn.Close()
			}))
		})
	}
	return n, err
}
