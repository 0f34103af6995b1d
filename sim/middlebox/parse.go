package middlebox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The compact path syntax (command lines, scenario files):
//
//	path     = element { "," element }
//	element  = catalog { ":" override }
//	         | "idle" ":" timeout [ ":" watches [ ":" expiry ] ] { ":" override }
//	         | "lifetime" ":" timeout [ ":" expiry ] { ":" override }
//	         | "none"
//	override = key "=" value | "rst"
//	key      = "timeout" | "watches" | "at_expiry" | "reset_on_next_packet" | "kind" | "name"
//
// Custom idle timers default to watches=both and at_expiry=close; lifetime timers to
// at_expiry=close. "rst" is short for reset_on_next_packet=true. Setting the timeout
// of haproxy (timeout tunnel) makes it an idle timer over both directions, of caddy
// (stream_timeout) a lifetime; other boxes without a timer need kind=. Examples:
//
//	nginx
//	nginx:timeout=75s,aws-nlb:timeout=600s
//	idle:45s:both:close,idle:350s:both:blackhole:rst,lifetime:30m

// overrideKeys are the keys an override may set, sorted.
var overrideKeys = []string{"at_expiry", "kind", "name", "reset_on_next_packet", "timeout", "watches"}

// whenConfigured is what a catalog box without a default timer becomes when an
// override sets its timeout: HAProxy's "timeout tunnel" is an idle timer over both
// directions; Caddy's stream_timeout is an absolute lifetime.
var whenConfigured = map[string]Spec{
	"haproxy": {Kind: KindIdle, Watches: Both, AtExpiry: Close},
	"caddy":   {Kind: KindLifetime, AtExpiry: Close},
}

