package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/internal/sessionfakes"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// shardSignals records the signals a session sends its listener shard.
type shardSignals struct {
	mu      sync.Mutex
	joins   []workflows.ShardMember
	leaves  []workflows.ShardLeave
	targets []string
}

func (s *shardSignals) record(_, workflowID, _, name string, arg any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targets = append(s.targets, workflowID)
	switch name {
	case workflows.SignalShardJoin:
		s.joins = append(s.joins, arg.(workflows.ShardMember))
	case workflows.SignalShardLeave:
		s.leaves = append(s.leaves, arg.(workflows.ShardLeave))
	}
}

func shardedInput(n int) workflows.SessionInput {
	in := testInput()
	in.Request.Settings.ListenerShards = n
	return in
}

// A session configured for shards joins its shard (no listener of its own),
// with its conversation and stream position, and leaves it when it closes.
func TestSessionJoinsAndLeavesItsListenerShard(t *testing.T) {
	h := newHarness(t)
	sig := &shardSignals{}
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			sig.record(args.String(0), args.String(1), args.String(2), args.String(3), args.Get(4))
		}).Return(nil)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello"})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})

	h.run(shardedInput(4))
	res := h.result()
	require.Equal(t, workflows.CloseUserClosed, res.CloseReason)
	assert.Empty(t, h.listenerStarts(), "a sharded session runs no listener of its own")

	want := workflows.ShardWorkflowID(workflows.ShardOf("u-42", 4))
	require.Len(t, sig.joins, 1)
	assert.Equal(t, "u-42", sig.joins[0].UserID)
	assert.Equal(t, workflows.WorkflowID("u-42"), sig.joins[0].WorkflowID)
	assert.Equal(t, h.conversationID(), sig.joins[0].ConversationID)
	assert.NotEmpty(t, sig.joins[0].RunID)
	assert.Equal(t, sessionfakes.StreamPosition, sig.joins[0].LastEventID, "the stream starts at the position recorded before the create")
	require.Len(t, sig.leaves, 1)
	assert.Equal(t, workflows.ShardLeave{UserID: "u-42", RunID: sig.joins[0].RunID}, sig.leaves[0])
	assert.Equal(t, []string{want, want}, sig.targets)
}

// A session whose shard cannot be joined (not running) runs its own
// listener, and has no shard to leave.
func TestSessionWithoutItsShardRunsItsOwnListener(t *testing.T) {
	h := newHarness(t)
	var calls int
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { calls++ }).Return(errors.New("workflow not found"))
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})

	h.run(shardedInput(4))
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Len(t, h.listenerStarts(), 1, "the session fell back to its own listener")
	assert.Equal(t, 1, calls, "only the join was attempted")
}

// A stream the shard reports failed for good fails the session as its own
// listener's failure would, and the user is told.
func TestShardReportedListenerFailureEndsTheSession(t *testing.T) {
	h := newHarness(t)
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{Kind: workflows.AgentListenerFailed, Text: "stream refused: 403"})

	h.run(shardedInput(4))
	require.ErrorContains(t, h.env.GetWorkflowError(), "listener stopped: listener shard: stream refused: 403")
	require.Len(t, h.sf.Ended(), 1, "the Salesforce side is closed")
	require.Len(t, h.sf.Deliveries(workflows.DeliverClosed), 1, "the user is told")
}

// shardEnv runs ShardWorkflow with a listener activity that stays pending
// until cancelled (or returns result when drain is closed).
func shardEnv(t *testing.T, result workflows.ListenShardResult, drain <-chan struct{}) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	workflows.Register(env)
	env.RegisterActivityWithOptions(func(ctx context.Context, _ workflows.ListenShardInput) (workflows.ListenShardResult, error) {
		select {
		case <-ctx.Done():
			return workflows.ListenShardResult{}, ctx.Err()
		case <-drain:
			return result, nil
		}
	}, activity.RegisterOptions{Name: workflows.ActivityListenShard})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.ShardWorkflowID(0), TaskQueue: workflows.TaskQueue})
	env.SetTestTimeout(time.Minute) // generous for a loaded machine; the steps are ordered, not timed
	return env
}

func queryShard(t *testing.T, env *testsuite.TestWorkflowEnvironment, known int64) workflows.ShardView {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryShardMembers, known)
	require.NoError(t, err)
	var view workflows.ShardView
	require.NoError(t, v.Get(&view))
	return view
}

