package mockwa

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCert"
	"go.mau.fi/whatsmeow/util/keys"
	"google.golang.org/protobuf/proto"
)

// RootKey is the mock's stand-in for WhatsApp's certificate root: an X25519
// key pair whose XEdDSA signature makes whatsmeow accept the intermediate
// certificate. whatsmeow trusts exactly one root per process
// (whatsmeow.WACertPubKey), so servers normally share ProcessRoot.
type RootKey struct {
	kp *keys.KeyPair
}

// NewRootKey generates a fresh root key pair.
func NewRootKey() *RootKey { return &RootKey{kp: keys.NewKeyPair()} }

// RootKeyFromPrivate rebuilds a root key from its 32-byte private key, so a
// server in another process can share a client process's root.
func RootKeyFromPrivate(priv [32]byte) *RootKey {
	return &RootKey{kp: keys.NewKeyPairFromPrivateKey(priv)}
}

// Private returns the 32-byte private key. It is a mock's key: handing it to
// a child process (see RootKeyFromPrivate) is its only use.
func (r *RootKey) Private() [32]byte { return *r.kp.Priv }

// Public returns the 32-byte public key whatsmeow must trust.
func (r *RootKey) Public() [32]byte { return *r.kp.Pub }

// PublicHex is Public in lowercase hex.
func (r *RootKey) PublicHex() string { p := r.Public(); return hex.EncodeToString(p[:]) }

// PublicBase64 is Public in standard base64.
func (r *RootKey) PublicBase64() string {
	p := r.Public()
	return base64.StdEncoding.EncodeToString(p[:])
}

// sign returns the XEdDSA signature of msg.
func (r *RootKey) sign(msg []byte) []byte {
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*r.kp.Priv), msg)
	return sig[:]
}

var (
	processRootOnce sync.Once
	processRoot     *RootKey
	trustOnce       sync.Once
)

// ProcessRoot returns the root key shared by every server of this process
// that does not configure its own.
func ProcessRoot() *RootKey {
	processRootOnce.Do(func() { processRoot = NewRootKey() })
	return processRoot
}

// TrustProcessRoot sets whatsmeow.WACertPubKey to ProcessRoot's public key,
// once per process. Call it before any whatsmeow client starts connecting
// (NewClient calls it for you): the variable is process-global and writing it
// while a client reads it is a data race.
func TrustProcessRoot() {
	trustOnce.Do(func() { whatsmeow.WACertPubKey = ProcessRoot().Public() })
}

// certIssuer signs leaf certificates for server static keys.
type certIssuer struct {
	intermediate *keys.KeyPair
	interCert    *waCert.CertChain_NoiseCertificate
}

const (
	intermediateSerial = 1
	leafSerial         = 2
)

func newCertIssuer(root *RootKey, now time.Time) (*certIssuer, error) {
	inter := keys.NewKeyPair()
	details, err := proto.Marshal(&waCert.CertChain_NoiseCertificate_Details{
		Serial:       proto.Uint32(intermediateSerial),
		IssuerSerial: proto.Uint32(whatsmeow.WACertIssuerSerial),
		Key:          inter.Pub[:],
		NotBefore:    proto.Uint64(uint64(now.Add(-time.Hour).Unix())),
		NotAfter:     proto.Uint64(uint64(now.Add(365 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal intermediate certificate: %w", err)
	}
	return &certIssuer{
		intermediate: inter,
		interCert:    &waCert.CertChain_NoiseCertificate{Details: details, Signature: root.sign(details)},
	}, nil
}

// chainFor returns the marshalled CertChain whose leaf certifies static.
func (c *certIssuer) chainFor(static [32]byte, now time.Time) ([]byte, error) {
	details, err := proto.Marshal(&waCert.CertChain_NoiseCertificate_Details{
		Serial:       proto.Uint32(leafSerial),
		IssuerSerial: proto.Uint32(intermediateSerial),
		Key:          static[:],
		NotBefore:    proto.Uint64(uint64(now.Add(-time.Hour).Unix())),
		NotAfter:     proto.Uint64(uint64(now.Add(30 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal leaf certificate: %w", err)
	}
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*c.intermediate.Priv), details)
	return proto.Marshal(&waCert.CertChain{
		Intermediate: c.interCert,
		Leaf:         &waCert.CertChain_NoiseCertificate{Details: details, Signature: sig[:]},
	})
}
