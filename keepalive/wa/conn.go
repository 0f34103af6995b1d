package wa

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/kalab-dev/kalab/keepalive"
)

// Notifier receives what a Conn sees on its own; *keepalive.Engine is one.
type Notifier interface {
	// Notify delivers ev for the session id; it fails if id is unknown, the
	// receiver has stopped, or ev is not an event a Conn may report.
	Notify(id string, ev keepalive.Event) error
}

// Options configures New.
type Options struct {
	// ID is the engine session ID the Conn's notifications name. Required.
	ID string
	// Notifier receives EventDisconnected, EventLoggedOut, EventReplaced,
	// EventBanned and EventInbound for ID (usually the Engine). Required.
	Notifier Notifier
	// Tap is the logger the client was built with (whatsmeow.NewClient(dev, tap)),
	// so every received node counts as inbound traffic. Default nil: only
	// non-lifecycle whatsmeow events count (see the package doc).
	Tap *Tap
	// Clock measures ping round trips. Default: the real clock.
	Clock clockwork.Clock
}

// phase is where the adapter's current connection is.
type phase uint8

const (
	phaseDown       phase = iota // no connection the engine believes in
	phaseConnecting              // Connect is dialling (ConnectContext running)
	phaseSocket                  // dialled; waiting for events.Connected
	phaseUp                      // Connect returned nil; the engine believes it is up
)

// Conn is a whatsmeow client as a keepalive.Conn. Create it with New; its methods
// are safe for concurrent use, as keepalive.Conn requires.
type Conn struct {
	cli   *whatsmeow.Client
	id    string
	note  Notifier
	clock clockwork.Clock
	tap   bool
	base  context.Context // parent of every connection's context; never cancelled

	mu         sync.Mutex
	phase      phase
	gen        uint64
	result     chan error         // the running Connect's outcome (cap 1)
	cancelConn context.CancelFunc // cancels the current connection's context
	streamErr  bool               // a <stream:error> arrived on the current connection
	resetSeen  bool               // the current socket's reads ended in ECONNRESET
	inbound    uint64             // EventInbound notifications sent
	raw        net.Conn           // the latest socket dialled through TrackConn
	dropped    chan struct{}      // closed by the Disconnected that dropLive awaits
}

// dropLive ends a live tracked socket the engine judged dead without whatsmeow's
// WebSocket close handshake, which waits up to 5 s for a close frame that never
// comes on a dead (blackholed, hung) path: it closes the socket under whatsmeow
// and waits (at most dropWait) for whatsmeow to notice, as it would a remote close,
// consuming the Disconnected event that follows. Calling whatsmeow's Disconnect
// while its read pump fails would race inside whatsmeow (FrameSocket.closed and
// .conn are read without its lock), so the two never overlap.
func (c *Conn) dropLive(raw net.Conn, dropped chan struct{}) {
	_ = raw.Close()
	t := time.NewTimer(dropWait)
	defer t.Stop()
	select {
	case <-dropped:
	case <-t.C:
	}
}

// dropWait bounds dropLive's wait for whatsmeow's Disconnected.
const dropWait = 2 * time.Second

// Errors a Connect or Ping can return (wrapped with keepalive.WithCause where a
// cause is known).
var (
	// ErrPingFailed: the keep-alive IQ could not be sent, or the connection ended
	// before its reply.
	ErrPingFailed = errors.New("wa: keep-alive ping failed")
	// ErrDisconnected: the connection ended before login completed.
	ErrDisconnected = errors.New("wa: disconnected before login completed")
)

