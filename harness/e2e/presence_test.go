package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Presence end to end: the user's typing reaches the agent as started, then
// stopped by itself after the quiet time; the agent's delivery and read
// receipts reach the assistant under the assistant's own message id; the
// assistant's read receipt of an agent message reaches Salesforce.
func TestPresence(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	settings := s.cfg.SessionSettings()
	settings.TypingQuietTime = 2 * time.Second
	c := gatewayWith(t, s, settings)
	const user = "u-presence"
	c.start(user, "HR")
	conv := s.conversationOf(t, user)

	// Typing while nobody chats with the user: a clear 409.
	var refused gateway.ErrorResponse
	require.Equal(t, http.StatusConflict, c.postJSON("/v1/sessions/"+user+"/typing", map[string]bool{"typing": true}, &refused))
	assert.Contains(t, refused.Error, "typing is shown only while an agent chats with the user")

	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "state active", func() bool { return c.state(user).State == string(workflows.StateActive) })

	// The user types: reports (never a "stopped" one) reach the agent as
	// started, then stopped once the quiet time has passed.
	var typed gateway.TypingResponse
	for range 2 {
		require.Equal(t, http.StatusAccepted, c.postJSON("/v1/sessions/"+user+"/typing", map[string]bool{"typing": true}, &typed))
		assert.True(t, typed.Typing)
	}
	var typing []emulator.UserTypingRecord
	eventually(t, "the agent sees the user start and stop typing", func() bool {
		p, err := s.emu.UserPresence(conv)
		require.NoError(t, err)
		typing = p.Typing
		return len(typing) >= 2
	})
	assert.True(t, typing[0].Started, "first indicator: %+v", typing)
	assert.False(t, typing[1].Started, "second indicator: %+v", typing)
	for i := 1; i < len(typing); i++ {
		assert.NotEqual(t, typing[i-1].Started, typing[i].Started, "indicators alternate: %+v", typing)
	}

	// The user's message: the agent's client acknowledges delivery at once
	// (an agent is present), then the agent reads it. The assistant gets
	// both receipts under its own message id.
	assert.Equal(t, string(workflows.UpdateSent), c.send(user, "presence-msg-1", "Is my badge ready?"))
	msg := s.awaitUserEntry(t, conv, "the message", func(e emulator.TranscriptEntry) bool { return e.Text == "Is my badge ready?" })
	require.NoError(t, s.emu.AgentRead(conv))
	for _, status := range []workflows.ReceiptStatus{workflows.ReceiptDelivered, workflows.ReceiptRead} {
		d := s.sink.await(t, user, string(status)+" receipt", func(d workflows.Delivery) bool {
			return d.Kind == workflows.DeliverReceipt && hasReceipt(d, "presence-msg-1", status)
		})
		assert.Equal(t, workflows.StateActive, d.State)
	}
	for _, d := range s.sink.forUser(user) {
		for _, r := range d.Receipts {
			assert.Equal(t, "presence-msg-1", r.MessageID, "receipts name the assistant's message ids only (Salesforce entry %s)", msg.EntryID)
		}
	}

	// The agent answers; the assistant reports it read; Salesforce gets a
	// Read acknowledgement of the agent's entry.
	entryID, err := s.emu.AgentSend(conv, "Yes, pick it up at reception.")
	require.NoError(t, err)
	answer := s.sink.await(t, user, "the agent's answer", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == "Yes, pick it up at reception."
	})
	var queued gateway.ReceiptsResponse
	require.Equal(t, http.StatusAccepted, c.postJSON("/v1/sessions/"+user+"/receipts",
		gateway.ReceiptsRequest{Status: "read", MessageIDs: []string{answer.ID}}, &queued))
	assert.Equal(t, 1, queued.Queued)
	eventually(t, "the agent side sees the answer read", func() bool {
		p, err := s.emu.UserPresence(conv)
		require.NoError(t, err)
		for _, a := range p.Acks {
			if a.EntryID == entryID && a.Type == "Read" {
				return true
			}
		}
		return false
	})
	tr := s.emu.Transcript(conv)
	assert.True(t, tr[len(tr)-1].Read, "the answer is marked read: %+v", tr[len(tr)-1])

	// A receipt for a message the session never delivered: 409.
	require.Equal(t, http.StatusConflict, c.postJSON("/v1/sessions/"+user+"/receipts",
		gateway.ReceiptsRequest{Status: "read", MessageIDs: []string{"no-such-message"}}, &refused))
	assert.Contains(t, refused.Error, "is not an agent message of this session")

	// Every delivery, receipts included, is what the OpenAPI document says.
	kinds := newContract(t).check(t, s.sink.forUser(user))
	assert.True(t, kinds[string(workflows.DeliverReceipt)], "a receipt delivery was checked")
}

func hasReceipt(d workflows.Delivery, messageID string, status workflows.ReceiptStatus) bool {
	for _, r := range d.Receipts {
		if r.MessageID == messageID && r.Status == status {
			return true
		}
	}
	return false
}
