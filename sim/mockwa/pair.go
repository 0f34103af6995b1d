package mockwa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	"google.golang.org/protobuf/proto"
)

// Pairing by QR, with the mock playing both the server and the phone
// (FACTS.md §3 "Pairing"):
//
//	client ── registration payload ──► server
//	client ◄── <iq set><pair-device><ref/>×QRRefs ── server
//	client shows "ref,noisePub,identityPub,advSecret"; Scan is handed that text
//	client ◄── <iq set><pair-success> device-identity (HMAC by advSecret) ── server
//	client ── <iq result><pair-device-sign> (device signature) ──► server
//	client ◄── <stream:error code=515/>, close; client logs in with its new JID
//
// The adv secret exists only in the client and the QR text, so a pairing can
// only complete once the QR text is handed over, as with a real phone.

// QRLinkPrefix is the prefix of the QR form real phones scan
// ("https://wa.me/settings/linked_devices#ref,noise,identity,adv,platform").
const QRLinkPrefix = "https://wa.me/settings/linked_devices#"

// QR is a parsed pairing QR code.
type QR struct {
	// Ref is the pairing ref the server issued.
	Ref string
	// NoiseKey is the client's Noise static public key.
	NoiseKey [32]byte
	// IdentityKey is the client's Signal identity public key.
	IdentityKey [32]byte
	// AdvSecret keys the HMAC of the device identity (32 bytes).
	AdvSecret []byte
	// Extra is the optional fifth field of the wa.me form (platform), "" if absent.
	Extra string
}

// ParseQR accepts whatsmeow's four comma-separated fields and the
// https://wa.me/settings/linked_devices#… form with an optional fifth field.
func ParseQR(text string) (QR, error) {
	var q QR
	body := strings.TrimSpace(text)
	body = strings.TrimPrefix(body, QRLinkPrefix)
	fields := strings.Split(body, ",")
	if len(fields) != 4 && len(fields) != 5 {
		return q, fmt.Errorf("mockwa: QR has %d comma-separated fields, want 4 (ref,noise,identity,adv) or 5 (… ,platform)", len(fields))
	}
	if fields[0] == "" {
		return q, errors.New("mockwa: QR field 1 (ref) is empty")
	}
	q.Ref = fields[0]
	dec := func(i int, name string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(fields[i])
		if err != nil {
			return nil, fmt.Errorf("mockwa: QR field %d (%s): %w", i+1, name, err)
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("mockwa: QR field %d (%s) is %d bytes, want 32", i+1, name, len(b))
		}
		return b, nil
	}
	noise, err := dec(1, "noise key")
	if err != nil {
		return q, err
	}
	ident, err := dec(2, "identity key")
	if err != nil {
		return q, err
	}
	if q.AdvSecret, err = dec(3, "adv secret"); err != nil {
		return q, err
	}
	copy(q.NoiseKey[:], noise)
	copy(q.IdentityKey[:], ident)
	if len(fields) == 5 {
		q.Extra = fields[4]
	}
	return q, nil
}

func randomRef() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "2@" + base64.StdEncoding.EncodeToString(b)
}

// startPairing sends the pair-device refs to a client that registered.
func (c *conn) startPairing(payload *waWa6.ClientPayload) error {
	c.clientIdent = payload.GetDevicePairingData().GetEIdent()
	refs := make([]string, c.srv.cfg.QRRefs)
	nodes := make([]waBinary.Node, len(refs))
	for i := range refs {
		refs[i] = randomRef()
		nodes[i] = waBinary.Node{Tag: "ref", Content: []byte(refs[i])}
	}
	c.pmu.Lock()
	c.pairRefs = refs
	c.pmu.Unlock()
	c.srv.mu.Lock()
	for _, r := range refs {
		c.srv.pairing[r] = c
	}
	c.srv.mu.Unlock()
	return c.sendNode(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "set", "id": c.nextIQID(), "xmlns": "md",
	}, Content: []waBinary.Node{{Tag: "pair-device", Content: nodes}}})
}

func (c *conn) nextIQID() string {
	return "mock-" + strconv.FormatUint(c.id, 10) + "-" + strconv.FormatUint(c.iqSeq.Add(1), 10)
}

// request sends a server-initiated IQ and waits for the client's answer.
func (c *conn) request(ctx context.Context, n waBinary.Node) (*waBinary.Node, error) {
	id := c.nextIQID()
	n.Attrs["id"] = id
	ch := make(chan *waBinary.Node, 1)
	c.pmu.Lock()
	c.waiters[id] = ch
	c.pmu.Unlock()
	if err := c.sendNode(n); err != nil {
		c.pmu.Lock()
		delete(c.waiters, id)
		c.pmu.Unlock()
		return nil, err
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, errors.New("connection closed before the client answered")
		}
		return resp, nil
	case <-ctx.Done():
		c.pmu.Lock()
		delete(c.waiters, id)
		c.pmu.Unlock()
		return nil, ctx.Err()
	}
}

