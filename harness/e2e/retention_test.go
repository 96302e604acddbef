package e2e

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// A stored file last put longer ago than attachments.retention is removed
// by the worker (its link then answers 404); a recent one stays.
func TestOldFilesRemovedAfterRetention(t *testing.T) {
	s := newBackend(t, emulator.Faults{})
	s.cfg.Attachments.Retention = time.Hour
	require.NoError(t, s.cfg.Validate())
	_, srv := newGateway(t, s)

	oldSum, _, err := s.store.Put(bytes.NewReader([]byte("an agent file from last month")), 1<<20)
	require.NoError(t, err)
	newSum, _, err := s.store.Put(bytes.NewReader([]byte("an agent file from today")), 1<<20)
	require.NoError(t, err)
	// Backdate the old file's latest put beyond the retention.
	var backdated bool
	require.NoError(t, filepath.WalkDir(s.cfg.Attachments.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.Base(path), oldSum) {
			past := time.Now().Add(-2 * time.Hour)
			backdated = true
			return os.Chtimes(path, past, past)
		}
		return err
	}))
	require.True(t, backdated, "the old file is in the store directory")
	for _, sum := range []string{oldSum, newSum} {
		status, _ := fetch(t, srv.URL+"/v1/attachments/"+sum, true)
		require.Equal(t, http.StatusOK, status, "stored: %s", sum)
	}

	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	eventually(t, "the old file removed", func() bool {
		status, _ := fetch(t, srv.URL+"/v1/attachments/"+oldSum, true)
		return status == http.StatusNotFound
	})
	status, _ := fetch(t, srv.URL+"/v1/attachments/"+newSum, true)
	assert.Equal(t, http.StatusOK, status, "a recent file stays")
}
