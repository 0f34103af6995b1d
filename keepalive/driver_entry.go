package keepalive

import "math"

// never is the heap key of a session that needs no wake-up.
const never = math.MaxInt64

// entry is the driver's record of one session. Fields below the line are owned by
// the loop (read and written only under Engine.stateMu).
type entry struct {
	id   string
	conn Conn
	sess *Session
	// ----
	ping *opCtx // the outstanding ping, if any
	ctrl *opCtx // the Connect or Close call in flight, if any

	key   int64  // heap key: earliest of NextDeadline, ping and connect deadlines (Unix ns)
	idx   int32  // position in the heap; -1 when not in it
	round uint32 // last loop round that ticked this entry

	state       State // last state the session reported
	cause       Cause // why the last connection ended
	pendConnect bool  // a Connect waits for ctrl to finish
	pendClose   bool  // a Close waits for ctrl to finish
	removed     bool  // Remove or shutdown retired this entry
	connected   bool  // has been connected at least once (reconnect accounting)
	closeAsked  bool  // a Close was dispatched or queued since the last Connect
	presBusy    bool  // a SendPresence is queued or running (guarded by presencePool.mu)
}

// cmd is what an inbox item asks the loop to do besides stepping an event.
type cmd uint8

const (
	cmdEvent  cmd = iota // step ev
	cmdAdd               // start a newly added session
	cmdRemove            // stop and forget a session
	cmdResult            // a Conn call returned
)

// item is one inbox entry.
type item struct {
	ent *entry
	op  *opCtx // cmdResult: the call that returned
	cmd cmd
	ev  Event
	err error // cmdResult: the call's error
	rtt int64 // cmdResult of a ping: the reported round trip (ns)
}