// New wraps cli (whose device store already holds a registered device) for an
// engine. It switches the client's own reconnection off (see the package doc),
// calls DisableBuiltinKeepAlive and registers an event handler. It does not
// connect: the engine's first action does.
func New(cli *whatsmeow.Client, opts Options) (*Conn, error) {
	if cli == nil {
		return nil, errors.New("wa: New: nil client")
	}
	if opts.ID == "" || opts.Notifier == nil {
		return nil, errors.New("wa: New: Options.ID and Options.Notifier are required")
	}
	DisableBuiltinKeepAlive()
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	cli.EnableAutoReconnect = false
	cli.InitialAutoReconnect = false
	cli.DisableLoginAutoReconnect = true
	c := &Conn{cli: cli, id: opts.ID, note: opts.Notifier, clock: opts.Clock,
		tap: opts.Tap != nil, base: context.WithoutCancel(cli.BackgroundEventCtx)}
	if c.base == nil {
		c.base = context.Background()
	}
	if opts.Tap != nil {
		opts.Tap.attach(c.onNode)
	}
	cli.AddEventHandler(c.onEvent)
	return c, nil
}

// Client returns the wrapped whatsmeow client.
func (c *Conn) Client() *whatsmeow.Client { return c.cli }

// Up reports whether the adapter holds a connection the engine believes is up.
func (c *Conn) Up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase == phaseUp
}

// InboundNotified returns how many EventInbound notifications were sent.
func (c *Conn) InboundNotified() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inbound
}

// Connect disconnects any previous connection, connects and waits for the login
// to complete (events.Connected), a failure, or ctx. ctx bounds only the attempt:
// the connection's own context lives until the next Connect or Close.
func (c *Conn) Connect(ctx context.Context) error {
	c.mu.Lock()
	var raw net.Conn
	var dropped chan struct{}
	if c.phase == phaseUp && c.raw != nil {
		raw, dropped = c.raw, make(chan struct{})
		c.dropped = dropped
	}
	c.raw = nil
	c.gen++
	gen := c.gen
	c.phase = phaseConnecting
	c.streamErr, c.resetSeen = false, false
	result := make(chan error, 1)
	c.result = result
	old := c.cancelConn
	connCtx, cancel := context.WithCancel(c.base)
	c.cancelConn = cancel
	c.mu.Unlock()

	// The engine replaces a connection it judged dead: no goodbye on it.
	if raw != nil {
		c.dropLive(raw, dropped)
		c.mu.Lock()
		c.dropped = nil
		c.mu.Unlock()
	}
	c.cli.Disconnect()
	if old != nil {
		old()
	}
	if err := ctx.Err(); err != nil {
		return c.failConnect(gen, err)
	}
	stop := context.AfterFunc(ctx, cancel) // abort the dial if ctx ends first
	err := c.cli.ConnectContext(connCtx)
	if err != nil {
		stop()
		if ctx.Err() != nil {
			err = fmt.Errorf("wa: connect: %w (%w)", ctx.Err(), err)
		}
		return c.failConnect(gen, keepalive.WithCause(fmt.Errorf("wa: connect: %w", err), dialCause(err)))
	}
	c.mu.Lock()
	if c.gen == gen && c.phase == phaseConnecting {
		c.phase = phaseSocket
	}
	c.mu.Unlock()
	select {
	case err = <-result:
	case <-ctx.Done():
		err = fmt.Errorf("wa: waiting for login: %w", ctx.Err())
	}
	if !stop() && err == nil {
		err = fmt.Errorf("wa: waiting for login: %w", ctx.Err())
	}
	if err != nil {
		return c.failConnect(gen, err)
	}
	return nil
}

// failConnect tears the attempt gen down and returns err.
func (c *Conn) failConnect(gen uint64, err error) error {
	c.mu.Lock()
	mine := c.gen == gen
	var cancel context.CancelFunc
	if mine {
		c.phase = phaseDown
		c.result = nil
		cancel = c.cancelConn
	}
	c.mu.Unlock()
	if mine {
		c.cli.Disconnect()
		if cancel != nil {
			cancel()
		}
	}
	return err
}

// Close disconnects (whatsmeow's Disconnect, with its WebSocket close handshake:
// up to 5 s on a dead path). The Conn may connect again afterwards.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.gen++
	c.phase = phaseDown
	c.result = nil
	cancel := c.cancelConn
	c.cancelConn = nil
	c.mu.Unlock()
	c.cli.Disconnect()
	if cancel != nil {
		cancel()
	}
	return nil
}

