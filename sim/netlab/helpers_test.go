package netlab

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Timing used by the raw-TCP tests: a 30 s middlebox at scale 100 is a 300 ms
// timer; "early" checks run well inside it and "late" bounds leave room for a
// loaded machine under -race.
const (
	testScale   = 100
	testTimeout = 30 * time.Second       // 300 ms scaled
	scaledT     = 300 * time.Millisecond // testTimeout / testScale
	early       = 150 * time.Millisecond // nothing may have happened yet
	lateBound   = 2 * time.Second        // the expiry must be observed within this
	silence     = 400 * time.Millisecond // how long "nothing arrives" is watched
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// whatsmeow leak seen by the lab's whatsmeow runs (run*.go, agree_test.go):
		// NoiseSocket.Stop stops the frame consumer before closing the FrameSocket,
		// so a frame arriving in between blocks readPump forever (keepalive/wa doc).
		goleak.IgnoreTopFunction("go.mau.fi/whatsmeow/socket.(*FrameSocket).frameComplete"),
	)
}

// leakCheck verifies, after every other cleanup of t, that no goroutine is left.
func leakCheck(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// target is a TCP server on 127.0.0.1 that hands every accepted connection to the
// test, which plays the server end itself.
type target struct {
	ln    net.Listener
	conns chan net.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	all   []net.Conn
}

func startTarget(t *testing.T) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tg := &target{ln: ln, conns: make(chan net.Conn, 16)}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tg.mu.Lock()
			tg.all = append(tg.all, c)
			tg.mu.Unlock()
			tg.conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		tg.wg.Wait()
		tg.mu.Lock()
		defer tg.mu.Unlock()
		for _, c := range tg.all {
			_ = c.Close()
		}
	})
	return tg
}

func (tg *target) addr() string { return tg.ln.Addr().String() }

// accept returns the next connection the target accepted.
func (tg *target) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-tg.conns:
		return c
	case <-time.After(lateBound):
		require.FailNow(t, "target accepted no connection")
		return nil
	}
}

// newChain builds a chain to tg and closes it (asserting a clean close) at cleanup.
func newChain(t *testing.T, tg *target, path []middlebox.Spec, opts Options) *Chain {
	t.Helper()
	c, err := NewChain(tg.addr(), path, testScale, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// connect dials the chain and returns the client end and the server end of one
// connection, both closed at cleanup.
func connect(t *testing.T, c *Chain, tg *target) (client, server net.Conn) {
	t.Helper()
	client, err := net.DialTimeout("tcp", c.Addr(), lateBound)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server = tg.accept(t)
	return client, server
}

// roundTrip checks that a byte passes each way.
func roundTrip(t *testing.T, client, server net.Conn) {
	t.Helper()
	send(t, client, server, "ping")
	send(t, server, client, "pong")
}

// send writes msg on from and requires it to arrive whole on to.
func send(t *testing.T, from, to net.Conn, msg string) {
	t.Helper()
	_, err := from.Write([]byte(msg))
	require.NoError(t, err)
	buf := make([]byte, len(msg))
	require.NoError(t, to.SetReadDeadline(time.Now().Add(lateBound)))
	_, err = io.ReadFull(to, buf)
	require.NoError(t, err, "data did not pass through the chain")
	require.Equal(t, msg, string(buf))
}

// readUntilErr reads from conn until an error or the deadline, and returns the
// bytes read and the error (os.ErrDeadlineExceeded when nothing ended the
// connection).
func readUntilErr(conn net.Conn, within time.Duration) (int, error) {
	_ = conn.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 1024)
	total := 0
	for {
		n, err := conn.Read(buf)
		total += n
		if err != nil {
			return total, err
		}
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// waitExpiries waits for n expiry records.
func waitExpiries(t *testing.T, c *Chain, n int) []ExpiryRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lateBound)
	defer cancel()
	recs, err := c.Expiries().Wait(ctx, n)
	require.NoError(t, err, "records so far: %v", recs)
	return recs
}

func idle(name string, watches middlebox.Direction, at middlebox.Expiry) middlebox.Spec {
	return middlebox.Spec{Name: name, Kind: middlebox.KindIdle, Timeout: testTimeout, Watches: watches, AtExpiry: at}
}
