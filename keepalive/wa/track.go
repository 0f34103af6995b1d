package wa

import (
	"errors"
	"net"
	"syscall"

	"github.com/kalab-dev/kalab/keepalive"
)

// TrackConn wraps a socket this Conn's client dialled (call it from the dialer of
// the *http.Client given to SetWebsocketHTTPClient) so that a read ending in
// ECONNRESET makes the next disconnect report keepalive.CauseReset. The wrapper
// records the error before whatsmeow sees it, so the order is guaranteed.
//
// The Conn also keeps the latest tracked socket, so that replacing a connection
// the engine judged dead closes it at once instead of waiting out whatsmeow's
// WebSocket close handshake (up to 5 s on a dead path; see dropLive). Without
// TrackConn, Connect falls back to whatsmeow's Disconnect.
func (c *Conn) TrackConn(nc net.Conn) net.Conn {
	t := &trackedConn{Conn: nc, owner: c}
	c.mu.Lock()
	c.raw = t
	c.mu.Unlock()
	return t
}

type trackedConn struct {
	net.Conn
	owner *Conn
}

func (t *trackedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if err != nil && errors.Is(err, syscall.ECONNRESET) {
		t.owner.mu.Lock()
		t.owner.resetSeen = true
		t.owner.mu.Unlock()
	}
	return n, err
}

// dialCause classifies a failed dial or handshake.
func dialCause(err error) keepalive.Cause {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return keepalive.CauseReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return keepalive.CauseClosed
	}
	return keepalive.CauseUnknown
}
