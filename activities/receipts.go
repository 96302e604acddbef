package activities

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// ReceiptQuerier asks a session workflow a query; a client.Client satisfies
// it. The listener uses it to deliver agent receipts without a signal
// (workflows.QueryReceiptTarget).
type ReceiptQuerier interface {
	QueryWorkflowWithOptions(ctx context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error)
}

// How long the listener waits for a receipt's query and for its delivery
// before it signals the receipt instead. The query waits for a workflow task
// in flight (the send the receipt acknowledges, often), so it allows more
// than one round trip; the stream's next events wait behind it, so it is
// short: on a server that slow, the receipt goes the old way.
const (
	receiptQueryTimeout    = 2 * time.Second
	receiptDeliveryTimeout = 5 * time.Second
)

// deliverReceipt delivers the agent receipt ev to the assistant when the
// session names the message it acknowledges, and reports whether it did.
// When it did not (not a receipt, no ReceiptQuerier, the session names no
// message, the query or the delivery failed), the caller signals ev and the
// session handles it: this path saves history, it never decides anything.
func (l *listener) deliverReceipt(ctx context.Context, ev workflows.AgentEvent) bool {
	if l.a.Receipts == nil || ev.EntryID == "" || ev.AckedEntryID == "" {
		return false
	}
	status := workflows.ReceiptDelivered
	switch ev.Kind {
	case workflows.AgentDeliveryAck:
	case workflows.AgentReadAck:
		status = workflows.ReceiptRead
	default:
		return false
	}
	target, ok := l.receiptTarget(ctx, ev)
	if !ok {
		return false
	}
	now := time.Now().UTC()
	at := ev.At
	if at.IsZero() {
		at = now
	}
	d := workflows.Delivery{
		ID:        workflows.ReceiptDeliveryID(l.in.ConversationID, ev.EntryID),
		SessionID: l.in.WorkflowID,
		UserID:    l.in.UserID,
		Kind:      workflows.DeliverReceipt,
		At:        now,
		State:     target.State,
		Receipts:  []workflows.Receipt{{MessageID: target.MessageID, Status: status, At: at}},
	}
	dctx, cancel := context.WithTimeout(ctx, receiptDeliveryTimeout)
	defer cancel()
	if err := l.a.DeliverToUser(dctx, d); err != nil {
		l.log.Warn("listener: receipt delivery failed; signalling it", "entry_id", ev.EntryID, "error", err)
		return false
	}
	return true
}

// receiptTarget asks the session (the listener's run only, while it is
// open) which message ev acknowledges; false when it names none or the
// query failed.
func (l *listener) receiptTarget(ctx context.Context, ev workflows.AgentEvent) (workflows.ReceiptTarget, bool) {
	qctx, cancel := context.WithTimeout(ctx, receiptQueryTimeout)
	defer cancel()
	resp, err := l.a.Receipts.QueryWorkflowWithOptions(qctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID:           l.in.WorkflowID,
		RunID:                l.runID,
		QueryType:            workflows.QueryReceiptTarget,
		Args:                 []any{ev.AckedEntryID},
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
	})
	var target workflows.ReceiptTarget
	switch {
	case err != nil:
		if ctx.Err() == nil {
			l.log.Info("listener: receipt query failed; signalling the receipt", "entry_id", ev.EntryID, "error", err)
		}
		return target, false
	case resp.QueryRejected != nil || resp.QueryResult == nil:
		return target, false
	}
	if err := resp.QueryResult.Get(&target); err != nil {
		l.log.Warn("listener: receipt query answer unreadable; signalling the receipt", "entry_id", ev.EntryID, "error", err)
		return target, false
	}
	return target, target.MessageID != ""
}
