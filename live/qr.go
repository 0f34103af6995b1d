package live

import (
	"fmt"
	"io"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/kalab-dev/kalab/internal/atomicfile"
)

// QRCodePrefix starts the line after each rendered QR code that carries the code's
// raw text, for terminals that cannot show the blocks (paste it into any QR
// generator) and for tests that play the phone.
const QRCodePrefix = "QR code text: "

// renderQR writes code to w as a QR code in half-block characters (two modules per
// character row), then the raw text on a line starting with QRCodePrefix.
func renderQR(w io.Writer, code string, valid time.Duration) error {
	q, err := qrcode.New(code, qrcode.Low)
	if err != nil {
		return fmt.Errorf("live: encode QR code: %w", err)
	}
	var b strings.Builder
	b.WriteString("\nScan with WhatsApp on your phone: Settings > Linked devices > Link a device")
	if valid > 0 {
		fmt.Fprintf(&b, " (valid %s)", valid)
	}
	b.WriteString("\n")
	b.WriteString(q.ToSmallString(false))
	b.WriteString(QRCodePrefix + code + "\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// writeQRPNG writes code as a PNG QR code to path atomically (temp file + rename),
// mode 0600 (the code links a device to whoever scans it).
func writeQRPNG(path, code string) error {
	png, err := qrcode.Encode(code, qrcode.Medium, 512)
	if err != nil {
		return fmt.Errorf("live: encode QR PNG: %w", err)
	}
	if err := atomicfile.Write(path, png, 0o600); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	return nil
}