// The shard keeps its membership from joins and leaves: a continued run's
// join replaces the member, a leave of an older run is ignored, and the
// query returns members only when the caller's version is stale.
func TestShardMembership(t *testing.T) {
	env := shardEnv(t, workflows.ListenShardResult{}, nil)
	a1 := workflows.ShardMember{UserID: "a", WorkflowID: "wa", RunID: "a-run1", ConversationID: "ca", LastEventID: "1"}
	a2 := workflows.ShardMember{UserID: "a", WorkflowID: "wa", RunID: "a-run2", ConversationID: "ca", LastEventID: "7"}
	b := workflows.ShardMember{UserID: "b", WorkflowID: "wb", RunID: "b-run1", ConversationID: "cb"}
	var views []workflows.ShardView
	at := func(d time.Duration, fn func()) { env.RegisterDelayedCallback(fn, d) }
	// The shard's activity keeps running, so the test clock moves in real
	// time: steps are milliseconds apart.
	step := func(i int) time.Duration { return time.Duration(i) * 20 * time.Millisecond }
	at(step(1), func() { env.SignalWorkflow(workflows.SignalShardJoin, a1) })
	at(step(2), func() { env.SignalWorkflow(workflows.SignalShardJoin, b) })
	at(step(3), func() { views = append(views, queryShard(t, env, -1)) })
	at(step(4), func() { env.SignalWorkflow(workflows.SignalShardJoin, a2) })
	at(step(5), func() {
		env.SignalWorkflow(workflows.SignalShardLeave, workflows.ShardLeave{UserID: "a", RunID: "a-run1"})
	})
	at(step(6), func() { views = append(views, queryShard(t, env, views[0].Version)) })
	at(step(7), func() {
		env.SignalWorkflow(workflows.SignalShardLeave, workflows.ShardLeave{UserID: "b", RunID: "b-run1"})
	})
	at(step(8), func() {
		views = append(views, queryShard(t, env, -1))
		views = append(views, queryShard(t, env, views[2].Version))
	})
	at(step(9), env.CancelWorkflow)
	env.ExecuteWorkflow(workflows.ShardWorkflowName, workflows.ShardInput{Shard: 0})

	require.Len(t, views, 4)
	assert.Equal(t, []workflows.ShardMember{a1, b}, views[0].Members)
	assert.Equal(t, []workflows.ShardMember{a2, b}, views[1].Members, "the continued run replaced the first; its old run's leave was ignored")
	assert.Equal(t, []workflows.ShardMember{a2}, views[2].Members)
	assert.Nil(t, views[3].Members, "an up-to-date caller gets no members")
	assert.Equal(t, views[2].Version, views[3].Version)
	assert.False(t, views[3].Draining)
}

// A shard whose history is long drains: its activity sees Draining, returns
// the streams' cursors, and the shard continues as new with its members
// (joins that arrived meanwhile included), each carrying its cursor.
func TestShardDrainsAndContinuesAsNewWithCursors(t *testing.T) {
	workflows.SetShardContinueAsNewAfter(t, 20)
	a := workflows.ShardMember{UserID: "a", WorkflowID: "wa", RunID: "a-run1", ConversationID: "ca", LastEventID: "1"}
	cursorA := workflows.ShardCursor{UserID: "a", RunID: "a-run1", LastEventID: "42", Since: 1234}
	drain := make(chan struct{})
	env := shardEnv(t, workflows.ListenShardResult{Cursors: []workflows.ShardCursor{cursorA}}, drain)
	at := func(d time.Duration, fn func()) { env.RegisterDelayedCallback(fn, d) }
	at(10*time.Millisecond, func() { env.SignalWorkflow(workflows.SignalShardJoin, a) })
	for i := range 10 {
		m := workflows.ShardMember{UserID: fmt.Sprintf("u%02d", i), WorkflowID: "w", RunID: "r", ConversationID: "c"}
		at(time.Duration(20+10*i)*time.Millisecond, func() { env.SignalWorkflow(workflows.SignalShardJoin, m) })
	}
	var draining workflows.ShardView
	at(300*time.Millisecond, func() {
		draining = queryShard(t, env, -1)
		close(drain)
	})
	env.ExecuteWorkflow(workflows.ShardWorkflowName, workflows.ShardInput{Shard: 3})

	require.True(t, draining.Draining, "the shard asked its activity to drain")
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	var next workflows.ShardInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.Equal(t, workflows.ListenerShardTaskQueue, can.TaskQueueName, "the shard continues on its own task queue")
	assert.Equal(t, 3, next.Shard)
	require.Len(t, next.Members, 11)
	assert.Equal(t, "a", next.Members[0].UserID)
	assert.Equal(t, &cursorA, next.Members[0].Resume, "the drained cursor travels with its member")
	assert.Nil(t, next.Members[1].Resume)
	assert.Greater(t, next.Version, draining.Version)
}
