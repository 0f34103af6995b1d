package keepalive

import "errors"

// Presence sends are fire-and-forget and normally take microseconds, so they do
// not get a goroutine each: the loop queues them and a small elastic pool runs
// them.
//
//	loop ──► presence queue ──► workers (1 … maxPresenceWorkers) ──► Conn.SendPresence
//	                                  └─ failure ──► inbox
//
// Invariants:
//   - A worker exists while the queue is not empty; it exits when the queue is.
//   - A worker entering a send (which may block on a slow connection) while
//     sends are queued and no other worker is free starts one more, up to the
//     cap; the loop checks the same at the end of each round. A stuck connection
//     therefore does not hold up the others unless maxPresenceWorkers sends are
//     stuck at once.
//   - Pings, connects and closes wait for the network and get their own goroutine.

// maxPresenceWorkers caps the presence pool.
const maxPresenceWorkers = 64

// presenceJob is one queued SendPresence.
type presenceJob struct {
	ent *entry
	seq uint64
	p   PresenceType
}

// presencePool is the queue and its worker accounting, guarded by its own mutex.
type presencePool struct {
	queue   []presenceJob
	head    int
	workers int
	busy    int // workers inside Conn.SendPresence
}

// errPresenceStuck fails a presence heartbeat whose session's previous send has
// not returned: a connection that cannot take a small write is as good as dead.
var errPresenceStuck = errors.New("keepalive: the previous presence send on this connection has not returned")

// queuePresence queues a send and makes sure a worker runs. While a session's
// previous send is still queued or running, the new one fails at once instead
// (reported through the inbox), so a dead connection holds one worker at most.
func (e *Engine) queuePresence(ent *entry, seq uint64, p PresenceType) {
	e.poolMu.Lock()
	if ent.presBusy {
		e.poolMu.Unlock()
		e.push(item{ent: ent, cmd: cmdResult, op: &opCtx{kind: ActionSendPresence, seq: seq}, err: errPresenceStuck})
		return
	}
	ent.presBusy = true
	e.pool.queue = append(e.pool.queue, presenceJob{ent: ent, seq: seq, p: p})
	if e.pool.workers == 0 {
		e.spawnPresenceWorkerLocked()
	}
	e.poolMu.Unlock()
}

// checkPresencePool runs at the end of each loop round: it adds a worker when
// sends are queued and no worker is free to take them.
func (e *Engine) checkPresencePool() {
	e.poolMu.Lock()
	defer e.poolMu.Unlock()
	pending := len(e.pool.queue) - e.pool.head
	if pending > 0 && e.pool.busy == e.pool.workers && e.pool.workers < maxPresenceWorkers {
		e.spawnPresenceWorkerLocked()
	}
}

func (e *Engine) spawnPresenceWorkerLocked() {
	e.pool.workers++
	e.ops.Add(1)
	go e.presenceWorker()
}

// presenceWorker runs queued sends until the queue is empty.
func (e *Engine) presenceWorker() {
	defer e.ops.Done()
	e.poolMu.Lock()
	for e.pool.head < len(e.pool.queue) {
		job := e.pool.queue[e.pool.head]
		e.pool.queue[e.pool.head] = presenceJob{}
		e.pool.head++
		e.pool.busy++
		// About to enter a send that may block: leave no queued send without a
		// free worker.
		if e.pool.head < len(e.pool.queue) && e.pool.busy == e.pool.workers && e.pool.workers < maxPresenceWorkers {
			e.spawnPresenceWorkerLocked()
		}
		e.poolMu.Unlock()

		if err := job.ent.conn.SendPresence(e.runCtx, job.p); err != nil {
			e.push(item{ent: job.ent, cmd: cmdResult, op: &opCtx{kind: ActionSendPresence, seq: job.seq}, err: err})
		}

		e.poolMu.Lock()
		e.pool.busy--
		job.ent.presBusy = false
	}
	e.pool.queue = e.pool.queue[:0]
	e.pool.head = 0
	e.pool.workers--
	e.poolMu.Unlock()
}
