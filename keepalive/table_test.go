package keepalive

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableCfg: ping every 20 s, 5 s reply deadline, first missed reply reconnects,
// backoff without jitter (1 s first delay).
func tableCfg() Config {
	c := pingFixed(20 * time.Second)
	c.Reconnect = ReconnectConfig{Jitter: -1}
	return c
}

// Session setups, each ending at a known time with a known deadline.
var tableSetups = []struct {
	name  string
	state State
	setup func(h *core)
}{
	{"idle", StateIdle, func(h *core) {}},
	{"connecting", StateConnecting, func(h *core) { h.ev(EventStart) }},
	{"connected", StateConnected, func(h *core) { h.ev(EventStart); h.ev(EventConnected) }},
	{"pinging", StateConnected, func(h *core) { h.ev(EventStart); h.ev(EventConnected); h.tick() }},
	{"waiting", StateWaiting, func(h *core) {
		h.ev(EventStart)
		h.ev(EventConnected)
		h.at(time.Second).step(Event{Kind: EventDisconnected, Cause: CauseReset})
	}},
	{"stopped", StateStopped, func(h *core) { h.ev(EventStop) }},
}

type tableWant struct {
	state State
	kinds []ActionKind
}

var (
	none      = []ActionKind{}
	connectSC = []ActionKind{ActionConnect, ActionStateChange}
	closeSC   = []ActionKind{ActionClose, ActionStateChange}
	sc        = []ActionKind{ActionStateChange}
	ping      = []ActionKind{ActionSendPing}
)

// tableWants[setup][event] is the state after the event and the action kinds.
var tableWants = map[string]map[EventKind]tableWant{
	"idle": {
		EventStart: {StateConnecting, connectSC}, EventConnected: {StateConnected, sc},
		EventDisconnected: {StateIdle, none}, EventConnectFailed: {StateIdle, none},
		EventHeartbeatAck: {StateIdle, none}, EventHeartbeatFailed: {StateIdle, none},
		EventInbound: {StateIdle, none}, EventTick: {StateIdle, none}, EventConfigChanged: {StateIdle, none},
	},
	"connecting": {
		EventStart: {StateConnecting, none}, EventConnected: {StateConnected, sc},
		EventDisconnected: {StateWaiting, sc}, EventConnectFailed: {StateWaiting, sc},
		EventHeartbeatAck: {StateConnecting, none}, EventHeartbeatFailed: {StateConnecting, none},
		EventInbound: {StateConnecting, none}, EventTick: {StateConnecting, none}, EventConfigChanged: {StateConnecting, none},
	},
	"connected": {
		EventStart: {StateConnected, none}, EventConnected: {StateConnected, none},
		EventDisconnected: {StateWaiting, sc}, EventConnectFailed: {StateConnected, none},
		EventHeartbeatAck: {StateConnected, none}, EventHeartbeatFailed: {StateConnected, none},
		EventInbound: {StateConnected, none}, EventTick: {StateConnected, ping}, EventConfigChanged: {StateConnected, none},
	},
	"pinging": {
		EventStart: {StateConnected, none}, EventConnected: {StateConnected, none},
		EventDisconnected: {StateWaiting, sc}, EventConnectFailed: {StateConnected, none},
		EventHeartbeatAck: {StateConnected, none}, EventHeartbeatFailed: {StateConnecting, connectSC},
		EventInbound: {StateConnected, none}, EventTick: {StateConnecting, connectSC}, EventConfigChanged: {StateConnected, none},
	},
	"waiting": {
		EventStart: {StateConnecting, connectSC}, EventConnected: {StateConnected, sc},
		EventDisconnected: {StateWaiting, none}, EventConnectFailed: {StateWaiting, none},
		EventHeartbeatAck: {StateWaiting, none}, EventHeartbeatFailed: {StateWaiting, none},
		EventInbound: {StateWaiting, none}, EventTick: {StateConnecting, connectSC}, EventConfigChanged: {StateWaiting, none},
	},
}

func TestEveryEventInEveryState(t *testing.T) {
	for _, su := range tableSetups {
		for k := EventStart; k <= EventStop; k++ {
			t.Run(fmt.Sprintf("%s/%s", su.name, k), func(t *testing.T) {
				h := newCore(t, tableCfg())
				su.setup(h)
				require.Equal(t, su.state, h.s.State())
				ev := Event{Kind: k, Seq: 1, RTT: 10 * time.Millisecond, Cause: CauseClosed}
				if k == EventConfigChanged {
					ev.Policy = MustPolicy(tableCfg())
				}
				if k == EventTick && !h.s.NextDeadline().IsZero() {
					h.now = h.s.NextDeadline()
				}
				prev := h.s.State()
				acts := h.s.Step(h.now, ev)

				var want tableWant
				switch {
				case su.state == StateStopped:
					want = tableWant{StateStopped, nil}
					assert.Nil(t, acts)
				case k == EventLoggedOut || k == EventReplaced || k == EventBanned || k == EventStop:
					want = tableWant{StateStopped, closeSC}
				default:
					var ok bool
					want, ok = tableWants[su.name][k]
					require.True(t, ok, "missing table entry")
				}
				assert.Equal(t, want.state, h.s.State())
				if want.kinds != nil {
					assert.Equal(t, want.kinds, actKinds(acts))
				}
				// Every state change is reported, with the right endpoints.
				if want.state != prev {
					last := acts[len(acts)-1]
					assert.Equal(t, stateChange(prev, want.state), Action{Kind: last.Kind, PrevState: last.PrevState, State: last.State})
				}
				if nd := h.s.NextDeadline(); !nd.IsZero() {
					assert.False(t, nd.Before(h.now), "deadline in the past")
				}
				if want.state == StateStopped || want.state == StateIdle || want.state == StateConnecting {
					assert.True(t, h.s.NextDeadline().IsZero(), "nothing to wake for")
				}
			})
		}
	}
}
