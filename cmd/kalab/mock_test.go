package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/kalab-dev/kalab/sim/mockwa"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestMockRefusesRemoteListen(t *testing.T) {
	err := runMock(context.Background(), mockOptions{listen: "0.0.0.0:0"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--allow-remote")
}

func TestMockServesAndPrintsRoot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- runMock(ctx, mockOptions{listen: "127.0.0.1:0"}, out, &bytes.Buffer{}) }()
	re := regexp.MustCompile(`api:\s+(http://\S+)/api/sessions`)
	var api string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			api = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond)
	assert.Regexp(t, `websocket:\s+ws://127\.0\.0\.1:\d+/ws/chat`, out.String())
	assert.Regexp(t, `root hex:\s+[0-9a-f]{64}`, out.String())

	resp, err := http.Get(api + "/api/root")
	require.NoError(t, err)
	var root map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&root))
	resp.Body.Close()
	assert.Contains(t, out.String(), root["hex"])

	// A whatsmeow client that trusts this process's root logs in through the
	// printed dial address.
	dial := regexp.MustCompile(`dial:\s+(\S+)`).FindStringSubmatch(out.String())
	require.NotNil(t, dial)
	assert.Equal(t, mockwa.ProcessRoot().PublicHex(), root["hex"])
	cli, err := mockwa.NewClient(ctx, mockwa.ClientConfig{Addr: dial[1], DisableAutoReconnect: true})
	require.NoError(t, err)
	connected := make(chan struct{}, 1)
	cli.AddEventHandler(func(evt any) {
		if _, ok := evt.(*events.Connected); ok {
			connected <- struct{}{}
		}
	})
	require.NoError(t, cli.Connect())
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatal("client did not log in to kalab mock")
	}
	require.NoError(t, cli.Close())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("kalab mock did not stop")
	}
}

func TestMockRootKeyFile(t *testing.T) {
	path := t.TempDir() + "/root.key"
	a, err := loadOrCreateRoot(path)
	require.NoError(t, err)
	b, err := loadOrCreateRoot(path)
	require.NoError(t, err)
	assert.Equal(t, a.Public(), b.Public(), "the root survives a restart")
	require.NoError(t, os.WriteFile(path, []byte("zz"), 0o600))
	_, err = loadOrCreateRoot(path)
	assert.ErrorContains(t, err, "root.key:1")
}
