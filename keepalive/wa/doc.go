// Package wa adapts a whatsmeow client (go.mau.fi/whatsmeow) to keepalive.Conn, so
// that a keepalive.Engine keeps a WhatsApp multi-device connection alive: in the
// network lab against the mock server (sim/mockwa), and live on a real account.
//
// # The engine owns keep-alive and reconnection
//
// A whatsmeow client left to itself runs its own keep-alive loop (a w:p ping IQ
// every uniform 20–30 s, 10 s reply deadline, forced reconnect after 3 min without
// success) and reconnects by itself after a remote close (2 s × errors) and after a
// stream:error 515. With those running, the policy under test would not be the
// engine's. This package switches them off through whatsmeow's exported knobs:
//
//   - DisableBuiltinKeepAlive sets the process-global whatsmeow.KeepAliveIntervalMin
//     and KeepAliveIntervalMax to about 100 years, so the loop whatsmeow still starts
//     for every connection (keepalive.go: keepAliveLoop; it cannot be switched off)
//     never sends a ping, and KeepAliveResponseDeadline to the same, so that a ping
//     this package sends through whatsmeow's keep-alive IQ waits for the engine's own
//     deadline (carried by the ping's ctx) and nothing else. These are package
//     variables read without a lock by every client's goroutines: call
//     DisableBuiltinKeepAlive once at process start, before any whatsmeow client of
//     the process connects (New calls it too, as a safety net, through a sync.Once).
//     It affects every whatsmeow client of the process, including ones not managed
//     by an engine: such clients get no keep-alive at all.
//   - New sets, per client, EnableAutoReconnect = false and InitialAutoReconnect =
//     false (no reconnect after a remote close or a failed first dial), and
//     DisableLoginAutoReconnect = true (a stream:error 515 becomes an
//     events.ManualLoginReconnect the adapter handles: during Connect it reconnects
//     at once, as a pairing needs; on an established connection it reports a
//     disconnect with keepalive.CauseStreamError and the engine reconnects).
//
// Live users: do not call Connect, Disconnect or SendPresence-as-heartbeat on a client
// handed to an engine; pair a new device first (whatsmeow's GetQRChannel and
// Connect), wait for events.PairSuccess and the first events.Connected, disconnect,
// and then give the client to New.
//
// # Events
//
// whatsmeow's events become engine events (Engine.Notify) or end a Connect call:
//
//	events.Connected              Connect returns nil (the session is up)
//	events.Disconnected           EventDisconnected (CauseClosed, CauseReset when the
//	                              dialled socket saw ECONNRESET, CauseStreamError after a
//	                              stream:error); during Connect: Connect fails
//	events.ManualLoginReconnect   (515) see above
//	events.StreamError            EventDisconnected{CauseStreamError}
//	events.LoggedOut              EventLoggedOut (terminal); Connect fails
//	events.StreamReplaced         EventReplaced (terminal); Connect fails
//	events.TemporaryBan           EventBanned (terminal); Connect fails
//	events.ClientOutdated,
//	events.ConnectFailure,
//	events.CATRefreshError        Connect fails (or EventDisconnected when up)
//	events.KeepAliveTimeout,
//	events.KeepAliveRestored      ignored: never emitted once the built-in loop is off
//
// whatsmeow emits events without saying which socket they belong to, and its
// Client.IsConnected races with a socket closing (it reads FrameSocket.conn without
// the lock), so the adapter never calls it. A Disconnected that arrives while a
// Connect is still dialling is ignored (the dial's own error covers that socket); one
// that arrives after the dial returned fails the attempt or, once up, is reported.
// whatsmeow dispatches Disconnected from a fresh goroutine, so in principle a
// Disconnected of a previous socket could be delivered after a whole new dial and
// login completed (two goroutine hops slower than several round trips); the engine
// would then see one spurious disconnect and reconnect. Nothing better is possible
// without modifying whatsmeow.
//
// # Inbound traffic (liveness)
//
// whatsmeow has no event for "a frame arrived", but it logs every node it decodes
// through its receive logger (Client.recvLog = the constructor's logger .Sub("Recv"),
// one Debugf per node, the node's XML as the argument — evaluated whatever the log
// level). A Tap is a waLog.Logger to pass to whatsmeow.NewClient: it forwards every
// line to an inner logger and reports each received node to the Conn, which notifies
// EventInbound while the connection is up. What counts is therefore every node the
// server sent and whatsmeow decoded: ping replies, IQ results, presences, messages,
// receipts, notifications, stream errors. Without a Tap the adapter falls back to
// whatsmeow's events: every event that is not one of the lifecycle events above
// (a presence, a message, a receipt, …) counts as inbound; ping replies then do not.
//
// The Tap also lets the adapter tell a disconnect after a <stream:error> from a plain
// close. Nothing here adds traffic: the adapter sends only what the engine asks for.
//
// # whatsmeow races and leaks the adapter steers around
//
//   - Client.IsConnected reads FrameSocket.conn without a lock: never called.
//   - A local Disconnect while the read pump is failing races on FrameSocket.closed
//     and .conn: a connection the engine judged dead is ended by closing its socket
//     under whatsmeow (TrackConn) and waiting for whatsmeow's own remote-close path,
//     never by a Disconnect at the same time.
//   - A cancelled IQ context can close the WebSocket or race on the reply channel:
//     Ping gives whatsmeow a context that is never cancelled (see Ping).
//   - NoiseSocket.Stop stops the frame consumer before closing the socket, so a frame
//     arriving in between leaves whatsmeow's read pump blocked for good (one
//     goroutine per such disconnect, in whatsmeow; tests ignore it by name).
//
// wa imports keepalive and whatsmeow; it must never import the simulator, the mock
// server, the network lab, reports or cmd.
package wa
