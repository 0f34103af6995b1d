package sim

// The event queue: a binary min-heap ordered by (at, seq), written out by hand so
// that pushing and popping never box an event in an interface (no allocation per
// event once the backing slices have grown).
//
//	push(e) ──► [ heap ordered by at, then by seq ] ──► pop() = earliest, FIFO on ties
//
// seq is a counter stamped at push time: two events at the same instant run in the
// order they were scheduled, which keeps every run deterministic.
//
// The engine's tick is not in the heap: it is one (time, seq) pair on the sim,
// compared with the heap's top, so re-arming it costs nothing.

// evKind names what an event does when it fires.
type evKind uint8

const (
	evTick        evKind = iota + 1 // the engine's NextDeadline (kept outside the heap; names trace lines)
	evEngine                        // a deferred engine input: aux = EventKind, aux2 = Seq, conn = Cause
	evHop                           // a frame reaches its next middlebox (deferred pass)
	evArrive                        // a frame reaches its far end
	evBoxExpire                     // a middlebox timer may have expired (lazy re-arm)
	evConnectDone                   // a connect attempt finishes (ok or not)
	evGiveUp                        // the client's TCP gives up on unacknowledged data
	evServerIdle                    // the server's idle-close check
	evInbound                       // the server creates the next inbound message(s)
	evFault                         // a fault (index in aux) starts
	evFaultEnd                      // a partition, restart or spike ends (observe only)
	evBoxSignal                     // a FIN/RST from a middlebox reaches the client
	evEnd                           // end of run
)

// String names the event kind in traces.
func (k evKind) String() string {
	switch k {
	case evTick:
		return "tick"
	case evEngine:
		return "engine_input"
	case evHop:
		return "frame_hop"
	case evArrive:
		return "frame_arrive"
	case evBoxExpire:
		return "box_timer"
	case evConnectDone:
		return "connect_done"
	case evGiveUp:
		return "tcp_give_up"
	case evServerIdle:
		return "server_idle_check"
	case evInbound:
		return "inbound_message"
	case evFault:
		return "fault"
	case evFaultEnd:
		return "fault_end"
	case evBoxSignal:
		return "box_signal"
	case evEnd:
		return "end"
	}
	return "unknown"
}

// event is one scheduled thing. Times are nanoseconds since the start of the run.
type event struct {
	at   int64
	seq  uint64
	kind evKind
	// conn is the connection the event belongs to (0 = none).
	conn uint32
	// aux is a kind-specific number: tick generation, ping seq, fault index, box
	// index, engine event kind, connect outcome.
	aux uint64
	// aux2 is a second kind-specific number (engine event cause, signal cause).
	aux2 uint64
	// f is the frame of evHop and evArrive.
	f frame
}

// eventHeap is a min-heap of events by (at, seq). The heap itself holds small
// nodes (time, seq, slot); the events live in a slab of reusable slots, so sifting
// moves 24 bytes per swap rather than whole events.
type eventHeap struct {
	nodes []hnode
	slab  []event
	free  []int32
	seq   uint64
}

type hnode struct {
	at   int64
	seq  uint64
	slot int32
}

func (h *eventHeap) len() int { return len(h.nodes) }

func less(a, b *hnode) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// nextSeq stamps a new sequence number (also used for the engine's tick, which
// lives outside the heap).
func (h *eventHeap) nextSeq() uint64 {
	h.seq++
	return h.seq
}

// push schedules e (its seq is stamped here).
func (h *eventHeap) push(e *event) {
	e.seq = h.nextSeq()
	var slot int32
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
		h.slab[slot] = *e
	} else {
		slot = int32(len(h.slab))
		h.slab = append(h.slab, *e)
	}
	h.siftUp(hnode{at: e.at, seq: e.seq, slot: slot})
}

// alloc schedules a zeroed event at `at` and returns it to be filled in place (valid
// until the next push or alloc): the hot path avoids copying events twice.
func (h *eventHeap) alloc(at int64) *event {
	seq := h.nextSeq()
	var slot int32
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
	} else {
		slot = int32(len(h.slab))
		h.slab = append(h.slab, event{})
	}
	h.siftUp(hnode{at: at, seq: seq, slot: slot})
	e := &h.slab[slot]
	*e = event{at: at, seq: seq}
	return e
}

func (h *eventHeap) siftUp(nd hnode) {
	h.nodes = append(h.nodes, nd)
	nodes := h.nodes
	i := len(nodes) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&nodes[i], &nodes[p]) {
			break
		}
		nodes[i], nodes[p] = nodes[p], nodes[i]
		i = p
	}
}

// peek returns the earliest node. The heap must not be empty.
func (h *eventHeap) peek() *hnode { return &h.nodes[0] }

// pop removes the earliest event and copies it into e. The heap must not be empty.
func (h *eventHeap) pop(e *event) {
	nodes := h.nodes
	top := nodes[0]
	*e = h.slab[top.slot]
	h.free = append(h.free, top.slot)
	n := len(nodes) - 1
	nodes[0] = nodes[n]
	nodes = nodes[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&nodes[r], &nodes[l]) {
			m = r
		}
		if !less(&nodes[m], &nodes[i]) {
			break
		}
		nodes[i], nodes[m] = nodes[m], nodes[i]
		i = m
	}
	h.nodes = nodes
}
