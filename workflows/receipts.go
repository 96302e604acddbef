package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// Agent receipts the listener delivers itself.
//
// An agent receipt signalled to the session costs five history events (the
// signal, a workflow task, the delivery's marker), as much as the user
// message it acknowledges. The session's part in it is a lookup: which of
// the assistant's messages the Salesforce id names. So the listener asks
// that with QueryReceiptTarget (a query writes no history), delivers the
// receipt to the assistant itself under the id the session would have
// given it (ReceiptDeliveryID), and signals the receipt only when the query
// names no message (its send is still in flight, the run is legacy or
// ending, the query failed): the session then handles it as before. A
// receipt delivered both ways has one delivery id, which the assistant's
// sink is idempotent on.

// QueryReceiptTarget takes the Salesforce id an agent receipt names (the
// AgentEvent's AckedEntryID) and returns a ReceiptTarget.
const QueryReceiptTarget = "receipt-target"

// ReceiptTarget is the QueryReceiptTarget result. MessageID is the
// assistant's id of the acknowledged message, "" when the listener must
// signal the receipt instead (see above); State is the session's state for
// the delivery.
type ReceiptTarget struct {
	MessageID string `json:",omitempty"`
	State     State
}

// ReceiptDeliveryID is the Delivery.ID of the receipt an agent event with
// entry id entryID gives in conversation conversationID, whoever delivers
// it (the session's noticeID for "receipts/"+eventKey).
func ReceiptDeliveryID(conversationID, entryID string) string {
	return conversationID + "/receipts/" + entryID
}

// registerReceiptTarget installs QueryReceiptTarget.
func (s *session) registerReceiptTarget(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryReceiptTarget, s.receiptTarget); err != nil {
		return fmt.Errorf("query %s: %w", QueryReceiptTarget, err)
	}
	return nil
}

// receiptTarget answers QueryReceiptTarget from the session's state; it
// names a message only where onAgentReceipt would deliver a receipt for it
// at once.
func (s *session) receiptTarget(acked string) (ReceiptTarget, error) {
	t := ReceiptTarget{State: s.state()}
	p := &s.presence
	if !p.listenerDelivers || p.legacy || s.ending != "" {
		return t, nil
	}
	t.MessageID = s.userMessageIDFor(acked)
	return t, nil
}

// askListenerReceipts records whether the listener may deliver this run's
// agent receipts (changeListenerReceipts); asked at every send to
// Salesforce, before which no receipt of a user message can arrive in a
// new session. Until a run asks, its receipts are signalled.
func (s *session) askListenerReceipts(ctx workflow.Context) {
	s.presence.listenerDelivers = s.listenerDeliversReceipts(ctx)
}
