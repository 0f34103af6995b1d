package live

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// DefaultListen is the HTTP address of /healthz, /readyz, /sessions and /metrics.
const DefaultListen = "127.0.0.1:9464"

// DefaultPreset is the keep-alive preset used without --preset or --config.
const DefaultPreset = "kalab"

// Options configures a Runner. Zero values take the documented defaults.
type Options struct {
	// DB is the SQLite store file (created with mode 0600). Required.
	DB string
	// Preset names the keep-alive preset (keepalive.PresetNames). Default
	// DefaultPreset. Ignored when ConfigFile is set.
	Preset string
	// ConfigFile is a YAML client entry (scenarios.ParseClient: preset, config),
	// read at start and again on Reload. Default "": use Preset.
	ConfigFile string
	// Listen is the HTTP address. Default DefaultListen. "-" disables HTTP.
	Listen string
	// AllowRemoteListen permits a Listen address that is not loopback (e.g.
	// 0.0.0.0:9464 in a container). Default false: such addresses are refused.
	AllowRemoteListen bool
	// LogOut receives the log lines. Default os.Stderr.
	LogOut io.Writer
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// LogLevel is the lowest level written: "debug", "info" (default), "warn", "error".
	LogLevel string
	// NoRedact shows phone numbers and JIDs in logs. Default false: redacted.
	NoRedact bool
	// QROut receives pairing QR codes (terminal blocks and raw text) and phone
	// pairing codes. Default os.Stdout.
	QROut io.Writer
	// QRPNG, when set, also writes every QR code as a PNG to this path.
	QRPNG string
	// PairPhone pairs by phone code with this number (international format)
	// instead of a QR code.
	PairPhone string
	// PairNew pairs one more account even if the store already holds some.
	PairNew bool
	// PushName is set on a paired device whose store has no push name yet
	// (WhatsApp normally syncs it after pairing; presence heartbeats need one).
	// Default "": leave it empty.
	PushName string
	// Server is the WebSocket URL of the WhatsApp server (ws:// or wss://), for
	// `kalab mock` and tests. Default "": the real WhatsApp server.
	Server string
	// ServerRootKey is the server's certificate root public key (32 bytes, hex or
	// base64), required with Server (kalab mock prints it).
	ServerRootKey string
	// Seed seeds the engine's per-session random sources (interval and backoff
	// jitter). Default 0: derived from the start time.
	Seed uint64
	// ReadyFraction is the fraction of accounts that must be connected for /readyz.
	// Default 0: all of them.
	ReadyFraction float64
	// PairTimeout bounds one pairing attempt's wait for login after the phone
	// accepted. Default 60 s.
	PairTimeout time.Duration
	// ShutdownTimeout bounds the HTTP server's graceful shutdown. Default 5 s.
	ShutdownTimeout time.Duration
	// OnQR, when set, is called with every QR code text shown (tests play the phone).
	OnQR func(code string)
}

func (o Options) withDefaults() (Options, error) {
	if o.DB == "" {
		return o, errors.New("live: no store: give --db FILE")
	}
	if o.Preset == "" {
		o.Preset = DefaultPreset
	}
	if o.ConfigFile == "" {
		if _, ok := keepalive.Preset(o.Preset); !ok {
			msg := fmt.Sprintf("live: --preset %q: unknown preset (one of %s)", o.Preset, strings.Join(keepalive.PresetNames(), ", "))
			if s := keepalive.ClosestPreset(o.Preset); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			return o, errors.New(msg)
		}
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.Listen != "-" {
		if err := checkListen(o.Listen, o.AllowRemoteListen); err != nil {
			return o, err
		}
	}
	if o.LogOut == nil {
		o.LogOut = os.Stderr
	}
	switch o.LogFormat {
	case "":
		o.LogFormat = "text"
	case "text", "json":
	default:
		return o, fmt.Errorf("live: --log-format %q: want text or json", o.LogFormat)
	}
	if _, err := parseLevel(o.LogLevel); err != nil {
		return o, err
	}
	if o.QROut == nil {
		o.QROut = os.Stdout
	}
	if o.PairPhone != "" {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, o.PairPhone)
		if len(digits) < 7 || strings.HasPrefix(digits, "0") {
			return o, errors.New("live: --pair-phone: give the number in international format with the country code, e.g. +15551234567")
		}
	}
	if o.Server != "" {
		u, err := url.Parse(o.Server)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return o, fmt.Errorf("live: --server %q: want a ws:// or wss:// URL with a host, e.g. ws://127.0.0.1:5222/ws/chat", o.Server)
		}
		if o.ServerRootKey == "" {
			return o, errors.New("live: --server needs --server-root-key (the key kalab mock prints)")
		}
		if _, err := ParseRootKey(o.ServerRootKey); err != nil {
			return o, err
		}
	} else if o.ServerRootKey != "" {
		return o, errors.New("live: --server-root-key without --server")
	}
	if o.ReadyFraction < 0 || o.ReadyFraction > 1 {
		return o, fmt.Errorf("live: ready fraction %v: want a value in (0, 1]", o.ReadyFraction)
	}
	if o.PairTimeout <= 0 {
		o.PairTimeout = 60 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	return o, nil
}

// ParseRootKey decodes a 32-byte key given in hex or standard base64.
func ParseRootKey(s string) ([32]byte, error) {
	var k [32]byte
	s = strings.TrimSpace(s)
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil || len(b) != 32 {
		return k, errors.New("live: --server-root-key: want 32 bytes in hex (64 characters) or base64")
	}
	copy(k[:], b)
	return k, nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("live: --log-level %q: want debug, info, warn or error", s)
}

// checkListen refuses a non-loopback address unless allowRemote.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("live: --listen %q: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("live: --listen %q is not a loopback address; the health and metrics endpoints show account state: pass --allow-remote-listen to expose them (e.g. 0.0.0.0:9464 in a container)", addr)
}

// newLogger builds the slog logger of o, redacting through r unless NoRedact.
func newLogger(o Options, r *Redactor) *slog.Logger {
	lvl, _ := parseLevel(o.LogLevel)
	ho := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	if o.LogFormat == "json" {
		h = slog.NewJSONHandler(o.LogOut, ho)
	} else {
		h = slog.NewTextHandler(o.LogOut, ho)
	}
	if !o.NoRedact {
		h = NewRedactingHandler(h, r)
	}
	return slog.New(h)
}