// SendPresence sends presence p: available and unavailable as <presence>, composing
// and recording as a <chatstate> to the account's own JID.
func (c *Conn) SendPresence(ctx context.Context, p keepalive.PresenceType) error {
	var err error
	switch p {
	case keepalive.PresenceAvailable:
		err = c.cli.SendPresence(ctx, types.PresenceAvailable)
	case keepalive.PresenceUnavailable:
		err = c.cli.SendPresence(ctx, types.PresenceUnavailable)
	case keepalive.PresenceComposing, keepalive.PresenceRecording:
		id := c.cli.Store.GetJID()
		if id.IsEmpty() {
			return errors.New("wa: chat-state heartbeat: device has no JID")
		}
		media := types.ChatPresenceMediaText
		if p == keepalive.PresenceRecording {
			media = types.ChatPresenceMediaAudio
		}
		err = c.cli.SendChatPresence(ctx, id.ToNonAD(), types.ChatPresenceComposing, media)
	default:
		return fmt.Errorf("wa: unknown presence type %d", p)
	}
	if err != nil {
		return fmt.Errorf("wa: send presence %s: %w", p, err)
	}
	return nil
}

// Ping sends whatsmeow's keep-alive IQ (<iq xmlns="w:p" type="get">) and waits for
// its reply until ctx is done (the engine's deadline: whatsmeow's own is switched
// off by DisableBuiltinKeepAlive). It returns the round trip on Options.Clock.
//
// whatsmeow gets a context that is never cancelled: cancelling the one its IQ is
// written with can close the WebSocket (coder/websocket closes a connection whose
// write context ends mid-write), and an IQ whose send reports an error after the
// reply arrived races inside whatsmeow (cancelResponse closes the reply channel
// receiveResponse is sending on). The helper goroutine ends when the reply comes
// or the connection ends (whatsmeow then releases every reply waiter).
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrPingFailed, err)
	}
	start := c.clock.Now()
	done := make(chan bool, 1)
	go func() {
		ok, _ := c.cli.DangerousInternals().SendKeepAlive(context.WithoutCancel(ctx))
		done <- ok
	}()
	select {
	case ok := <-done:
		if !ok {
			return 0, ErrPingFailed
		}
		return c.clock.Since(start), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", ErrPingFailed, ctx.Err())
	}
}

// notify sends ev for the session; a session the engine no longer knows is fine.
func (c *Conn) notify(ev keepalive.Event) { _ = c.note.Notify(c.id, ev) }

func (c *Conn) downCauseLocked() keepalive.Cause {
	switch {
	case c.streamErr:
		return keepalive.CauseStreamError
	case c.resetSeen:
		return keepalive.CauseReset
	}
	return keepalive.CauseClosed
}

// finishLocked ends a running Connect with err (nil: logged in).
func (c *Conn) finishLocked(err error) {
	if c.result != nil {
		c.result <- err
		c.result = nil
	}
}

// onNode is the Tap's callback: one call per node whatsmeow decoded.
func (c *Conn) onNode(k nodeKind) {
	c.mu.Lock()
	if k == nodeStreamError {
		c.streamErr = true
	}
	up := c.phase == phaseUp
	if up {
		c.inbound++
	}
	c.mu.Unlock()
	if up {
		c.notify(keepalive.Event{Kind: keepalive.EventInbound})
	}
}

