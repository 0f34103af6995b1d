package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/live"
)

// liveCmd is `kalab live`: flags and signals only; the logic is package live.
var liveCmd = func() *cobra.Command {
	var o live.Options
	cmd := &cobra.Command{
		Use:   "live",
		Short: "Keep real WhatsApp accounts connected with the keep-alive engine",
		Long: `Keep real WhatsApp accounts connected with the keep-alive engine.

Every device in the store (--db) is logged in and kept alive; an empty store starts
a pairing: a QR code in the terminal (and as a PNG with --qr-png), or a code to
enter on the phone with --pair-phone. Health and metrics are served on loopback:
/healthz, /readyz, /sessions, /metrics. Phone numbers and JIDs are redacted in logs
unless --no-redact. SIGHUP reloads --config without dropping connections;
SIGINT/SIGTERM shut down cleanly.

In a container, listen on all interfaces so the health check and Prometheus can
reach the endpoints: --listen 0.0.0.0:9464 --allow-remote-listen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("preset") && o.ConfigFile != "" {
				return errUsage("--preset and --config exclude each other: a config file names its preset")
			}
			r, err := live.New(o)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-hup:
						_ = r.Reload()
					case <-ctx.Done():
						return
					}
				}
			}()
			return r.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DB, "db", "kalab.db", "SQLite store of the accounts (created with mode 0600)")
	f.StringVar(&o.Preset, "preset", live.DefaultPreset, "keep-alive preset: "+strings.Join(keepalive.PresetNames(), ", "))
	f.StringVar(&o.ConfigFile, "config", "", "keep-alive config file (a scenario client entry: preset, config); SIGHUP reloads it")
	f.StringVar(&o.Listen, "listen", live.DefaultListen, "HTTP address of /healthz /readyz /sessions /metrics (\"-\": none)")
	f.BoolVar(&o.AllowRemoteListen, "allow-remote-listen", false, "allow a --listen address that is not loopback (containers)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&o.NoRedact, "no-redact", false, "show phone numbers and JIDs in logs")
	f.StringVar(&o.PairPhone, "pair-phone", "", "pair by phone code with this number (international format) instead of a QR code")
	f.BoolVar(&o.PairNew, "pair", false, "pair one more account even if the store holds some")
	f.StringVar(&o.QRPNG, "qr-png", "", "also write each pairing QR code as a PNG to this file")
	f.StringVar(&o.PushName, "push-name", "", "push name for a paired device whose store has none (presence heartbeats need one)")
	f.Float64Var(&o.ReadyFraction, "ready-fraction", 0, "fraction of accounts that must be connected for /readyz (0: all)")
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the interval and backoff jitter (0: from the clock)")
	f.StringVar(&o.Server, "server", "", "WebSocket URL of the server, for kalab mock and tests only (default: WhatsApp)")
	f.StringVar(&o.ServerRootKey, "server-root-key", "", "certificate root key of --server (hex or base64; kalab mock prints it); for kalab mock and tests only")
	return cmd
}()

// usageError is a command-line mistake.
type liveUsageError string

func errUsage(msg string) error        { return liveUsageError(msg) }
func (e liveUsageError) Error() string { return "kalab live: " + string(e) }
func (e liveUsageError) ExitCode() int { return 2 }

func init() { rootCmd.AddCommand(liveCmd) }
