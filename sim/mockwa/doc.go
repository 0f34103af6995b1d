// Package mockwa is a mock WhatsApp multi-device server that unmodified
// go.mau.fi/whatsmeow clients connect to, log in to, pair with by QR, ping,
// send presence to and receive inbound traffic from. It injects the server
// events whatsmeow reacts to (FACTS.md §3) and counts what it saw per device.
// The network lab (sim/netlab), the whatsmeow adapter tests (keepalive/wa) and
// live-mode tests use it in process; `kalab mock` runs it standalone.
//
// It must never import the engine (keepalive) or any other kalab package: it
// is a stand-in for WhatsApp, which knows nothing of its clients' policies.
//
// # Protocol
//
// WebSocket on /ws/chat (plain, or TLS with a self-signed certificate), one
// frame per message, a 3-byte length before each frame and "WA\x06\x03" once
// before the client's first; Noise XX (Noise_XX_25519_AESGCM_SHA256) with a
// certificate chain rooted in a RootKey; binary XML nodes encoded and decoded
// with whatsmeow's own binary package. After <success/> every IQ gets a bare
// result except keep-alive pings (w:p), which are answered after
// Config.PingDelay or never (Config.DropPings), and, with TrackPreKeys, the
// prekey count.
//
// # Trust
//
// whatsmeow checks the chain against the process-global
// whatsmeow.WACertPubKey. Servers use ProcessRoot unless Config.Root is set,
// and TrustProcessRoot (called by NewClient) sets the variable once, with
// sync.Once, before any client connects.
//
// # API
//
//	srv, err := mockwa.New(mockwa.Config{})      // loopback, random port
//	err = srv.Start(); defer srv.Close()
//	srv.Addr(), srv.URL(), srv.APIURL(), srv.RootPublicKey()
//
//	cli, err := mockwa.NewClient(ctx, mockwa.ClientConfig{Addr: srv.Addr()})
//	cli.AddEventHandler(...); cli.Connect()     // → events.Connected
//
//	sess, _ := srv.Session(jid)                  // or WaitSession(ctx, jid)
//	sess.Counters(), sess.Log(), sess.Inbound(), sess.Wait(ctx, cond)
//	srv.Inject(jid, mockwa.Event{Kind: mockwa.StreamError515})
//	srv.Inject(jid, mockwa.FailLogin(402))       // next login → TemporaryBan
//	srv.SendInbound(jid)                         // stamped <presence/>, queued while offline
//	mockwa.ParseInbound(evt.From)                // seq and creation time, client side
//	srv.Scan(ctx, qrText)                        // the phone: completes a QR pairing
//	srv.SetPingPolicy(delay, drop)
//
// ClientConfig.Addr may be a proxy (Toxiproxy) in front of the server;
// ClientConfig.StorePath keeps the device in an SQLite file (live mode);
// ClientConfig.Container shares one store among many clients.
//
// The loopback HTTP API (see api.go) exposes the same: GET /api/stats,
// /api/root, /api/sessions, /api/sessions/{jid}; POST /api/inject,
// /api/inbound and /scan.
//
// # Events and whatsmeow's reactions
//
//	StreamError515   reconnects by itself
//	StreamError503   Disconnected, auto-reconnect
//	DeviceRemoved    LoggedOut, store deleted, no reconnect (later logins: 401)
//	Replaced         StreamReplaced, no reconnect
//	FailLogin(401|403) LoggedOut; 402 TemporaryBan; 405 ClientOutdated; 500 Disconnected, reconnect
//	CleanClose, AbruptClose  Disconnected, auto-reconnect
//	Hang             nothing read or written; pings time out (KeepAliveTimeout)
//
// After a stream error or a login failure the server closes the socket itself,
// Config.StreamErrorGrace after sending it. Config.IdleTimeout closes
// connections whose client was silent; Config.Faults and Config.InboundEvery
// schedule events and inbound traffic on Config.Clock.
//
// # Robustness
//
// Malformed input (bad header, oversized length, handshake garbage, an
// undecryptable frame, a garbage node, a socket closed mid-handshake) closes
// that connection with a log line on Config.Logger and a Stats counter; the
// server and its other sessions carry on.
package mockwa
