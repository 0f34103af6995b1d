package keepalive

import (
	"errors"
	"sync"
)

// Conn calls run on three elastic pools of goroutines rather than on a goroutine
// each, so that a burst of calls that return quickly reuses a few workers:
// presence sends (fire-and-forget, normally microseconds), pings (each waits for
// its reply) and control calls (Connect and Close, rare but bursty: a network
// blip makes every session reconnect at once).
//
//	loop ──► queue ──► workers (1 … cap) ──► Conn.SendPresence / Ping / Connect / Close
//	                        └─ outcome ──► inbox
//
// Invariants:
//   - A pool has a worker while its queue is not empty; workers exit when it is.
//   - A worker entering a call (which may block on a slow connection) while calls
//     are queued and no other worker is free starts one more, up to the cap; the
//     loop checks the same at the end of each round. A stuck connection therefore
//     holds up the others only when cap calls are stuck at once.
//   - The presence and control pools are capped at maxPoolWorkers, which also
//     bounds connect storms. The ping pool is not capped: a ping's deadline runs
//     from its dispatch, so a ping must never wait in a queue behind pings stuck
//     on dead connections.
//   - At most one presence send per session is queued or running (presBusy).

// maxPoolWorkers caps the presence and control pools.
const maxPoolWorkers = 64

// uncapped is the ping pool's cap.
const uncapped = int(^uint(0) >> 1)

// errPresenceStuck fails a presence heartbeat whose session's previous send has
// not returned: a connection that cannot take a small write is as good as dead.
var errPresenceStuck = errors.New("keepalive: the previous presence send on this connection has not returned")

// poolJob is one queued Conn call.
type poolJob struct {
	ent  *entry
	op   *opCtx // Connect and Close
	seq  uint64 // presence
	kind ActionKind
	p    PresenceType
}

// callPool is a queue and its workers.
type callPool struct {
	e       *Engine
	max     int // most workers at once
	mu      sync.Mutex
	queue   []poolJob
	head    int
	workers int
	busy    int // workers inside a Conn call
}

// submitLocked queues j and makes sure a worker runs; the caller holds mu.
func (p *callPool) submitLocked(j poolJob) {
	p.queue = append(p.queue, j)
	if p.workers == 0 {
		p.spawnLocked()
	}
}

func (p *callPool) submit(j poolJob) {
	p.mu.Lock()
	p.submitLocked(j)
	p.mu.Unlock()
}

// check runs at the end of each loop round: it adds a worker when calls are
// queued and no worker is free to take them.
func (p *callPool) check() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.queue) && p.busy == p.workers && p.workers < p.max {
		p.spawnLocked()
	}
}

func (p *callPool) spawnLocked() {
	p.workers++
	p.e.ops.Add(1)
	go p.worker()
}

// worker runs queued calls until the queue is empty.
func (p *callPool) worker() {
	defer p.e.ops.Done()
	p.mu.Lock()
	for p.head < len(p.queue) {
		job := p.queue[p.head]
		p.queue[p.head] = poolJob{}
		p.head++
		p.busy++
		if p.head < len(p.queue) && p.busy == p.workers && p.workers < p.max {
			p.spawnLocked()
		}
		p.mu.Unlock()

		p.e.runPoolJob(job)

		p.mu.Lock()
		p.busy--
		if job.kind == ActionSendPresence {
			job.ent.presBusy = false
		}
	}
	p.queue = p.queue[:0]
	p.head = 0
	p.workers--
	p.mu.Unlock()
}

// runPoolJob makes one Conn call and reports its outcome to the loop.
func (e *Engine) runPoolJob(j poolJob) {
	switch j.kind {
	case ActionSendPresence:
		if err := j.ent.conn.SendPresence(e.runCtx, j.p); err != nil {
			e.push(item{ent: j.ent, cmd: cmdResult, op: &opCtx{kind: ActionSendPresence, seq: j.seq}, err: err})
		}
	case ActionSendPing:
		rtt, err := j.ent.conn.Ping(j.op)
		if err == nil && j.op.Err() != nil {
			err = j.op.Err() // the reply came after the deadline
		}
		e.push(item{ent: j.ent, cmd: cmdResult, op: j.op, err: err, rtt: int64(rtt)})
	case ActionConnect:
		err := j.ent.conn.Connect(j.op)
		e.push(item{ent: j.ent, cmd: cmdResult, op: j.op, err: err})
	case ActionClose:
		err := j.ent.conn.Close()
		e.push(item{ent: j.ent, cmd: cmdResult, op: j.op, err: err})
	}
}

// queuePresence queues a send. While a session's previous send is still queued
// or running, the new one fails at once instead (reported through the inbox), so
// a dead connection holds one worker at most.
func (e *Engine) queuePresence(ent *entry, seq uint64, pt PresenceType) {
	p := &e.presencePool
	p.mu.Lock()
	if ent.presBusy {
		p.mu.Unlock()
		e.push(item{ent: ent, cmd: cmdResult, op: &opCtx{kind: ActionSendPresence, seq: seq}, err: errPresenceStuck})
		return
	}
	ent.presBusy = true
	p.submitLocked(poolJob{ent: ent, seq: seq, kind: ActionSendPresence, p: pt})
	p.mu.Unlock()
}