// ParsePath parses a comma-separated path of catalog names (with overrides) and
// custom timers. Every element is validated; errors name the element by position and
// text and suggest the closest valid name.
func ParsePath(path string) ([]Spec, error) {
	if strings.TrimSpace(path) == "" {
		return nil, fmt.Errorf("empty path: give catalog names (%s) or custom timers like idle:45s:both:close", strings.Join(Names(), ", "))
	}
	parts := strings.Split(path, ",")
	specs := make([]Spec, 0, len(parts))
	for i, p := range parts {
		s, err := ParseElement(p)
		if err != nil {
			return nil, fmt.Errorf("path element %d %q: %w", i+1, strings.TrimSpace(p), err)
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// ParseElement parses one element of the compact path syntax (see ParsePath) and
// validates the result. A catalog element keeps the catalog name when nothing is
// overridden and is named by its text otherwise; a custom timer is named by its
// compact form unless an override sets name.
func ParseElement(elem string) (Spec, error) {
	elem = strings.TrimSpace(elem)
	if elem == "" {
		return Spec{}, fmt.Errorf("empty element")
	}
	fields := strings.Split(elem, ":")
	head := strings.TrimSpace(fields[0])
	rest := fields[1:]
	var s Spec
	named := false
	switch head {
	case string(KindIdle), string(KindLifetime):
		var err error
		s, rest, err = parseCustom(Kind(head), rest)
		if err != nil {
			return Spec{}, err
		}
	case string(KindNone):
		s = Spec{Kind: KindNone}
	default:
		var ok bool
		s, ok = Lookup(head)
		if !ok {
			return Spec{}, unknownName(head)
		}
		named = true
	}
	for _, f := range rest {
		f = strings.TrimSpace(f)
		var err error
		if s, err = applyOverride(s, f); err != nil {
			return Spec{}, err
		}
	}
	if named && s.Kind == KindNone && s.Timeout != catalog[head].Timeout && !hasOverride(rest, "kind") {
		c, ok := whenConfigured[head]
		if !ok {
			return Spec{}, fmt.Errorf("timeout: %s keeps no timer that fires on an idle connection; write %s:kind=idle:timeout=... to model one", head, head)
		}
		s.Kind, s.Watches, s.AtExpiry = c.Kind, c.Watches, c.AtExpiry
	}
	switch {
	case hasOverride(rest, "name"):
	case named && len(rest) > 0:
		s.Name = elem
	case !named:
		s.Name = s.Compact()
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func hasOverride(fields []string, key string) bool {
	for _, f := range fields {
		if k, _, ok := strings.Cut(strings.TrimSpace(f), "="); ok && strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}

// unknownName is the error for a head that is neither a catalog name nor a kind.
func unknownName(head string) error {
	if sug, ok := ClosestOf(head, append(Names(), string(KindIdle), string(KindLifetime), string(KindNone))); ok {
		return fmt.Errorf("unknown middlebox %q (did you mean %q?)", head, sug)
	}
	return fmt.Errorf("unknown middlebox %q: use a catalog name (%s) or idle:TIMEOUT:WATCHES:EXPIRY, lifetime:TIMEOUT", head, strings.Join(Names(), ", "))
}

// parseCustom reads the positional fields of an idle or lifetime timer and returns
// the spec and the remaining fields (overrides).
func parseCustom(kind Kind, fields []string) (Spec, []string, error) {
	s := Spec{Kind: kind, AtExpiry: Close}
	if kind == KindIdle {
		s.Watches = Both
	}
	if len(fields) == 0 || strings.Contains(fields[0], "=") {
		return Spec{}, nil, fmt.Errorf("%s timer needs a timeout: %s:TIMEOUT (e.g. %s:45s)", kind, kind, kind)
	}
	d, err := parseDuration(strings.TrimSpace(fields[0]))
	if err != nil {
		return Spec{}, nil, fmt.Errorf("timeout: %w", err)
	}
	s.Timeout = d
	fields = fields[1:]
	if kind == KindIdle && len(fields) > 0 && isPositional(fields[0]) {
		w := Direction(strings.TrimSpace(fields[0]))
		if !isOneOf(w, Directions) {
			return Spec{}, nil, badValue("watches", string(w), Directions)
		}
		s.Watches = w
		fields = fields[1:]
	}
	if len(fields) > 0 && isPositional(fields[0]) {
		e := Expiry(strings.TrimSpace(fields[0]))
		if !isOneOf(e, Expiries) {
			return Spec{}, nil, badValue("at_expiry", string(e), Expiries)
		}
		s.AtExpiry = e
		fields = fields[1:]
	}
	return s, fields, nil
}

// isPositional reports whether f is a positional field rather than an override.
func isPositional(f string) bool {
	f = strings.TrimSpace(f)
	return !strings.Contains(f, "=") && f != "rst"
}

func applyOverride(s Spec, f string) (Spec, error) {
	if f == "rst" {
		s.ResetOnNextPacket = true
		return s, nil
	}
	k, v, ok := strings.Cut(f, "=")
	if !ok {
		return s, fmt.Errorf("unexpected %q: overrides are key=value with key one of %s", f, strings.Join(overrideKeys, ", "))
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	switch k {
	case "timeout":
		d, err := parseDuration(v)
		if err != nil {
			return s, fmt.Errorf("timeout: %w", err)
		}
		s.Timeout = d
	case "watches":
		if !isOneOf(Direction(v), Directions) {
			return s, badValue("watches", v, Directions)
		}
		s.Watches = Direction(v)
	case "at_expiry":
		if !isOneOf(Expiry(v), Expiries) {
			return s, badValue("at_expiry", v, Expiries)
		}
		s.AtExpiry = Expiry(v)
	case "reset_on_next_packet":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("reset_on_next_packet: %q is not true or false", v)
		}
		s.ResetOnNextPacket = b
	case "kind":
		if !isOneOf(Kind(v), Kinds) {
			return s, badValue("kind", v, Kinds)
		}
		s.Kind = Kind(v)
		switch {
		case s.Kind == KindIdle && s.Watches == "":
			s.Watches = Both
		case s.Kind == KindLifetime:
			s.Watches = ""
		}
		if s.Kind != KindNone && s.AtExpiry == "" {
			s.AtExpiry = Close
		}
	case "name":
		if v == "" {
			return s, fmt.Errorf("name: empty")
		}
		s.Name = v
	default:
		if sug, ok := ClosestOf(k, overrideKeys); ok {
			return s, fmt.Errorf("unknown override %q (did you mean %q?)", k, sug)
		}
		return s, fmt.Errorf("unknown override %q (one of %s)", k, strings.Join(overrideKeys, ", "))
	}
	return s, nil
}

func badValue[T ~string](field, v string, valid []T) error {
	cands := make([]string, len(valid))
	for i, x := range valid {
		cands[i] = string(x)
	}
	if sug, ok := ClosestOf(v, cands); ok {
		return fmt.Errorf("%s: unknown %q (did you mean %q?)", field, v, sug)
	}
	return fmt.Errorf("%s: unknown %q (one of %s)", field, v, join(valid))
}

// parseDuration parses a Go duration ("45s", "2h4m") and rejects bare numbers and
// values ≤ 0 with a message that says what to write.
func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, fmt.Errorf("empty duration (write e.g. 45s, 5m, 2h)")
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return 0, fmt.Errorf("%q has no unit (write e.g. %ss)", v, v)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write e.g. 45s, 5m, 2h)", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be > 0", v)
	}
	return d, nil
}

// ValidatePath validates every spec of a path and names the failing element.
func ValidatePath(path []Spec) error {
	for i, s := range path {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("path element %d: %w", i+1, err)
		}
	}
	return nil
}
