package netlab

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// The timer state machine on a fake clock: no sockets, no Toxiproxy. clockwork runs
// an AfterFunc callback in its own goroutine, so after each Advance the test waits
// for its effect: a record (ExpiryLog.Wait) or a re-armed timer (BlockUntilContext).

const unitTimeout = 300 * time.Millisecond

func newUnitHop(t *testing.T, s middlebox.Spec) (*hopTimer, *clockwork.FakeClock) {
	t.Helper()
	fc := clockwork.NewFakeClock()
	h := newHopTimer(2, s, unitTimeout, fc, NewExpiryLog())
	t.Cleanup(func() {
		h.shutdown()
	})
	return h, fc
}

func waitRecords(t *testing.T, h *hopTimer, n int) []ExpiryRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := h.log.Wait(ctx, n)
	require.NoError(t, err)
	return recs
}

// rearmed waits until the connection's timer is armed again after firing early.
func rearmed(t *testing.T, fc *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, fc.BlockUntilContext(ctx, n), "timer not re-armed")
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestTimerIdleRearmsOnlyOnWatchedTraffic(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Name: "box", Kind: middlebox.KindIdle, Watches: middlebox.Up, AtExpiry: middlebox.Close})
	c := h.open()
	require.Same(t, c, h.pair())
	start := fc.Now()

	fc.Advance(200 * time.Millisecond)
	assert.True(t, c.traffic(up))   // watched: re-arms from t=200
	assert.True(t, c.traffic(down)) // unwatched: passes, does not re-arm
	fc.Advance(100 * time.Millisecond)
	rearmed(t, fc, 1) // fired at 300 with 100 ms idle: re-armed for 500
	assert.False(t, c.isExpired())
	assert.Zero(t, h.log.Len())

	fc.Advance(150 * time.Millisecond)
	assert.True(t, c.traffic(down))
	fc.Advance(50 * time.Millisecond) // t=500: idle since 200
	recs := waitRecords(t, h, 1)
	assert.True(t, c.isExpired())
	assert.Equal(t, ExpiryRecord{
		At: start.Add(500 * time.Millisecond), Hop: "box", HopIndex: 2, Conn: 1,
		Kind: middlebox.KindIdle, Action: middlebox.Close,
		Age: 500 * time.Millisecond, Idle: unitTimeout,
	}, recs[0])
	assert.True(t, closed(c.closeReq[up]), "close must close the server side")
	assert.True(t, closed(c.closeReq[down]), "close must close the client side")
	assert.False(t, c.traffic(up), "chunks after expiry are dropped")
}

func TestTimerIdleBothWatchesEitherDirection(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Reset})
	c := h.open()
	h.pair()
	for i, d := range []dir{down, up, down} {
		fc.Advance(250 * time.Millisecond)
		c.traffic(d)
		if i > 0 {
			rearmed(t, fc, 1)
		}
		assert.False(t, c.isExpired(), "step %d", i)
	}
	fc.Advance(unitTimeout)
	recs := waitRecords(t, h, 1)
	assert.Equal(t, "hop2", recs[0].Hop, "an unnamed hop is named by index")
	assert.Equal(t, middlebox.Reset, recs[0].Action)
	assert.Equal(t, 1050*time.Millisecond, recs[0].Age)
}

func TestTimerLifetimeIgnoresTraffic(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Name: "gcp", Kind: middlebox.KindLifetime, AtExpiry: middlebox.Close})
	c := h.open()
	h.pair()
	for range 2 {
		fc.Advance(100 * time.Millisecond)
		c.traffic(up)
		c.traffic(down)
	}
	fc.Advance(100 * time.Millisecond)
	recs := waitRecords(t, h, 1)
	assert.Equal(t, unitTimeout, recs[0].Age)
	assert.Equal(t, unitTimeout, recs[0].Idle, "a lifetime's idle is its age")
	assert.Equal(t, middlebox.KindLifetime, recs[0].Kind)
}

