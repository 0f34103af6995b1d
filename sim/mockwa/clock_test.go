package mockwa

import (
	"time"

	"github.com/jonboulle/clockwork"
)

func newFakeClock() *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// pollEvery is the poll period for require.Eventually on state outside our
// control (whatsmeow's store); the bound is waitTimeout.
const pollEvery = 10 * time.Millisecond
