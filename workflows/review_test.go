package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A user message still on its way to Salesforce when the user closes must
// land before the session is ended: ending the session under it makes the
// send answer 417 and re-send with isNewMessagingSession, which opens a new
// messaging session (and routes it to an agent) for a chat that is closing.
func TestCloseWaitsForInFlightSendBeforeEnding(t *testing.T) {
	h := newHarness(t)
	var (
		mu               sync.Mutex
		sendDone, endAt  time.Time
		sentText, endIDs []string
	)
	h.env.OnActivity(ActivitySendMessage, mock.Anything, mock.Anything).After(30 * time.Second).Return(
		func(_ context.Context, in SendMessageInput) (SendResult, error) {
			mu.Lock()
			defer mu.Unlock()
			sendDone = h.env.Now()
			sentText = append(sentText, in.Text)
			return SendResult{EntryID: "entry-" + in.MessageID}, nil
		})
	h.env.OnActivity(ActivityEndConversation, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in EndConversationInput) error {
			mu.Lock()
			defer mu.Unlock()
			endAt = h.env.Now()
			endIDs = append(endIDs, in.ConversationID)
			return nil
		})
	acceptEvents(h, time.Minute, "Ann")
	msg := h.updateAt(2*time.Minute, UpdateSendMessage, UserMessage{ID: "m1", Text: "last words"})
	closeUpd := h.updateAt(2*time.Minute+time.Second, UpdateClose, UserClose{ID: "c1"})

	h.run(testInput())
	require.Equal(t, CloseUserClosed, h.result().CloseReason)
	closeUpd.requireResult(t, UpdateClosed)
	msg.requireResult(t, UpdateSent)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"My invoice is wrong.", "last words"}, sentText)
	require.Len(t, endIDs, 1)
	require.False(t, endAt.Before(sendDone), "session ended at %s, before the in-flight send finished at %s", endAt, sendDone)
}

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

// Messages kept while waiting are carried to the next run, so their number
// is bounded: past the limit an update is rejected (nothing is written).
func TestQueuedMessagesAreBounded(t *testing.T) {
	h := newHarness(t)
	var queued []*updateRecorder
	for i := range maxOutbox {
		queued = append(queued, h.updateAt(time.Duration(i+1)*time.Second, UpdateSendMessage, UserMessage{ID: fmt.Sprintf("w%d", i), Text: "still there?"}))
	}
	over := h.updateAt(time.Duration(maxOutbox+1)*time.Second, UpdateSendMessage, UserMessage{ID: "over", Text: "hello??"})
	closeUpd := h.updateAt(time.Duration(maxOutbox+2)*time.Second, UpdateClose, UserClose{ID: "c"})
	h.run(testInput())
	require.Equal(t, CloseUserClosed, h.result().CloseReason)
	for _, u := range queued {
		u.requireResult(t, UpdateQueued)
	}
	over.requireRejected(t, "too many messages are waiting")
	closeUpd.requireResult(t, UpdateClosed)
}

// Cancelling the workflow while a user message is in flight cancels the send
// and still runs the whole cleanup: waiting for the send must not hang.
func TestCancelWithSendInFlightStillCleansUp(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(ActivitySendMessage, mock.Anything, mock.Anything).After(time.Hour).Return(SendResult{EntryID: "late"}, nil)
	h.env.OnActivity(ActivityEndConversation, mock.Anything, mock.Anything).Return(nil)
	acceptEvents(h, time.Minute, "Ann")
	h.updateAt(2*time.Minute, UpdateSendMessage, UserMessage{ID: "m1", Text: "in flight"})
	h.at(2*time.Minute+time.Second, h.env.CancelWorkflow)
	h.run(testInput())

	var canceled *temporal.CanceledError
	require.ErrorAs(t, h.env.GetWorkflowError(), &canceled)
	h.env.AssertActivityNumberOfCalls(t, ActivityEndConversation, 1)
	closed := h.sf.deliveries(DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, CloseCancelled, closed[0].CloseReason)
}
