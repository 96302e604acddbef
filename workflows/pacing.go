package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// pacing keeps when this run sent the user's latest messages and files to
// Salesforce, for Settings.MessageRate. It is not carried across
// continue-as-new: a new run may briefly exceed the rate, and Salesforce's
// 429 (whose Retry-After the send honours) covers that.
type pacing struct {
	sent []time.Time // send times within the latest window, oldest first
	on   bool        // changePacing answered: this run paces
}

// recordSend notes a send to Salesforce now.
func (s *session) recordSend(ctx workflow.Context) {
	if !s.req.Settings.MessageRate.enabled() {
		return
	}
	s.pacing.sent = append(s.pacing.sent, workflow.Now(ctx))
	s.trimRate(ctx)
}

// trimRate forgets sends older than the window.
func (s *session) trimRate(ctx workflow.Context) {
	cutoff := workflow.Now(ctx).Add(-s.req.Settings.MessageRate.Window)
	i := 0
	for i < len(s.pacing.sent) && !s.pacing.sent[i].After(cutoff) {
		i++
	}
	s.pacing.sent = s.pacing.sent[i:]
}

// rateUsedUp reports whether the window holds Count sends (counting what
// is in flight or already kept ahead of a new item).
func (s *session) rateUsedUp(ctx workflow.Context, ahead int) bool {
	r := s.req.Settings.MessageRate
	if !r.enabled() {
		return false
	}
	s.trimRate(ctx)
	return len(s.pacing.sent)+ahead >= r.Count
}

// paces asks changePacing once per run, only when pacing would act.
func (s *session) paces(ctx workflow.Context) bool {
	if !s.pacing.on {
		s.pacing.on = workflow.GetVersion(ctx, changePacing, workflow.DefaultVersion, 1) == 1
	}
	return s.pacing.on
}

// overRate reports whether a new item must wait for the rate: the window is
// used up by what was sent, is being sent and is kept ahead of it.
func (s *session) overRate(ctx workflow.Context) bool {
	ahead := len(s.outbox.items)
	if s.outbox.inFlight != nil {
		ahead++
	}
	return s.rateUsedUp(ctx, ahead) && s.paces(ctx)
}

// awaitRate blocks the sender until the window has room for one more send.
func (s *session) awaitRate(ctx workflow.Context) error {
	for s.rateUsedUp(ctx, 0) && s.paces(ctx) {
		wait := s.pacing.sent[0].Add(s.req.Settings.MessageRate.Window).Sub(workflow.Now(ctx))
		if wait <= 0 {
			continue
		}
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return nil
}
