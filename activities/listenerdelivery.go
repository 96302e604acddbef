package activities

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// SessionQuerier asks a session workflow a query; a client.Client satisfies
// it. The listener uses it to deliver agent typing and receipts without a
// signal (workflows.QueryListenerDelivery).
type SessionQuerier interface {
	QueryWorkflowWithOptions(ctx context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error)
}

// How long the listener waits for the session's answer and for the
// delivery before it signals the event instead. The query waits for a
// workflow task in flight (the send a receipt acknowledges, often), so it
// allows more than one round trip; the stream's next events wait behind
// it, so it is short: on a server that slow, the event goes the old way.
const (
	listenerQueryTimeout    = 2 * time.Second
	listenerDeliveryTimeout = 5 * time.Second
)

// deliversItself reports whether the listener asks the session before
// signalling events of kind: agent typing and receipts, whose only effect
// is one delivery.
func deliversItself(kind workflows.AgentEventKind) bool {
	switch kind {
	case workflows.AgentTypingStarted, workflows.AgentTypingStopped, workflows.AgentDeliveryAck, workflows.AgentReadAck:
		return true
	}
	return false
}

// deliverInstead delivers ev's delivery to the assistant when the session
// answers with one, and reports whether it did. When it did not (another
// kind, no SessionQuerier, no delivery in the answer, the query or the
// delivery failed), the caller signals ev and the session handles it: this
// path saves history, it never decides anything.
func (l *listener) deliverInstead(ctx context.Context, ev workflows.AgentEvent) bool {
	if l.a.Sessions == nil || ev.EntryID == "" || !deliversItself(ev.Kind) {
		return false
	}
	ld, ok := l.askSession(ctx, ev)
	if !ok {
		return false
	}
	d := ld.Delivery
	d.At = time.Now().UTC()
	if d.Typing {
		d.ExpiresAt = d.At.Add(ld.TypingExpiry)
	}
	for i := range d.Receipts {
		if d.Receipts[i].At.IsZero() {
			d.Receipts[i].At = d.At
		}
	}
	dctx, cancel := context.WithTimeout(ctx, listenerDeliveryTimeout)
	defer cancel()
	if err := l.a.DeliverToUser(dctx, d); err != nil {
		l.log.Warn("listener: delivery failed; signalling the event", "entry_id", ev.EntryID, "kind", ev.Kind, "error", err)
		return false
	}
	return true
}

// askSession asks the session (the listener's run only, while it is open)
// for ev's delivery; false when it has none or the query failed.
func (l *listener) askSession(ctx context.Context, ev workflows.AgentEvent) (workflows.ListenerDelivery, bool) {
	qctx, cancel := context.WithTimeout(ctx, listenerQueryTimeout)
	defer cancel()
	resp, err := l.a.Sessions.QueryWorkflowWithOptions(qctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID:           l.in.WorkflowID,
		RunID:                l.runID,
		QueryType:            workflows.QueryListenerDelivery,
		Args:                 []any{ev},
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
	})
	var ld workflows.ListenerDelivery
	switch {
	case err != nil:
		if ctx.Err() == nil {
			l.log.Info("listener: delivery query failed; signalling the event", "entry_id", ev.EntryID, "kind", ev.Kind, "error", err)
		}
		return ld, false
	case resp.QueryRejected != nil || resp.QueryResult == nil:
		return ld, false
	}
	if err := resp.QueryResult.Get(&ld); err != nil {
		l.log.Warn("listener: delivery query answer unreadable; signalling the event", "entry_id", ev.EntryID, "error", err)
		return ld, false
	}
	return ld, ld.Delivery.ID != ""
}
