package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// A burst of user messages over Salesforce's per-conversation rate reaches
// the agent in order, each once: the bridge honours the 429's Retry-After
// and never drops or reorders a message.
func TestBurstOverSalesforceRateArrivesInOrder(t *testing.T) {
	s := newStackWith(t, emulator.Config{MessageRate: emulator.MessageRate{Count: 3, Window: 2 * time.Second}})
	const user = "u-burst"
	_, conv := s.startAccepted(t, user, "Many questions")
	ctx := context.Background()

	var want []string
	for i := range 8 {
		text := fmt.Sprintf("question %d", i+1)
		want = append(want, text)
		res, err := s.starter.SendMessage(ctx, user, fmt.Sprintf("q-%d", i+1), text)
		require.NoError(t, err)
		assert.Equal(t, workflows.UpdateSent, res.Status)
	}
	var got []string
	for _, e := range s.emu.Transcript(conv) {
		if e.Role == "EndUser" && e.Attachment == nil && e.Text != "Many questions" {
			got = append(got, e.Text)
		}
	}
	assert.Equal(t, want, got, "every message once, in order")
	assert.Positive(t, s.emu.Stats().RateLimited, "the burst went over the rate")
}

// The assistant sees why a message waits: before an agent accepts it is
// queued as waiting-for-agent; once the conversation's message rate
// (session.message_rate per session.message_rate_window) is used up, further
// messages are answered at once as queued, paced, and still reach the agent
// in order, each once.
func TestPacedMessagesAreQueuedAndSaySo(t *testing.T) {
	s := newBackendWith(t, emulator.Config{MessageRate: emulator.MessageRate{Count: 22, Window: time.Minute}})
	s.cfg.Session.MessageRate = 3
	s.cfg.Session.MessageRateWindow = 3 * time.Second
	require.NoError(t, s.cfg.Validate())
	s.starter = starter.New(s.tc, s.cfg.SessionSettings(), s.store)
	c, _ := newGateway(t, s)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	const user = "u-paced"
	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "Many questions"}, &started))
	conv := s.conversationOf(t, user)

	var res gateway.UpdateResponse
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: "q-0", Text: "question 0"}, &res))
	assert.Equal(t, gateway.UpdateResponse{Status: string(workflows.UpdateQueued), QueuedReason: workflows.QueuedWaitingForAgent}, res)

	require.NoError(t, s.emu.Accept(conv, agentName))
	s.awaitUserEntry(t, conv, "the message kept while waiting", func(e emulator.TranscriptEntry) bool { return e.Text == "question 0" })
	eventually(t, user+" active", func() bool { return c.state(user).State == string(workflows.StateActive) })

	want := []string{"question 0"}
	var paced int
	for i := 1; i <= 8; i++ {
		text := fmt.Sprintf("question %d", i)
		want = append(want, text)
		var res gateway.UpdateResponse
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
			gateway.SendMessageRequest{MessageID: fmt.Sprintf("q-%d", i), Text: text}, &res))
		switch res.Status {
		case string(workflows.UpdateSent):
			assert.Empty(t, res.QueuedReason)
		case string(workflows.UpdateQueued):
			assert.Equal(t, workflows.QueuedPaced, res.QueuedReason, text)
			paced++
		default:
			t.Fatalf("%s: status %q", text, res.Status)
		}
	}
	// At most 3 per 3 s go out at once: of 8 sent back to back, some wait.
	assert.GreaterOrEqual(t, paced, 5-3, "messages over the rate are answered queued, paced")
	eventually(t, "every message at the agent", func() bool {
		return countUserTexts(s.emu.Transcript(conv), "question 8") == 1
	})
	var got []string
	for _, e := range s.emu.Transcript(conv) {
		if e.Role == "EndUser" && e.Attachment == nil && strings.HasPrefix(e.Text, "question ") {
			got = append(got, e.Text)
		}
	}
	assert.Equal(t, want, got, "every message once, in order")
}
