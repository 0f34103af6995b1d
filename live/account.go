package live

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/keepalive/wa"
)

// account is one logged-in device, run as one engine session.
type account struct {
	id   string
	jid  types.JID
	cli  *whatsmeow.Client
	conn *wa.Conn
}

// AccountInfo describes one running account.
type AccountInfo struct {
	// ID is the engine session ID (also in /sessions and log lines): an opaque
	// digest of the device's private Noise key, stable across restarts and not
	// derivable from the phone number.
	ID string `json:"id"`
	// JID is the device's JID (an account identifier: never log it unredacted).
	JID types.JID `json:"-"`
}

// sessionID derives a device's session ID from its Noise private key.
func sessionID(dev *store.Device) string {
	h := sha256.New()
	h.Write([]byte("kalab live session id\x00"))
	h.Write(dev.NoiseKey.Priv[:])
	return "acct-" + hex.EncodeToString(h.Sum(nil)[:4])
}

// connRef lets the dialer wrap sockets for the wa.Conn created after the client.
type connRef struct{ p atomic.Pointer[wa.Conn] }

func (r *connRef) track(nc net.Conn) net.Conn {
	if c := r.p.Load(); c != nil {
		return c.TrackConn(nc)
	}
	return nc
}

// newClient builds a whatsmeow client for dev whose logs go through the redacting
// logger and, with Options.Server, whose WebSocket dials go to that server.
func (r *Runner) newClient(dev *store.Device, id string) (*whatsmeow.Client, *wa.Tap, *connRef) {
	tap := wa.NewTap(newWALogger(r.log.With("session", id), "Client"))
	cli := whatsmeow.NewClient(dev, tap)
	ref := &connRef{}
	if r.opts.Server != "" {
		hc := serverHTTPClient(r.opts.Server, ref)
		cli.SetWebsocketHTTPClient(hc)
		cli.SetPreLoginHTTPClient(hc)
	}
	return cli, tap, ref
}

// serverHTTPClient sends every connection to the host of rawURL (validated by
// Options): plain TCP for ws://, TLS with the system roots for wss://. whatsmeow
// keeps its own URL path (/ws/chat).
func serverHTTPClient(rawURL string, ref *connRef) *http.Client {
	u, _ := url.Parse(rawURL)
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "wss" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	secure := u.Scheme == "wss"
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return nil, err
		}
		nc = ref.track(nc)
		if !secure {
			return nc, nil
		}
		tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		return tc, nil
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:     dial,
		DialTLSContext:  dial,
		MaxIdleConns:    1,
		IdleConnTimeout: time.Second,
	}}
}

// notifier forwards a Conn's notifications to the engine and tells the runner
// about terminal ones (logged out, replaced, banned), which end the account.
type notifier struct{ r *Runner }

func (n notifier) Notify(id string, ev keepalive.Event) error {
	err := n.r.eng.Notify(id, ev)
	switch ev.Kind {
	case keepalive.EventLoggedOut, keepalive.EventReplaced, keepalive.EventBanned:
		n.r.queueTerminal(id, ev.Kind)
	}
	return err
}
