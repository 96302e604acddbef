package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"
)

const transferTimerSummary = "requeue a transfer no agent joined"

// transferWatch gives a transfer a deadline. After the agent left (or a
// transfer was routed) Salesforce may say nothing more: no agent joins and
// no failure comes, and nothing else would end the wait (the idle clock
// restarts between agents, the accept timer runs only while waiting). A
// transfer no agent joins within Settings.TransferTimeout (0:
// AcceptTimeout) is handled as a failed one: the user is told and waits in
// the queue again, where the accept timeout runs. The watch holds at most
// one timer, for the transfer in progress; legacy sessions
// (changeTransferTimeout) start none.
type transferWatch struct {
	s      *session
	cancel workflow.CancelFunc
	since  time.Time       // the start of the transfer timed
	timer  workflow.Future // nil when no transfer is timed
}

func newTransferWatch(s *session) *transferWatch { return &transferWatch{s: s} }

// transferTimeout is how long a transfer may go without a new agent.
func (st Settings) transferTimeout() time.Duration {
	if st.TransferTimeout > 0 {
		return st.TransferTimeout
	}
	return st.AcceptTimeout
}

// follow times the transfer in progress, if any: it starts the timer when
// a transfer started and stops it when the transfer is over.
func (w *transferWatch) follow(ctx workflow.Context) {
	s := w.s
	if s.phase != phaseTransferring {
		w.stop()
		return
	}
	if s.transferringSince.IsZero() { // continued from a run that carried no start
		s.transferringSince = workflow.Now(ctx)
	}
	if w.timer != nil && w.since.Equal(s.transferringSince) {
		return
	}
	w.stop()
	if !s.timesTransfers(ctx) {
		return // legacy: the transfer waits for Salesforce alone
	}
	var timerCtx workflow.Context
	timerCtx, w.cancel = workflow.WithCancel(ctx)
	w.since = s.transferringSince
	w.timer = s.deadlineTimer(timerCtx, w.since.Add(s.req.Settings.transferTimeout()), transferTimerSummary)
}

// expired reports whether the transfer being timed is still in progress
// and has gone on for the whole timeout.
func (w *transferWatch) expired() bool {
	return w.timer != nil && w.timer.IsReady() &&
		w.s.phase == phaseTransferring && w.since.Equal(w.s.transferringSince)
}

// stop cancels the pending timer.
func (w *transferWatch) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.cancel, w.timer, w.since = nil, nil, time.Time{}
}

// requeueUnansweredTransfer handles a transfer no agent joined in time as a
// failed one. Salesforce's own late word on it (a failure, an accept, the
// agent joining) finds the session waiting: a failure then keeps it
// waiting, an agent is accepted as after any failed transfer.
func (s *session) requeueUnansweredTransfer(ctx workflow.Context) {
	key := "transfer-timeout/" + strconv.FormatInt(s.transferringSince.UnixMilli(), 10)
	s.transferTimedOut = true
	s.requeue(ctx, key, "no agent joined within "+s.req.Settings.transferTimeout().String())
}
