package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// startListener starts the SSE listener activity on its own task queue. It
// runs until cancelled and signals SignalAgentEvent for every event.
func (s *session) startListener(ctx workflow.Context) {
	lctx, cancel := workflow.WithCancel(ctx)
	s.cancelListener = cancel
	s.listener = s.listen(lctx)
}

// stopListener cancels the listener and waits until it has stopped, so no
// signal from this run's listener races a successor or a closed session.
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

// abandonListener asks the listener to stop without waiting for it; only
// for a run about to complete (see releaseListener).
func (s *session) abandonListener() {
	if s.listener == nil {
		return
	}
	s.cancelListener()
	s.listener = nil
}
