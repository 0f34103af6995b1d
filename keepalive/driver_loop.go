package keepalive

import (
	"context"
	"time"
)

// step is one round of the loop: take the inbox, handle it, tick every session
// whose key has come, re-arm the timer. The caller holds stateMu.
//
// The round's time is read after the inbox is taken: every item was queued before
// that reading, so no outcome is stamped earlier than its Conn call returned (a
// reply that came back at t never counts as a success before t, nor with a
// shorter RTT). Read before, the round would stamp the items queued while it
// began with a time they had not reached yet.
func (e *Engine) step() {
	e.mu.Lock()
	items := e.inbox
	e.inbox = e.spare[:0]
	e.mu.Unlock()
	now := e.clock.Now()
	for i := range items {
		e.handle(now, &items[i])
		items[i] = item{}
	}
	e.spare = items[:0]

	e.round++
	nowKey := now.UnixNano()
	for len(e.heap) > 0 {
		ent := e.heap[0]
		if ent.key > nowKey || ent.round == e.round {
			break
		}
		ent.round = e.round
		e.due(now, ent)
	}
	e.arm(now)
	e.presencePool.check()
	e.pingPool.check()
	e.ctrlPool.check()
}

// arm sets the one timer for the earliest key, if it changed.
func (e *Engine) arm(now time.Time) {
	k := int64(never)
	if len(e.heap) > 0 {
		k = e.heap[0].key
	}
	if k == e.armed {
		return
	}
	e.armed = k
	if k == never {
		e.timer.Stop()
		return
	}
	d := time.Duration(k - now.UnixNano())
	if d < 0 {
		d = 0
	}
	e.timer.Reset(d)
}

// handle processes one inbox item.
func (e *Engine) handle(now time.Time, it *item) {
	ent := it.ent
	switch it.cmd {
	case cmdAdd:
		if ent.removed {
			return
		}
		e.metrics.stateInc(StateIdle)
		e.heap.push(ent)
		e.stepSession(now, ent, Event{Kind: EventStart})
	case cmdRemove:
		e.retire(now, ent)
	case cmdResult:
		e.result(now, it)
	case cmdEvent:
		if ent.removed {
			return
		}
		if it.ev.Kind == EventDisconnected {
			ent.cause = it.ev.Cause
		}
		e.stepSession(now, ent, it.ev)
	}
}

// due runs the deadlines of an entry whose key has come: an expired ping reply
// deadline, an expired connect timeout, the session's own NextDeadline.
func (e *Engine) due(now time.Time, ent *entry) {
	if p := ent.ping; p != nil && !p.deadline.IsZero() && !now.Before(p.deadline) {
		ent.ping = nil
		p.cancel(context.DeadlineExceeded)
		e.heartbeatFailed(now, ent, ActionSendPing, p.seq, context.DeadlineExceeded)
	}
	if c := ent.ctrl; c != nil && c.kind == ActionConnect && !c.expired &&
		!c.deadline.IsZero() && !now.Before(c.deadline) {
		c.expired = true
		c.cancel(context.DeadlineExceeded)
		e.connectFailed(now, ent, context.DeadlineExceeded)
	}
	if ent.removed {
		return
	}
	if nd := ent.sess.NextDeadline(); !nd.IsZero() && !nd.After(now) {
		e.stepSession(now, ent, Event{Kind: EventTick})
		return
	}
	e.reschedule(ent)
}

// reschedule recomputes ent's heap key.
func (e *Engine) reschedule(ent *entry) {
	if ent.idx < 0 {
		return
	}
	k := int64(never)
	if nd := ent.sess.NextDeadline(); !nd.IsZero() {
		k = nd.UnixNano()
	}
	if p := ent.ping; p != nil && !p.deadline.IsZero() {
		k = min(k, p.deadline.UnixNano())
	}
	if c := ent.ctrl; c != nil && c.kind == ActionConnect && !c.expired && !c.deadline.IsZero() {
		k = min(k, c.deadline.UnixNano())
	}
	if k != ent.key {
		ent.key = k
		e.heap.fix(int(ent.idx))
	}
}

