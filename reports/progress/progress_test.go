package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ptr(b bool) *bool { return &b }

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	clk := clockwork.NewFakeClock()
	r := New(&buf, Options{Label: "runs", Every: 10 * time.Second, Terminal: ptr(false), Clock: clk})
	r.Start(120)
	for i := 0; i < 120; i++ {
		clk.Advance(time.Second)
		r.Add(1)
	}
	r.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1+12+1, "a start line, one line every 10 s of a 120 s run, a final line")
	assert.Equal(t, "runs: started, 0/120 (0%)", lines[0])
	assert.Equal(t, "runs: 10/120 (8%), elapsed 10s, ETA 1m50s", lines[1])
	assert.Equal(t, "runs: 60/120 (50%), elapsed 1m0s, ETA 1m0s", lines[6])
	assert.Equal(t, "runs: done, 120/120 (100%) in 2m0s", lines[13])
	assert.NotContains(t, buf.String(), "\r", "no carriage returns in logs")
}

func TestTerminalBar(t *testing.T) {
	var buf bytes.Buffer
	clk := clockwork.NewFakeClock()
	r := New(&buf, Options{Label: "sweep", Terminal: ptr(true), Width: 60, Clock: clk})
	r.Start(4)
	clk.Advance(2 * time.Second)
	r.Add(1)
	clk.Advance(50 * time.Millisecond)
	r.Add(1) // within the redraw period: not drawn
	clk.Advance(2 * time.Second)
	r.Add(2)
	r.Done()
	frames := strings.Split(buf.String(), "\r")[1:]
	require.Len(t, frames, 4, "start, first add, the completing add, done")
	for _, f := range frames {
		line := strings.TrimSuffix(strings.TrimSuffix(f, "\n"), "\x1b[K")
		assert.LessOrEqual(t, len(line), 60, "fits the width: %q", line)
		assert.True(t, strings.HasPrefix(line, "sweep ["), line)
	}
	assert.Contains(t, frames[1], "] 1/4 (25%) 2s, ETA 6s")
	assert.Regexp(t, `\[=+> +\]`, frames[1], "a quarter full")
	assert.Contains(t, frames[3], "4/4 (100%) done in 4.1s")
	assert.True(t, strings.HasSuffix(buf.String(), "\n"), "the bar ends its line")
}

func TestUnknownTotal(t *testing.T) {
	var buf bytes.Buffer
	clk := clockwork.NewFakeClock()
	r := New(&buf, Options{Terminal: ptr(true), Clock: clk})
	r.Start(0)
	r.Add(3)
	r.Done()
	assert.Contains(t, buf.String(), "progress: 3 ")
	assert.NotContains(t, buf.String(), "ETA")
}

func TestFuncAdapterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	clk := clockwork.NewFakeClock()
	r := New(&buf, Options{Label: "runs", Terminal: ptr(false), Clock: clk})
	f := Func(r)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 25; k++ {
				mu.Lock()
				done++
				f(done, 200)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.Done()
	assert.Contains(t, buf.String(), "runs: done, 200/200 (100%)")
}

func TestDetectsNonTerminal(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, Options{}).(*reporter)
	assert.False(t, r.term, "a buffer is not a terminal")
	Nop().Start(1)
	Nop().Add(1)
	Nop().Done()
}