func TestTimerBlackholeResetOnNextPacketResetsTheSender(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Blackhole, ResetOnNextPacket: true})
	require.True(t, h.needsLinger())
	c := h.open()
	h.pair()
	fc.Advance(unitTimeout)
	waitRecords(t, h, 1)
	assert.False(t, closed(c.closeReq[up]) || closed(c.closeReq[down]), "a blackhole sends nothing at expiry")

	assert.False(t, c.traffic(up), "dropped")
	assert.True(t, closed(c.closeReq[down]), "a client packet resets the client (the down stub's socket)")
	assert.False(t, closed(c.closeReq[up]), "the server is not told")
	assert.False(t, c.inputEOF(up), "the reset client's side stays held: the server must not see a FIN")
	c.traffic(down)
	assert.True(t, closed(c.closeReq[up]), "a server packet resets the server")
}

func TestTimerBlackholeHoldsEndsUntilBothClose(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Blackhole})
	assert.False(t, h.needsLinger())
	c := h.open()
	h.pair()
	fc.Advance(unitTimeout)
	waitRecords(t, h, 1)
	assert.False(t, c.traffic(up))
	assert.False(t, closed(c.closeReq[down]), "no reset without ResetOnNextPacket")
	assert.False(t, c.inputEOF(up), "the client's FIN vanishes: hold the server side open")
	assert.True(t, c.inputEOF(down), "both ends closed: nothing left to observe")
	assert.True(t, closed(c.closeReq[up]))
}

func TestTimerBeforeExpiryEOFClosesAtOnce(t *testing.T) {
	h, _ := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Blackhole})
	c := h.open()
	h.pair()
	assert.True(t, c.inputEOF(up), "an orderly close passes through a live box")
}

func TestTimerStopsWhenBothPipesEnd(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Close})
	c := h.open()
	h.pair()
	c.pipeEnded()
	c.pipeEnded()
	fc.Advance(2 * unitTimeout)
	assert.Zero(t, h.log.Len(), "an ended connection expired")
	h.shutdown()
	require.NoError(t, h.wait(time.Second))
}

func TestTimerShutdownRecordsNothingAndReleases(t *testing.T) {
	h, fc := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Close})
	c := h.open()
	h.pair()
	h.shutdown()
	fc.Advance(2 * unitTimeout)
	assert.Zero(t, h.log.Len())
	assert.True(t, closed(h.done))
	assert.Error(t, h.wait(10*time.Millisecond), "pipes have not ended yet")
	c.pipeEnded()
	c.pipeEnded()
	assert.NoError(t, h.wait(time.Second))

	late := h.open() // accepted while closing: released at once, no timer
	assert.True(t, closed(late.closeReq[up]) && closed(late.closeReq[down]))
}

func TestTimerPairingViolationsAreReported(t *testing.T) {
	h, _ := newUnitHop(t, middlebox.Spec{Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Close})
	a := h.open()
	b := h.open() // a's downstream never came
	assert.Equal(t, 1, a.attached)
	assert.Same(t, b, h.pair())
	orphan := h.pair() // a downstream with no upstream
	assert.NotSame(t, b, orphan)
	assert.Equal(t, uint64(3), orphan.id)
	a.pipeEnded()
	b.pipeEnded()
	b.pipeEnded()
	orphan.pipeEnded()
	h.shutdown()
	err := h.wait(time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection 1 was never paired")
	assert.Contains(t, err.Error(), "connection 3: downstream direction arrived without an upstream one")
}

func TestExpiryLogWaitHonoursContext(t *testing.T) {
	l := NewExpiryLog()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := l.Wait(ctx, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, got)
	l.append(ExpiryRecord{Hop: "x"})
	got, err = l.Wait(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "x", got[0].Hop)
	assert.Contains(t, got[0].String(), "hop 0 (x) conn 0")
}
