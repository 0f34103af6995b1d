package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sim/mockwa"
	"github.com/kalab-dev/kalab/sim/netlab"
)

// labFlags are kalab lab's flags.
type labFlags struct {
	path  string
	scale float64
}

func init() {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "lab --path PROFILE[,PROFILE...]",
		Short: "Serve the mock WhatsApp server behind a Toxiproxy chain for any client",
		Long: `Start the mock WhatsApp server and, in front of it, a chain of Toxiproxy proxies
(in process, on 127.0.0.1) that plays the given path of middleboxes with every
duration divided by --time-scale. Prints the endpoint a client dials and the root
key it must trust, then runs until SIGINT or SIGTERM, and prints every middlebox
timer that fired.

A whatsmeow bot trusts the root by setting whatsmeow.WACertPubKey to the printed
key and dials the endpoint through SetWebsocketHTTPClient; a Baileys bot sets its
WebSocket URL to the endpoint (plain ws://) and its noise certificate check to the
key. The path uses catalog names (` + fmt.Sprint(middlebox.Names()) + `) or
custom timers like idle:45s:both:close.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLab(ctx, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", "", "middleboxes from client to server, comma-separated (required)")
	fl.Float64Var(&f.scale, "time-scale", netlab.DefaultScale, "divide every middlebox duration by this")
	_ = cmd.MarkFlagRequired("path")
	rootCmd.AddCommand(cmd)
}

func runLab(ctx context.Context, w io.Writer, f labFlags) error {
	path, err := middlebox.ParsePath(f.path)
	if err != nil {
		return fmt.Errorf("--path: %w", err)
	}
	srv, err := mockwa.New(mockwa.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()
	chain, err := netlab.NewChain(srv.Addr(), path, f.scale, netlab.Options{})
	if err != nil {
		return err
	}
	defer chain.Close()
	fmt.Fprintf(w, "kalab lab: %s at time scale %g\n", chain.String(), chain.Scale())
	fmt.Fprintf(w, "endpoint:  ws://%s/ws/chat (dial %s; whatsmeow: SetWebsocketHTTPClient)\n", chain.Addr(), chain.Addr())
	fmt.Fprintf(w, "mock API:  %s (direct, not through the chain)\n", srv.APIURL())
	fmt.Fprintf(w, "root key:  %s (hex)\n           %s (base64)\n", srv.Root().PublicHex(), srv.Root().PublicBase64())
	for i, h := range chain.Hops() {
		what := "network toxics only"
		if h.Spec.Kind != "" && h.Spec.Kind != middlebox.KindNone {
			what = fmt.Sprintf("%s timer %v (scaled), watches %s, %s at expiry", h.Spec.Kind, h.Spec.Timeout, h.Spec.Watches, h.Spec.AtExpiry)
		}
		fmt.Fprintf(w, "hop %d:     %s %s -> %s: %s\n", i, h.Name, h.Listen, h.Upstream, what)
	}
	fmt.Fprintln(w, "running; Ctrl-C to stop")
	<-ctx.Done()
	recs := chain.Expiries().Records()
	fmt.Fprintf(w, "stopped; %d middlebox timers fired\n", len(recs))
	for _, r := range recs {
		fmt.Fprintln(w, "  "+r.String())
	}
	return nil
}
