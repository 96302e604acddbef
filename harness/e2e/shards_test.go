package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// newShardedStack is newStackWith with session.listener_shards = n (0: a
// listener activity per session, the path of sessions that cannot join
// their shard).
func newShardedStack(t *testing.T, emu emulator.Config, n int) *stack {
	s := newBackendWith(t, emu)
	s.cfg.Session.ListenerShards = n
	require.NoError(t, s.cfg.Validate())
	s.starter = starter.New(s.tc, s.cfg.SessionSettings(), s.store)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	return s
}

// shardMembers is the membership shard k reports.
func shardMembers(t *testing.T, s *stack, k int) []workflows.ShardMember {
	t.Helper()
	v, err := s.tc.QueryWorkflow(context.Background(), workflows.ShardWorkflowID(k), "", workflows.QueryShardMembers, int64(-1))
	if err != nil {
		return nil
	}
	var view workflows.ShardView
	require.NoError(t, v.Get(&view))
	return view.Members
}

// pendingActivities names the pending activities of a workflow's latest run.
func pendingActivities(t *testing.T, s *stack, workflowID string) []string {
	t.Helper()
	resp, err := s.tc.DescribeWorkflowExecution(context.Background(), workflowID, "")
	require.NoError(t, err)
	var names []string
	for _, pa := range resp.GetPendingActivities() {
		names = append(names, pa.GetActivityType().GetName())
	}
	return names
}

// shardCursors decodes the heartbeated cursors of shard k's listener.
func shardCursors(t *testing.T, s *stack, k int) []workflows.ShardCursor {
	t.Helper()
	resp, err := s.tc.DescribeWorkflowExecution(context.Background(), workflows.ShardWorkflowID(k), "")
	require.NoError(t, err)
	for _, pa := range resp.GetPendingActivities() {
		if pa.GetActivityType().GetName() != workflows.ActivityListenShard || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var cursors []workflows.ShardCursor
		if err := converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &cursors); err == nil {
			return cursors
		}
	}
	return nil
}

// With listener shards, sessions run no listener of their own: their shard
// streams their events, each reaches its user once, across a worker restart
// (the shard resumes every stream from its heartbeated cursors), and a
// closed session leaves its shard.
func TestListenerShardsCarrySessions(t *testing.T) {
	const shards = 2
	s := newShardedStack(t, emulator.Config{}, shards)
	ctx := context.Background()

	users := []string{"u-shard-a", "u-shard-b", "u-shard-c"}
	sessions := map[string]*starter.Session{}
	convs := map[string]string{}
	for _, u := range users {
		sessions[u], convs[u] = s.startAccepted(t, u, "Sharded "+u)
	}
	for _, u := range users {
		k := workflows.ShardOf(u, shards)
		eventually(t, u+" is a member of shard "+fmt.Sprint(k), func() bool {
			for _, m := range shardMembers(t, s, k) {
				if m.UserID == u && m.ConversationID == convs[u] {
					return true
				}
			}
			return false
		})
		assert.NotContains(t, pendingActivities(t, s, sessions[u].WorkflowID), workflows.ActivityListen,
			"a sharded session runs no listener of its own")
	}
	for k := range shards {
		resp, err := s.tc.DescribeWorkflowExecution(ctx, workflows.ShardWorkflowID(k), "")
		require.NoError(t, err)
		assert.Equal(t, workflows.ListenerShardTaskQueue, resp.GetExecutionConfig().GetTaskQueue().GetName(),
			"shard workflows run on the shard task queue, beside their activities")
	}
	for _, u := range users {
		_, err := s.emu.AgentSend(convs[u], "before the restart to "+u)
		require.NoError(t, err)
	}
	for _, u := range users {
		s.sink.await(t, u, "first agent message", func(d workflows.Delivery) bool { return d.Text == "before the restart to "+u })
	}

	// Restart once every stream's cursor is heartbeated, then send while no
	// worker runs.
	eventually(t, "shards checkpointed every stream", func() bool {
		n := 0
		for k := range shards {
			for _, c := range shardCursors(t, s, k) {
				if c.LastEventID != "" {
					n++
				}
			}
		}
		return n == len(users)
	})
	s.stopWorker()
	for _, u := range users {
		_, err := s.emu.AgentSend(convs[u], "while no worker runs, to "+u)
		require.NoError(t, err)
	}
	s.startWorker(t)
	for _, u := range users {
		s.sink.await(t, u, "message sent during the restart", func(d workflows.Delivery) bool { return d.Text == "while no worker runs, to "+u })
		res, err := s.starter.SendMessage(ctx, u, "m-after-"+u, "still there?")
		require.NoError(t, err)
		assert.Equal(t, workflows.UpdateSent, res.Status)
	}

	closing := users[0]
	require.NoError(t, s.emu.AgentEnd(convs[closing]))
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sessions[closing]).CloseReason)
	eventually(t, closing+" left its shard", func() bool {
		for _, m := range shardMembers(t, s, workflows.ShardOf(closing, shards)) {
			if m.UserID == closing {
				return false
			}
		}
		return true
	})
	for _, u := range users {
		assert.Equal(t, []string{"before the restart to " + u, "while no worker runs, to " + u}, agentTexts(s, u),
			"each agent message exactly once, in order")
	}
	for _, u := range users[1:] {
		_, err := s.starter.Close(ctx, u, "close-"+u, "done")
		require.NoError(t, err)
		assert.Equal(t, workflows.CloseUserClosed, s.result(t, sessions[u]).CloseReason)
		s.awaitEmulatorState(t, convs[u], "closed")
	}
}
