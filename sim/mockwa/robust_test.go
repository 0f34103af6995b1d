package mockwa

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func dialRaw(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctxT(t), s.URL(), nil)
	require.NoError(t, err)
	ws.SetReadLimit(1 << 24)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

// waitClosed reads until the server closes the connection.
func waitClosed(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	for {
		if _, _, err := ws.Read(ctxT(t)); err != nil {
			require.NoError(t, ctxT(t).Err(), "server did not close the connection")
			return
		}
	}
}

func waitChan(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-ctxT(t).Done():
		t.Fatal("server did not close the connection")
	}
}

func frame(header bool, payload []byte) []byte {
	var out []byte
	if header {
		out = append(out, socket.WAConnHeader...)
	}
	f, _ := encodeFrame(payload)
	return append(out, f...)
}

func clientHello() []byte {
	kp := keys.NewKeyPair()
	b, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: kp.Pub[:]}})
	return b
}

// handshakeRaw completes a real Noise handshake with whatsmeow's own socket
// package and a login payload, returning the noise socket for further frames.
func handshakeRaw(t *testing.T, s *Server) (*socket.FrameSocket, *socket.NoiseSocket, chan struct{}) {
	t.Helper()
	fs := socket.NewFrameSocket(waLog.Noop, HTTPClient(s.Addr(), nil))
	require.NoError(t, fs.Connect(ctxT(t)))
	eph := keys.NewKeyPair()
	static := keys.NewKeyPair()
	nh := socket.NewNoiseHandshake()
	nh.Start(socket.NoiseStartPattern, fs.Header)
	nh.Authenticate(eph.Pub[:])
	hello, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: eph.Pub[:]}})
	require.NoError(t, fs.SendFrame(hello))
	var resp waWa6.HandshakeMessage
	var first []byte
	select {
	case first = <-fs.Frames:
	case <-ctxT(t).Done():
		t.Fatal("no server hello")
	}
	require.NoError(t, proto.Unmarshal(first, &resp))
	sh := resp.GetServerHello()
	nh.Authenticate(sh.GetEphemeral())
	require.NoError(t, nh.MixSharedSecretIntoKey(*eph.Priv, [32]byte(sh.GetEphemeral())))
	st, err := nh.Decrypt(sh.GetStatic())
	require.NoError(t, err)
	require.NoError(t, nh.MixSharedSecretIntoKey(*eph.Priv, [32]byte(st)))
	_, err = nh.Decrypt(sh.GetPayload())
	require.NoError(t, err)
	encStatic := nh.Encrypt(static.Pub[:])
	require.NoError(t, nh.MixSharedSecretIntoKey(*static.Priv, [32]byte(sh.GetEphemeral())))
	pl, _ := proto.Marshal(&waWa6.ClientPayload{Username: proto.Uint64(42), Device: proto.Uint32(1)})
	fin, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientFinish: &waWa6.HandshakeMessage_ClientFinish{
		Static: encStatic, Payload: nh.Encrypt(pl)}})
	require.NoError(t, fs.SendFrame(fin))
	closed := make(chan struct{})
	var once sync.Once
	ns, err := nh.Finish(context.Background(), fs, func(context.Context, []byte) {},
		func(context.Context, *socket.NoiseSocket, bool) { once.Do(func() { close(closed) }) })
	require.NoError(t, err)
	t.Cleanup(func() { ns.Stop(true) })
	return fs, ns, closed
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	logs := &lockedBuffer{}
	s := startServer(t, Config{MaxFrame: 1 << 16, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	good, _, _ := connectClient(t, s, ClientConfig{})

	t.Run("bad header", func(t *testing.T) {
		ws := dialRaw(t, s)
		require.NoError(t, ws.Write(ctxT(t), websocket.MessageBinary, append([]byte("XA\x06\x03"), frame(false, clientHello())...)))
		waitClosed(t, ws)
		assert.Contains(t, logs.String(), "bad connection header")
	})
	t.Run("oversized length", func(t *testing.T) {
		ws := dialRaw(t, s)
		require.NoError(t, ws.Write(ctxT(t), websocket.MessageBinary, append(append([]byte{}, socket.WAConnHeader...), 0xff, 0xff, 0xff, 1, 2, 3)))
		waitClosed(t, ws)
		assert.Contains(t, logs.String(), "frame too large")
	})
	t.Run("garbage handshake", func(t *testing.T) {
		ws := dialRaw(t, s)
		require.NoError(t, ws.Write(ctxT(t), websocket.MessageBinary, frame(true, []byte{0xff, 0xff, 0xff, 0xff})))
		waitClosed(t, ws)
		assert.Contains(t, logs.String(), "client hello")
	})
	t.Run("closed mid-handshake", func(t *testing.T) {
		before := s.Stats().HandshakeFailures
		ws := dialRaw(t, s)
		require.NoError(t, ws.Write(ctxT(t), websocket.MessageBinary, frame(true, clientHello())))
		_, _, err := ws.Read(ctxT(t)) // server hello
		require.NoError(t, err)
		require.NoError(t, ws.CloseNow())
		require.Eventually(t, func() bool { return s.Stats().HandshakeFailures > before }, waitTimeout, pollEvery)
		assert.Contains(t, logs.String(), "reading client finish")
	})
	t.Run("undecryptable frame", func(t *testing.T) {
		fs, _, closed := handshakeRaw(t, s)
		require.NoError(t, fs.SendFrame([]byte("definitely not AES-GCM")))
		waitChan(t, closed)
		assert.Contains(t, logs.String(), "undecryptable frame")
	})
	t.Run("garbage node", func(t *testing.T) {
		_, ns, closed := handshakeRaw(t, s)
		require.NoError(t, ns.SendFrame(ctxT(t), []byte{0, 0xf8, 0xff, 0xff, 0xff}))
		waitChan(t, closed)
		assert.Contains(t, logs.String(), "garbage node")
	})

	st := s.Stats()
	assert.GreaterOrEqual(t, st.HandshakeFailures, int64(4))
	assert.GreaterOrEqual(t, st.Malformed, int64(2))
	ok, _ := good.DangerousInternals().SendKeepAlive(ctxT(t))
	assert.True(t, ok, "the well-behaved session carries on")
}
