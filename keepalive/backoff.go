package keepalive

import (
	"math"
	"math/rand/v2"
	"time"
)

// maxRetries caps the retry counter so that it can never overflow; far beyond the
// point where any delay reaches MaxDelay (ReconnectLinear's delay stops growing
// at LinearStep × maxRetries, 36 h with 2 s steps).
const maxRetries = math.MaxUint16

// Backoff returns the delay before reconnect attempt number retries (0 = the first
// retry) under ReconnectBackoff, exactly as grpc-go's backoff.Exponential does:
// BaseDelay × Multiplier^retries, capped at MaxDelay, then randomised by
// ±Jitter. The result lies within BackoffBounds(c, retries). c must have its
// defaults applied. rng is only used when Jitter > 0.
func Backoff(c ReconnectConfig, retries int, rng *rand.Rand) time.Duration {
	d := backoffBase(c, retries)
	if c.Jitter > 0 {
		d *= 1 + c.Jitter*(rng.Float64()*2-1)
	}
	if d < 0 {
		return 0
	}
	return time.Duration(d)
}

// BackoffBounds returns the smallest and largest delay Backoff can return for
// retries.
func BackoffBounds(c ReconnectConfig, retries int) (lo, hi time.Duration) {
	d := backoffBase(c, retries)
	if c.Jitter <= 0 {
		return time.Duration(d), time.Duration(d)
	}
	return time.Duration(d * (1 - c.Jitter)), time.Duration(d * (1 + c.Jitter))
}

func backoffBase(c ReconnectConfig, retries int) float64 {
	d, maxd := float64(c.BaseDelay), float64(c.MaxDelay)
	for d < maxd && retries > 0 {
		d *= c.Multiplier
		retries--
	}
	if d > maxd {
		d = maxd
	}
	return d
}

// LinearDelay returns ReconnectLinear's delay before an attempt when errors
// attempts have failed since the last successful login: LinearStep × errors, no cap,
// no jitter (whatsmeow's autoReconnect: 0 s, 2 s, 4 s, 6 s, …).
func LinearDelay(c ReconnectConfig, errors int) time.Duration {
	return c.LinearStep * time.Duration(errors)
}
