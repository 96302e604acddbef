package attachstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestPutOpenRoundTrip(t *testing.T) {
	s := newStore(t)
	content := []byte("hello, attachment\x00\x01binary")
	key, size, err := s.Put(bytes.NewReader(content), 1024)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if key != sum(content) {
		t.Fatalf("key = %s, want sha256 %s", key, sum(content))
	}
	if size != int64(len(content)) {
		t.Fatalf("size = %d, want %d", size, len(content))
	}
	// Two-level fan-out layout.
	want := filepath.Join(s.Dir(), key[:2], key[2:4], key)
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("expected file at %s: %v", want, err)
	}
	rc, n, err := s.Open(key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) || n != int64(len(content)) {
		t.Fatalf("read back %q (size %d), want %q", got, n, content)
	}
	if !s.Has(key) {
		t.Fatal("Has = false after Put")
	}
}

func TestPutTooLargeStoresNothing(t *testing.T) {
	s := newStore(t)
	content := bytes.Repeat([]byte("x"), 11)
	_, _, err := s.Put(bytes.NewReader(content), 10)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if s.Has(sum(content)) {
		t.Fatal("oversized content was stored")
	}
	assertNoTemp(t, s)

	// Exactly at the limit is fine.
	key, size, err := s.Put(bytes.NewReader(content[:10]), 10)
	if err != nil || size != 10 || key != sum(content[:10]) {
		t.Fatalf("Put at limit = %s, %d, %v", key, size, err)
	}
	// maxBytes <= 0 means unlimited.
	if _, _, err := s.Put(bytes.NewReader(content), 0); err != nil {
		t.Fatalf("Put unlimited: %v", err)
	}
}

func TestPutDedupe(t *testing.T) {
	s := newStore(t)
	content := []byte("same bytes")
	k1, _, err := s.Put(bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := s.Put(strings.NewReader(string(content)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if k1 != k2 {
		t.Fatalf("keys differ: %s vs %s", k1, k2)
	}
	if n := countFiles(t, s); n != 1 {
		t.Fatalf("%d files stored, want 1", n)
	}
	assertNoTemp(t, s)
}

func TestPutConcurrentSameContent(t *testing.T) {
	s := newStore(t)
	content := bytes.Repeat([]byte("concurrent"), 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, _, err := s.Put(bytes.NewReader(content), 0)
			if err == nil && key != sum(content) {
				err = errors.New("wrong key " + key)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countFiles(t, s); n != 1 {
		t.Fatalf("%d files stored, want 1", n)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestPutReadErrorStoresNothing(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Put(failingReader{}, 0)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	assertNoTemp(t, s)
	if n := countFiles(t, s); n != 0 {
		t.Fatalf("%d files stored, want 0", n)
	}
}

func TestOpenErrors(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Open(sum([]byte("never stored")))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		if _, _, err := s.Open(bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q) err = %v, want ErrInvalidKey", bad, err)
		}
		if s.Has(bad) {
			t.Errorf("Has(%q) = true", bad)
		}
	}
}

func TestOpenRejectsEmptyDir(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := s1.Put(strings.NewReader("persisted"), 0)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := s2.Open(key)
	if err != nil {
		t.Fatalf("Open after reopen: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "persisted" {
		t.Fatalf("got %q", b)
	}
}

func countFiles(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(s.Dir(), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Base(filepath.Dir(p)) != tmpDirName {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func assertNoTemp(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), tmpDirName))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("%d temporary files left behind", len(entries))
	}
}

func TestRemoveOlderThanKeepsContentPutAgain(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stale, _, err := s.Put(strings.NewReader("stale"), 0)
	if err != nil {
		t.Fatal(err)
	}
	reused, _, err := s.Put(strings.NewReader("reused"), 0)
	if err != nil {
		t.Fatal(err)
	}
	weekAgo := time.Now().Add(-7 * 24 * time.Hour)
	for _, key := range []string{stale, reused} {
		path := filepath.Join(s.Dir(), key[0:2], key[2:4], key)
		if err := os.Chtimes(path, weekAgo, weekAgo); err != nil {
			t.Fatal(err)
		}
	}
	// An unfinished put left behind by a crash is old too.
	leftover := filepath.Join(s.Dir(), "tmp", "put-crashed")
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(leftover, weekAgo, weekAgo); err != nil {
		t.Fatal(err)
	}
	// Putting the same content again counts its retention from now.
	if _, _, err := s.Put(strings.NewReader("reused"), 0); err != nil {
		t.Fatal(err)
	}

	removed, err := s.RemoveOlderThan(time.Now().Add(-24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if removed != 2 {
		t.Errorf("removed %d files, want 2 (the stale file and the leftover)", removed)
	}
	if s.Has(stale) {
		t.Error("stale file kept")
	}
	if !s.Has(reused) {
		t.Error("content put again within the retention was removed")
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover temporary file: %v", err)
	}
	// The store still works: its temporary directory is kept.
	if _, _, err := s.Put(strings.NewReader("after the sweep"), 0); err != nil {
		t.Fatalf("put after the sweep: %v", err)
	}
}
