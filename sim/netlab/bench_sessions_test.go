package netlab

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/keepalive/wa"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// benchSessionsEnv sets N for BenchmarkNetlabSessions (default 20).
const benchSessionsEnv = "KALAB_BENCH_SESSIONS"

// BenchmarkNetlabSessions drives N whatsmeow clients from one keepalive.Engine
// through one proxy chain holding an nginx-like idle toxic (60 s, both
// directions, close) at time scale 100, with pings every 25 s, for one scaled
// hour (36 s of real time) per iteration. Metrics: sessions = how many stayed
// connected the whole hour without a single reconnect; KiB/session = Go heap in
// use per session once all are connected (client, store, adapter, proxy side and
// mock side: everything runs in this process).
//
//	KALAB_BENCH_SESSIONS=200 go test -run '^$' -bench NetlabSessions -benchtime 1x ./sim/netlab
func BenchmarkNetlabSessions(b *testing.B) {
	n := 20
	if v := os.Getenv(benchSessionsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive integer", benchSessionsEnv, v)
		}
	}
	const scale = 100
	for range b.N {
		held, kib := holdSessions(b, n, scale, time.Hour)
		b.ReportMetric(float64(held), "sessions")
		b.ReportMetric(kib, "KiB/session")
	}
}

func holdSessions(b *testing.B, n int, scale float64, hold time.Duration) (int, float64) {
	b.Helper()
	mockwa.TrustProcessRoot()
	wa.DisableBuiltinKeepAlive()
	ctx := context.Background()
	srv, err := mockwa.New(mockwa.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	nginx := middlebox.Spec{Name: "nginx", Kind: middlebox.KindIdle, Timeout: 60 * time.Second,
		Watches: middlebox.Both, AtExpiry: middlebox.Close}
	chain, err := NewChain(srv.Addr(), []middlebox.Spec{nginx}, scale, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	eng, err := keepalive.NewEngine(keepalive.EngineOptions{Seed: 1, Logger: slog.New(slog.DiscardHandler),
		ConnectTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(ctx) }()
	defer func() { eng.Stop(); <-engDone }()
	cfg := ScalePolicy(keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 25 * time.Second,
		ReplyDeadline: 10 * time.Second}, scale)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	clients := make([]*mockwa.Client, 0, n)
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for i := range n {
		tap := wa.NewTap(nil)
		mc, err := mockwa.NewClient(ctx, mockwa.ClientConfig{Addr: chain.Addr(), Log: tap})
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, mc)
		id := fmt.Sprintf("s%04d", i)
		conn, err := wa.New(mc.Client, wa.Options{ID: id, Notifier: eng, Tap: tap})
		if err != nil {
			b.Fatal(err)
		}
		p := &probe{conn: conn, eng: eng, id: id, giveUp: map[uint64]bool{}}
		dial := p.dialer(chain.Addr(), 0, func(uint64) bool { return false })
		mc.SetWebsocketHTTPClient(&http.Client{Transport: &http.Transport{DialContext: dial, DialTLSContext: dial}})
		if err := eng.Add(id, conn, cfg); err != nil {
			b.Fatal(err)
		}
	}
	// Wait (bounded) until every session is connected.
	deadline := time.Now().Add(time.Duration(n)*time.Second + 30*time.Second)
	for eng.StateCounts()[keepalive.StateConnected] < n {
		if time.Now().After(deadline) {
			b.Logf("only %d of %d sessions connected", eng.StateCounts()[keepalive.StateConnected], n)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	kib := float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / 1024 / float64(n)

	base := map[string]int{}
	for _, h := range eng.Snapshot() {
		base[h.ID] = h.Reconnects
	}
	time.Sleep(scaled(hold, scale))
	held := 0
	for _, h := range eng.Snapshot() {
		if h.State == keepalive.StateConnected && h.Reconnects == base[h.ID] {
			held++
		}
	}
	b.StopTimer()
	if x := chain.Expiries().Len(); x > 0 {
		b.Logf("%d idle expiries during the hold", x)
	}
	return held, kib
}
