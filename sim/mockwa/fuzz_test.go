package mockwa

import (
	"bytes"
	"compress/zlib"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
)

// FuzzFrameDecoder feeds a byte stream, split at cut, to the frame decoder.
// It must never panic, never return a frame above its limit, and, when it
// accepts the stream, the frames it returns re-encode to a prefix of it.
func FuzzFrameDecoder(f *testing.F) {
	f.Add(frame(true, clientHello()), 5)
	f.Add(append(frame(true, []byte("abc")), frame(false, []byte("defg"))...), 9)
	f.Add([]byte("WA\x06\x03\xff\xff\xff"), 2)
	f.Add([]byte("GET / HTTP/1.1\r\n"), 0)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		const limit = 1 << 12
		d := newFrameDecoder(limit)
		if cut < 0 || cut > len(stream) {
			cut = len(stream) / 2
		}
		var frames [][]byte
		var err error
		for _, part := range [][]byte{stream[:cut], stream[cut:]} {
			var got [][]byte
			got, err = d.feed(part)
			frames = append(frames, got...)
			if err != nil {
				break
			}
		}
		for _, fr := range frames {
			require.LessOrEqual(t, len(fr), limit)
		}
		if err != nil {
			require.True(t, errors.Is(err, ErrBadHeader) || errors.Is(err, ErrFrameTooLarge), "unexpected error %v", err)
			return
		}
		if len(stream) < len(socket.WAConnHeader) {
			return
		}
		var re []byte
		re = append(re, socket.WAConnHeader...)
		for _, fr := range frames {
			enc, encErr := encodeFrame(fr)
			require.NoError(t, encErr)
			re = append(re, enc...)
		}
		require.True(t, bytes.HasPrefix(stream, re), "frames re-encode to a prefix of the stream")
	})
}

func zlibNode(n waBinary.Node) []byte {
	raw, _ := waBinary.Marshal(n)
	var buf bytes.Buffer
	buf.WriteByte(2)
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(raw[1:])
	_ = w.Close()
	return buf.Bytes()
}

// FuzzDecodeNode decodes arbitrary decrypted frames as the read loop does.
// It must never panic and a failure is always ErrBadNode; a decoded node can
// be logged. (Exact re-encoding is not a property of whatsmeow's codec: the
// decoder can produce attribute values its encoder skips.)
func FuzzDecodeNode(f *testing.F) {
	for _, n := range []waBinary.Node{
		{Tag: "iq", Attrs: waBinary.Attrs{"id": "1.2-3", "xmlns": "w:p", "type": "get", "to": types.ServerJID}},
		{Tag: "presence", Attrs: waBinary.Attrs{"type": "available", "name": "kalab"}},
		{Tag: "iq", Attrs: waBinary.Attrs{"type": "set", "xmlns": "passive"}, Content: []waBinary.Node{{Tag: "active"}}},
		{Tag: "ref", Content: []byte("2@abc")},
	} {
		raw, err := waBinary.Marshal(n)
		require.NoError(f, err)
		f.Add(raw)
		f.Add(zlibNode(n))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0xf8, 0xff, 0xff, 0xff})
	f.Add([]byte{2, 0x78, 0x9c})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := decodeNode(data)
		if err != nil {
			require.ErrorIs(t, err, ErrBadNode)
			return
		}
		require.NotNil(t, n)
		_ = n.XMLString()
		_, _ = encodeNode(*n) // must not panic either
	})
}

// FuzzParseQR parses arbitrary QR text: never panics; accepted codes have
// 32-byte keys and a non-empty ref.
func FuzzParseQR(f *testing.F) {
	k := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	f.Add("2@ref," + k + "," + k + "," + k)
	f.Add(QRLinkPrefix + "2@ref," + k + "," + k + "," + k + ",1")
	f.Add(",,,")
	f.Fuzz(func(t *testing.T, text string) {
		q, err := ParseQR(text)
		if err != nil {
			return
		}
		assert.NotEmpty(t, q.Ref)
		assert.Len(t, q.AdvSecret, 32)
	})
}

// FuzzTransportOpen: arbitrary ciphertext never decrypts and never panics.
func FuzzTransportOpen(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 16))
	f.Add([]byte("definitely not AES-GCM"))
	f.Fuzz(func(t *testing.T, ct []byte) {
		var ns noiseState
		ns.start(socket.WAConnHeader)
		tr, err := ns.split()
		require.NoError(t, err)
		_, err = tr.open(ct)
		require.Error(t, err)
	})
}
