package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// phase is where a session is in its story:
//
//	new → creating → waiting → queued → greeting → active ⇄ transferring
//	                                               active → requeued → active
//	                                           any of them → closing → closed
//
// A transfer goes from active to transferring and back; a transfer that
// fails, or that no agent joins within Settings.TransferTimeout
// (transfer.go), puts the user back in the queue (requeued) until the next
// agent accepts. The assistant and the Web UI see the coarser State
// (phase.state); moving between phases of one State publishes nothing.
type phase int

const (
	phaseNew          phase = iota // nothing exists in Salesforce yet
	phaseCreating                  // CreateConversation was attempted: the Salesforce side may exist from now on
	phaseWaiting                   // the description was sent; routing has said nothing yet
	phaseQueued                    // routing answered (a result, queue position or status); no agent yet
	phaseGreeting                  // an agent accepted; the greeting is on its way and user input still queues
	phaseActive                    // an agent chats with the user
	phaseTransferring              // the agent left or a transfer was routed; the next agent is on the way
	phaseRequeued                  // a transfer failed; the user waits in the queue for another agent
	phaseClosing                   // cleaning up the Salesforce side
	phaseClosed                    // finished; nothing open in Salesforce
)

// phaseNames name the phases in Carry (and logs); a phase's name never changes.
var phaseNames = [...]string{
	phaseNew: "new", phaseCreating: "creating", phaseWaiting: "waiting", phaseQueued: "queued",
	phaseGreeting: "greeting", phaseActive: "active", phaseTransferring: "transferring",
	phaseRequeued: "requeued", phaseClosing: "closing", phaseClosed: "closed",
}

func (p phase) String() string { return phaseNames[p] }

// state is what the assistant sees of p.
func (p phase) state() State {
	switch p {
	case phaseNew, phaseCreating:
		return StateRouting
	case phaseWaiting, phaseQueued, phaseGreeting, phaseRequeued:
		return StateWaiting
	case phaseActive, phaseTransferring:
		return StateActive
	case phaseClosing:
		return StateClosing
	default:
		return StateClosed
	}
}

// resumedPhase is the phase a continued run resumes in: the carried phase,
// or for runs that carried only the State (before phases were carried) the
// phase that State stood for then.
func resumedPhase(c *Carry) phase {
	for p, name := range phaseNames {
		if name == c.Phase && c.Phase != "" {
			return phase(p)
		}
	}
	switch c.State {
	case StateRouting:
		return phaseNew
	case StateActive:
		return phaseActive
	default:
		return phaseWaiting
	}
}

// waitingForAgent reports whether the session waits for an agent to accept.
func (p phase) waitingForAgent() bool {
	return p == phaseWaiting || p == phaseQueued || p == phaseRequeued
}

// accepted reports whether an agent has accepted the session and is (or a
// transferred one is about to be) with the user.
func (p phase) accepted() bool {
	return p == phaseGreeting || p == phaseActive || p == phaseTransferring
}

// salesforceSideMayExist reports whether ending the session must end the
// Salesforce conversation too.
func (p phase) salesforceSideMayExist() bool {
	return p >= phaseCreating && p <= phaseRequeued
}

// state is the session's State as the assistant sees it.
func (s *session) state() State { return s.phase.state() }

// moveTo enters p; a change of State is logged and published (search
// attribute, Web UI details). Entering transferring starts the transfer's
// clock; leaving it stops it.
func (s *session) moveTo(ctx workflow.Context, p phase) {
	from := s.state()
	switch {
	case p != phaseTransferring:
		s.transferringSince = time.Time{}
	case s.phase != phaseTransferring:
		s.transferringSince = workflow.Now(ctx)
	}
	s.phase = p
	if to := s.state(); to != from {
		s.logger.Info("Session state changed", "from", from, "to", to)
		s.upsertSearchAttributes(ctx)
		s.refreshDetails(ctx)
	}
}

// endRank orders the ways a side ends the session: when several happen
// before the run acts on them, the reason reported is the highest ranked
// (but see end: a routing failure explains Salesforce's end that comes
// with it).
var endRank = map[CloseReason]int{
	CloseRoutingFailed: 1, // routing gave up before any agent accepted
	CloseAgentEnded:    2, // Salesforce or the agent ended the session
	CloseIdle:          2, // Salesforce ended a session it had marked Inactive
	CloseUserClosed:    3, // the user asked to close
}

// end records that a side ended the session; the run closes for the highest
// ranked reason at its next step. Two of Salesforce's ends say more than
// "the agent ended": one of a session it had marked Inactive, nobody having
// written since, is the chat closing for inactivity (CloseIdle); and one
// that comes with a routing failure before any agent accepted is routing
// giving up (the queue timed out), so the session closes as a routing
// failure whichever of the two came first.
func (s *session) end(ctx workflow.Context, reason CloseReason) {
	if reason == CloseAgentEnded && s.inactive && s.explainsInactiveEnd(ctx) {
		s.endedInactive = true
		reason = CloseIdle
	}
	if s.routingFailureEndedSession(ctx, reason) {
		s.ending = CloseRoutingFailed
		return
	}
	if endRank[reason] > endRank[s.ending] {
		s.ending = reason
	}
}

// routingFailureEndedSession reports whether reason and the one already
// recorded are a routing failure and Salesforce's end of the session,
// before any agent accepted: Salesforce ends a session whose routing gave
// up. Legacy sessions close as agent-ended then.
func (s *session) routingFailureEndedSession(ctx workflow.Context, reason CloseReason) bool {
	pair := (s.ending == CloseRoutingFailed && reason == CloseAgentEnded) ||
		(s.ending == CloseAgentEnded && reason == CloseRoutingFailed)
	return pair && s.acceptedAt.IsZero() && s.routingFailureExplainsEnd(ctx)
}
