package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// The assistant's context reaches the agent at the handoff: the summary
// under the description in the first message, and the conversation so far
// as one readable file in the Salesforce conversation.
func TestHandoffContextReachesAgent(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	c := gatewayWith(t, s, s.cfg.SessionSettings())
	const user = "u-handoff"
	at := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions", gateway.StartSessionRequest{
		UserID: user, Topic: "HR", Description: "My badge does not open the door",
		Summary: "Badge stopped working after the office move; reset did not help.",
		History: []gateway.HistoryEntry{
			{From: "user", Text: "My badge is broken", At: &at},
			{From: "assistant", Text: "Did you try the self-service reset?"},
			{From: "user", Text: "Yes, twice. I want a person."},
		},
	}, &started))
	conv := s.conversationOf(t, user)

	first := s.awaitUserEntry(t, conv, "the first message", func(e emulator.TranscriptEntry) bool {
		return strings.HasPrefix(e.Text, "My badge does not open the door")
	})
	assert.Contains(t, first.Text, "Summary from the assistant:\nBadge stopped working after the office move; reset did not help.")
	file := s.awaitUserEntry(t, conv, "the conversation file", func(e emulator.TranscriptEntry) bool {
		return e.Attachment != nil && e.Attachment.Name == "conversation-with-assistant.txt"
	})
	resp, err := http.Get(file.Attachment.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Conversation with the assistant before the handoff\nUser: u-handoff · Topic: HR\n\n"+
		"2026-11-29 09:30:00 UTC  User: My badge is broken\n"+
		"Assistant: Did you try the self-service reset?\n"+
		"User: Yes, twice. I want a person.\n", string(body))

	// Over the limits: a clear 413, and nothing started.
	var tooBig gateway.ErrorResponse
	require.Equal(t, http.StatusRequestEntityTooLarge, c.postJSON("/v1/sessions", gateway.StartSessionRequest{
		UserID: "u-handoff-big", Topic: "HR", Description: "d", Summary: strings.Repeat("s", 2001),
	}, &tooBig))
	assert.Contains(t, tooBig.Error, "summary is 2001 bytes")
}
