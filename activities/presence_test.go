package activities

import (
	"errors"
	"slices"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestSendTyping(t *testing.T) {
	_, sf, env := testActivities(t)
	for _, typing := range []bool{true, false} {
		if _, err := env.ExecuteActivity(workflows.ActivitySendTyping,
			workflows.SendTypingInput{UserID: "u-1", ConversationID: "c-1", Typing: typing}); err != nil {
			t.Fatalf("SendTyping(%v): %v", typing, err)
		}
	}
	if !slices.Equal(sf.typing, []bool{true, false}) {
		t.Fatalf("typing indicators = %v, want started then stopped", sf.typing)
	}
}

func TestSendTypingSessionEndedIsPermanent(t *testing.T) {
	_, sf, env := testActivities(t)
	sf.failNext("SendTyping", sfErr("send typing indicator", 417, "No active messaging session"))
	_, err := env.ExecuteActivity(workflows.ActivitySendTyping,
		workflows.SendTypingInput{UserID: "u-1", ConversationID: "c-1", Typing: true})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("err = %v, want a non-retryable application error", err)
	}
}

func TestAcknowledgeEntriesSendsOneBatch(t *testing.T) {
	_, sf, env := testActivities(t)
	in := workflows.AcknowledgeInput{UserID: "u-1", ConversationID: "c-1", Acks: []workflows.EntryAck{
		{EntryID: "e-1", Status: workflows.ReceiptDelivered},
		{EntryID: "e-2", Status: workflows.ReceiptRead},
	}}
	if _, err := env.ExecuteActivity(workflows.ActivityAcknowledge, in); err != nil {
		t.Fatalf("AcknowledgeEntries: %v", err)
	}
	want := [][]miaw.Ack{{{Type: miaw.AckDelivery, EntryID: "e-1"}, {Type: miaw.AckRead, EntryID: "e-2"}}}
	if len(sf.acks) != 1 || !slices.Equal(sf.acks[0], want[0]) {
		t.Fatalf("acks = %v, want %v", sf.acks, want)
	}
}

func TestAcknowledgeEntriesRefusesBadInput(t *testing.T) {
	_, sf, env := testActivities(t)
	for name, in := range map[string]workflows.AcknowledgeInput{
		"no acks":    {UserID: "u-1", ConversationID: "c-1"},
		"bad status": {UserID: "u-1", ConversationID: "c-1", Acks: []workflows.EntryAck{{EntryID: "e-1", Status: "seen"}}},
		"no user":    {ConversationID: "c-1", Acks: []workflows.EntryAck{{EntryID: "e-1", Status: workflows.ReceiptRead}}},
	} {
		_, err := env.ExecuteActivity(workflows.ActivityAcknowledge, in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() {
			t.Errorf("%s: err = %v, want a non-retryable application error", name, err)
		}
	}
	if n := sf.callCount("Acknowledge"); n != 0 {
		t.Fatalf("Acknowledge called %d times for bad input", n)
	}
}