// onEvent translates whatsmeow's events (see the package doc).
func (c *Conn) onEvent(evt any) {
	switch e := evt.(type) {
	case *events.Connected:
		c.mu.Lock()
		if c.phase == phaseConnecting || c.phase == phaseSocket {
			c.phase = phaseUp
			c.finishLocked(nil)
		}
		c.mu.Unlock()
	case *events.Disconnected:
		c.mu.Lock()
		if c.dropped != nil {
			close(c.dropped) // the socket dropLive closed: expected
			c.dropped = nil
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.lost(false, nil)
	case *events.ManualLoginReconnect:
		c.mu.Lock()
		c.streamErr = true
		p, gen := c.phase, c.gen
		c.mu.Unlock()
		if p == phaseConnecting || p == phaseSocket {
			go c.restart(gen)
			return
		}
		c.lost(true, nil)
	case *events.StreamError:
		c.mu.Lock()
		c.streamErr = true
		c.mu.Unlock()
		c.lost(true, fmt.Errorf("wa: stream error %s", e.Code))
	case *events.LoggedOut:
		c.terminal(keepalive.EventLoggedOut, keepalive.CauseLoggedOut, fmt.Errorf("wa: logged out (%s)", e.Reason))
	case *events.StreamReplaced:
		c.terminal(keepalive.EventReplaced, keepalive.CauseReplaced, errors.New("wa: stream replaced by another client"))
	case *events.TemporaryBan:
		c.terminal(keepalive.EventBanned, keepalive.CauseBanned, fmt.Errorf("wa: temporary ban: %s", e))
	case *events.ClientOutdated:
		c.lost(true, errors.New("wa: client outdated (405): update whatsmeow"))
	case *events.ConnectFailure:
		c.lost(true, fmt.Errorf("wa: connect failure %d %s", int(e.Reason), e.Message))
	case *events.CATRefreshError:
		c.lost(true, fmt.Errorf("wa: CAT refresh: %w", e.Error))
	case *events.KeepAliveTimeout, *events.KeepAliveRestored:
		// whatsmeow's own loop is off (DisableBuiltinKeepAlive): never emitted.
	case *events.QR, *events.PairSuccess, *events.PairError, *events.QRScannedWithoutMultidevice,
		*events.OfflineSyncPreview, *events.OfflineSyncCompleted:
		// login-time events: not traffic on an established connection.
	default:
		if !c.tap {
			c.onNode(nodeOther)
		}
	}
}

// lost handles the end of the current connection (or a failure that ends it).
// During Connect it fails the attempt (only once the socket was dialled, unless
// always); when up it notifies EventDisconnected.
func (c *Conn) lost(always bool, err error) {
	c.mu.Lock()
	cause := c.downCauseLocked()
	switch c.phase {
	case phaseConnecting:
		if always {
			c.finishLocked(keepalive.WithCause(errOr(err, ErrDisconnected), cause))
		}
	case phaseSocket:
		c.finishLocked(keepalive.WithCause(errOr(err, ErrDisconnected), cause))
	case phaseUp:
		c.phase = phaseDown
		c.mu.Unlock()
		c.notify(keepalive.Event{Kind: keepalive.EventDisconnected, Cause: cause})
		return
	}
	c.mu.Unlock()
}

// terminal reports a terminal server decision and fails a running Connect.
func (c *Conn) terminal(kind keepalive.EventKind, cause keepalive.Cause, err error) {
	c.mu.Lock()
	c.finishLocked(keepalive.WithCause(err, cause))
	c.phase = phaseDown
	c.mu.Unlock()
	c.notify(keepalive.Event{Kind: kind})
}

// restart performs the reconnect a 515 asks for during Connect (pairing, login).
func (c *Conn) restart(gen uint64) {
	c.mu.Lock()
	if c.gen != gen {
		c.mu.Unlock()
		return
	}
	c.phase = phaseConnecting
	c.streamErr = false
	c.mu.Unlock()
	c.cli.Disconnect()
	c.mu.Lock()
	if c.gen != gen || c.cancelConn == nil {
		c.mu.Unlock()
		return
	}
	ctx := c.base
	c.mu.Unlock()
	err := c.cli.ConnectContext(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if err != nil {
		c.finishLocked(keepalive.WithCause(fmt.Errorf("wa: reconnect after 515: %w", err), keepalive.CauseStreamError))
		return
	}
	if c.phase == phaseConnecting {
		c.phase = phaseSocket
	}
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
