package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Deliveries the listener makes itself.
//
// An agent event signalled to the session costs five history events (the
// signal, a workflow task, the delivery's marker). For agent typing and
// agent receipts the session's whole part is to build one delivery for the
// assistant: typing needs the agent's name and the expiry setting, a receipt
// the assistant's id of the message it acknowledges. So before it signals
// one, the listener asks QueryListenerDelivery (a query writes no history)
// and, when the answer holds a delivery, delivers it itself; it signals the
// event only when the answer is empty (the session would not deliver it at
// once: a receipt for a send still in flight, a session not accepted yet or
// ending, a legacy run) or the query or the delivery failed. Either way the
// delivery has the same id, which the assistant's sink is idempotent on.

// QueryListenerDelivery takes the AgentEvent a listener is about to signal
// and returns a ListenerDelivery.
const QueryListenerDelivery = "listener-delivery"

// ListenerDelivery is the QueryListenerDelivery result.
type ListenerDelivery struct {
	// Delivery is what the listener delivers instead of signalling the
	// event; an empty ID means: signal it. The listener sets At, and each
	// receipt's zero At, to the time it delivers.
	Delivery Delivery
	// TypingExpiry is how long after At a typing-started delivery expires
	// (Delivery.ExpiresAt).
	TypingExpiry time.Duration `json:",omitempty"`
}

// registerListenerDelivery installs QueryListenerDelivery.
func (s *session) registerListenerDelivery(ctx workflow.Context) error {
	err := workflow.SetQueryHandler(ctx, QueryListenerDelivery, func(ev AgentEvent) (ListenerDelivery, error) {
		return s.listenerDelivery(ctx, ev), nil
	})
	if err != nil {
		return fmt.Errorf("query %s: %w", QueryListenerDelivery, err)
	}
	return nil
}

// listenerDelivery answers QueryListenerDelivery from the session's state:
// the delivery the session would make at once for ev, or none.
func (s *session) listenerDelivery(ctx workflow.Context, ev AgentEvent) ListenerDelivery {
	if !s.presence.listenerDelivers || s.ending != "" || ev.EntryID == "" {
		return ListenerDelivery{}
	}
	var d Delivery
	switch ev.Kind {
	case AgentTypingStarted, AgentTypingStopped:
		if !s.showsAgentTyping() {
			return ListenerDelivery{}
		}
		d = s.typingDelivery(ev, time.Time{})
	case AgentDeliveryAck, AgentReadAck:
		id := s.userMessageIDFor(ev.AckedEntryID)
		if s.presence.legacy || id == "" {
			return ListenerDelivery{}
		}
		d = s.receiptDelivery(ctx, s.eventKey(ev), []Receipt{{MessageID: id, Status: receiptStatus(ev.Kind), At: ev.At}})
	default:
		return ListenerDelivery{}
	}
	return ListenerDelivery{Delivery: s.addressed(d), TypingExpiry: s.agentTypingExpiry()}
}

// askListenerDelivers records whether the listener may deliver this run's
// agent typing and receipts (changeListenerPresence); asked at every send to
// Salesforce, so a new session knows from its description on. Until a run
// asks, its listener signals every event.
func (s *session) askListenerDelivers(ctx workflow.Context) {
	s.presence.listenerDelivers = s.listenerDeliversPresence(ctx)
}
