package wa

import (
	"strings"
	"sync/atomic"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// recvModule is the name whatsmeow.NewClient gives its receive logger (log.Sub("Recv")).
const recvModule = "Recv"

// Tap is a waLog.Logger to pass to whatsmeow.NewClient (or mockwa.ClientConfig.Log):
// it forwards every line to its inner logger and reports every node the client
// decodes to the Conn it is attached to (New's Options.Tap). One Tap serves one
// client.
type Tap struct {
	inner waLog.Logger
	recv  *recvLogger
}

// NewTap returns a Tap that forwards to inner (nil: discard).
func NewTap(inner waLog.Logger) *Tap {
	if inner == nil {
		inner = waLog.Noop
	}
	return &Tap{inner: inner, recv: &recvLogger{inner: inner.Sub(recvModule)}}
}

// Warnf forwards to the inner logger.
func (t *Tap) Warnf(msg string, args ...any) { t.inner.Warnf(msg, args...) }

// Errorf forwards to the inner logger.
func (t *Tap) Errorf(msg string, args ...any) { t.inner.Errorf(msg, args...) }

// Infof forwards to the inner logger.
func (t *Tap) Infof(msg string, args ...any) { t.inner.Infof(msg, args...) }

// Debugf forwards to the inner logger.
func (t *Tap) Debugf(msg string, args ...any) { t.inner.Debugf(msg, args...) }

// Sub returns the tapped receive logger for "Recv", else the inner logger's Sub.
func (t *Tap) Sub(module string) waLog.Logger {
	if module == recvModule {
		return t.recv
	}
	return t.inner.Sub(module)
}

// nodeKind classifies a received node for the Conn.
type nodeKind uint8

const (
	nodeOther       nodeKind = iota
	nodeStreamError          // <stream:error …>
)

// recvLogger is whatsmeow's receive logger: one Debugf("%s", node.XMLString())
// per decoded node (client.go handleFrame).
type recvLogger struct {
	inner waLog.Logger
	sink  atomic.Pointer[func(nodeKind)]
}

func (r *recvLogger) Warnf(msg string, args ...any)  { r.inner.Warnf(msg, args...) }
func (r *recvLogger) Errorf(msg string, args ...any) { r.inner.Errorf(msg, args...) }
func (r *recvLogger) Infof(msg string, args ...any)  { r.inner.Infof(msg, args...) }
func (r *recvLogger) Sub(module string) waLog.Logger { return r.inner.Sub(module) }

func (r *recvLogger) Debugf(msg string, args ...any) {
	if f := r.sink.Load(); f != nil {
		k := nodeOther
		if len(args) == 1 {
			if s, ok := args[0].(string); ok && strings.HasPrefix(s, "<stream:error") {
				k = nodeStreamError
			}
		}
		(*f)(k)
	}
	r.inner.Debugf(msg, args...)
}

// attach routes received nodes to f.
func (t *Tap) attach(f func(nodeKind)) { t.recv.sink.Store(&f) }
