package mockwa

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	"google.golang.org/protobuf/proto"
)

// One goroutine per connection (the HTTP handler's) runs serve:
//
//	handshake ──► login: <success/> or <failure/>  ─┐
//	          └─► registration: <pair-device> refs ─┴─► read loop: decrypt, decode, handle
//
// Writes come from the read loop, from timers (delayed pongs, idle policy) and
// from API callers (Inject, SendInbound, Scan); wmu orders them and the
// transport's write counter. Timers and helper goroutines are tracked in wg and
// stopped before serve returns, so a closed connection leaves nothing behind.
type conn struct {
	srv    *Server
	id     uint64
	ws     *websocket.Conn
	raw    net.Conn
	remote string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	dec     *frameDecoder
	pending [][]byte // decoded frames not yet consumed

	wmu sync.Mutex
	tr  *transport

	sess         atomic.Pointer[Session]
	clientStatic [32]byte
	clientIdent  []byte // identity key from a registration payload
	preIn        int64  // bytes before the device was known
	preOut       atomic.Int64

	hung     atomic.Bool
	ending   atomic.Bool
	lastRead atomic.Int64 // server clock, unix ns

	tmu    sync.Mutex
	tdone  bool
	timers map[int]clockwork.Timer
	tnext  int
	wg     sync.WaitGroup

	pmu      sync.Mutex
	waiters  map[string]chan *waBinary.Node
	pairRefs []string
	pairing  bool // a Scan is in progress
	iqSeq    atomic.Uint64
}

var errHung = errors.New("connection hung by injection")

// errMalformed marks input that violates the protocol.
var errMalformed = errors.New("malformed input")

func newConn(s *Server, ws *websocket.Conn, raw net.Conn, remote string) *conn {
	id := s.connIDs.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		srv:     s,
		id:      id,
		ws:      ws,
		raw:     raw,
		remote:  remote,
		log:     s.log.With("conn", id, "remote", remote),
		ctx:     ctx,
		cancel:  cancel,
		dec:     newFrameDecoder(s.cfg.MaxFrame),
		timers:  map[int]clockwork.Timer{},
		waiters: map[string]chan *waBinary.Node{},
	}
}

func (c *conn) serve() {
	defer c.finish()
	c.lastRead.Store(c.srv.cfg.Clock.Now().UnixNano())
	hctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.HandshakeTimeout)
	payload, err := c.handshake(hctx)
	cancel()
	if err != nil {
		c.srv.stats.handshakeFailures.Add(1)
		c.log.Warn("closing connection: handshake failed", "err", err)
		return
	}
	c.srv.stats.handshakes.Add(1)
	if d := c.srv.cfg.IdleTimeout; d > 0 {
		c.after(d, c.checkIdle)
	}
	switch {
	case payload.Username != nil:
		c.login(payload)
	case payload.DevicePairingData != nil:
		if err := c.startPairing(payload); err != nil {
			c.log.Warn("closing connection: pairing start failed", "err", err)
			return
		}
	default:
		c.srv.stats.malformed.Add(1)
		c.log.Warn("closing connection: client payload is neither a login nor a registration")
		return
	}
	c.readLoop()
}

// finish tears the connection down; it runs once, on the serve goroutine.
func (c *conn) finish() {
	c.cancel()
	_ = c.ws.CloseNow()
	c.tmu.Lock()
	c.tdone = true
	for k, t := range c.timers {
		if t.Stop() {
			c.wg.Done()
		}
		delete(c.timers, k)
	}
	c.tmu.Unlock()
	c.wg.Wait()

	c.pmu.Lock()
	refs := c.pairRefs
	c.pairRefs = nil
	for id, ch := range c.waiters {
		close(ch)
		delete(c.waiters, id)
	}
	c.pmu.Unlock()
	if len(refs) > 0 {
		c.srv.mu.Lock()
		for _, r := range refs {
			delete(c.srv.pairing, r)
		}
		c.srv.mu.Unlock()
	}
	if sess := c.sess.Load(); sess != nil {
		now := c.srv.cfg.Clock.Now()
		sess.mu.Lock()
		if sess.cur == c {
			sess.cur = nil
			sess.active = false
		}
		sess.counters.Disconnects++
		sess.recordLocked(now, "disconnect", "conn "+strconv.FormatUint(c.id, 10))
		sess.mu.Unlock()
	}
	c.log.Debug("connection closed")
}

// readMessage reads one WebSocket message into the frame decoder.
func (c *conn) readMessage(ctx context.Context) error {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return err
	}
	c.lastRead.Store(c.srv.cfg.Clock.Now().UnixNano())
	c.countIn(int64(len(data)))
	if typ != websocket.MessageBinary {
		return fmt.Errorf("%w: text WebSocket message", errMalformed)
	}
	frames, err := c.dec.feed(data)
	c.pending = append(c.pending, frames...)
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	return nil
}

