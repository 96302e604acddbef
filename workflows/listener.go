package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// startListener gets this run's agent events flowing: it joins the session's
// listener shard when Settings.ListenerShards is set (falling back to its own
// listener when the shard cannot be joined), else starts its own SSE
// listener activity on its own task queue. Either signals SignalAgentEvent
// for every event, from s.lastEventID on.
func (s *session) startListener(ctx workflow.Context) {
	if n := s.req.Settings.ListenerShards; n > 0 && s.usesListenerShards(ctx) {
		k := ShardOf(s.req.UserID, n)
		err := s.joinShard(ctx, k)
		if err == nil {
			s.shard = k
			return
		}
		s.logger.Warn("Cannot join the listener shard; running an own listener", "shard", k, "error", err)
	}
	lctx, cancel := workflow.WithCancel(ctx)
	s.cancelListener = cancel
	s.listener = s.listen(lctx)
}

// joinShard asks shard k to stream this run's events and waits until the
// signal is recorded (an error means the shard workflow is not running).
func (s *session) joinShard(ctx workflow.Context, k int) error {
	info := workflow.GetInfo(ctx)
	return workflow.SignalExternalWorkflow(ctx, ShardWorkflowID(k), "", SignalShardJoin, ShardMember{
		UserID:         s.req.UserID,
		WorkflowID:     info.WorkflowExecution.ID,
		RunID:          info.WorkflowExecution.RunID,
		ConversationID: s.conversationID,
		LastEventID:    s.lastEventID,
		Since:          workflow.Now(ctx).UnixMilli(),
	}).Get(ctx, nil)
}

// leaveShard tells the shard to drop this run's stream and waits until the
// signal is recorded: a signal a completed run sends is never delivered.
// A shard that misses it drops the stream when its next event finds the
// run gone.
func (s *session) leaveShard(ctx workflow.Context) {
	if s.shard < 0 {
		return
	}
	k := s.shard
	s.shard = -1
	err := workflow.SignalExternalWorkflow(ctx, ShardWorkflowID(k), "", SignalShardLeave, ShardLeave{
		UserID: s.req.UserID,
		RunID:  workflow.GetInfo(ctx).WorkflowExecution.RunID,
	}).Get(ctx, nil)
	if err != nil {
		s.logger.Warn("Cannot leave the listener shard", "shard", k, "error", err)
	}
}

// listenerStopped reports whether this run's events stopped flowing for
// good: its own listener returned, or its shard reported its stream failed.
func (s *session) listenerStopped() bool {
	return s.listenerFailure != nil || (s.listener != nil && s.listener.IsReady())
}

// listenerError is why the listener stopped (listenerStopped is true).
func (s *session) listenerError(ctx workflow.Context) error {
	if s.listenerFailure != nil {
		return s.listenerFailure
	}
	err := s.listener.Get(ctx, nil)
	if err == nil {
		err = temporal.NewApplicationError("listener returned without being cancelled", errTypeListenerFailed)
	}
	return err
}

// stopListener cancels the listener and waits until it has stopped, so no
// signal from this run's listener races a successor or a closed session. A
// shard member needs nothing: the shard signals only this run, and the next
// run's join takes its stream over.
func (s *session) stopListener(ctx workflow.Context) {
	if s.listener == nil {
		return
	}
	s.cancelListener()
	if err := s.listener.Get(ctx, nil); err != nil && !temporal.IsCanceledError(err) {
		s.logger.Warn("Listener ended with an error", "error", err)
	}
	s.listener = nil
}

// abandonListener asks the listener to stop without waiting for it, or
// leaves the shard; only for a run about to complete (see releaseListener).
func (s *session) abandonListener(ctx workflow.Context) {
	s.leaveShard(ctx)
	if s.listener == nil {
		return
	}
	s.cancelListener()
	s.listener = nil
}
