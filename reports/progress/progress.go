// Package progress shows how far a long run (a scenario suite, a sweep, a network
// run) has got: a redrawn bar with an ETA on a terminal, and plain periodic lines
// when the output is a file or a CI log.
//
// Runners take the small Reporter interface (or the Func callback) so that they do
// not depend on how progress is shown. This package imports no other kalab package.
//
// It is a few dozen lines of its own rather than a progress-bar library: the one
// thing a library would add here is terminal detection, which os.File.Stat already
// gives (a character device), and the output stays testable on a fake clock.
package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Reporter is told how much work there is and how much is done. Implementations
// are safe for concurrent use.
type Reporter interface {
	// Start announces total units of work (0 when unknown) and starts the clock.
	Start(total int)
	// Add records n more finished units (Add(0) just refreshes the display).
	Add(n int)
	// Done ends the report with a final line.
	Done()
}

// Options tune New. The zero value detects the terminal and uses the real clock.
type Options struct {
	// Label prefixes every line, e.g. "runs". Default: "progress".
	Label string
	// Every is the period of the plain lines written when the output is not a
	// terminal. Default: 10 s.
	Every time.Duration
	// Redraw is the least time between two redraws of the bar. Default: 100 ms.
	Redraw time.Duration
	// Terminal forces the bar (true) or plain lines (false); nil detects: the bar
	// when the writer is a character device and TERM is not "dumb".
	Terminal *bool
	// Width is the terminal width in columns. Default: $COLUMNS, else 80.
	Width int
	// Clock reads time. Default: the real clock.
	Clock clockwork.Clock
}

// New returns a Reporter writing to w.
func New(w io.Writer, opts Options) Reporter {
	if opts.Label == "" {
		opts.Label = "progress"
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
	}
	if opts.Redraw <= 0 {
		opts.Redraw = 100 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Width <= 0 {
		opts.Width = 80
		if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 20 {
			opts.Width = c
		}
	}
	term := isTerminal(w)
	if opts.Terminal != nil {
		term = *opts.Terminal
	}
	return &reporter{w: w, opts: opts, term: term}
}

// Nop returns a Reporter that shows nothing.
func Nop() Reporter { return nop{} }

type nop struct{}

func (nop) Start(int) {}
func (nop) Add(int)   {}
func (nop) Done()     {}

// Func adapts r to a callback that is given the number done and the total after
// each unit (the shape runner.Options.Progress takes). The first call starts r;
// the caller still calls r.Done at the end.
func Func(r Reporter) func(done, total int) {
	var mu sync.Mutex
	started, last := false, 0
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			r.Start(total)
			started = true
		}
		if done > last {
			r.Add(done - last)
			last = done
		}
	}
}

// isTerminal reports whether w is a character device (a terminal) and TERM allows
// redrawing.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type reporter struct {
	mu       sync.Mutex
	w        io.Writer
	opts     Options
	term     bool
	total    int
	done     int
	start    time.Time
	lastDraw time.Time
	finished bool
}

func (r *reporter) Start(total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.done = total, 0
	r.start = r.opts.Clock.Now()
	r.finished = false
	if r.term {
		r.draw()
	} else {
		fmt.Fprintf(r.w, "%s: started, %s\n", r.opts.Label, r.count())
	}
	r.lastDraw = r.start
}

func (r *reporter) Add(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.done += n
	now := r.opts.Clock.Now()
	if r.term {
		if now.Sub(r.lastDraw) >= r.opts.Redraw || (r.total > 0 && r.done >= r.total) {
			r.draw()
			r.lastDraw = now
		}
		return
	}
	if now.Sub(r.lastDraw) >= r.opts.Every {
		fmt.Fprintf(r.w, "%s: %s, elapsed %s%s\n", r.opts.Label, r.count(), round(now.Sub(r.start)), r.eta(now))
		r.lastDraw = now
	}
}

func (r *reporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	el := round(r.opts.Clock.Now().Sub(r.start))
	if r.term {
		r.draw()
		fmt.Fprintf(r.w, "\n")
		return
	}
	fmt.Fprintf(r.w, "%s: done, %s in %s\n", r.opts.Label, r.count(), el)
}

// count is "45/120 (37%)", or "45" when the total is unknown.
func (r *reporter) count() string {
	if r.total <= 0 {
		return strconv.Itoa(r.done)
	}
	return fmt.Sprintf("%d/%d (%d%%)", r.done, r.total, 100*r.done/r.total)
}

// eta is ", ETA 1m20s" once something is done and the total is known.
func (r *reporter) eta(now time.Time) string {
	if r.total <= 0 || r.done <= 0 || r.done >= r.total {
		return ""
	}
	el := now.Sub(r.start)
	left := time.Duration(float64(el) * float64(r.total-r.done) / float64(r.done))
	return ", ETA " + round(left).String()
}

// draw redraws the bar in place: "runs [=====>    ] 45/120 (37%) 1m2s ETA 1m20s".
func (r *reporter) draw() {
	now := r.opts.Clock.Now()
	tail := " " + r.count() + " " + round(now.Sub(r.start)).String() + r.eta(now)
	if r.finished {
		tail = " " + r.count() + " done in " + round(now.Sub(r.start)).String()
	}
	head := r.opts.Label + " ["
	// The bar keeps one width while the tail's length changes (ETA appears, digits
	// grow): it is sized for a tail of tailRoom columns or the actual one if longer.
	const tailRoom = 36
	barW := r.opts.Width - len(head) - max(len(tail), tailRoom) - 2
	var line string
	if r.total > 0 && barW >= 10 {
		fill := barW * min(r.done, r.total) / r.total
		bar := strings.Repeat("=", fill)
		if fill < barW {
			bar += ">" + strings.Repeat(" ", barW-fill-1)
		}
		line = head + bar + "]" + tail
	} else {
		line = r.opts.Label + ":" + tail
	}
	// Carriage return, the line, and clear what a longer previous line left.
	fmt.Fprintf(r.w, "\r%s\x1b[K", line)
}

// round shortens a duration for display: whole seconds, or tenths below 10 s.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
