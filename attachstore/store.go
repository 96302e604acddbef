package attachstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Errors returned by the store; test them with errors.Is.
var (
	// ErrTooLarge means the content is larger than the limit given to Put.
	ErrTooLarge = errors.New("attachstore: content too large")
	// ErrNotFound means no content with that hash is stored.
	ErrNotFound = errors.New("attachstore: not found")
	// ErrInvalidKey means the key is not a lowercase hex SHA-256.
	ErrInvalidKey = errors.New("attachstore: invalid key (want 64 lowercase hex characters)")
)

// Store is a content-addressed file store rooted at one directory. It is safe
// for concurrent use by several goroutines and several processes sharing the
// directory.
type Store struct {
	dir string
}

// Open returns the store rooted at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("attachstore: directory must not be empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("attachstore: resolve %q: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDirName), 0o750); err != nil {
		return nil, fmt.Errorf("attachstore: create %q: %w", abs, err)
	}
	return &Store{dir: abs}, nil
}

// tmpDirName holds in-flight puts. It is inside the store so the final rename
// never crosses file systems.
const tmpDirName = "tmp"

// Dir returns the absolute root directory of the store.
func (s *Store) Dir() string { return s.dir }

// Put copies r into the store and returns the SHA-256 (lowercase hex) of the
// content and its size. If r yields more than maxBytes bytes, Put stops
// reading, stores nothing and returns an error wrapping ErrTooLarge;
// maxBytes <= 0 means no limit. Putting content that is already stored is
// cheap and returns the same hash.
func (s *Store) Put(r io.Reader, maxBytes int64) (sha256hex string, size int64, err error) {
	sha256hex, size, _, err = s.PutNew(r, maxBytes)
	return sha256hex, size, err
}

// Remove deletes the content stored under sha256hex. Removing content that
// is not stored is not an error.
func (s *Store) Remove(sha256hex string) error {
	if !ValidKey(sha256hex) {
		return ErrInvalidKey
	}
	if err := os.Remove(s.path(sha256hex)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("attachstore: remove: %w", err)
	}
	return nil
}

// PutNew is Put that also reports whether this call created the stored file
// (false when the same content was already there). A caller that stores
// content before it knows the content is wanted removes it with Remove
// when refused, and only when created: content already stored belongs to
// someone else too.
func (s *Store) PutNew(r io.Reader, maxBytes int64) (sha256hex string, size int64, created bool, err error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, tmpDirName), "put-*")
	if err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: %w", err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	src := r
	if maxBytes > 0 {
		// Read one byte past the limit to tell "exactly maxBytes" from "more".
		src = io.LimitReader(r, maxBytes+1)
	}
	size, err = io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: copy: %w", err)
	}
	if maxBytes > 0 && size > maxBytes {
		return "", 0, false, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: close: %w", err)
	}

	sum := hex.EncodeToString(h.Sum(nil))
	final := s.path(sum)
	if _, err := os.Stat(final); err == nil {
		// Same content already stored: keep the existing file (the
		// deferred cleanup removes the temporary copy), and count its
		// retention from now, since it is in use again.
		now := time.Now()
		if err := os.Chtimes(final, now, now); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", 0, false, fmt.Errorf("attachstore: put: %w", err)
		}
		return sum, size, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: %w", err)
	}
	if err := os.Chmod(tmpName, 0o640); err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: %w", err)
	}
	// Rename is atomic; a concurrent put of the same content renames an
	// identical file over it, which is harmless.
	if err := os.Rename(tmpName, final); err != nil {
		return "", 0, false, fmt.Errorf("attachstore: put: %w", err)
	}
	committed = true
	return sum, size, true, nil
}

// RemoveOlderThan deletes every stored file last put before cutoff (and
// temporary files of puts that never finished), and reports how many it
// deleted. Content put again is kept for as long as from its latest put.
// A file that cannot be removed is skipped and reported in the error; the
// others are still removed.
func (s *Store) RemoveOlderThan(cutoff time.Time) (removed int, err error) {
	var errs []error
	walkErr := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		removed++
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("attachstore: remove old files: %w", errors.Join(errs...))
	}
	return removed, nil
}

// Open returns the content stored under sha256hex and its size. The caller
// must close the reader. It returns an error wrapping ErrNotFound when nothing
// is stored under that hash and ErrInvalidKey when sha256hex is not a hash.
func (s *Store) Open(sha256hex string) (io.ReadCloser, int64, error) {
	if !ValidKey(sha256hex) {
		return nil, 0, fmt.Errorf("%w: %q", ErrInvalidKey, truncate(sha256hex, 80))
	}
	f, err := os.Open(s.path(sha256hex))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrNotFound, sha256hex)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("attachstore: open %s: %w", sha256hex, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("attachstore: open %s: %w", sha256hex, err)
	}
	return f, st.Size(), nil
}

// Has reports whether content with the given hash is stored.
func (s *Store) Has(sha256hex string) bool {
	if !ValidKey(sha256hex) {
		return false
	}
	_, err := os.Stat(s.path(sha256hex))
	return err == nil
}

// ValidKey reports whether key is a lowercase hex SHA-256 (64 characters).
func ValidKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// path is dir/ab/cd/<hash>; key must be valid.
func (s *Store) path(key string) string {
	return filepath.Join(s.dir, key[0:2], key[2:4], key)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
