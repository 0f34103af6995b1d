package mockwa

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/socket"
)

// Framing, as whatsmeow's socket.FrameSocket does it:
//
//	first message:  'W' 'A' 6 3 | len(3, big-endian) | payload
//	later messages:               len(3, big-endian) | payload
//
// whatsmeow sends each frame as one WebSocket message and breaks if a frame it
// reads is split across messages, so the server writes exactly one frame per
// message. On the reading side the decoder accepts any split, so a client that
// coalesces or splits frames still works.

// maxFrame is the largest payload a frame can carry (2^24-1 bytes).
const maxFrame = socket.FrameMaxSize - 1

// ErrBadHeader is returned when a connection does not open with "WA\x06\x03".
var ErrBadHeader = errors.New("bad connection header")

// ErrFrameTooLarge is returned for a frame length above the configured limit.
var ErrFrameTooLarge = errors.New("frame too large")

// frameDecoder splits a client's byte stream into frames. It is owned by the
// connection's reading goroutine.
type frameDecoder struct {
	headerDone bool
	buf        []byte
	limit      int
}

func newFrameDecoder(limit int) *frameDecoder {
	if limit <= 0 || limit > maxFrame {
		limit = maxFrame
	}
	return &frameDecoder{limit: limit}
}

// feed appends one WebSocket message and returns the frames it completed.
func (d *frameDecoder) feed(msg []byte) ([][]byte, error) {
	d.buf = append(d.buf, msg...)
	if !d.headerDone {
		hdr := socket.WAConnHeader
		n := min(len(d.buf), len(hdr))
		if !bytes.Equal(d.buf[:n], hdr[:n]) {
			return nil, fmt.Errorf("%w: got % x, want % x", ErrBadHeader, d.buf[:n], hdr[:n])
		}
		if len(d.buf) < len(hdr) {
			return nil, nil
		}
		d.buf = d.buf[len(hdr):]
		d.headerDone = true
	}
	var frames [][]byte
	for len(d.buf) >= socket.FrameLengthSize {
		length := int(d.buf[0])<<16 | int(d.buf[1])<<8 | int(d.buf[2])
		if length > d.limit {
			return frames, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, length, d.limit)
		}
		if len(d.buf) < socket.FrameLengthSize+length {
			break
		}
		frame := make([]byte, length)
		copy(frame, d.buf[socket.FrameLengthSize:])
		frames = append(frames, frame)
		d.buf = d.buf[socket.FrameLengthSize+length:]
	}
	if len(d.buf) == 0 {
		d.buf = nil
	}
	return frames, nil
}

// encodeFrame prefixes payload with its 3-byte length.
func encodeFrame(payload []byte) ([]byte, error) {
	if len(payload) > maxFrame {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(payload))
	}
	out := make([]byte, socket.FrameLengthSize+len(payload))
	out[0] = byte(len(payload) >> 16)
	out[1] = byte(len(payload) >> 8)
	out[2] = byte(len(payload))
	copy(out[socket.FrameLengthSize:], payload)
	return out, nil
}

// ErrBadNode is returned for a decrypted frame that is not a binary node.
var ErrBadNode = errors.New("malformed binary node")

// decodeNode turns a decrypted frame into a node: a flag byte (bit 2 = zlib),
// then whatsmeow's binary XML. Decompression is capped at maxFrame bytes, and
// a panic in the decoder is turned into an error.
func decodeNode(plaintext []byte) (node *waBinary.Node, err error) {
	if len(plaintext) == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrBadNode)
	}
	flags, data := plaintext[0], plaintext[1:]
	if flags&2 != 0 {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrBadNode, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxFrame+1))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrBadNode, err)
		}
		if len(data) > maxFrame {
			return nil, fmt.Errorf("%w: decompresses beyond %d bytes", ErrBadNode, maxFrame)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			node, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrBadNode, r)
		}
	}()
	node, err = waBinary.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadNode, err)
	}
	return node, nil
}

// encodeNode marshals a node with whatsmeow's encoder (uncompressed, leading
// zero flag byte).
func encodeNode(n waBinary.Node) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("encode <%s>: %v", n.Tag, r)
		}
	}()
	return waBinary.Marshal(n)
}