func (c *conn) nextFrame(ctx context.Context) ([]byte, error) {
	for len(c.pending) == 0 {
		if err := c.readMessage(ctx); err != nil {
			return nil, err
		}
	}
	f := c.pending[0]
	c.pending[0] = nil
	c.pending = c.pending[1:]
	return f, nil
}

func (c *conn) countIn(n int64) {
	if sess := c.sess.Load(); sess != nil {
		sess.update(func(k *Counters) { k.BytesIn += n })
		return
	}
	c.preIn += n
}

func (c *conn) countOut(n int64) {
	if sess := c.sess.Load(); sess != nil {
		sess.update(func(k *Counters) { k.BytesOut += n })
		return
	}
	c.preOut.Add(n)
}

// writeRaw writes one frame (length prefix added) as one WebSocket message.
func (c *conn) writeRaw(ctx context.Context, payload []byte) error {
	frame, err := encodeFrame(payload)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, c.srv.cfg.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, websocket.MessageBinary, frame); err != nil {
		return err
	}
	c.countOut(int64(len(frame)))
	return nil
}

func (c *conn) handshake(ctx context.Context) (*waWa6.ClientPayload, error) {
	first, err := c.nextFrame(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading client hello: %w", err)
	}
	var hello waWa6.HandshakeMessage
	if err := proto.Unmarshal(first, &hello); err != nil {
		return nil, fmt.Errorf("%w: client hello: %v", errMalformed, err)
	}
	eph := hello.GetClientHello().GetEphemeral()
	if len(eph) != 32 {
		return nil, fmt.Errorf("%w: client hello ephemeral is %d bytes, want 32", errMalformed, len(eph))
	}
	var ns noiseState
	ns.start(socket.WAConnHeader)
	ns.authenticate(eph)
	seph := keys.NewKeyPair()
	ns.authenticate(seph.Pub[:])
	if err := ns.mixDH(seph.Priv[:], eph); err != nil {
		return nil, err
	}
	staticCt := ns.encrypt(c.srv.static.Pub[:])
	if err := ns.mixDH(c.srv.static.Priv[:], eph); err != nil {
		return nil, err
	}
	certCt := ns.encrypt(c.srv.chain)
	msg, err := proto.Marshal(&waWa6.HandshakeMessage{ServerHello: &waWa6.HandshakeMessage_ServerHello{
		Ephemeral: seph.Pub[:], Static: staticCt, Payload: certCt,
	}})
	if err != nil {
		return nil, err
	}
	if err := c.writeRaw(ctx, msg); err != nil {
		return nil, fmt.Errorf("writing server hello: %w", err)
	}
	second, err := c.nextFrame(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading client finish: %w", err)
	}
	var finish waWa6.HandshakeMessage
	if err := proto.Unmarshal(second, &finish); err != nil {
		return nil, fmt.Errorf("%w: client finish: %v", errMalformed, err)
	}
	cf := finish.GetClientFinish()
	if cf == nil {
		return nil, fmt.Errorf("%w: second handshake message is not a client finish", errMalformed)
	}
	static, err := ns.decrypt(cf.GetStatic())
	if err != nil {
		return nil, fmt.Errorf("client static: %w", err)
	}
	if len(static) != 32 {
		return nil, fmt.Errorf("%w: client static is %d bytes, want 32", errMalformed, len(static))
	}
	if err := ns.mixDH(seph.Priv[:], static); err != nil {
		return nil, err
	}
	plBytes, err := ns.decrypt(cf.GetPayload())
	if err != nil {
		return nil, fmt.Errorf("client payload: %w", err)
	}
	var payload waWa6.ClientPayload
	if err := proto.Unmarshal(plBytes, &payload); err != nil {
		return nil, fmt.Errorf("%w: client payload: %v", errMalformed, err)
	}
	if c.tr, err = ns.split(); err != nil {
		return nil, err
	}
	copy(c.clientStatic[:], static)
	return &payload, nil
}

// attach binds the connection to its device's session.
func (c *conn) attach(sess *Session) {
	in, out := c.preIn, c.preOut.Load()
	c.sess.Store(sess)
	c.preOut.Add(-out)
	now := c.srv.cfg.Clock.Now()
	sess.mu.Lock()
	sess.counters.Connects++
	sess.counters.BytesIn += in
	sess.counters.BytesOut += out
	sess.recordLocked(now, "connect", "conn "+strconv.FormatUint(c.id, 10)+" from "+c.remote)
	sess.mu.Unlock()
	c.log = c.log.With("jid", sess.jid.String())
}

