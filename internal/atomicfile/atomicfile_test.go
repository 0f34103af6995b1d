package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteCreatesDirectoryAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "out.json")
	require.NoError(t, Write(path, []byte("hello\n"), 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assertNoTemporaries(t, filepath.Dir(path))
}

func TestWriteReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	require.NoError(t, Write(path, []byte("a much longer first version\n"), 0o644))
	require.NoError(t, Write(path, []byte("short\n"), 0o644))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "short\n", string(b))
}

// A fill that fails leaves the previous file untouched and no temporary behind.
func TestWriteFuncFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	require.NoError(t, Write(path, []byte("previous\n"), 0o644))
	boom := errors.New("boom")
	err := WriteFunc(path, 0o644, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), path)
	b, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, "previous\n", string(b))
	assertNoTemporaries(t, dir)
}

func TestWriteErrorNamesPath(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	err := Write(filepath.Join(blocker, "out.txt"), []byte("x"), 0o644) // parent is a file
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(blocker, "out.txt"))
}

func assertNoTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
}
