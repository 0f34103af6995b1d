package mockwa

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"
)

func TestLoginOverTLS(t *testing.T) {
	s := startServer(t, Config{TLS: true})
	require.True(t, strings.HasPrefix(s.URL(), "wss://"))
	_, _, sess := connectClient(t, s, ClientConfig{TLS: &tls.Config{RootCAs: s.CertPool()}})
	assert.Equal(t, 1, sess.Counters().Logins)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	return resp.StatusCode
}

func postJSON(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	return resp.StatusCode
}

func TestHTTPAPI(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{})
	jid := c.Store.ID.String()
	api := s.APIURL()

	var list []SessionView
	require.Equal(t, http.StatusOK, getJSON(t, api+"/api/sessions", &list))
	require.Len(t, list, 1)
	assert.Equal(t, jid, list[0].JID)
	assert.True(t, list[0].Connected)
	assert.Equal(t, 1, list[0].Counters.Logins)

	var items []Inbound
	require.Equal(t, http.StatusOK, postJSON(t, api+"/api/inbound", `{"jid":"`+jid+`","count":2}`, &items))
	require.Len(t, items, 2)
	for range 2 {
		p := waitFor[*events.Presence](t, rec, nil)
		_, _, ok := ParseInbound(p.From)
		assert.True(t, ok)
	}

	var out map[string]string
	assert.Equal(t, http.StatusBadRequest, postJSON(t, api+"/api/inject", `{"jid":"`+jid+`","kind":"nope"}`, &out))
	assert.Contains(t, out["error"], "unknown event kind")
	assert.Equal(t, http.StatusBadRequest, postJSON(t, api+"/api/inject", `{"jid":"`+jid+`","kind":"hang","extra":1}`, &out))
	require.Equal(t, http.StatusOK, postJSON(t, api+"/api/inject", `{"jid":"`+jid+`","kind":"stream-error-503"}`, &out))
	waitFor[*events.Disconnected](t, rec, nil)
	waitFor[*events.Connected](t, rec, nil)

	var one SessionView
	require.Equal(t, http.StatusOK, getJSON(t, api+"/api/sessions/"+url.PathEscape(jid), &one))
	assert.Equal(t, 1, one.Counters.Injected["stream-error-503"])
	assert.NotEmpty(t, one.Log)
	assert.Len(t, one.Inbound, 2)
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Logins == 2 }))

	var st struct {
		Stats
		Mem MemStats `json:"mem"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, api+"/api/stats", &st))
	assert.GreaterOrEqual(t, st.Logins, int64(2))
	assert.Positive(t, st.Mem.HeapInuse)
	var root map[string]string
	require.Equal(t, http.StatusOK, getJSON(t, api+"/api/root", &root))
	assert.Equal(t, s.Root().PublicHex(), root["hex"])
	assert.Equal(t, http.StatusNotFound, getJSON(t, api+"/api/sessions/"+url.PathEscape("1:1@s.whatsapp.net"), &out))
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{Listen: "0.0.0.0:0"})
	assert.ErrorContains(t, err, "AllowRemote")
	_, err = New(Config{Listen: "nope"})
	assert.ErrorContains(t, err, "listen address")
	_, err = New(Config{Faults: []ScheduledFault{{Event: FailLogin(42)}}})
	assert.ErrorContains(t, err, "Faults[0]")
	_, err = New(Config{PingDelay: -1})
	assert.ErrorContains(t, err, "negative")
	s, err := New(Config{Listen: "0.0.0.0:0", AllowRemote: true})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
