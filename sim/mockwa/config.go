package mockwa

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/jonboulle/clockwork"
	"go.mau.fi/whatsmeow/types"
)

// Config configures a Server. The zero value is a usable loopback server on a
// random port, plain WebSocket, pings answered at once.
type Config struct {
	// Listen is the TCP address to listen on. Default "127.0.0.1:0".
	Listen string
	// AllowRemote permits a Listen address that is not loopback. Default false:
	// New refuses such addresses.
	AllowRemote bool
	// TLS serves wss:// with a self-signed certificate (see Server.CertPool).
	// Default false (plain ws://).
	TLS bool
	// Root signs the certificate chain. Default ProcessRoot(), the only root
	// whatsmeow clients of this process can trust (see TrustProcessRoot).
	Root *RootKey

	// PingDelay is the service time of keep-alive pings (whatsmeow's w:p IQ):
	// the reply is sent this long after the ping arrives. Default 0 (at once).
	// Server.SetPingPolicy changes it while running.
	PingDelay time.Duration
	// DropPings leaves keep-alive pings unanswered. Default false.
	DropPings bool
	// IdleTimeout closes a connection (cleanly) whose client sent nothing for
	// this long: the server-side idle policy. Default 0: never.
	IdleTimeout time.Duration
	// StreamErrorGrace is how long the server waits after a stream:error or a
	// login <failure> for the client to close before it closes the socket
	// itself. Default 250ms, on the real clock even when Clock is fake.
	StreamErrorGrace time.Duration
	// HandshakeTimeout bounds the Noise handshake. Default 20s (whatsmeow's own
	// NoiseHandshakeResponseTimeout).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds one WebSocket write. Default 10s.
	WriteTimeout time.Duration
	// MaxFrame is the largest frame accepted from a client, in bytes. Default
	// and maximum 16 MiB - 1 (a 3-byte length).
	MaxFrame int
	// TrackPreKeys answers the encrypt/count IQ with the number of prekeys the
	// device uploaded to this server, so a fresh whatsmeow device uploads its
	// 812 initial prekeys (a ~40 KB frame). Default false: a bare result, which
	// whatsmeow logs and skips (logins are faster).
	TrackPreKeys bool
	// QRRefs is the number of pairing refs sent to an unpaired client. Default 6.
	QRRefs int

	// InboundEvery makes the server send every session it has seen one stamped
	// inbound presence per interval, queued while the session is offline.
	// Default 0: only on SendInbound.
	InboundEvery time.Duration
	// Faults are server events injected on a schedule.
	Faults []ScheduledFault
	// EventLogSize caps each session's event log (oldest entries dropped).
	// Default 1024.
	EventLogSize int

	// Clock drives timers (ping delay, idle policy, schedules, inbound) and
	// timestamps. Default the real clock.
	Clock clockwork.Clock
	// Logger receives connection-level log lines. Default: discarded.
	Logger *slog.Logger
}

// ScheduledFault injects Event at At after Start, then every Every (0 = once).
type ScheduledFault struct {
	// JID selects the session; the zero JID means every session connected at
	// the time.
	JID types.JID
	// Event is what to inject.
	Event Event
	// At is the delay after Start of the first injection.
	At time.Duration
	// Every repeats the injection at this period; 0 = once.
	Every time.Duration
}

const (
	defaultListen           = "127.0.0.1:0"
	defaultStreamErrorGrace = 250 * time.Millisecond
	defaultHandshakeTimeout = 20 * time.Second
	defaultWriteTimeout     = 10 * time.Second
	defaultQRRefs           = 6
	defaultEventLogSize     = 1024
)

// withDefaults fills zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if err := checkListen(c.Listen, c.AllowRemote); err != nil {
		return c, err
	}
	if c.Root == nil {
		c.Root = ProcessRoot()
	}
	if c.StreamErrorGrace <= 0 {
		c.StreamErrorGrace = defaultStreamErrorGrace
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	if c.MaxFrame <= 0 || c.MaxFrame > maxFrame {
		c.MaxFrame = maxFrame
	}
	if c.QRRefs <= 0 {
		c.QRRefs = defaultQRRefs
	}
	if c.EventLogSize <= 0 {
		c.EventLogSize = defaultEventLogSize
	}
	for i, f := range c.Faults {
		if err := f.Event.validate(); err != nil {
			return c, fmt.Errorf("mockwa: Config.Faults[%d].Event: %w", i, err)
		}
		if f.At < 0 || f.Every < 0 {
			return c, fmt.Errorf("mockwa: Config.Faults[%d]: negative At or Every", i)
		}
	}
	if c.PingDelay < 0 || c.IdleTimeout < 0 || c.InboundEvery < 0 {
		return c, fmt.Errorf("mockwa: negative duration in Config (PingDelay %v, IdleTimeout %v, InboundEvery %v)",
			c.PingDelay, c.IdleTimeout, c.InboundEvery)
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// checkListen refuses non-loopback listen addresses unless allowRemote.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("mockwa: listen address %q: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("mockwa: listen address %q is not loopback; set AllowRemote (--allow-remote) to serve other hosts", addr)
	}
	return nil
}
