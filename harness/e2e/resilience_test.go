package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// agentTexts returns the texts of the agent messages delivered to userID, in
// delivery order.
func agentTexts(s *stack, userID string) []string {
	var out []string
	for _, d := range s.sink.forUser(userID) {
		if d.Kind == workflows.DeliverAgentMessage && d.Text != "" {
			out = append(out, d.Text)
		}
	}
	return out
}

// listenerCursor returns the stream cursor the session's listener last
// heartbeated to the server ("" when none).
func listenerCursor(t *testing.T, s *stack, workflowID string) string {
	t.Helper()
	resp, err := s.tc.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		return ""
	}
	for _, pa := range resp.GetPendingActivities() {
		if pa.GetActivityType().GetName() != workflows.ActivityListen || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var cursor string
		if err := converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &cursor); err == nil {
			return cursor
		}
	}
	return ""
}

// With a stream that drops every few events and repeats half of them, every
// agent message still reaches the user exactly once, in order.
func TestSessionSurvivesDroppedAndDuplicatedEvents(t *testing.T) {
	s := newStack(t, emulator.Faults{DropStreamEvery: 3, DuplicateRate: 0.5, Seed: 7})
	const user = "u-faults"
	sess, conv := s.startAccepted(t, user, "Flaky network today")

	var want []string
	for i := 1; i <= 8; i++ {
		text := fmt.Sprintf("agent message %d", i)
		want = append(want, text)
		_, err := s.emu.AgentSend(conv, text)
		require.NoError(t, err)
	}
	eventually(t, "all agent messages delivered", func() bool { return len(agentTexts(s, user)) >= len(want) })

	require.NoError(t, s.emu.AgentEnd(conv))
	s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sess).CloseReason)
	assert.Equal(t, want, agentTexts(s, user), "each agent message exactly once, in order")

	st := s.emu.Stats()
	assert.Positive(t, st.FaultDrops, "the stream was really dropped")
	assert.Positive(t, st.FaultDuplicates, "events were really duplicated")
}

// A user message that races the agent ending the session is refused, not
// re-sent with isNewMessagingSession: that would open a new messaging session
// and route the closing chat to an agent again. Delayed events hold the end
// back from the workflow, so the send meets Salesforce's 417 first.
func TestMessageRacingAgentEndStartsNoNewSession(t *testing.T) {
	s := newStack(t, emulator.Faults{EventDelay: 2 * time.Second})
	ctx := context.Background()
	const user = "u-race-end"
	sess, conv := s.startAccepted(t, user, "Quick question")

	require.NoError(t, s.emu.AgentEnd(conv))
	_, err := s.starter.SendMessage(ctx, user, "m-racing", "Are you still there?")
	require.Error(t, err, "the message must not be reported as sent")
	// The assistant sees Salesforce's reason; the full error (for logs) names
	// the non-retryable SessionEnded failure of the send.
	var rejected *starter.RejectedError
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "messaging session has ended")
	assert.Contains(t, rejected.Err.Error(), activities.ErrTypeSessionEnded)

	s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sess).CloseReason)
	s.awaitEmulatorState(t, conv, "closed")
	assert.Equal(t, 0, countUserTexts(s.emu.Transcript(conv), "Are you still there?"), "a new messaging session was started")
}

// A worker that stops mid-session (deploy, crash) loses nothing: a new
// worker picks the session up, the listener resumes from its cursor and
// events sent meanwhile reach the user once.
func TestSessionSurvivesWorkerRestart(t *testing.T) {
	s := newShardedStack(t, emulator.Config{}, 0) // TestListenerShardsCarrySessions restarts sharded sessions
	ctx := context.Background()
	const user = "u-restart"
	sess, conv := s.startAccepted(t, user, "Deploy in progress")
	_, err := s.emu.AgentSend(conv, "before the restart")
	require.NoError(t, err)
	s.sink.await(t, user, "first agent message", func(d workflows.Delivery) bool { return d.Text == "before the restart" })

	// Stop once the listener has checkpointed a stream cursor on the server
	// (its heartbeat details), as any listener that ran for a few seconds has.
	eventually(t, "listener checkpointed a cursor", func() bool { return listenerCursor(t, s, sess.WorkflowID) != "" })
	s.stopWorker()
	_, err = s.emu.AgentSend(conv, "while no worker runs")
	require.NoError(t, err)
	s.startWorker(t)

	s.sink.await(t, user, "message sent during the restart", func(d workflows.Delivery) bool { return d.Text == "while no worker runs" })
	res, err := s.starter.SendMessage(ctx, user, "m-after", "still there?")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	s.awaitUserEntry(t, conv, "message after the restart", func(e emulator.TranscriptEntry) bool { return e.Text == "still there?" })

	require.NoError(t, s.emu.AgentEnd(conv))
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sess).CloseReason)
	assert.Equal(t, []string{"before the restart", "while no worker runs"}, agentTexts(s, user))
}

// listenerState returns the state of the session's pending listener activity
// (PENDING_ACTIVITY_STATE_UNSPECIFIED when there is none).
func listenerState(t *testing.T, s *stack, workflowID string) enumspb.PendingActivityState {
	t.Helper()
	resp, err := s.tc.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		return enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED
	}
	for _, pa := range resp.GetPendingActivities() {
		if pa.GetActivityType().GetName() == workflows.ActivityListen {
			return pa.GetState()
		}
	}
	return enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED
}

// Listeners have their own slot budget: when it is used up, new sessions
// still create their conversations (short activities run on the other task
// queue) and their listeners wait for a free slot instead of starving
// everything else.
func TestListenerSlotsNeverStarveShortActivities(t *testing.T) {
	s := newBackendWith(t, emulator.Config{})
	s.cfg.Worker.ListenerSlots = 1
	s.cfg.Session.ListenerShards = 0 // per-session listeners take the slots
	s.starter = starter.New(s.tc, s.cfg.SessionSettings(), s.store)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	ctx := context.Background()

	a, err := s.starter.Start(ctx, starter.StartRequest{UserID: "u-slot-a", Topic: "HR", Description: "first in line"})
	require.NoError(t, err)
	s.conversationOf(t, "u-slot-a")
	eventually(t, "A's listener running", func() bool {
		return listenerState(t, s, a.WorkflowID) == enumspb.PENDING_ACTIVITY_STATE_STARTED
	})

	b, err := s.starter.Start(ctx, starter.StartRequest{UserID: "u-slot-b", Topic: "HR", Description: "second in line"})
	require.NoError(t, err)
	convB := s.conversationOf(t, "u-slot-b") // created and described although no listener slot is free
	s.awaitUserEntry(t, convB, "B's description", func(e emulator.TranscriptEntry) bool { return e.Text == "second in line" })
	assert.Equal(t, enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, listenerState(t, s, b.WorkflowID), "B's listener waits for a slot")

	_, err = s.starter.Close(ctx, "u-slot-a", "", "")
	require.NoError(t, err)
	assert.Equal(t, workflows.CloseUserClosed, s.result(t, a).CloseReason)
	eventually(t, "B's listener gets the freed slot", func() bool {
		return listenerState(t, s, b.WorkflowID) == enumspb.PENDING_ACTIVITY_STATE_STARTED
	})

	require.NoError(t, s.emu.Accept(convB, agentName))
	s.sink.await(t, "u-slot-b", "greeting", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == s.cfg.Session.Greeting
	})
	_, err = s.starter.Close(ctx, "u-slot-b", "", "")
	require.NoError(t, err)
	assert.Equal(t, workflows.CloseUserClosed, s.result(t, b).CloseReason)
}