func (c *conn) login(payload *waWa6.ClientPayload) {
	jid := deviceJID(strconv.FormatUint(payload.GetUsername(), 10), uint16(payload.GetDevice()))
	sess := c.srv.session(jid, true)
	c.attach(sess)
	now := c.srv.cfg.Clock.Now()

	sess.mu.Lock()
	reason := 0
	switch {
	case sess.removed:
		reason = 401
	case len(sess.failNext) > 0:
		reason = sess.failNext[0]
		sess.failNext = sess.failNext[1:]
		if reason == 401 || reason == 403 || reason == 406 {
			sess.removed = true
		}
	}
	if reason != 0 {
		sess.counters.LoginFailures++
		sess.recordLocked(now, "failure", strconv.Itoa(reason))
		sess.mu.Unlock()
		c.log.Info("login refused", "reason", reason)
		_ = c.sendNode(failureNode(reason))
		c.endAfterGrace()
		return
	}
	sess.cur = c
	sess.active = false
	sess.counters.Logins++
	sess.recordLocked(now, "login", "conn "+strconv.FormatUint(c.id, 10))
	lid := sess.lid
	sess.mu.Unlock()

	attrs := waBinary.Attrs{
		"t":        now.Unix(),
		"props":    "1",
		"abprops":  "1",
		"location": "mock",
		"creation": now.Unix(),
	}
	if !lid.IsEmpty() {
		attrs["lid"] = lid
	}
	if err := c.sendNode(waBinary.Node{Tag: "success", Attrs: attrs}); err != nil {
		c.log.Info("writing success failed", "err", err)
		return
	}
	c.srv.stats.logins.Add(1)
}

func (c *conn) readLoop() {
	for {
		if c.hung.Load() {
			<-c.ctx.Done()
			return
		}
		f, err := c.nextFrame(c.ctx)
		if err != nil {
			c.logEnd(err)
			return
		}
		if c.hung.Load() {
			continue
		}
		pt, err := c.tr.open(f)
		if err != nil {
			c.srv.stats.malformed.Add(1)
			c.log.Warn("closing connection: undecryptable frame", "err", err)
			return
		}
		node, err := decodeNode(pt)
		if err != nil {
			c.srv.stats.malformed.Add(1)
			c.log.Warn("closing connection: garbage node", "err", err)
			return
		}
		if c.ending.Load() {
			continue
		}
		c.handleNode(node)
	}
}

func (c *conn) logEnd(err error) {
	switch {
	case errors.Is(err, errMalformed):
		c.srv.stats.malformed.Add(1)
		c.log.Warn("closing connection: malformed input", "err", err)
	case c.ctx.Err() != nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed),
		websocket.CloseStatus(err) != -1:
		c.log.Debug("connection ended", "err", err)
	default:
		c.log.Info("connection ended", "err", err)
	}
}

// sendNode encrypts and writes a node. It fails on a hung connection.
func (c *conn) sendNode(n waBinary.Node) error {
	if c.hung.Load() {
		return errHung
	}
	data, err := encodeNode(n)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	return c.writeRaw(c.ctx, c.tr.seal(data))
}

func (c *conn) reply(id string) error {
	return c.sendNode(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"id": id, "type": "result", "from": types.ServerJID,
	}})
}

func (c *conn) handleNode(n *waBinary.Node) {
	switch n.Tag {
	case "iq":
		c.handleIQ(n)
	case "presence":
		typ, _ := n.Attrs["type"].(string)
		if typ == "" {
			typ = "available"
		}
		if sess := c.sess.Load(); sess != nil {
			sess.update(func(k *Counters) { k.Presence[typ]++ })
			sess.record("presence", typ)
		}
	}
}

