package live

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	"go.mau.fi/whatsmeow/store/sqlstore"
	waLog "go.mau.fi/whatsmeow/util/log"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// StoreMode is the permission of the store file: it holds the accounts' keys.
const StoreMode fs.FileMode = 0o600

// storeDSN is the modernc.org/sqlite DSN for path: WAL journal (a crash leaves the
// last committed state; readers never block the writer), foreign keys on
// (whatsmeow's schema relies on cascades), and a busy timeout of 10 s.
func storeDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"
}

// OpenStore opens (creating it with mode 0600 if needed) the whatsmeow device store
// at path and upgrades its schema. A file readable by others is tightened to 0600.
// SQLite creates the -wal and -shm files with the database file's permissions.
func OpenStore(ctx context.Context, path string, log waLog.Logger) (*sqlstore.Container, error) {
	if path == "" {
		return nil, errors.New("live: store path is empty (use --db FILE)")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, StoreMode)
	if err != nil {
		return nil, fmt.Errorf("live: store %s: %w", path, err)
	}
	st, err := f.Stat()
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("live: store %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("live: store %s is a directory; give a file path", path)
	}
	if st.Mode().Perm()&^StoreMode != 0 {
		if err := os.Chmod(path, StoreMode); err != nil {
			return nil, fmt.Errorf("live: store %s is mode %v and cannot be restricted to %v: %w", path, st.Mode().Perm(), StoreMode, err)
		}
	}
	if log == nil {
		log = waLog.Noop
	}
	c, err := sqlstore.New(ctx, "sqlite", storeDSN(path), log)
	if err != nil {
		return nil, fmt.Errorf("live: open store %s: %w", path, err)
	}
	return c, nil
}
