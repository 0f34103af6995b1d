package sim

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests and benchmarks (the
// fake-clock benchmark runs the engine's driver goroutine and its Conn calls).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
