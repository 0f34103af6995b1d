package live

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Redaction: every log line passes through a Redactor before it is written,
// kalab's own lines and whatsmeow's alike (see newWALogger).
//
//	record ─► message, attribute keys and values (strings, errors, Stringers,
//	          anything else formatted with %+v, groups recursively)
//	       ─► known identifiers (the accounts' numbers, JIDs and LIDs, matched with
//	          any separators between digits) ─► "[redacted]"
//	       ─► anything shaped like a JID (user@s.whatsapp.net, …@lid, …) ─► "[jid]"
//	       ─► "+" followed by 7+ digits (with separators), or 7+ bare digits ─► "[phone]"
//
// The bare-digit rule also hides other long numbers (e.g. Unix timestamps written
// into free text); that is the price of never printing a phone number.

// Redaction placeholders.
const (
	RedactedKnown = "[redacted]"
	RedactedJID   = "[jid]"
	RedactedPhone = "[phone]"
)

var (
	jidPattern = regexp.MustCompile(`[\w.:+-]*@(?:s\.whatsapp\.net|c\.us|g\.us|lid|broadcast|newsletter|hosted\.lid|hosted|bot|msgr|interop|call)\b`)
	// phonePattern: "+" and 7 or more digits with optional separators, or 7 or
	// more digits in a row.
	phonePattern = regexp.MustCompile(`\+\s*\(?\d(?:[\s().-]{0,2}\d){6,}|\d{7,}`)
)

// Redactor removes account identifiers from text. The zero value redacts by
// pattern only; Add teaches it the accounts' own identifiers. Safe for concurrent use.
type Redactor struct {
	mu    sync.Mutex
	known map[string]bool
	re    atomic.Pointer[regexp.Regexp] // alternation of the known identifiers
}

// Add registers identifiers (phone numbers, JID users, whole JIDs) to redact
// wherever they appear, also with separators between their digits. Empty strings
// and identifiers shorter than 5 characters are ignored (they would match everywhere).
func (r *Redactor) Add(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
	}
	changed := false
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if len(id) < 5 || r.known[id] {
			continue
		}
		r.known[id] = true
		changed = true
	}
	if !changed {
		return
	}
	parts := make([]string, 0, len(r.known))
	for id := range r.known {
		parts = append(parts, knownPattern(id))
	}
	// Longest first, so a whole JID wins over its user part.
	sortByLenDesc(parts)
	r.re.Store(regexp.MustCompile(strings.Join(parts, "|")))
}

// knownPattern matches id; a run of digits also matches with up to two
// separator characters between its digits ("+1 (555) 000-0001").
func knownPattern(id string) string {
	var b strings.Builder
	prevDigit := false
	for _, c := range id {
		isDigit := c >= '0' && c <= '9'
		if isDigit && prevDigit {
			b.WriteString(`[\s().-]{0,2}`)
		}
		b.WriteString(regexp.QuoteMeta(string(c)))
		prevDigit = isDigit
	}
	return b.String()
}

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j]) > len(s[j-1]) || (len(s[j]) == len(s[j-1]) && s[j] < s[j-1])); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// String returns s with identifiers replaced by placeholders.
func (r *Redactor) String(s string) string {
	if re := r.re.Load(); re != nil {
		s = re.ReplaceAllLiteralString(s, RedactedKnown)
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = jidPattern.ReplaceAllLiteralString(s, RedactedJID)
	}
	return phonePattern.ReplaceAllLiteralString(s, RedactedPhone)
}

// isKnownNumber reports whether the decimal form of n is a known identifier.
func (r *Redactor) isKnownNumber(s string) bool {
	if len(s) < 7 {
		return false
	}
	return r.String(s) != s
}

// Attr returns a with its key and value redacted (groups recursively). Values
// that are not strings, numbers, booleans, times or durations are formatted
// (errors by Error, Stringers by String, others with %+v) and then redacted.
func (r *Redactor) Attr(a slog.Attr) slog.Attr {
	a.Key = r.String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.String(v.String()))
	case slog.KindInt64:
		if r.isKnownNumber(strconv.FormatInt(v.Int64(), 10)) {
			a.Value = slog.StringValue(RedactedPhone)
		} else {
			a.Value = v
		}
	case slog.KindUint64:
		if r.isKnownNumber(strconv.FormatUint(v.Uint64(), 10)) {
			a.Value = slog.StringValue(RedactedPhone)
		} else {
			a.Value = v
		}
	case slog.KindGroup:
		as := v.Group()
		out := make([]slog.Attr, len(as))
		for i, g := range as {
			out[i] = r.Attr(g)
		}
		a.Value = slog.GroupValue(out...)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			s = fmt.Sprintf("%+v", x)
		}
		a.Value = slog.StringValue(r.String(s))
	default: // bool, float, time, duration
		a.Value = v
	}
	return a
}

// redactHandler is a slog.Handler that redacts every record before passing it on.
type redactHandler struct {
	inner slog.Handler
	r     *Redactor
}

// NewRedactingHandler wraps inner so that no record, attribute or group name it
// receives carries an account identifier (see Redactor).
func NewRedactingHandler(inner slog.Handler, r *Redactor) slog.Handler {
	return &redactHandler{inner: inner, r: r}
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.Attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.r.Attr(a)
	}
	return &redactHandler{inner: h.inner.WithAttrs(out), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{inner: h.inner.WithGroup(h.r.String(name)), r: h.r}
}
