package live

import (
	"bytes"
	"context"
	"database/sql"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidation(t *testing.T) {
	key := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no db", Options{}, "--db"},
		{"unknown preset", Options{DB: "x.db", Preset: "whatsmeo"}, `did you mean "whatsmeow"`},
		{"remote listen", Options{DB: "x.db", Listen: "0.0.0.0:9464"}, "--allow-remote-listen"},
		{"all interfaces", Options{DB: "x.db", Listen: ":9464"}, "not a loopback address"},
		{"log format", Options{DB: "x.db", LogFormat: "xml"}, "--log-format"},
		{"log level", Options{DB: "x.db", LogLevel: "loud"}, "--log-level"},
		{"server scheme", Options{DB: "x.db", Server: "http://127.0.0.1:1", ServerRootKey: key}, "ws:// or wss://"},
		{"server without key", Options{DB: "x.db", Server: "ws://127.0.0.1:1/ws/chat"}, "--server-root-key"},
		{"bad key", Options{DB: "x.db", Server: "ws://127.0.0.1:1/ws/chat", ServerRootKey: "abc"}, "32 bytes"},
		{"key without server", Options{DB: "x.db", ServerRootKey: key}, "without --server"},
		{"national phone", Options{DB: "x.db", PairPhone: "0151 123456"}, "international format"},
		{"ready fraction", Options{DB: "x.db", ReadyFraction: 2}, "ready fraction"},
	} {
		_, err := New(tc.o)
		if assert.Error(t, err, tc.name) {
			assert.Contains(t, err.Error(), tc.want, tc.name)
		}
	}
	for _, o := range []Options{
		{DB: "x.db"},
		{DB: "x.db", Listen: "localhost:0"},
		{DB: "x.db", Listen: "[::1]:0"},
		{DB: "x.db", Listen: "0.0.0.0:9464", AllowRemoteListen: true},
		{DB: "x.db", Server: "wss://127.0.0.1:1/ws/chat", ServerRootKey: key},
		{DB: "x.db", PairPhone: "+1 (555) 123-4567"},
	} {
		_, err := New(o)
		assert.NoError(t, err, "%+v", o)
	}
}

func TestConfigFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "live.yaml")
	require.NoError(t, os.WriteFile(p, []byte("config:\n  intervall: 3s\n"), 0o644))
	_, err := New(Options{DB: "x.db", ConfigFile: p})
	require.Error(t, err)
	assert.Contains(t, err.Error(), p+`:2: config.intervall: unknown field (did you mean "interval"?)`)
	_, err = New(Options{DB: "x.db", ConfigFile: filepath.Join(dir, "missing.yaml")})
	assert.ErrorContains(t, err, "missing.yaml")
}

func TestOpenStoreModeAndAccounts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	// A new file is created 0600.
	db := filepath.Join(dir, "new.db")
	c, err := OpenStore(ctx, db, nil)
	require.NoError(t, err)
	st, err := os.Stat(db)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.NoError(t, c.Close())
	// The DSN's pragmas: WAL (persistent in the file), foreign keys, busy timeout.
	sdb, err := sql.Open("sqlite", storeDSN(db))
	require.NoError(t, err)
	var mode string
	var fk, busy int
	require.NoError(t, sdb.QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, sdb.QueryRow("PRAGMA foreign_keys").Scan(&fk))
	require.NoError(t, sdb.QueryRow("PRAGMA busy_timeout").Scan(&busy))
	require.NoError(t, sdb.Close())
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 1, fk)
	assert.Equal(t, 10000, busy)

	// An existing file readable by others is tightened.
	loose := filepath.Join(dir, "loose.db")
	require.NoError(t, os.WriteFile(loose, nil, 0o644))
	c, err = OpenStore(ctx, loose, nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	st, err = os.Stat(loose)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// Characters that mean something in a URI stay part of the file name.
	odd := filepath.Join(dir, "my store #1?x=y&z%20.db")
	c, err = OpenStore(ctx, odd, nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	st, err = os.Stat(odd)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	_, err = os.Stat(filepath.Join(dir, "my store #1"))
	assert.True(t, os.IsNotExist(err), "no truncated file name")

	_, err = OpenStore(ctx, dir, nil)
	assert.ErrorContains(t, err, "is a directory")
	_, err = OpenStore(ctx, "", nil)
	assert.ErrorContains(t, err, "--db")
}

func TestQRRenderingAndPNG(t *testing.T) {
	var buf bytes.Buffer
	code := "2@abc,def,ghi,jkl"
	require.NoError(t, renderQR(&buf, code, 0))
	out := buf.String()
	assert.Contains(t, out, QRCodePrefix+code+"\n")
	assert.Contains(t, out, "█")

	p := filepath.Join(t.TempDir(), "qr.png")
	require.NoError(t, writeQRPNG(p, code))
	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 512, img.Bounds().Dx())
	st, err := f.Stat()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	left, err := filepath.Glob(filepath.Join(filepath.Dir(p), ".qr.png.tmp*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left behind")
}
