package mockwa

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

func pairAndCheck(t *testing.T, scan func(s *Server, code string) types.JID) {
	s := startServer(t, Config{})
	c, rec := newTestClient(t, s, ClientConfig{Unpaired: true})
	require.NoError(t, c.Connect())
	qr := waitFor[*events.QR](t, rec, nil)
	require.Len(t, qr.Codes, defaultQRRefs)

	jid := scan(s, qr.Codes[0])
	ps := waitFor[*events.PairSuccess](t, rec, nil)
	assert.Equal(t, jid, ps.ID)
	assert.Equal(t, "android", ps.Platform)
	waitFor[*events.Connected](t, rec, nil)

	dev, err := c.Container.GetDevice(ctxT(t), jid)
	require.NoError(t, err)
	require.NotNil(t, dev, "the paired device is saved in the store")
	assert.Equal(t, jid, *dev.ID)
	assert.NotNil(t, dev.Account)
	assert.Equal(t, types.HiddenUserServer, dev.LID.Server)

	sess, ok := s.Session(jid)
	require.True(t, ok)
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Logins == 1 }))
	assert.Equal(t, int64(1), s.Stats().Pairings)
}

func TestPairByQR(t *testing.T) {
	pairAndCheck(t, func(s *Server, code string) types.JID {
		jid, err := s.Scan(ctxT(t), code)
		require.NoError(t, err)
		return jid
	})
}

func TestPairByQRLinkFormOverHTTP(t *testing.T) {
	pairAndCheck(t, func(s *Server, code string) types.JID {
		link := QRLinkPrefix + code + ",1"
		resp, err := http.Post(s.APIURL()+"/scan", "text/plain", strings.NewReader(link))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Equal(t, http.StatusOK, resp.StatusCode, out["error"])
		jid, err := types.ParseJID(out["jid"])
		require.NoError(t, err)
		return jid
	})
}

func TestScanRejectsBadQR(t *testing.T) {
	s := startServer(t, Config{})
	c, rec := newTestClient(t, s, ClientConfig{Unpaired: true})
	require.NoError(t, c.Connect())
	code := waitFor[*events.QR](t, rec, nil).Codes[0]
	fields := strings.Split(code, ",")

	_, err := s.Scan(ctxT(t), "nonsense")
	assert.ErrorContains(t, err, "fields")
	_, err = s.Scan(ctxT(t), "unknown-ref,"+strings.Join(fields[1:], ","))
	assert.ErrorContains(t, err, "unknown")
	other := base64.StdEncoding.EncodeToString(make([]byte, 32))
	_, err = s.Scan(ctxT(t), strings.Join([]string{fields[0], other, fields[2], fields[3]}, ","))
	assert.ErrorContains(t, err, "noise key")
	_, err = s.Scan(ctxT(t), strings.Join([]string{fields[0], fields[1], fields[2], "AAAA"}, ","))
	assert.ErrorContains(t, err, "adv secret")
	assert.Equal(t, int64(0), s.Stats().Pairings)
}

func TestPairWrongAdvSecretFails(t *testing.T) {
	// Without the adv secret from the QR the client rejects the identity: the
	// HMAC does not match, as with a forged scan.
	s := startServer(t, Config{})
	c, rec := newTestClient(t, s, ClientConfig{Unpaired: true})
	require.NoError(t, c.Connect())
	fields := strings.Split(waitFor[*events.QR](t, rec, nil).Codes[0], ",")
	fields[3] = base64.StdEncoding.EncodeToString(make([]byte, 32))
	_, err := s.Scan(ctxT(t), strings.Join(fields, ","))
	require.Error(t, err)
	pe := waitFor[*events.PairError](t, rec, nil)
	assert.ErrorContains(t, pe.Error, "HMAC")
	assert.Equal(t, int64(0), s.Stats().Pairings)
}

func TestParseQR(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(make([]byte, 32))
	q, err := ParseQR("2@ref," + k + "," + k + "," + k)
	require.NoError(t, err)
	assert.Equal(t, "2@ref", q.Ref)
	assert.Empty(t, q.Extra)
	q, err = ParseQR(QRLinkPrefix + "2@ref," + k + "," + k + "," + k + ",5")
	require.NoError(t, err)
	assert.Equal(t, "5", q.Extra)
	_, err = ParseQR("," + k + "," + k + "," + k)
	assert.ErrorContains(t, err, "ref")
	_, err = ParseQR("r,!!," + k + "," + k)
	assert.ErrorContains(t, err, "field 2")
}
