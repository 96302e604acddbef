package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// SendChoice accepts options "opt-a" and "opt-b" of agent message
// "entry-choice" and refuses anything else as the session workflow does.
func (f *fakeSessions) SendChoice(_ context.Context, userID, messageID, text string, c workflows.ChoiceReply) (workflows.UpdateResult, error) {
	if c.InReplyTo != "entry-choice" || (c.OptionID != "opt-a" && c.OptionID != "opt-b") {
		reason := `option "` + c.OptionID + `" is not one of the options of message "` + c.InReplyTo + `"`
		return workflows.UpdateResult{}, &starter.RejectedError{Update: workflows.UpdateSendMessage, Reason: reason,
			Type: workflows.ErrTypeInvalidChoice, Err: errors.New(reason)}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.update(userID, messageID, func() workflows.UpdateResult {
		f.sent = append(f.sent, "choice:"+c.InReplyTo+"/"+c.OptionID+":"+text)
		return workflows.UpdateResult{Status: workflows.UpdateSent, EntryID: "entry-" + messageID}
	})
}

func TestSendChoice(t *testing.T) {
	h := newHarness(t)
	status, _ := h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-1","topic":"Payroll","description":"d"}`)
	require.Equal(t, http.StatusCreated, status)

	status, body := h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-1","choice":{"inReplyTo":"entry-choice","optionId":"opt-b"}}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "sent", body["status"])

	// An option the agent did not offer: 422 with the session's reason.
	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-2","choice":{"inReplyTo":"entry-choice","optionId":"opt-z"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, `option "opt-z" is not one of the options of message "entry-choice"`, body["error"])

	// An incomplete choice is refused before reaching the session.
	status, body = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-3","choice":{"inReplyTo":"entry-choice"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body["error"], "optionId")
	status, _ = h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-4","choice":{"inReplyTo":"entry-choice","optionId":"opt-a","extra":1}}`)
	require.Equal(t, http.StatusBadRequest, status, "unknown fields are refused")

	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	assert.Equal(t, []string{"choice:entry-choice/opt-b:"}, h.fake.sent)
}

// The transcript shows an agent's choices and the user's pick.
func TestTranscriptShowsRichContent(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	h.fake.mu.Lock()
	h.fake.stateView = &workflows.SessionView{State: workflows.StateActive, UserID: "u-1", Transcript: []workflows.TranscriptEntry{
		{ID: "entry-choice", At: at, From: workflows.FromAgent, Text: "Pick one: 1) A",
			Choices: &workflows.Choices{Kind: workflows.ChoiceButtons, MessageID: "internal", Options: []workflows.ChoiceOption{{ID: "opt-a", Title: "A"}}}},
		{ID: "m-1", At: at, From: workflows.FromUser, Text: "A", Choice: &workflows.ChoiceReply{InReplyTo: "entry-choice", OptionID: "opt-a"}},
	}}
	h.fake.mu.Unlock()
	resp, data := h.do(http.MethodGet, "/v1/sessions/u-1", "", nil, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	var out gateway.SessionStateResponse
	require.NoError(t, json.Unmarshal(data, &out))
	require.Len(t, out.Transcript, 2)
	require.NotNil(t, out.Transcript[0].Choices)
	assert.Equal(t, "buttons", out.Transcript[0].Choices.Kind)
	assert.Equal(t, "opt-a", out.Transcript[0].Choices.Options[0].ID)
	assert.Equal(t, &gateway.ChoiceRequest{InReplyTo: "entry-choice", OptionID: "opt-a"}, out.Transcript[1].Choice)
}
