package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

const idleTimerSummary = "close an idle chat"

// idleWatch ends a chat nobody writes in for Settings.IdleTimeout. It holds
// at most one timer: when the timer fires after a message came, it is
// re-armed for the time left, so a busy chat costs one timer per idle
// timeout, not one per message. It does nothing when IdleTimeout is 0.
type idleWatch struct {
	s      *session
	ctx    workflow.Context
	cancel workflow.CancelFunc
	since  time.Time       // the idle clock starts at the later of this and the last message
	timer  workflow.Future // nil when off
}

func newIdleWatch(ctx workflow.Context, s *session) *idleWatch {
	w := &idleWatch{s: s}
	if s.req.Settings.IdleTimeout <= 0 {
		return w
	}
	w.ctx, w.cancel = workflow.WithCancel(ctx)
	w.since = workflow.Now(ctx)
	w.arm()
	return w
}

// deadline is when the chat counts as idle.
func (w *idleWatch) deadline() time.Time {
	last := w.since
	if w.s.lastMessageAt.After(last) {
		last = w.s.lastMessageAt
	}
	return last.Add(w.s.req.Settings.IdleTimeout)
}

func (w *idleWatch) arm() {
	w.timer = w.s.deadlineTimer(w.ctx, w.deadline(), idleTimerSummary)
}

// expired reports whether the chat has been idle for the whole timeout. A
// chat between agents (a transfer) is not idle: its clock restarts.
func (w *idleWatch) expired(ctx workflow.Context) bool {
	if w.timer == nil || !w.timer.IsReady() {
		return false
	}
	now := workflow.Now(ctx)
	if w.s.phase != phaseActive {
		w.since = now
	} else if !now.Before(w.deadline()) {
		return true
	}
	w.arm()
	return false
}

// stop cancels the pending timer.
func (w *idleWatch) stop() {
	if w.cancel != nil {
		w.cancel()
	}
}