// stepSession feeds ev to ent's session, runs the actions and reschedules.
func (e *Engine) stepSession(now time.Time, ent *entry, ev Event) {
	if ev.Kind == EventConnectFailed {
		ent.cause = ev.Cause
	}
	// One action buffer for every session: the loop never steps two at once.
	acts := ent.sess.AppendStep(e.acts[:0], now, ev)
	e.acts = acts
	for i := range acts {
		if k := acts[i].Kind; (k == ActionConnect || k == ActionClose) && acts[i].Cause != CauseUnknown {
			ent.cause = acts[i].Cause
		}
	}
	for i := range acts {
		e.apply(now, ent, &acts[i], ev.Kind)
	}
	e.reschedule(ent)
}

// apply runs one action of ent's session.
func (e *Engine) apply(now time.Time, ent *entry, a *Action, why EventKind) {
	switch a.Kind {
	case ActionSendPresence:
		e.metrics.sent(ActionSendPresence)
		e.logSent(ent, a)
		e.queuePresence(ent, a.Seq, a.Presence)
	case ActionSendPing:
		e.metrics.sent(ActionSendPing)
		e.logSent(ent, a)
		op := &opCtx{parent: e.runCtx, start: now, seq: a.Seq, kind: ActionSendPing}
		if a.Deadline > 0 {
			op.deadline = now.Add(a.Deadline)
		}
		if old := ent.ping; old != nil {
			old.cancel(context.Canceled) // superseded: the session no longer waits for it
		}
		ent.ping = op
		e.pingPool.submit(poolJob{ent: ent, op: op, kind: ActionSendPing})
	case ActionConnect:
		ent.closeAsked = false
		if ent.connected {
			e.metrics.reconnect(ent.cause)
			if ent.state != StateWaiting {
				// An immediate reconnect: no waiting state announced it.
				e.logReconnecting(ent, 0)
			}
		}
		if ent.ctrl != nil {
			ent.pendConnect = true
			return
		}
		e.startCtrl(now, ent, ActionConnect)
	case ActionClose:
		e.requestClose(now, ent)
	case ActionAlert:
		e.metrics.alert(a.Alert)
		e.logAlert(ent, a)
	case ActionStateChange:
		e.stateChange(now, ent, a, why)
	}
}

// stateChange accounts and logs a transition.
func (e *Engine) stateChange(now time.Time, ent *entry, a *Action, why EventKind) {
	if !ent.removed {
		e.counts[a.PrevState].Add(-1)
		e.counts[a.State].Add(1)
		e.metrics.stateMove(a.PrevState, a.State)
	}
	ent.state = a.State
	if a.PrevState == StateConnected && a.State != StateConnected {
		e.metrics.disconnect(ent.cause)
		e.logKeepAliveStopped(ent)
	}
	switch a.State {
	case StateConnected:
		ent.connected = true
		e.logConnected(ent)
	case StateWaiting:
		var delay time.Duration
		if nd := ent.sess.NextDeadline(); !nd.IsZero() {
			delay = nd.Sub(now)
		}
		e.logReconnecting(ent, delay)
	case StateStopped:
		e.logStopped(ent, why)
	}
}

// requestClose asks for conn.Close, after any Connect in flight.
func (e *Engine) requestClose(now time.Time, ent *entry) {
	ent.closeAsked = true
	if ent.ctrl != nil {
		ent.pendClose = true
		ent.pendConnect = false // a close supersedes a connect not yet started
		if ent.ctrl.kind == ActionConnect {
			ent.ctrl.cancel(context.Canceled)
		}
		return
	}
	e.startCtrl(now, ent, ActionClose)
}

// startCtrl dispatches a Connect or Close; ent.ctrl must be nil.
func (e *Engine) startCtrl(now time.Time, ent *entry, kind ActionKind) {
	op := &opCtx{parent: e.runCtx, start: now, kind: kind}
	if kind == ActionConnect {
		op.deadline = now.Add(e.connectTimeout)
	}
	ent.ctrl = op
	e.ctrlOps++
	e.ctrlPool.submit(poolJob{ent: ent, op: op, kind: kind})
}