func (c *conn) handleIQ(n *waBinary.Node) {
	id, _ := n.Attrs["id"].(string)
	typ, _ := n.Attrs["type"].(string)
	xmlns, _ := n.Attrs["xmlns"].(string)
	sess := c.sess.Load()
	if sess != nil {
		sess.update(func(k *Counters) { k.IQs++ })
	}
	if typ == "result" || typ == "error" {
		c.pmu.Lock()
		ch, ok := c.waiters[id]
		delete(c.waiters, id)
		c.pmu.Unlock()
		if ok {
			ch <- n
			close(ch)
		}
		return
	}
	switch xmlns {
	case "w:p":
		c.handlePing(id, sess)
		return
	case "encrypt":
		if count, ok := n.GetOptionalChildByTag("count"); ok && typ == "get" && c.srv.cfg.TrackPreKeys {
			_ = count
			uploaded := 0
			if sess != nil {
				uploaded = sess.Counters().PreKeysUploaded
			}
			_ = c.sendNode(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
				"id": id, "type": "result", "from": types.ServerJID,
			}, Content: []waBinary.Node{{Tag: "count", Attrs: waBinary.Attrs{"value": uploaded}}}})
			return
		}
		if list, ok := n.GetOptionalChildByTag("list"); ok && typ == "set" && sess != nil {
			k := len(list.GetChildren())
			sess.update(func(cs *Counters) { cs.PreKeysUploaded = k })
		}
	case "passive":
		_, active := n.GetOptionalChildByTag("active")
		_ = c.reply(id)
		if active && sess != nil {
			sess.mu.Lock()
			mine := sess.cur == c
			if mine {
				sess.active = true
				sess.notifyLocked()
			}
			sess.mu.Unlock()
			if mine {
				sess.flush()
			}
		}
		return
	}
	_ = c.reply(id)
}

func (c *conn) handlePing(id string, sess *Session) {
	if sess != nil {
		sess.update(func(k *Counters) { k.Pings++ })
	}
	if c.srv.dropPings.Load() {
		if sess != nil {
			sess.record("ping", "dropped")
		}
		return
	}
	answer := func() {
		if err := c.reply(id); err == nil && sess != nil {
			sess.update(func(k *Counters) { k.PingsAnswered++ })
		}
	}
	if d := time.Duration(c.srv.pingDelay.Load()); d > 0 {
		c.after(d, answer)
		return
	}
	answer()
}

// after runs fn after d on the server clock, tracked for shutdown.
func (c *conn) after(d time.Duration, fn func()) { c.afterOn(c.srv.cfg.Clock, d, fn) }

// afterReal is after on the real clock, for socket-level grace periods that
// exist to let the peer's goroutines run, whatever the server clock says.
func (c *conn) afterReal(d time.Duration, fn func()) { c.afterOn(realClock, d, fn) }

var realClock = clockwork.NewRealClock()

func (c *conn) afterOn(clk clockwork.Clock, d time.Duration, fn func()) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if c.tdone {
		return
	}
	k := c.tnext
	c.tnext++
	c.wg.Add(1)
	c.timers[k] = clk.AfterFunc(d, func() {
		defer c.wg.Done()
		c.tmu.Lock()
		delete(c.timers, k)
		c.tmu.Unlock()
		fn()
	})
}

// goTracked runs fn on a goroutine that finish waits for.
func (c *conn) goTracked(fn func()) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if c.tdone {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

func (c *conn) checkIdle() {
	idle := c.srv.cfg.IdleTimeout
	elapsed := c.srv.cfg.Clock.Now().Sub(time.Unix(0, c.lastRead.Load()))
	if elapsed < idle {
		c.after(idle-elapsed, c.checkIdle)
		return
	}
	if sess := c.sess.Load(); sess != nil {
		sess.record("idle-close", fmt.Sprintf("client silent for %v", elapsed))
	}
	c.log.Info("closing idle connection", "silent", elapsed)
	c.ending.Store(true)
	_ = c.ws.Close(websocket.StatusNormalClosure, "idle")
}

// endAfterGrace stops handling input and closes the socket after the grace
// period, unless the client closes first.
func (c *conn) endAfterGrace() {
	c.ending.Store(true)
	c.afterReal(c.srv.cfg.StreamErrorGrace, c.closeNow)
}

// closeNow closes the TCP connection without a WebSocket close handshake.
func (c *conn) closeNow() {
	c.cancel()
	_ = c.ws.CloseNow()
}

// abort resets the TCP connection (RST).
func (c *conn) abort() {
	raw := c.raw
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
		_ = tcp.Close()
	}
	c.closeNow()
}

// apply performs an injected event on this connection.
func (c *conn) apply(ev Event) {
	switch ev.Kind {
	case StreamError515, StreamError503, DeviceRemoved, Replaced:
		if ev.Kind == DeviceRemoved {
			if sess := c.sess.Load(); sess != nil {
				sess.mu.Lock()
				sess.removed = true
				sess.mu.Unlock()
			}
		}
		if err := c.sendNode(streamErrorNode(ev.Kind)); err != nil {
			c.log.Info("writing stream error failed", "event", ev.String(), "err", err)
		}
		c.endAfterGrace()
	case CleanClose:
		c.ending.Store(true)
		c.goTracked(func() { _ = c.ws.Close(websocket.StatusNormalClosure, "") })
	case AbruptClose:
		c.abort()
	case Hang:
		c.hung.Store(true)
	}
}
