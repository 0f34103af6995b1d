package live

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types"
)

func TestRedactorPatterns(t *testing.T) {
	var r Redactor
	for _, tc := range []struct{ in, want string }{
		{"jid 15551234567:12@s.whatsapp.net up", "jid [jid] up"},
		{"<iq from=\"15551234567.0:3@s.whatsapp.net\"/>", "<iq from=\"[jid]\"/>"},
		{"lid 123456789012345:1@lid", "lid [jid]"},
		{"old 15551234567@c.us group 120363042-1234@g.us", "old [jid] group [jid]"},
		{"call +1 (555) 123-4567 now", "call [phone] now"},
		{"call +44 20 7946 0958", "call [phone]"},
		{"bare 5511987654321", "bare [phone]"},
		{"keep 2026-11-28T14:00:00Z, 150ms, seq=123456, port 127.0.0.1:9464", "keep 2026-11-28T14:00:00Z, 150ms, seq=123456, port 127.0.0.1:9464"},
	} {
		assert.Equal(t, tc.want, r.String(tc.in), tc.in)
	}
	r.Add("4915112345678")
	assert.Equal(t, "a [redacted] b", r.String("a 49 151 1234 5678 b"))
	assert.Equal(t, "a [redacted] b", r.String("a 4915112345678 b"))
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestRedactingHandlerCoversEveryPart(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		r := &Redactor{}
		r.Add("15557654321")
		var h slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
		if format == "json" {
			h = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
		}
		jid := types.NewJID("15557654321", types.DefaultUserServer)
		log := slog.New(NewRedactingHandler(h, r)).With("account", jid.String()).WithGroup("15557654321")
		log.Info("message for 15557654321@s.whatsapp.net",
			"jid", jid,
			"err", errors.New("login of 15557654321 failed"),
			"str", stringer{"+1 555 765 4321"},
			"num", int64(15557654321),
			"unum", uint64(15557654321),
			"map", map[string]string{"15557654321": "x"},
			slog.Group("g", "inner", "15557654321:2@s.whatsapp.net"),
			"15557654321", "as key",
			"fine", 42)
		out := buf.String()
		assert.NotContains(t, out, "7654321", format)
		assert.NotContains(t, out, "765 4321", format)
		assert.Contains(t, out, "42", format)
		assert.Contains(t, out, RedactedKnown, format)
	}
}

func TestWALoggerIsRedactedAndLevelled(t *testing.T) {
	var buf bytes.Buffer
	r := &Redactor{}
	h := NewRedactingHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), r)
	wl := newWALogger(slog.New(h), "Client").Sub("Recv")
	wl.Debugf("%s", "<message from=\"15550001111@s.whatsapp.net\"/>")
	assert.Empty(t, buf.String(), "debug is off at info level")
	wl.Warnf("failed for %s", "15550001111@s.whatsapp.net")
	assert.Contains(t, buf.String(), "module=Client/Recv")
	assert.Contains(t, buf.String(), "component=whatsmeow")
	assert.NotContains(t, buf.String(), "15550001111")
}

// TestNoAccountIdentifierInLogs pairs and runs an account with every log line on
// (debug: whatsmeow's own node dumps too) and looks for the account's number,
// JID and LID in the output; with --no-redact they must be there, which shows the
// check can fail.
func TestNoAccountIdentifierInLogs(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		for _, noRedact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/no-redact=%v", format, noRedact), func(t *testing.T) {
				srv := startMock(t)
				db := filepath.Join(t.TempDir(), "kalab.db")
				run := startLive(t, srv, db, func(o *Options) {
					o.LogLevel, o.LogFormat, o.NoRedact = "debug", format, noRedact
				})
				jid, _ := run.pair(t, srv)
				accts := run.r.Accounts()
				require.Len(t, accts, 1)
				run.stop(t)
				logs := run.logs.String()
				require.True(t, strings.Contains(logs, "Client/Recv"), "whatsmeow's node dumps are in the logs")
				ids := []string{jid.User, jid.String(), jid.ToNonAD().String()}
				if noRedact {
					assert.True(t, strings.Contains(logs, jid.User), "--no-redact shows the number")
					return
				}
				for _, id := range append(ids, "@s.whatsapp.net", "@lid") {
					assert.False(t, strings.Contains(logs, id), "%q in the logs", id)
				}
				assert.True(t, strings.Contains(logs, RedactedKnown) || strings.Contains(logs, RedactedJID))
			})
		}
	}
}
