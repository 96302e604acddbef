package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// With salesforce.conversation_history, the assistant's conversation is
// loaded into the agent's console with Salesforce's Conversation History
// API (OAuth JWT bearer flow of a connected app) instead of being attached
// as a file; where the org refuses the API, the file is attached as before.
func TestHistoryImportThroughTheGateway(t *testing.T) {
	app := emulator.ConversationHistoryConfig{ClientID: "3MVG9-bridge-consumer-key", Username: "bridge@acme.example",
		ConnectedApp: "Bridge_App", ChannelAddressIdentifier: "5f0c4a0e-6b1d-4a55-9b8e-0d1c2e3f4a5b"}
	s := newBackendWith(t, emulator.Config{ConversationHistory: &app})
	cfg := *s.cfg
	cfg.Salesforce.ConversationHistory = config.ConversationHistory{Enabled: true,
		ChannelAddressIdentifier: app.ChannelAddressIdentifier, ConnectedApp: app.ConnectedApp,
		LoginURL: cfg.Salesforce.SCRTURL, ClientID: app.ClientID, Username: app.Username}
	require.NoError(t, cfg.Validate())
	s.cfg = &cfg
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })

	c := gatewayFor(t, s, &cfg)

	said := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Millisecond)
	history := []gateway.HistoryEntry{
		{From: "user", Text: "My badge is broken", At: &said},
		{From: "assistant", Text: "Did you try the self-service reset?"},
		{From: "user", Text: "Yes, twice. I want a person."},
	}
	start := func(user string) string {
		var started gateway.StartSessionResponse
		require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions", gateway.StartSessionRequest{
			UserID: user, Topic: "HR", Description: "My badge does not open the door", History: history,
		}, &started))
		return s.conversationOf(t, user) // waiting: the handoff is over
	}
	files := func(conv string) []string {
		var names []string
		for _, e := range s.emu.Transcript(conv) {
			if e.Attachment != nil {
				names = append(names, e.Attachment.Name)
			}
		}
		return names
	}

	t.Run("loaded into the console", func(t *testing.T) {
		conv := start("u-import")
		imported, err := s.emu.ImportedHistory(conv)
		require.NoError(t, err)
		require.Len(t, imported, 3)
		for i, want := range []struct{ from, text string }{
			{"EndUser", "My badge is broken"},
			{"Chatbot", "Did you try the self-service reset?"},
			{"EndUser", "Yes, twice. I want a person."},
		} {
			assert.Equal(t, want.from, imported[i].From, "entry %d", i)
			assert.Equal(t, want.text, imported[i].Text, "entry %d", i)
		}
		assert.True(t, imported[0].At.Equal(said), "the time the assistant gave: %s, want %s", imported[0].At, said)
		assert.True(t, imported[1].At.After(imported[0].At) && imported[2].At.After(imported[1].At), "kept in order")
		assert.Empty(t, files(conv), "no transcript file when the console has the conversation")
	})

	t.Run("refused: the file is attached", func(t *testing.T) {
		s.emu.SetConversationHistoryRefused(true) // 403, error 10057
		t.Cleanup(func() { s.emu.SetConversationHistoryRefused(false) })
		conv := start("u-import-refused")
		imported, err := s.emu.ImportedHistory(conv)
		require.NoError(t, err)
		assert.Empty(t, imported)
		file := s.awaitUserEntry(t, conv, "the conversation file", func(e emulator.TranscriptEntry) bool {
			return e.Attachment != nil && e.Attachment.Name == "conversation-with-assistant.txt"
		})
		assert.True(t, strings.HasPrefix(file.Attachment.Name, "conversation-with-assistant"))
	})
}
