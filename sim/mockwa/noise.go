package mockwa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"

	"go.mau.fi/whatsmeow/socket"
)

// The server's half of WhatsApp's Noise XX handshake, mirroring
// go.mau.fi/whatsmeow/socket.NoiseHandshake step for step (FACTS.md §3):
//
//	h = ck = "Noise_XX_25519_AESGCM_SHA256\0\0\0\0"   (32 bytes, used raw)
//	MixHash(header "WA\x06\x03")
//	<- e                 MixHash(e_c)
//	-> e, ee, s, es      MixHash(e_s) MixKey(DH(e_s,e_c)) Enc(s) MixKey(DH(s_s,e_c)) Enc(certs)
//	<- s, se             Dec(s_c) MixKey(DH(e_s,s_c)) Dec(ClientPayload)
//	Split: the client writes with the first key, the server with the second.
//
// Every AEAD nonce is 8 zero bytes followed by a 32-bit big-endian counter; the
// counter restarts at zero after each MixKey. The handshake state is not safe for
// concurrent use; one connection goroutine owns it.
type noiseState struct {
	hash    []byte
	salt    []byte
	key     cipher.AEAD
	counter uint32
}

// errNoise marks handshake and transport crypto failures.
var errNoise = errors.New("noise")

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(counter uint32) []byte {
	iv := make([]byte, 12)
	binary.BigEndian.PutUint32(iv[8:], counter)
	return iv
}

func (n *noiseState) start(header []byte) {
	h := []byte(socket.NoiseStartPattern)
	n.hash = h
	n.salt = h
	key, err := newGCM(h)
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	n.key = key
	n.authenticate(header)
}

func (n *noiseState) authenticate(data []byte) {
	sum := sha256.Sum256(append(append([]byte{}, n.hash...), data...))
	n.hash = sum[:]
}

func (n *noiseState) encrypt(plaintext []byte) []byte {
	ct := n.key.Seal(nil, nonce(n.counter), plaintext, n.hash)
	n.counter++
	n.authenticate(ct)
	return ct
}

func (n *noiseState) decrypt(ciphertext []byte) ([]byte, error) {
	pt, err := n.key.Open(nil, nonce(n.counter), ciphertext, n.hash)
	n.counter++
	if err != nil {
		return nil, fmt.Errorf("%w: handshake decrypt: %v", errNoise, err)
	}
	n.authenticate(ciphertext)
	return pt, nil
}

func expand(salt, data []byte) (first, second []byte, err error) {
	r := hkdf.New(sha256.New, data, salt, nil)
	first = make([]byte, 32)
	second = make([]byte, 32)
	if _, err = io.ReadFull(r, first); err == nil {
		_, err = io.ReadFull(r, second)
	}
	return first, second, err
}

func (n *noiseState) mixKey(data []byte) error {
	n.counter = 0
	write, read, err := expand(n.salt, data)
	if err != nil {
		return err
	}
	n.salt = write
	n.key, err = newGCM(read)
	return err
}

func (n *noiseState) mixDH(priv, pub []byte) error {
	secret, err := curve25519.X25519(priv, pub)
	if err != nil {
		return fmt.Errorf("%w: x25519: %v", errNoise, err)
	}
	return n.mixKey(secret)
}

// split derives the transport ciphers: the server reads with the client's
// write key and writes with the client's read key.
func (n *noiseState) split() (*transport, error) {
	clientWrite, clientRead, err := expand(n.salt, nil)
	if err != nil {
		return nil, err
	}
	rk, err := newGCM(clientWrite)
	if err != nil {
		return nil, err
	}
	wk, err := newGCM(clientRead)
	if err != nil {
		return nil, err
	}
	return &transport{readKey: rk, writeKey: wk}, nil
}

// transport holds the post-handshake ciphers of one connection. open is
// called only by the reading goroutine; seal only under the connection's
// write lock.
type transport struct {
	readKey, writeKey         cipher.AEAD
	readCounter, writeCounter uint32
}

func (t *transport) open(ciphertext []byte) ([]byte, error) {
	pt, err := t.readKey.Open(nil, nonce(t.readCounter), ciphertext, nil)
	t.readCounter++
	if err != nil {
		return nil, fmt.Errorf("%w: frame %d does not decrypt: %v", errNoise, t.readCounter-1, err)
	}
	return pt, nil
}

func (t *transport) seal(plaintext []byte) []byte {
	ct := t.writeKey.Seal(nil, nonce(t.writeCounter), plaintext, nil)
	t.writeCounter++
	return ct
}