// nextCtrl starts the Close or Connect that waited for the previous call.
func (e *Engine) nextCtrl(now time.Time, ent *entry) {
	if ent.ctrl != nil {
		return
	}
	switch {
	case ent.pendClose:
		ent.pendClose = false
		e.startCtrl(now, ent, ActionClose)
	case ent.pendConnect && !ent.removed:
		ent.pendConnect = false
		e.startCtrl(now, ent, ActionConnect)
	}
}

// retire stops ent for good (Remove or shutdown): EventStop, a Close, out of the
// heap, in-flight calls cancelled.
func (e *Engine) retire(now time.Time, ent *entry) {
	if ent.removed {
		return
	}
	if ent.idx >= 0 {
		e.stepSession(now, ent, Event{Kind: EventStop})
	}
	ent.removed = true
	e.heap.remove(ent)
	if p := ent.ping; p != nil {
		ent.ping = nil
		p.cancel(context.Canceled)
	}
	if !ent.closeAsked {
		e.requestClose(now, ent)
	}
	e.counts[ent.state].Add(-1)
	e.metrics.stateDec(ent.state)
}

// result handles the return of a Conn call.
func (e *Engine) result(now time.Time, it *item) {
	ent := it.ent
	switch it.op.kind {
	case ActionSendPresence:
		if !ent.removed {
			e.heartbeatFailed(now, ent, ActionSendPresence, it.op.seq, it.err)
		}
	case ActionSendPing:
		if ent.removed || ent.ping != it.op {
			return // already failed at its deadline, superseded, or retired
		}
		ent.ping = nil
		it.op.cancel(context.Canceled)
		if it.err != nil {
			e.heartbeatFailed(now, ent, ActionSendPing, it.op.seq, it.err)
			return
		}
		rtt := time.Duration(it.rtt)
		if rtt <= 0 {
			rtt = now.Sub(it.op.start)
		}
		e.metrics.rtt(rtt)
		e.stepSession(now, ent, Event{Kind: EventHeartbeatAck, Seq: it.op.seq, RTT: rtt})
	case ActionConnect, ActionClose:
		op := it.op
		ent.ctrl = nil
		e.ctrlOps--
		op.cancel(context.Canceled)
		if op.kind == ActionConnect && !op.expired && !ent.removed {
			if it.err != nil {
				e.connectFailed(now, ent, it.err)
			} else {
				e.stepSession(now, ent, Event{Kind: EventConnected})
			}
		}
		e.nextCtrl(now, ent)
	}
}

// heartbeatFailed accounts, logs and steps a failed heartbeat.
func (e *Engine) heartbeatFailed(now time.Time, ent *entry, kind ActionKind, seq uint64, err error) {
	e.metrics.failed(kind)
	e.logFailed(ent, kind, seq, err)
	e.stepSession(now, ent, Event{Kind: EventHeartbeatFailed, Seq: seq})
}

// connectFailed accounts, logs and steps a failed connect.
func (e *Engine) connectFailed(now time.Time, ent *entry, err error) {
	e.metrics.connectFailed()
	e.logConnectFailed(ent, err)
	e.stepSession(now, ent, Event{Kind: EventConnectFailed, Cause: ErrorCause(err)})
}

// shutdown stops every session, closes every connection and waits for every
// Conn call. Called by Run as it returns.
func (e *Engine) shutdown(cancel context.CancelFunc) {
	e.stopped.Do(func() { close(e.stopCh) })
	e.mu.Lock()
	e.closed = true // no Add, Notify or Reconfigure from now on
	e.mu.Unlock()
	e.stateMu.Lock()
	e.step() // take in what is queued, Adds included, so they are stopped too
	now := e.clock.Now()
	for len(e.heap) > 0 {
		e.retire(now, e.heap[len(e.heap)-1])
	}
	e.timer.Stop()
	e.armed = never
	cancel() // presence sends
	for e.ctrlOps > 0 {
		e.stateMu.Unlock()
		<-e.wake
		e.stateMu.Lock()
		e.step()
	}
	e.stateMu.Unlock()
	e.ops.Wait()
}
