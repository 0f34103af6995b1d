package mockwa

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// ClientConfig describes a whatsmeow client wired to a mock server.
type ClientConfig struct {
	// Addr is the host:port every WebSocket dial goes to: the mock's Addr(),
	// or a proxy in front of it (Toxiproxy in the network lab). Required.
	Addr string
	// TLS, when non-nil, wraps the dialled connection in TLS with this config
	// (use Server.CertPool for RootCAs; ServerName defaults to
	// web.whatsapp.com). Nil dials plain TCP even though whatsmeow's URL is
	// wss://.
	TLS *tls.Config
	// StorePath is an SQLite file for the device store (live-style, survives
	// restarts). Default "": a private in-memory database.
	StorePath string
	// Container, when non-nil, is an existing store the new device is added
	// to (many clients, one database); StorePath is then ignored and Close
	// leaves the container open.
	Container *sqlstore.Container
	// Unpaired leaves the device without an ID, so the client pairs by QR.
	// Default false: a registered device that logs in.
	Unpaired bool
	// JID is the registered device's ID. Default: a fresh 1999… number,
	// device 1. Ignored when Unpaired or when StorePath already holds a device.
	JID types.JID
	// PushName is the device's push name (needed for SendPresence). Default
	// "kalab".
	PushName string
	// DisableAutoReconnect turns whatsmeow's own reconnect loop off (for a
	// caller, such as the keep-alive engine, that reconnects by itself).
	// Default false: whatsmeow reconnects as it does in production.
	DisableAutoReconnect bool
	// Log is whatsmeow's logger. Default: none.
	Log waLog.Logger
}

// Client is a whatsmeow client wired to a mock, with the store it owns.
type Client struct {
	*whatsmeow.Client
	// Container is the SQL store holding the device.
	Container *sqlstore.Container
	// ownsContainer: Close closes Container.
	ownsContainer bool
}

var clientSeq atomic.Uint64

// NewClient builds an unconnected whatsmeow client whose WebSocket dials go to
// cfg.Addr, with an SQLite store holding a registered device (or an unpaired
// one). It calls TrustProcessRoot first. Call Connect on the result; Close
// disconnects and closes the store.
func NewClient(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("mockwa: ClientConfig.Addr is empty")
	}
	TrustProcessRoot()
	n := clientSeq.Add(1)
	container, owns := cfg.Container, false
	var dev *store.Device
	if container != nil {
		dev = container.NewDevice()
	} else {
		var err error
		if container, err = OpenStore(ctx, cfg.StorePath); err != nil {
			return nil, err
		}
		owns = true
		if dev, err = container.GetFirstDevice(ctx); err != nil {
			_ = container.Close()
			return nil, fmt.Errorf("mockwa: device store: %w", err)
		}
	}
	closeOwned := func() {
		if owns {
			_ = container.Close()
		}
	}
	if dev.ID == nil && !cfg.Unpaired {
		jid := cfg.JID
		if jid.IsEmpty() {
			jid = deviceJID(strconv.FormatUint(19990000000+n, 10), 1)
		}
		jid.Server = types.DefaultUserServer
		dev.ID = &jid
		dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{}, AccountSignatureKey: make([]byte, 32),
			AccountSignature: make([]byte, 64), DeviceSignature: make([]byte, 64)}
		dev.PushName = cfg.PushName
		if dev.PushName == "" {
			dev.PushName = "kalab"
		}
		if err := dev.Save(ctx); err != nil {
			closeOwned()
			return nil, fmt.Errorf("mockwa: saving registered device: %w", err)
		}
	} else if dev.PushName == "" {
		dev.PushName = cfg.PushName
		if dev.PushName == "" {
			dev.PushName = "kalab"
		}
	}
	cli := whatsmeow.NewClient(dev, cfg.Log)
	cli.EnableAutoReconnect = !cfg.DisableAutoReconnect
	hc := HTTPClient(cfg.Addr, cfg.TLS)
	cli.SetWebsocketHTTPClient(hc)
	cli.SetPreLoginHTTPClient(hc)
	return &Client{Client: cli, Container: container, ownsContainer: owns}, nil
}

// OpenStore opens (creating and migrating) a whatsmeow SQL store on the pure
// Go SQLite driver: the file at path, or a private in-memory database when
// path is "".
func OpenStore(ctx context.Context, path string) (*sqlstore.Container, error) {
	var dsn string
	if path == "" {
		dsn = "file:mockwa-store-" + strconv.FormatUint(storeSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) +
			"?mode=memory&cache=shared&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	} else {
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	}
	c, err := sqlstore.New(ctx, "sqlite", dsn, nil)
	if err != nil {
		where := path
		if where == "" {
			where = "in-memory database"
		}
		return nil, fmt.Errorf("mockwa: device store %s: %w", where, err)
	}
	return c, nil
}

var storeSeq atomic.Uint64

// Device returns the client's device store.
func (c *Client) Device() *store.Device { return c.Store }

// Close disconnects and closes the store if the client opened it.
func (c *Client) Close() error {
	c.Disconnect()
	if !c.ownsContainer {
		return nil
	}
	return c.Container.Close()
}

// HTTPClient returns an *http.Client whose every connection goes to addr,
// plain TCP when tlsConf is nil (whatsmeow's wss:// URL is then served without
// TLS), else TLS with tlsConf.
func HTTPClient(addr string, tlsConf *tls.Config) *http.Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if tlsConf == nil {
			return c, nil
		}
		conf := tlsConf.Clone()
		if conf.ServerName == "" {
			conf.ServerName = "web.whatsapp.com"
		}
		conf.NextProtos = []string{"http/1.1"}
		tc := tls.Client(c, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		return tc, nil
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:       dial,
		DialTLSContext:    dial,
		ForceAttemptHTTP2: false,
		MaxIdleConns:      1,
		IdleConnTimeout:   time.Second,
	}}
}
