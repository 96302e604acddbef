package workflows_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
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
	h.env.OnActivity(workflows.ActivitySendMessage, mock.Anything, mock.Anything).After(30 * time.Second).Return(
		func(_ context.Context, in workflows.SendMessageInput) (workflows.SendResult, error) {
			mu.Lock()
			defer mu.Unlock()
			sendDone = h.env.Now()
			sentText = append(sentText, in.Text)
			return workflows.SendResult{EntryID: "entry-" + in.MessageID}, nil
		})
	h.env.OnActivity(workflows.ActivityEndConversation, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.EndConversationInput) error {
			mu.Lock()
			defer mu.Unlock()
			endAt = h.env.Now()
			endIDs = append(endIDs, in.ConversationID)
			return nil
		})
	acceptEvents(h, time.Minute, "Ann")
	msg := h.updateAt(2*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "last words"})
	closeUpd := h.updateAt(2*time.Minute+time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})

	h.run(testInput())
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	closeUpd.requireResult(t, workflows.UpdateClosed)
	msg.requireResult(t, workflows.UpdateSent)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"My invoice is wrong.", "last words"}, sentText)
	require.Len(t, endIDs, 1)
	require.False(t, endAt.Before(sendDone), "session ended at %s, before the in-flight send finished at %s", endAt, sendDone)
}

// Messages kept while waiting are carried to the next run, so their number
// is bounded: past the limit an update is rejected (nothing is written).
func TestQueuedMessagesAreBounded(t *testing.T) {
	h := newHarness(t)
	var queued []*updateRecorder
	for i := range workflows.MaxOutbox {
		queued = append(queued, h.updateAt(time.Duration(i+1)*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: fmt.Sprintf("w%d", i), Text: "still there?"}))
	}
	over := h.updateAt(time.Duration(workflows.MaxOutbox+1)*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "over", Text: "hello??"})
	closeUpd := h.updateAt(time.Duration(workflows.MaxOutbox+2)*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c"})
	h.run(testInput())
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	for _, u := range queued {
		u.requireResult(t, workflows.UpdateQueued)
	}
	over.requireRejected(t, "too many messages are waiting")
	closeUpd.requireResult(t, workflows.UpdateClosed)
}

// Cancelling the workflow while a user message is in flight cancels the send
// and still runs the whole cleanup: waiting for the send must not hang.
func TestCancelWithSendInFlightStillCleansUp(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(workflows.ActivitySendMessage, mock.Anything, mock.Anything).After(time.Hour).Return(workflows.SendResult{EntryID: "late"}, nil)
	h.env.OnActivity(workflows.ActivityEndConversation, mock.Anything, mock.Anything).Return(nil)
	acceptEvents(h, time.Minute, "Ann")
	h.updateAt(2*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "in flight"})
	h.at(2*time.Minute+time.Second, h.env.CancelWorkflow)
	h.run(testInput())

	var canceled *temporal.CanceledError
	require.ErrorAs(t, h.env.GetWorkflowError(), &canceled)
	h.env.AssertActivityNumberOfCalls(t, workflows.ActivityEndConversation, 1)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseCancelled, closed[0].CloseReason)
}
