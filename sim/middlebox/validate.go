package middlebox

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds lists the valid timer kinds.
var Kinds = []Kind{KindIdle, KindLifetime, KindNone}

// Directions lists the valid watched directions.
var Directions = []Direction{Up, Down, Both}

// Expiries lists the valid at-expiry actions.
var Expiries = []Expiry{Close, Reset, Blackhole}

// Validate reports every problem of s in one error, naming the field and the valid
// values. Rules:
//   - Kind is idle, lifetime or none.
//   - idle: Timeout > 0, Watches up|down|both, AtExpiry close|reset|blackhole.
//   - lifetime: Timeout > 0, AtExpiry set, Watches empty (traffic cannot re-arm it).
//   - none: the box keeps no timer; Timeout may record a configured value that
//     never fires on an idle connection (nginx proxy_send_timeout), never < 0.
//   - ResetOnNextPacket only with AtExpiry blackhole.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch s.Kind {
	case KindIdle, KindLifetime:
		if s.Timeout <= 0 {
			bad("timeout: must be > 0 for a %s timer, got %v", s.Kind, s.Timeout)
		}
		if s.AtExpiry == "" {
			bad("at_expiry: missing (one of %s)", join(Expiries))
		}
	case KindNone:
		if s.Timeout < 0 {
			bad("timeout: must not be negative, got %v", s.Timeout)
		}
	case "":
		bad("kind: missing (one of %s)", join(Kinds))
	default:
		bad("kind: unknown %q (one of %s)", s.Kind, join(Kinds))
	}
	switch {
	case s.Kind == KindIdle && s.Watches == "":
		bad("watches: missing for an idle timer (one of %s)", join(Directions))
	case s.Kind == KindLifetime && s.Watches != "":
		bad("watches: %q has no meaning for a lifetime timer (traffic never re-arms it); leave it empty", s.Watches)
	case s.Watches != "" && !isOneOf(s.Watches, Directions):
		bad("watches: unknown %q (one of %s)", s.Watches, join(Directions))
	}
	if s.AtExpiry != "" && !isOneOf(s.AtExpiry, Expiries) {
		bad("at_expiry: unknown %q (one of %s)", s.AtExpiry, join(Expiries))
	}
	if s.ResetOnNextPacket && s.AtExpiry != Blackhole {
		bad("reset_on_next_packet: only meaningful with at_expiry blackhole, got %q", s.AtExpiry)
	}
	if len(errs) == 0 {
		return nil
	}
	label := s.Name
	if label == "" {
		label = s.Compact()
	}
	return fmt.Errorf("middlebox %q: %w", label, errors.Join(errs...))
}

// Compact returns s in the compact form ParsePath reads, ignoring Name:
// "idle:45s:both:close", "idle:5m50s:both:blackhole:rst", "lifetime:30s:close", "none".
func (s Spec) Compact() string {
	switch s.Kind {
	case KindIdle:
		c := fmt.Sprintf("idle:%s:%s:%s", fmtDuration(s.Timeout), s.Watches, s.AtExpiry)
		if s.ResetOnNextPacket {
			c += ":rst"
		}
		return c
	case KindLifetime:
		c := fmt.Sprintf("lifetime:%s:%s", fmtDuration(s.Timeout), s.AtExpiry)
		if s.ResetOnNextPacket {
			c += ":rst"
		}
		return c
	default:
		return string(s.Kind)
	}
}

// String returns the name when the spec has one, else its compact form.
func (s Spec) String() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Compact()
}

// fmtDuration prints d without Go's trailing zero units ("2h4m", not "2h4m0s").
func fmtDuration(d time.Duration) string {
	str := d.String()
	if strings.HasSuffix(str, "m0s") {
		str = strings.TrimSuffix(str, "0s")
	}
	if strings.HasSuffix(str, "h0m") {
		str = strings.TrimSuffix(str, "0m")
	}
	return str
}

func isOneOf[T ~string](v T, valid []T) bool {
	for _, x := range valid {
		if v == x {
			return true
		}
	}
	return false
}

func join[T ~string](vals []T) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = string(v)
	}
	return strings.Join(parts, "|")
}
