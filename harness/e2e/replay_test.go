package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// An outage longer than Salesforce's replay window: the resumed stream
// replays nothing of what the agent sent meanwhile (the emulator's window is
// 1ns, so every event has left it by the time anyone resumes), and the
// listener fetches the missed entries from the conversation entries list.
// Every agent message reaches the user exactly once, in order, and the
// session carries on.
func TestOutageLongerThanReplayWindow(t *testing.T) {
	s := newShardedStack(t, emulator.Config{ReplayWindow: time.Nanosecond}, 0) // inspects the per-session listener's cursor
	const user = "u-replay-window"
	sess, conv := s.startAccepted(t, user, "Long outage ahead")
	_, err := s.emu.AgentSend(conv, "before the outage")
	require.NoError(t, err)
	s.sink.await(t, user, "first agent message", func(d workflows.Delivery) bool { return d.Text == "before the outage" })

	eventually(t, "listener checkpointed a cursor", func() bool { return listenerCursor(t, s, sess.WorkflowID) != "" })
	s.stopWorker()
	want := []string{"before the outage"}
	for i := 1; i <= 3; i++ {
		text := fmt.Sprintf("sent during the outage %d", i)
		want = append(want, text)
		_, err := s.emu.AgentSend(conv, text)
		require.NoError(t, err)
	}
	s.startWorker(t)
	s.sink.await(t, user, "the last message of the outage", func(d workflows.Delivery) bool { return d.Text == want[len(want)-1] })

	_, err = s.emu.AgentSend(conv, "after the outage")
	require.NoError(t, err)
	want = append(want, "after the outage")
	s.sink.await(t, user, "a live message after the catch-up", func(d workflows.Delivery) bool { return d.Text == "after the outage" })

	require.NoError(t, s.emu.AgentEnd(conv))
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sess).CloseReason)
	assert.Equal(t, want, agentTexts(s, user), "each agent message exactly once, in order")
	assert.Positive(t, s.emu.Stats().ReplayExpired, "the stream really could not replay from the cursor")
}
