package wa

import (
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
)

// builtinOff is the interval and reply deadline DisableBuiltinKeepAlive installs:
// about 100 years, far beyond any process's life, yet small enough that whatsmeow's
// interval arithmetic (milliseconds × time.Millisecond) does not overflow.
const builtinOff = 100 * 365 * 24 * time.Hour

var disableOnce sync.Once

// DisableBuiltinKeepAlive switches whatsmeow's own keep-alive loop off for every
// client of this process (see the package doc): whatsmeow.KeepAliveIntervalMin and
// KeepAliveIntervalMax become about 100 years (Max = Min + 1 s: whatsmeow draws
// rand.Int64N(Max−Min), which panics on 0) and KeepAliveResponseDeadline the same, so
// a ping's deadline is the engine's. It writes the variables once per process
// (sync.Once); call it before any whatsmeow client connects.
func DisableBuiltinKeepAlive() {
	disableOnce.Do(func() {
		whatsmeow.KeepAliveIntervalMin = builtinOff
		whatsmeow.KeepAliveIntervalMax = builtinOff + time.Second
		whatsmeow.KeepAliveResponseDeadline = builtinOff
	})
}
