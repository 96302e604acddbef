package activities

import (
	"context"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// SendTyping tells the agent that the user started or stopped typing
// (workflows.ActivitySendTyping): a TypingStartedIndicator or
// TypingStoppedIndicator conversation entry.
func (a *Activities) SendTyping(ctx context.Context, in workflows.SendTypingInput) error {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return err
	}
	if err := a.SF.SendTyping(ctx, in.UserID, in.ConversationID, in.Typing); err != nil {
		return salesforceError(ctx, "send typing indicator", err)
	}
	return nil
}

// AcknowledgeEntries sends the user's delivery/read receipts of agent
// entries in one acknowledge-entries call (workflows.ActivityAcknowledge).
func (a *Activities) AcknowledgeEntries(ctx context.Context, in workflows.AcknowledgeInput) error {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return err
	}
	if len(in.Acks) == 0 {
		return invalidInput("acknowledge entries: no acknowledgements")
	}
	acks := make([]miaw.Ack, 0, len(in.Acks))
	for _, ack := range in.Acks {
		var t miaw.AckType
		switch ack.Status {
		case workflows.ReceiptDelivered:
			t = miaw.AckDelivery
		case workflows.ReceiptRead:
			t = miaw.AckRead
		default:
			return invalidInput("acknowledge entries: status %q of entry %q is neither delivered nor read", ack.Status, ack.EntryID)
		}
		acks = append(acks, miaw.Ack{Type: t, EntryID: ack.EntryID})
	}
	if err := a.SF.Acknowledge(ctx, in.UserID, in.ConversationID, acks...); err != nil {
		return salesforceError(ctx, "acknowledge entries", err)
	}
	return nil
}