// Scan plays the phone scanning a QR code a client showed: it finds the
// waiting connection by ref, sends a signed device identity, waits for the
// client's signature, registers the new device and restarts the stream (515).
// It returns the device JID the client was given.
func (s *Server) Scan(ctx context.Context, qrText string) (types.JID, error) {
	q, err := ParseQR(qrText)
	if err != nil {
		return types.EmptyJID, err
	}
	s.mu.Lock()
	c := s.pairing[q.Ref]
	s.mu.Unlock()
	if c == nil {
		return types.EmptyJID, fmt.Errorf("mockwa: scan: ref %q is unknown or its connection has gone", q.Ref)
	}
	if q.NoiseKey != c.clientStatic {
		return types.EmptyJID, errors.New("mockwa: scan: QR noise key does not match the connection that holds the ref")
	}
	if !bytes.Equal(q.IdentityKey[:], c.clientIdent) {
		return types.EmptyJID, errors.New("mockwa: scan: QR identity key does not match the client's registration")
	}
	c.pmu.Lock()
	if c.pairing {
		c.pmu.Unlock()
		return types.EmptyJID, errors.New("mockwa: scan: this client is already being paired")
	}
	c.pairing = true
	c.pmu.Unlock()
	defer func() {
		c.pmu.Lock()
		c.pairing = false
		c.pmu.Unlock()
	}()

	n := s.phones.Add(1)
	user := strconv.FormatUint(15550000000+n, 10)
	jid := deviceJID(user, 1)
	lid := types.JID{User: strconv.FormatUint(100000000000000+n, 10), Device: 1, Server: types.HiddenUserServer}

	account := keys.NewKeyPair()
	var raw [4]byte
	_, _ = rand.Read(raw[:])
	details, err := proto.Marshal(&waAdv.ADVDeviceIdentity{
		RawID:       proto.Uint32(binary.BigEndian.Uint32(raw[:])),
		Timestamp:   proto.Uint64(uint64(s.cfg.Clock.Now().Unix())),
		KeyIndex:    proto.Uint32(1),
		AccountType: waAdv.ADVEncryptionType_E2EE.Enum(),
		DeviceType:  waAdv.ADVEncryptionType_E2EE.Enum(),
	})
	if err != nil {
		return types.EmptyJID, err
	}
	msg := concat(whatsmeow.AdvAccountSignaturePrefix, details, q.IdentityKey[:])
	accSig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*account.Priv), msg)
	signed, err := proto.Marshal(&waAdv.ADVSignedDeviceIdentity{
		Details: details, AccountSignatureKey: account.Pub[:], AccountSignature: accSig[:],
	})
	if err != nil {
		return types.EmptyJID, err
	}
	mac := hmac.New(sha256.New, q.AdvSecret)
	mac.Write(signed)
	container, err := proto.Marshal(&waAdv.ADVSignedDeviceIdentityHMAC{
		Details: signed, HMAC: mac.Sum(nil), AccountType: waAdv.ADVEncryptionType_E2EE.Enum(),
	})
	if err != nil {
		return types.EmptyJID, err
	}
	resp, err := c.request(ctx, waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "set", "xmlns": "md",
	}, Content: []waBinary.Node{{Tag: "pair-success", Content: []waBinary.Node{
		{Tag: "device-identity", Content: container},
		{Tag: "device", Attrs: waBinary.Attrs{"jid": jid, "lid": lid}},
		{Tag: "platform", Attrs: waBinary.Attrs{"name": "android"}},
	}}}})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("mockwa: scan: waiting for pair-device-sign: %w", err)
	}
	if t, _ := resp.Attrs["type"].(string); t != "result" {
		return types.EmptyJID, fmt.Errorf("mockwa: scan: client rejected pairing: %s", resp.XMLString())
	}
	sign, ok := resp.GetOptionalChildByTag("pair-device-sign", "device-identity")
	selfSigned, _ := sign.Content.([]byte)
	if !ok || selfSigned == nil {
		return types.EmptyJID, fmt.Errorf("mockwa: scan: answer lacks pair-device-sign/device-identity: %s", resp.XMLString())
	}
	var dev waAdv.ADVSignedDeviceIdentity
	if err := proto.Unmarshal(selfSigned, &dev); err != nil {
		return types.EmptyJID, fmt.Errorf("mockwa: scan: device identity from client: %w", err)
	}
	if len(dev.GetDeviceSignature()) != 64 || !ecc.VerifySignature(ecc.NewDjbECPublicKey(q.IdentityKey),
		concat(whatsmeow.AdvDeviceSignaturePrefix, dev.GetDetails(), q.IdentityKey[:], account.Pub[:]),
		[64]byte(dev.GetDeviceSignature())) {
		return types.EmptyJID, errors.New("mockwa: scan: client's device signature does not verify")
	}

	sess := s.session(jid, true)
	sess.mu.Lock()
	sess.lid = lid
	sess.removed = false
	sess.mu.Unlock()
	sess.record("pair", "paired by QR on conn "+strconv.FormatUint(c.id, 10))
	s.stats.pairings.Add(1)
	c.apply(Event{Kind: StreamError515})
	return jid, nil
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
