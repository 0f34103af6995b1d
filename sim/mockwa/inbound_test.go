package mockwa

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"
)

func TestInboundReachesClient(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{})
	require.NoError(t, sess.Wait(ctxT(t), func(Counters) bool { return sess.Active() }))
	in, err := s.SendInbound(*c.Store.ID)
	require.NoError(t, err)
	assert.False(t, in.Queued)
	assert.False(t, in.SentAt.IsZero())

	p := waitFor[*events.Presence](t, rec, nil)
	seq, created, ok := ParseInbound(p.From)
	require.True(t, ok, "presence from %s carries a stamp", p.From)
	assert.Equal(t, in.Seq, seq)
	assert.True(t, created.Equal(in.CreatedAt))
	assert.False(t, p.Unavailable)
	assert.Equal(t, 1, sess.Counters().InboundSent)
}

func TestInboundQueuedUntilReconnect(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{})
	jid := *c.Store.ID
	c.Disconnect()
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Disconnects == 1 }))

	var sent []uint64
	for range 3 {
		in, err := s.SendInbound(jid)
		require.NoError(t, err)
		assert.True(t, in.Queued)
		assert.True(t, in.SentAt.IsZero())
		sent = append(sent, in.Seq)
	}
	assert.Equal(t, 0, sess.Counters().InboundSent)

	require.NoError(t, c.Connect())
	var got []uint64
	for range 3 {
		p := waitFor[*events.Presence](t, rec, nil)
		seq, _, ok := ParseInbound(p.From)
		require.True(t, ok)
		got = append(got, seq)
	}
	assert.Equal(t, sent, got, "queued items arrive in order")
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.InboundSent == 3 }))
	for _, in := range sess.Inbound() {
		assert.False(t, in.SentAt.IsZero(), "item %d delivered", in.Seq)
		assert.False(t, in.SentAt.Before(in.CreatedAt))
	}
}

func TestInboundOnSchedule(t *testing.T) {
	clk := newFakeClock()
	s := startServer(t, Config{Clock: clk, InboundEvery: time.Minute})
	_, rec, sess := connectClient(t, s, ClientConfig{})
	require.NoError(t, sess.Wait(ctxT(t), func(Counters) bool { return sess.Active() }))
	for i := range 2 {
		clk.Advance(time.Minute)
		p := waitFor[*events.Presence](t, rec, nil)
		_, created, ok := ParseInbound(p.From)
		require.True(t, ok)
		assert.True(t, clk.Now().Equal(created), "item %d stamped with the server clock: %v, want %v", i, created, clk.Now())
	}
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.InboundSent == 2 }))
}

func TestFaultOnSchedule(t *testing.T) {
	clk := newFakeClock()
	s := startServer(t, Config{Clock: clk, Faults: []ScheduledFault{{Event: Event{Kind: StreamError503}, At: time.Hour}}})
	_, rec, sess := connectClient(t, s, ClientConfig{})
	require.NoError(t, clk.BlockUntilContext(ctxT(t), 1))
	clk.Advance(time.Hour)
	waitFor[*events.Disconnected](t, rec, nil)
	waitFor[*events.Connected](t, rec, nil)
	assert.Equal(t, 1, sess.Counters().Injected[string(StreamError503)])
}

func TestIdlePolicyCloses(t *testing.T) {
	s := startServer(t, Config{IdleTimeout: 300 * time.Millisecond})
	_, rec, sess := connectClient(t, s, ClientConfig{})
	// whatsmeow's own keep-alive (20–30 s) is far longer than the policy.
	waitFor[*events.Disconnected](t, rec, nil)
	waitFor[*events.Connected](t, rec, nil)
	var idle bool
	for _, e := range sess.Log() {
		idle = idle || e.Kind == "idle-close"
	}
	assert.True(t, idle, "the session log records the idle close")
}

func TestFiftyClients(t *testing.T) {
	s := startServer(t, Config{})
	const n = 50
	// One store for all 50 devices (as a multi-account bot keeps them).
	store, err := OpenStore(ctxT(t), t.TempDir()+"/fifty.db")
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	clients := make([]*Client, n)
	recs := make([]*recorder, n)
	for i := range n {
		clients[i], recs[i] = newTestClient(t, s, ClientConfig{Container: store})
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := clients[i].Connect(); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range n {
		waitFor[*events.Connected](t, recs[i], nil)
	}
	assert.Equal(t, int64(n), s.Stats().Logins)
	assert.Len(t, s.Sessions(), n)
	for _, c := range clients {
		ok, _ := c.DangerousInternals().SendKeepAlive(ctxT(t))
		assert.True(t, ok)
	}
}
