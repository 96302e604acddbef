package workflows

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The carried transcript must stay far below Temporal's 2 MiB payload limit
// whatever the message sizes: 200 long entries would make every
// continue-as-new attempt fail.
func TestCarriedTranscriptIsBoundedBySize(t *testing.T) {
	s := &session{seenEntries: newBoundedSet(maxSeenIDs, nil), seenUserMessages: newBoundedSet(maxSeenIDs, nil)}
	long := strings.Repeat("x", 4000)
	for i := range 300 {
		s.addTranscript(TranscriptEntry{ID: fmt.Sprintf("e-%d", i), From: FromAgent, Text: long})
	}
	c := s.carry()
	size := 0
	for _, e := range c.Transcript {
		size += len(e.Text)
	}
	require.LessOrEqual(t, size, maxCarriedTranscriptBytes)
	require.NotEmpty(t, c.Transcript)
	require.Equal(t, "e-299", c.Transcript[len(c.Transcript)-1].ID, "the newest entries are kept")

	// Short entries are still carried up to the count limit.
	s.transcript = nil
	for i := range 300 {
		s.addTranscript(TranscriptEntry{ID: fmt.Sprintf("s-%d", i), From: FromUser, Text: "ok"})
	}
	require.Len(t, s.carry().Transcript, maxCarriedTranscript)
}
