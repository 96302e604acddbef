package workflows

import "go.temporal.io/sdk/workflow"

// phase is where a session is in its story. It moves forward only, but for a
// transfer, which goes from active to transferring and back:
//
//	new → creating → waiting → greeting → active ⇄ transferring
//	                                  any of them → closing → closed
//
// The assistant and the Web UI see the coarser State (phase.state); moving
// between phases of one State publishes nothing.
type phase int

const (
	phaseNew          phase = iota // nothing exists in Salesforce yet
	phaseCreating                  // CreateConversation was attempted: the Salesforce side may exist from now on
	phaseWaiting                   // queued; the description was sent; no agent yet
	phaseGreeting                  // an agent accepted; the greeting is on its way and user input still queues
	phaseActive                    // an agent chats with the user
	phaseTransferring              // the agent left or a transfer was routed; the next agent is on the way
	phaseClosing                   // cleaning up the Salesforce side
	phaseClosed                    // finished; nothing open in Salesforce
)

// state is what the assistant sees of p.
func (p phase) state() State {
	switch p {
	case phaseNew, phaseCreating:
		return StateRouting
	case phaseWaiting, phaseGreeting:
		return StateWaiting
	case phaseActive, phaseTransferring:
		return StateActive
	case phaseClosing:
		return StateClosing
	default:
		return StateClosed
	}
}

// phaseOf is the phase a run continued as new resumes in for the carried st.
func phaseOf(st State) phase {
	switch st {
	case StateRouting:
		return phaseNew
	case StateActive:
		return phaseActive
	default:
		return phaseWaiting
	}
}

// accepted reports whether an agent has accepted the session (and it is not
// yet closing).
func (p phase) accepted() bool {
	return p >= phaseGreeting && p <= phaseTransferring
}

// salesforceSideMayExist reports whether ending the session must end the
// Salesforce conversation too.
func (p phase) salesforceSideMayExist() bool {
	return p >= phaseCreating && p <= phaseTransferring
}

// state is the session's State as the assistant sees it.
func (s *session) state() State { return s.phase.state() }

// moveTo enters p; a change of State is logged and published (search
// attribute, Web UI details).
func (s *session) moveTo(ctx workflow.Context, p phase) {
	from := s.state()
	s.phase = p
	if to := s.state(); to != from {
		s.logger.Info("Session state changed", "from", from, "to", to)
		s.upsertSearchAttributes(ctx)
		s.refreshDetails(ctx)
	}
}

// endRank orders the ways a side ends the session: when several happen
// before the run acts on them, the reason reported is the highest ranked.
var endRank = map[CloseReason]int{
	CloseRoutingFailed: 1, // routing gave up before any agent accepted
	CloseAgentEnded:    2, // Salesforce or the agent ended the session
	CloseUserClosed:    3, // the user asked to close
}

// end records that a side ended the session; the run closes for the highest
// ranked reason at its next step.
func (s *session) end(reason CloseReason) {
	if endRank[reason] > endRank[s.ending] {
		s.ending = reason
	}
}
