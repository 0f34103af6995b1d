package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/kalab-dev/kalab/keepalive/wa"
)

// pairRetryDelay separates failed pairing attempts (server unreachable, phone
// code refused), so a failure never turns into a tight loop.
const pairRetryDelay = 5 * time.Second

// phoneCodeWait is how long a phone pairing code is waited for before a new one
// is requested.
const phoneCodeWait = 3 * time.Minute

// paired is a device that completed pairing, with its (disconnected) client.
type paired struct {
	dev *store.Device
	cli *whatsmeow.Client
	tap *wa.Tap
	ref *connRef
	id  string
}

// pairLoop pairs one new device, retrying until it succeeds or ctx ends; the
// result goes to out.
func (r *Runner) pairLoop(ctx context.Context, container *sqlstore.Container, out chan<- paired) {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		dev := container.NewDevice()
		id := sessionID(dev)
		cli, tap, ref := r.newClient(dev, id)
		// A pairing that loses its connection starts again here, with fresh codes;
		// whatsmeow must not reconnect behind it (wa.New keeps this off later).
		cli.EnableAutoReconnect = false
		var err error
		if r.opts.PairPhone != "" {
			err = r.pairPhone(ctx, cli, id)
		} else {
			err = r.pairQR(ctx, cli, id)
		}
		if err == nil {
			cli.Disconnect()
			select {
			case out <- paired{dev: dev, cli: cli, tap: tap, ref: ref, id: id}:
			case <-ctx.Done():
			}
			return
		}
		cli.Disconnect()
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("pairing failed; trying again", "session", id, "attempt", attempt, "error", err, "retry_in", pairRetryDelay)
		t := time.NewTimer(pairRetryDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// onEvents registers a handler and returns its removal.
func onEvents(cli *whatsmeow.Client, h func(any)) func() {
	id := cli.AddEventHandler(h)
	return func() { cli.RemoveEventHandler(id) }
}

// closer closes a channel once.
type closer struct {
	once sync.Once
	ch   chan struct{}
}

func newCloser() *closer { return &closer{ch: make(chan struct{})} }
func (c *closer) close() { c.once.Do(func() { close(c.ch) }) }

// waitFor waits for ch, ctx or d.
func waitFor(ctx context.Context, ch <-chan struct{}, d time.Duration, what string) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("no %s within %s", what, d)
	}
}

// pairQR connects an unpaired client, shows each QR code whatsmeow emits until
// one is scanned, and waits for the first login of the new device.
func (r *Runner) pairQR(ctx context.Context, cli *whatsmeow.Client, id string) error {
	connected, pairedOK := newCloser(), newCloser()
	defer onEvents(cli, func(e any) {
		switch e.(type) {
		case *events.Connected:
			connected.close()
		case *events.PairSuccess:
			pairedOK.close()
		}
	})()
	qrCh, err := cli.GetQRChannel(ctx)
	if err != nil {
		return fmt.Errorf("QR channel: %w", err)
	}
	r.log.Info("pairing: waiting for a QR code scan", "session", id)
	if err := cli.ConnectContext(ctx); err != nil {
		return fmt.Errorf("connect for pairing: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case item, ok := <-qrCh:
			if !ok {
				return errors.New("QR channel closed")
			}
			switch {
			case item.Event == whatsmeow.QRChannelEventCode:
				r.showQR(item.Code, item.Timeout, id)
			case item == whatsmeow.QRChannelSuccess, item == whatsmeow.QRChannelErrUnexpectedEvent:
				// whatsmeow dispatches PairSuccess from a goroutine, so the login that
				// follows the server's 515 can emit Connected first, which the QR
				// channel reports as an unexpected state: wait for both events.
				if err := waitFor(ctx, pairedOK.ch, r.opts.PairTimeout, "pairing confirmation"); err != nil {
					return fmt.Errorf("pairing ended: %s (%w)", item.Event, err)
				}
				r.log.Info("pairing: QR code scanned; logging in", "session", id)
				return waitFor(ctx, connected.ch, r.opts.PairTimeout, "login after pairing")
			case item.Event == whatsmeow.QRChannelEventError:
				return fmt.Errorf("pairing error: %w", item.Error)
			default:
				return fmt.Errorf("pairing ended: %s (QR codes expire after a few minutes; new ones follow)", item.Event)
			}
		}
	}
}

// showQR renders a QR code to Options.QROut (and QRPNG) and calls OnQR.
func (r *Runner) showQR(code string, valid time.Duration, id string) {
	if err := renderQR(r.opts.QROut, code, valid); err != nil {
		r.log.Error("cannot show the QR code", "error", err)
	}
	if r.opts.QRPNG != "" {
		if err := writeQRPNG(r.opts.QRPNG, code); err != nil {
			r.log.Error("cannot write the QR code PNG", "error", err)
		} else {
			r.log.Info("QR code written", "file", r.opts.QRPNG)
		}
	}
	r.qrShown.Inc()
	r.log.Info("QR code shown", "session", id, "valid", valid)
	if r.opts.OnQR != nil {
		r.opts.OnQR(code)
	}
}

// pairPhone connects an unpaired client and asks for a phone pairing code for
// Options.PairPhone; the account's owner enters it on the phone.
func (r *Runner) pairPhone(ctx context.Context, cli *whatsmeow.Client, id string) error {
	qrSeen, success, connected := newCloser(), newCloser(), newCloser()
	pairErr := make(chan error, 1)
	defer onEvents(cli, func(e any) {
		switch ev := e.(type) {
		case *events.QR:
			qrSeen.close()
		case *events.PairSuccess:
			success.close()
		case *events.PairError:
			select {
			case pairErr <- ev.Error:
			default:
			}
		case *events.Connected:
			connected.close()
		}
	})()
	r.log.Info("pairing by phone code", "session", id, "phone", r.opts.PairPhone)
	if err := cli.ConnectContext(ctx); err != nil {
		return fmt.Errorf("connect for pairing: %w", err)
	}
	if err := waitFor(ctx, qrSeen.ch, r.opts.PairTimeout, "pairing offer from the server"); err != nil {
		return err
	}
	code, err := cli.PairPhone(ctx, r.opts.PairPhone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		return fmt.Errorf("request a phone pairing code: %w", err)
	}
	_, _ = fmt.Fprintf(r.opts.QROut, "\nPairing code: %s\nOn your phone: WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, then enter the code.\n", code)
	r.log.Info("pairing code shown; enter it on the phone", "session", id)
	t := time.NewTimer(phoneCodeWait)
	defer t.Stop()
	select {
	case <-success.ch:
	case err := <-pairErr:
		return fmt.Errorf("pairing error: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("the pairing code was not entered within %s", phoneCodeWait)
	}
	return waitFor(ctx, connected.ch, r.opts.PairTimeout, "login after pairing")
}
