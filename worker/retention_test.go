package worker

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
)

func TestSweepAttachmentsRemovesOnlyFilesPastRetention(t *testing.T) {
	store, err := attachstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := store.Put(strings.NewReader("old file"), 0)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := store.Put(strings.NewReader("fresh file"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ageFile(t, store, old, 48*time.Hour)
	ageFile(t, store, fresh, 2*time.Hour)

	// A cancelled context still gets the first pass, and returns after it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sweepAttachments(ctx, store, 24*time.Hour, time.Hour, slog.New(slog.DiscardHandler))

	if store.Has(old) {
		t.Error("file put 48h ago survived a 24h retention")
	}
	if !store.Has(fresh) {
		t.Error("file put 2h ago was removed by a 24h retention")
	}

	// Retention 0 keeps everything.
	ageFile(t, store, fresh, 1000*time.Hour)
	sweepAttachments(ctx, store, 0, time.Hour, slog.New(slog.DiscardHandler))
	if !store.Has(fresh) {
		t.Error("retention 0 removed a file")
	}
}

// ageFile makes the stored file of key look put age ago.
func ageFile(t *testing.T, store *attachstore.Store, key string, age time.Duration) {
	t.Helper()
	at := time.Now().Add(-age)
	path := filepath.Join(store.Dir(), key[0:2], key[2:4], key)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}
