package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/internal/atomicfile"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// mockOptions are the flags of `kalab mock`.
type mockOptions struct {
	listen       string
	tls          bool
	allowRemote  bool
	pingDelay    time.Duration
	dropPings    bool
	idleTimeout  time.Duration
	inboundEvery time.Duration
	rootKeyFile  string
	verbose      bool
}

func init() {
	var o mockOptions
	cmd := &cobra.Command{
		Use:   "mock",
		Short: "Run the mock WhatsApp multi-device server standalone",
		Long: `Run the mock WhatsApp server that unmodified whatsmeow clients connect to.

It prints the WebSocket URL, the loopback HTTP API and the root public key a
client must trust (set whatsmeow.WACertPubKey to it before connecting, and
dial the printed address from the client's websocket HTTP transport).
It listens on loopback only unless --allow-remote is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runMock(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:5280", "TCP address to listen on (loopback unless --allow-remote)")
	f.BoolVar(&o.tls, "tls", false, "serve wss:// with a self-signed certificate")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback --listen address (the HTTP API still answers loopback only)")
	f.DurationVar(&o.pingDelay, "ping-delay", 0, "service time of keep-alive pings")
	f.BoolVar(&o.dropPings, "drop-pings", false, "never answer keep-alive pings")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 0, "close connections whose client sent nothing for this long (0 = never)")
	f.DurationVar(&o.inboundEvery, "inbound-every", 0, "send every known device a stamped inbound presence at this period (0 = off)")
	f.StringVar(&o.rootKeyFile, "root-key", "", "file holding the root private key (hex); created if missing, so the root a client trusts survives restarts (default: a fresh root each run)")
	f.BoolVar(&o.verbose, "verbose", false, "log connection events to stderr")
	rootCmd.AddCommand(cmd)
}

// runMock serves until ctx ends.
func runMock(ctx context.Context, o mockOptions, out, errOut io.Writer) error {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	var root *mockwa.RootKey
	if o.rootKeyFile != "" {
		var err error
		if root, err = loadOrCreateRoot(o.rootKeyFile); err != nil {
			return err
		}
	}
	srv, err := mockwa.New(mockwa.Config{
		Root:         root,
		Listen:       o.listen,
		AllowRemote:  o.allowRemote,
		TLS:          o.tls,
		PingDelay:    o.pingDelay,
		DropPings:    o.dropPings,
		IdleTimeout:  o.idleTimeout,
		InboundEvery: o.inboundEvery,
		Logger:       slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()
	pub := srv.RootPublicKey()
	lit := make([]string, len(pub))
	for i, b := range pub {
		lit[i] = fmt.Sprintf("0x%02x", b)
	}
	fmt.Fprintf(out, "mock WhatsApp server\n")
	fmt.Fprintf(out, "  websocket:   %s\n", srv.URL())
	fmt.Fprintf(out, "  dial:        %s  (point the client's websocket transport here; TLS: %v)\n", srv.Addr(), srv.TLS())
	fmt.Fprintf(out, "  api:         %s/api/sessions  (POST %s/scan with a QR text to pair)\n", srv.APIURL(), srv.APIURL())
	fmt.Fprintf(out, "  root hex:    %s\n", srv.Root().PublicHex())
	fmt.Fprintf(out, "  root base64: %s\n", srv.Root().PublicBase64())
	fmt.Fprintf(out, "  whatsmeow:   whatsmeow.WACertPubKey = [32]byte{%s}\n", strings.Join(lit, ", "))
	<-ctx.Done()
	fmt.Fprintf(out, "shutting down\n")
	return nil
}

// loadOrCreateRoot reads a hex root private key from path, or generates one
// and writes it there (0600, atomically).
func loadOrCreateRoot(path string) (*mockwa.RootKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		raw, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s:1: root key: want 64 hex digits (32 bytes)", path)
		}
		return mockwa.RootKeyFromPrivate([32]byte(raw)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("root key: %w", err)
	}
	root := mockwa.NewRootKey()
	priv := root.Private()
	if err := atomicfile.Write(path, []byte(hex.EncodeToString(priv[:])+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	return root, nil
}
