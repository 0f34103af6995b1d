package mockwa

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// Server is a mock WhatsApp multi-device server. Create it with New, then
// Start; Close stops it and every connection. Methods are safe for concurrent
// use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	static *keys.KeyPair // the server's Noise static key
	chain  []byte        // marshalled CertChain for static

	tlsConf *tls.Config
	pool    *x509.CertPool

	ln      net.Listener
	httpSrv *http.Server

	mu       sync.Mutex
	started  bool
	closed   bool
	sessions map[string]*Session
	conns    map[*conn]struct{}
	pairing  map[string]*conn // pairing ref → connection waiting for a scan
	changed  chan struct{}    // closed and replaced when a session appears

	wg   sync.WaitGroup // connection handlers and background loops
	stop chan struct{}

	pingDelay atomic.Int64
	dropPings atomic.Bool
	connIDs   atomic.Uint64
	inSeq     atomic.Uint64
	phones    atomic.Uint64

	stats struct {
		accepted, handshakes, handshakeFailures, malformed, logins, pairings atomic.Int64
	}
}

// Stats are server-wide counters.
type Stats struct {
	// Accepted counts WebSocket connections accepted.
	Accepted int64 `json:"accepted"`
	// Active is the number of connections open now.
	Active int `json:"active"`
	// Handshakes counts completed Noise handshakes; HandshakeFailures those
	// that failed (bad header, bad crypto, timeout, closed mid-way).
	Handshakes        int64 `json:"handshakes"`
	HandshakeFailures int64 `json:"handshake_failures"`
	// Malformed counts connections closed for malformed input after the
	// handshake (undecryptable frame, oversized length, garbage node).
	Malformed int64 `json:"malformed"`
	// Logins counts <success/> sent; Pairings completed pairings.
	Logins   int64 `json:"logins"`
	Pairings int64 `json:"pairings"`
	// Sessions is the number of devices the server knows.
	Sessions int `json:"sessions"`
}

// New validates cfg and prepares a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		static:   keys.NewKeyPair(),
		sessions: map[string]*Session{},
		conns:    map[*conn]struct{}{},
		pairing:  map[string]*conn{},
		changed:  make(chan struct{}),
		stop:     make(chan struct{}),
	}
	s.pingDelay.Store(int64(cfg.PingDelay))
	s.dropPings.Store(cfg.DropPings)
	now := cfg.Clock.Now()
	issuer, err := newCertIssuer(cfg.Root, now)
	if err != nil {
		return nil, err
	}
	if s.chain, err = issuer.chainFor(*s.static.Pub, now); err != nil {
		return nil, err
	}
	if cfg.TLS {
		if s.tlsConf, s.pool, err = selfSignedTLS(now); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("mockwa: Start called twice or after Close")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("mockwa: listen on %s: %w", s.cfg.Listen, err)
	}
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.ln = ln
	s.started = true
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/chat", s.handleWS)
	s.routeAPI(mux)
	s.httpSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, netConnKey{}, c)
		},
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.httpSrv.Serve(ln)
	}()
	for _, f := range s.cfg.Faults {
		s.wg.Add(1)
		go s.runFault(f)
	}
	if s.cfg.InboundEvery > 0 {
		s.wg.Add(1)
		go s.runInbound(s.cfg.InboundEvery)
	}
	s.log.Info("mock WhatsApp server listening", "url", s.urlLocked(), "root", s.cfg.Root.PublicHex())
	return nil
}

// Close stops listening, closes every connection and waits for the server's
// goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	srv := s.httpSrv
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	for _, c := range conns {
		c.closeNow()
	}
	s.wg.Wait()
	return err
}

// Addr returns the listening address (host:port), or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the WebSocket URL clients dial, e.g. ws://127.0.0.1:PORT/ws/chat.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urlLocked()
}

func (s *Server) urlLocked() string {
	if s.ln == nil {
		return ""
	}
	scheme := "ws"
	if s.tlsConf != nil {
		scheme = "wss"
	}
	return scheme + "://" + s.ln.Addr().String() + "/ws/chat"
}

// APIURL returns the base URL of the loopback HTTP API.
func (s *Server) APIURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	scheme := "http"
	if s.tlsConf != nil {
		scheme = "https"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// RootPublicKey returns the public key whatsmeow.WACertPubKey must hold.
func (s *Server) RootPublicKey() [32]byte { return s.cfg.Root.Public() }

// Root returns the root key the server's certificates chain to.
func (s *Server) Root() *RootKey { return s.cfg.Root }

// TLS reports whether the server serves wss://.
func (s *Server) TLS() bool { return s.tlsConf != nil }

// CertPool returns a pool holding the self-signed TLS certificate, or nil for
// a plain server.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// SetPingPolicy changes the keep-alive ping service time and whether pings are
// answered at all, for pings arriving from now on.
func (s *Server) SetPingPolicy(delay time.Duration, drop bool) {
	s.pingDelay.Store(int64(delay))
	s.dropPings.Store(drop)
}

// Stats returns a snapshot of the server-wide counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	active, sessions := len(s.conns), len(s.sessions)
	s.mu.Unlock()
	return Stats{
		Accepted:          s.stats.accepted.Load(),
		Active:            active,
		Handshakes:        s.stats.handshakes.Load(),
		HandshakeFailures: s.stats.handshakeFailures.Load(),
		Malformed:         s.stats.malformed.Load(),
		Logins:            s.stats.logins.Load(),
		Pairings:          s.stats.pairings.Load(),
		Sessions:          sessions,
	}
}

// Session returns the server's record of device jid (user and device number
// are what matter), if it has seen or been told about it.
func (s *Server) Session(jid types.JID) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[jidKey(jid)]
	return sess, ok
}

// WaitSession waits until the server knows device jid, or ctx ends.
func (s *Server) WaitSession(ctx context.Context, jid types.JID) (*Session, error) {
	for {
		s.mu.Lock()
		sess, ok := s.sessions[jidKey(jid)]
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return sess, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("mockwa: waiting for session %s: %w", jid, ctx.Err())
		}
	}
}

// Sessions returns every session, sorted by JID.
func (s *Server) Sessions() []*Session {
	s.mu.Lock()
	out := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *Session) int { return compareJID(a.jid, b.jid) })
	return out
}

func compareJID(a, b types.JID) int {
	if a.User != b.User {
		if a.User < b.User {
			return -1
		}
		return 1
	}
	return int(a.Device) - int(b.Device)
}

// session returns (and with create, makes) the record of a device.
func (s *Server) session(jid types.JID, create bool) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := jidKey(jid)
	sess, ok := s.sessions[key]
	if !ok && create {
		sess = &Session{
			srv:      s,
			jid:      deviceJID(jid.User, jid.Device),
			changed:  make(chan struct{}),
			counters: Counters{Presence: map[string]int{}, Injected: map[string]int{}},
		}
		s.sessions[key] = sess
		close(s.changed)
		s.changed = make(chan struct{})
	}
	return sess
}

// netConnKey carries the accepted net.Conn into the handler's context, so the
// server can reset the TCP connection (AbruptClose).
type netConnKey struct{}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// whatsmeow sends Origin https://web.whatsapp.com while dialing this
		// host; any client may connect to a mock.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Warn("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	ws.SetReadLimit(int64(s.cfg.MaxFrame) + 8)
	raw, _ := r.Context().Value(netConnKey{}).(net.Conn)
	c := newConn(s, ws, raw, r.RemoteAddr)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.stats.accepted.Add(1)
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}
