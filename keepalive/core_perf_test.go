package keepalive

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// BenchmarkSessionCore measures the core alone (no driver): memory per session
// once every session has run heartbeats (Step buffer and latency window
// allocated), and the cost of one heartbeat (the tick that sends the ping and the
// step that acknowledges it).
func BenchmarkSessionCore(b *testing.B) {
	for _, preset := range []string{"kalab", "whatsmeow", "seed"} {
		b.Run(fmt.Sprintf("preset=%s", preset), func(b *testing.B) {
			cfg, _ := Preset(preset)
			p := MustPolicy(cfg)
			const n = 10_000
			rng := rand.New(rand.NewPCG(1, 1))

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			sessions := make([]*Session, n)
			now := ct0
			for i := range sessions {
				s := NewSession(p, rng)
				s.Step(now, Event{Kind: EventStart})
				s.Step(now, Event{Kind: EventConnected})
				sessions[i] = s
			}
			heartbeat := func(s *Session) {
				t := s.NextDeadline()
				for _, a := range s.Step(t, Event{Kind: EventTick}) {
					if a.Kind == ActionSendPing {
						s.Step(t, Event{Kind: EventHeartbeatAck, Seq: a.Seq, RTT: 80 * time.Millisecond})
					}
				}
			}
			for _, s := range sessions {
				heartbeat(s)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			perSession := float64(after.HeapAlloc-before.HeapAlloc-uint64(n*8)) / n

			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				heartbeat(sessions[i%n])
			}
			b.ReportMetric(perSession, "B/session")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/heartbeat")
			runtime.KeepAlive(sessions)
		})
	}
}
